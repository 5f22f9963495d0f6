"""A command's result: the --format it was asked for, written to a file or stdout."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from bot.cli_support import fail

FORMATS = ("table", "json", "csv", "xlsx")


def check_format(format: str, out: Path | None, formats: tuple[str, ...] = FORMATS) -> None:
    """Refuse an unknown --format, and XLSX without a file to write it to."""
    if format not in formats:
        fail(f"--format must be {', '.join(formats[:-1])} or {formats[-1]}, not '{format}'")
    if format == "xlsx" and out is None:
        fail("--format xlsx needs --out FILE")


def write_out(content: bytes, out: Path | None) -> None:
    """Write to `out` and print its name, or write the bytes to stdout."""
    if out is None:
        sys.stdout.buffer.write(content)
        sys.stdout.flush()
    else:
        out.write_bytes(content)
        typer.echo(f"{out}")
