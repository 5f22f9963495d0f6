"""Backups while the bot writes, restored into an empty store; the daily backup."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from bot.cli import app
from bot.cli_support import cli_text
from scheduler import backup_job
from storage import backup, events
from storage.db import Store
from storage.migrate import upgrade
from storage.models import Event, Resident
from tests.conftest import CONTENT, make_settings
from tests.servers import postgres
from tests.servers.skip import require


def needs_pg_tools(database_url: str) -> None:
    if make_url(database_url).get_backend_name() == "postgresql":
        require(
            shutil.which("pg_dump") is not None and shutil.which("pg_restore") is not None,
            "pg_dump/pg_restore are not on PATH (install postgresql-client)",
        )


@pytest.fixture
def empty_store(database_url: str, tmp_path: Path) -> Iterator[str]:
    """Another store of the same kind, migrated and empty (as after a first start)."""
    if make_url(database_url).get_backend_name() == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'restored.db'}"
        upgrade(url)
        yield url
        return
    with postgres.ThrowawayDatabase() as database:
        upgrade(database.url)
        yield database.url


async def rows(url: str) -> list[tuple[object, ...]]:
    store = Store(url)
    try:
        async with store.transaction() as session:
            found = await session.execute(
                select(Event.id, Event.kind, Event.resident_id, Event.data).order_by(Event.id)
            )
            residents = await session.scalar(select(func.count()).select_from(Resident))
            return [("residents", residents), *(tuple(row) for row in found)]
    finally:
        await store.close()


async def test_backup_during_writes_restores_one_consistent_moment(
    database_url: str, empty_store: str, tmp_path: Path
) -> None:
    needs_pg_tools(database_url)
    store = Store(database_url)
    async with store.transaction() as session:
        session.add(Resident(telegram_id=5, name="Anna", language="pl"))
    written = 0
    stop, progressed = asyncio.Event(), asyncio.Event()

    async def writer() -> None:
        nonlocal written
        while not stop.is_set():
            async with store.transaction() as session:
                await events.record(session, "test_write", data={"n": written + 1})
            written += 1
            progressed.set()
            await asyncio.sleep(0)

    async def reached(count: int) -> None:
        while written < count:
            progressed.clear()
            await progressed.wait()

    task = asyncio.create_task(writer())
    try:
        await reached(50)
        before = written
        out = tmp_path / "copy" / "lokalnie.backup"
        await asyncio.to_thread(backup.backup, database_url, out)
        after_backup = written
        await reached(after_backup + 20)
    finally:
        stop.set()
        await task
        await store.close()

    await backup.restore(empty_store, out)

    original, restored = await rows(database_url), await rows(empty_store)
    restored_events = restored[1:]
    # A moment between the start and the end of the backup, and all of it:
    # the first n writes exactly as they were, nothing later, nothing torn.
    assert before <= len(restored_events) <= after_backup
    assert restored_events == original[1 : 1 + len(restored_events)]
    assert [row[3] for row in restored_events] == [
        {"n": n} for n in range(1, len(restored_events) + 1)
    ]
    assert restored[0] == original[0] == ("residents", 1)


def cli_env(database_url: str, tmp_path: Path) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "CONTENT_DIR": str(CONTENT),
        "DATA_DIR": str(tmp_path / "data"),
        "TELEGRAM_BOT_TOKEN": "",
        "COORDINATOR_IDS": "",
    }


async def test_cli_backup_and_restore_refuses_a_store_with_data(
    database_url: str, empty_store: str, tmp_path: Path
) -> None:
    needs_pg_tools(database_url)
    store = Store(database_url)
    async with store.transaction() as session:
        session.add(Resident(telegram_id=6, name="Ewa", language="pl"))
    await store.close()
    out = tmp_path / "copy.backup"
    runner = CliRunner()

    made = await asyncio.to_thread(
        runner.invoke, app, ["backup", "--out", str(out)], env=cli_env(database_url, tmp_path)
    )
    assert made.exit_code == 0, made.output
    assert made.output == cli_text("cli.backup_done", path=out) + "\n"

    refused = await asyncio.to_thread(
        runner.invoke, app, ["restore", str(out)], env=cli_env(database_url, tmp_path)
    )
    assert refused.exit_code == 2
    [line] = refused.output.splitlines()
    assert line == "lokalnie: " + cli_text("cli.backup.has_data", tables="residents: 1")

    restored = await asyncio.to_thread(
        runner.invoke, app, ["restore", str(out)], env=cli_env(empty_store, tmp_path)
    )
    assert restored.exit_code == 0, restored.output
    assert (await rows(empty_store))[0] == ("residents", 1)


def test_restore_of_a_missing_file_is_one_line(sqlite_url: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["restore", str(tmp_path / "nope.db")], env=cli_env(sqlite_url, tmp_path)
    )
    assert result.exit_code == 2
    expected = cli_text("cli.backup.no_file", path=tmp_path / "nope.db")
    assert result.output == f"lokalnie: {expected}\n"


async def test_daily_backup_keeps_the_newest(sqlite_url: str, tmp_path: Path) -> None:
    folder = tmp_path / "backups"
    folder.mkdir()
    for day in ("20200101", "20200102", "20200103"):
        (folder / f"lokalnie-{day}-030000.db").write_bytes(b"old")
    (folder / "notes.txt").write_text("not a backup")
    settings = make_settings(sqlite_url, tmp_path, backup_dir=folder, backup_keep=2)
    scheduler = AsyncIOScheduler()
    backup_job.schedule_daily_backup(scheduler, settings)
    job = scheduler.get_job(backup_job.JOB_ID)
    assert job is not None and "hour='3'" in str(job.trigger)

    made = await backup_job.run_daily_backup()

    assert made is not None and made.parent == folder
    assert made.name.startswith(f"lokalnie-{datetime.now():%Y}")
    kept = sorted(path.name for path in folder.iterdir())
    assert kept == ["lokalnie-20200103-030000.db", made.name, "notes.txt"]


def test_no_daily_backup_without_a_folder(sqlite_url: str, tmp_path: Path) -> None:
    scheduler = AsyncIOScheduler()
    backup_job.schedule_daily_backup(scheduler, make_settings(sqlite_url, tmp_path))
    assert scheduler.get_job(backup_job.JOB_ID) is None


def test_without_pg_dump_says_exactly_what_to_run(tmp_path: Path) -> None:
    env = {
        **cli_env("postgresql://lokalnie:pw@127.0.0.1:5432/centre", tmp_path),
        "PATH": str(tmp_path / "no-tools-here"),
        "PYTHONPATH": os.pathsep.join(sys.path),
    }
    out = tmp_path / "copy.dump"
    result = subprocess.run(
        [sys.executable, "-m", "bot", "backup", "--out", str(out)],
        env=env,
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    command = (
        "PGPASSWORD=... pg_dump --format=custom --no-owner "
        f"--dbname 'postgresql://lokalnie@127.0.0.1:5432/centre' --file={out}"
    )
    expected = cli_text("cli.backup.no_tool", tool="pg_dump", command=command)
    assert result.stderr == f"lokalnie: {expected}\n"
