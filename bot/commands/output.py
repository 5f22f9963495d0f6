"""A command's result: the --format it was asked for, written to a file or stdout."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from bot.cli_support import cli_text, fail

FORMATS = ("table", "json", "csv", "xlsx")


def check_format(format: str, out: Path | None, formats: tuple[str, ...] = FORMATS) -> None:
    """Refuse an unknown --format, and XLSX without a file to write it to."""
    if format not in formats:
        fail(cli_text("cli.bad_format", formats=", ".join(formats), given=format))
    if format == "xlsx" and out is None:
        fail(cli_text("cli.xlsx_needs_out"))


def write_out(content: bytes, out: Path | None) -> None:
    """Write to `out` and print its name, or write the bytes to stdout."""
    if out is None:
        sys.stdout.buffer.write(content)
        sys.stdout.flush()
    else:
        out.write_bytes(content)
        typer.echo(f"{out}")


def format_help(formats: tuple[str, ...]) -> str:
    """The help of a --format option: the formats it takes."""
    return cli_text("cli.help.format", formats=", ".join(formats))
