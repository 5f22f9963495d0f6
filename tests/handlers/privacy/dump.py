"""Search the whole store and the data folder for a piece of text, as an auditor would."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from sqlalchemy import inspect, select, table, text

from storage.db import Store


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes | memoryview):
        return bytes(value).decode("utf-8", errors="replace")
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, str) and value[:1] in ("{", "[", '"'):
        # SQLite keeps JSON with non-ASCII letters escaped: read it as JSON.
        try:
            return json.dumps(json.loads(value), ensure_ascii=False)
        except ValueError:
            return value
    return str(value)


async def dump_store(store: Store) -> dict[tuple[str, str], list[str]]:
    """SELECT * from every table of the schema: (table, column) -> values as text."""
    async with store.engine.connect() as connection:
        tables = await connection.run_sync(lambda c: inspect(c).get_table_names())
        dumped: dict[tuple[str, str], list[str]] = {}
        for name in tables:
            result = await connection.execute(select(text("*")).select_from(table(name)))
            columns = list(result.keys())
            for row in result.all():
                for column, value in zip(columns, row, strict=True):
                    dumped.setdefault((name, column), []).append(_as_text(value))
    return dumped


def dump_folder(root: Path) -> dict[str, str]:
    """Every file under `root`: relative path -> its name and content as text."""
    if not root.exists():
        return {}
    return {
        str(path.relative_to(root)): path.name + "\n" + path.read_bytes().decode("utf-8", "replace")
        for path in root.rglob("*")
        if path.is_file()
    }


def _squeezed(value: str) -> str:
    """Phone numbers are stored with or without spaces and dashes."""
    return re.sub(r"[\s-]", "", value)


def where(marker: str, store: dict[tuple[str, str], list[str]], folder: dict[str, str]) -> set[str]:
    """Every `table.column` and `file:path` that holds `marker` (case-insensitive)."""
    needle = marker.lower()
    found = {
        f"{t}.{c}"
        for (t, c), values in store.items()
        if any(needle in v.lower() or needle in _squeezed(v).lower() for v in values)
    }
    found |= {
        f"file:{path}"
        for path, content in folder.items()
        if needle in content.lower() or needle in _squeezed(content).lower()
    }
    return found
