"""pytest plugin: real SMTP, IMAP (Dovecot) and PostgreSQL servers for the test suite.

Load it with ``pytest_plugins = ["tests.servers.fixtures"]`` in the root conftest (or
``pytest -p tests.servers.fixtures``).

Each server starts once per session from a SYNC fixture: pytest-asyncio gives every test its
own event loop, so session-scoped async fixtures would outlive the loop they were made in.
aiosmtpd runs its own loop in a thread; Dovecot and PostgreSQL are separate processes.

When a server is missing the fixture skips the test with the reason, except under
``CI=true``, where it fails (see ``tests/servers/skip.py``). Tests using ``dovecot_server``/
``imap`` or ``postgres_url``/``postgres_db`` are marked ``dovecot``/``postgres`` automatically,
so ``-m "not dovecot"`` deselects them.

Fixtures:
    smtp_server  (session)  SmtpServer, started once
    smtp         (function) the same SmtpServer, cleared before the test
    dovecot_server (session) DovecotServer with user DEFAULT_USER / DEFAULT_PASSWORD
    imap         (function) ImapAccount(host, port, user, password) with an empty mailbox
    postgres_db  (session)  ThrowawayDatabase (url, dsn, name), dropped at the end
    postgres_url (session)  str, ``postgresql+asyncpg://postgres@127.0.0.1:5432/<name>``
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.servers import postgres
from tests.servers.dovecot import DEFAULT_USER, DovecotServer, ImapAccount
from tests.servers.skip import require
from tests.servers.smtp import SmtpServer

_MARKERS = {
    "dovecot": ("dovecot_server", "imap"),
    "postgres": ("postgres_db", "postgres_url"),
}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "postgres: needs the PostgreSQL server")
    config.addinivalue_line("markers", "dovecot: needs the Dovecot IMAP server")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        for marker, fixtures in _MARKERS.items():
            if names.intersection(fixtures):
                item.add_marker(marker)


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[SmtpServer]:
    """A recording SMTP server on 127.0.0.1 for the whole session."""
    server = SmtpServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def smtp(smtp_server: SmtpServer) -> SmtpServer:
    """The session SMTP server with no messages from earlier tests."""
    smtp_server.clear()
    return smtp_server


@pytest.fixture(scope="session")
def dovecot_server() -> Iterator[DovecotServer]:
    """A real Dovecot IMAP server for the whole session (skips if not installed)."""
    require(
        DovecotServer.available(),
        "dovecot is not installed (apt-get install dovecot-imapd, or run "
        "scripts/ensure-test-servers as root)",
    )
    server = DovecotServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def imap(dovecot_server: DovecotServer) -> ImapAccount:
    """Connection details of DEFAULT_USER's mailbox, emptied before the test."""
    dovecot_server.reset_mailbox(DEFAULT_USER)
    return dovecot_server.account(DEFAULT_USER)


@pytest.fixture(scope="session")
def postgres_db() -> Iterator[postgres.ThrowawayDatabase]:
    """A database created for this session on the PostgreSQL server, dropped at the end."""
    require(postgres.available(), postgres.describe_target())
    database = postgres.ThrowawayDatabase().create()
    try:
        yield database
    finally:
        database.drop()


@pytest.fixture(scope="session")
def postgres_url(postgres_db: postgres.ThrowawayDatabase) -> str:
    """SQLAlchemy async URL of the session's throw-away database."""
    return postgres_db.url
