"""Backups of the store while the bot runs, and putting one back into an empty store.

SQLite: the online backup API of the stdlib driver, on the database file itself (not
through the bot's async engine): one step copies every page under one read lock, so
the copy is one consistent moment even while the bot writes. PostgreSQL: `pg_dump`
in its custom format (itself one consistent snapshot); when the PostgreSQL client
tools are not installed, `BackupError` says exactly what to run.

A restore only ever goes into an empty store (no row in any of the service's
tables): putting a copy over live data would silently lose what came after it.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Connection, func, inspect, select, table
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError

from storage.db import make_engine
from storage.models import Base

# The tables whose rows are the service's data (not the schema version, nor the
# scheduler's jobs, which are rebuilt from the plan on every start).
SERVICE_TABLES = frozenset(Base.metadata.tables)
BACKUP_PREFIX = "lokalnie-"


class BackupError(Exception):
    """A backup or restore cannot be done: a catalogue key saying what to do, and its values.

    The store has no language; the command that reports it words it (`lokalnie backup`
    in the configured language), a log line shows the key and the values.
    """

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(key, values)
        self.key, self.values = key, values

    def __str__(self) -> str:
        return f"{self.key} {self.values}" if self.values else self.key


@dataclass(frozen=True)
class StoreLocation:
    url: URL

    @property
    def sqlite(self) -> bool:
        return self.url.get_backend_name() == "sqlite"

    @property
    def sqlite_path(self) -> Path:
        database = self.url.database or ""
        if not database or database == ":memory:":
            raise BackupError("cli.backup.in_memory")
        return Path(database)

    @property
    def libpq_url(self) -> str:
        """The URL the PostgreSQL tools take, without the password (it goes in PGPASSWORD)."""
        url = self.url
        plain = URL.create(
            "postgresql", url.username, None, url.host, url.port, url.database, url.query
        )
        return plain.render_as_string(hide_password=False)

    def tool_env(self) -> dict[str, str]:
        env = dict(os.environ)
        if self.url.password:
            env["PGPASSWORD"] = str(self.url.password)
        return env

    def suffix(self) -> str:
        return ".db" if self.sqlite else ".dump"


def locate(database_url: str) -> StoreLocation:
    return StoreLocation(make_url(database_url))


def backup(database_url: str, out: Path) -> Path:
    """Write a consistent copy of the store to `out` (replaced only once complete)."""
    store = locate(database_url)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    partial.unlink(missing_ok=True)
    if store.sqlite:
        _sqlite_backup(store.sqlite_path, partial)
    else:
        dump = ["pg_dump", "--format=custom", "--no-owner"]
        _run_tool(store, [*dump, f"--file={partial}"], shown=[*dump, f"--file={out}"])
    os.replace(partial, out)
    return out


async def restore(database_url: str, source: Path) -> None:
    """Put the copy in `source` into the store, which must be empty."""
    if not await asyncio.to_thread(source.is_file):
        raise BackupError("cli.backup.no_file", path=source)
    store = locate(database_url)
    filled = await rows_present(database_url)
    if filled:
        raise BackupError("cli.backup.has_data", tables=filled)
    if store.sqlite:
        await asyncio.to_thread(_sqlite_restore, source, store.sqlite_path)
    else:
        # --clean: drop the empty tables a migration may have made (checked empty above).
        load = ["pg_restore", "--no-owner", "--clean", "--if-exists", "--exit-on-error"]
        await asyncio.to_thread(_run_tool, store, [*load, str(source)], shown=[*load, str(source)])


async def rows_present(database_url: str) -> str:
    """ "" for an empty store, else which tables have rows (e.g. "residents: 3")."""
    store = locate(database_url)
    if store.sqlite and not store.sqlite_path.exists():
        return ""

    def count(connection: Connection) -> list[str]:
        present = set(inspect(connection).get_table_names())
        found = []
        for name in sorted(present & SERVICE_TABLES):
            rows = connection.scalar(select(func.count()).select_from(table(name)))
            if rows:
                found.append(f"{name}: {rows}")
        return found

    # The service's own driver (aiosqlite / asyncpg): no second, synchronous one.
    engine = make_engine(database_url)
    try:
        async with engine.connect() as connection:
            found = await connection.run_sync(count)
    except DBAPIError as error:
        reason = str(error.orig).strip().splitlines()[-1] if error.orig else str(error)
        raise BackupError("cli.backup.unreadable", reason=reason) from None
    finally:
        await engine.dispose()
    return ", ".join(found)


def _sqlite_backup(path: Path, out: Path) -> None:
    if not path.exists():
        raise BackupError("cli.backup.no_sqlite", path=path)
    source = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    target = sqlite3.connect(out)
    try:
        # pages=-1 (the default): everything in one step, i.e. one consistent moment.
        source.backup(target)
    finally:
        target.close()
        source.close()


def _sqlite_restore(source: Path, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    copy = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    target = sqlite3.connect(path, timeout=30)
    try:
        check = copy.execute("PRAGMA quick_check").fetchone()
        if not check or check[0] != "ok":
            raise BackupError("cli.backup.unusable", path=source)
        copy.backup(target)
    except sqlite3.DatabaseError as error:
        raise BackupError("cli.backup.not_sqlite", path=source, detail=error) from None
    finally:
        target.close()
        copy.close()


def _run_tool(store: StoreLocation, command: list[str], *, shown: list[str]) -> None:
    """Run a PostgreSQL client tool on the store; `shown` is the command the operator
    would type (the final file name instead of the partial one)."""
    tool = command[0]
    if shutil.which(tool) is None:
        raise BackupError("cli.backup.no_tool", tool=tool, command=how_to_run(store, shown))
    arguments = [*command[:-1], "--dbname", store.libpq_url, command[-1]]
    finished = subprocess.run(arguments, env=store.tool_env(), capture_output=True, text=True)
    if finished.returncode != 0:
        reason = (finished.stderr.strip().splitlines() or ["no message"])[-1]
        raise BackupError("cli.backup.tool_failed", tool=tool, reason=reason)


def how_to_run(store: StoreLocation, command: list[str]) -> str:
    """The exact command line for the operator (the password stays out of it)."""
    line = " ".join([*command[:-1], "--dbname", f"'{store.libpq_url}'", command[-1]])
    prefix = "PGPASSWORD=... " if store.url.password else ""
    return f"{prefix}{line}"


def dated_name(database_url: str, moment: datetime) -> str:
    return f"{BACKUP_PREFIX}{moment:%Y%m%d-%H%M%S}{locate(database_url).suffix()}"


def prune(directory: Path, keep: int, suffix: str) -> list[Path]:
    """Delete all but the `keep` newest dated backups in `directory`; returns the deleted."""
    dated = sorted(directory.glob(f"{BACKUP_PREFIX}*{suffix}"))
    old = dated[:-keep] if keep > 0 else dated
    for path in old:
        path.unlink(missing_ok=True)
    return old
