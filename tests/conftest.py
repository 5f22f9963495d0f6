"""Shared fixtures: settings, migrated stores on SQLite and PostgreSQL, the chat harness.

Real servers (SMTP, Dovecot, PostgreSQL, the fake Telegram Bot API) come from
the plugins below; each starts once per session.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.config import Settings, load_settings
from storage.migrate import upgrade
from storage.registry import metadata

pytest_plugins = ["tests.servers.fixtures", "tests.fakes.fixtures"]

ROOT = Path(__file__).resolve().parent.parent
CONTENT = ROOT / "content"
COORDINATOR_ID = 900_001


def make_settings(database_url: str, tmp_path: Path, **overrides: object) -> Settings:
    """Settings for a test: never read a developer's .env."""
    values: dict[str, object] = {
        "_env_file": None,
        "database_url": database_url,
        "content_dir": CONTENT,
        "data_dir": tmp_path / "data",
        "coordinator_ids": str(COORDINATOR_ID),
        "telegram_bot_token": None,
    }
    values.update(overrides)
    return load_settings(**values)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file, copied for each test (faster than migrating each time)."""
    path = tmp_path_factory.mktemp("template") / "lokalnie.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    target = tmp_path / "lokalnie.db"
    shutil.copyfile(sqlite_template, target)
    return f"sqlite+aiosqlite:///{target}"


@pytest.fixture(scope="session")
def migrated_postgres_url(postgres_url: str) -> str:
    upgrade(postgres_url)
    return postgres_url


def _truncate_all(url: str) -> None:
    import asyncpg

    dsn = url.replace("postgresql+asyncpg://", "postgresql://")
    tables = ", ".join(table.name for table in metadata.sorted_tables)

    async def truncate() -> None:
        connection = await asyncpg.connect(dsn)
        try:
            await connection.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
        finally:
            await connection.close()

    asyncio.run(truncate())


@pytest.fixture
def pg_url(migrated_postgres_url: str) -> Iterator[str]:
    """The session's PostgreSQL store, emptied for this test."""
    _truncate_all(migrated_postgres_url)
    yield migrated_postgres_url


# The PostgreSQL run empties every table first (about 0.1-1 s a test): the quick run
# (`-m "not slow"`) checks SQLite only, the full run both.
@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.slow)])
def database_url(request: pytest.FixtureRequest) -> str:
    """Run the test once on each store."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    return request.getfixturevalue("pg_url")


@pytest.fixture
def settings(sqlite_url: str, tmp_path: Path) -> Settings:
    return make_settings(sqlite_url, tmp_path)
