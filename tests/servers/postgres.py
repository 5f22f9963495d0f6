"""Throw-away PostgreSQL databases for tests that must run against the production engine.

SQLite hides PostgreSQL differences (types, locking, ON CONFLICT details, migrations), so the
storage layer is also tested on a real server: each test session gets its own freshly created
database, dropped at the end, so parallel runs and leftovers never collide.

Server: by default ``postgresql://postgres@127.0.0.1:5432`` (trust auth, as on CI and the dev
container), falling back to the OS user ``root`` when the ``postgres`` role is refused.

Environment:
    TEST_POSTGRES_URL_BASE  libpq-style URL of the server and an admin role allowed to
                            CREATE DATABASE, without or with a maintenance database, e.g.
                            ``postgresql://me:secret@db.local:5433`` or
                            ``postgresql://me@127.0.0.1:5432/postgres``. When set, it is the
                            only candidate tried (no fallback).

Admin work runs asyncpg in a private event loop on a worker thread, so these helpers are
safe to call from sync fixtures whether or not an event loop is running.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import quote, unquote, urlsplit

import asyncpg

ENV_URL_BASE = "TEST_POSTGRES_URL_BASE"
DEFAULT_BASES = ("postgresql://postgres@127.0.0.1:5432", "postgresql://root@127.0.0.1:5432")
MAINTENANCE_DATABASES = ("postgres", "test", "template1")
DB_PREFIX = "lokalnie_test_"
CONNECT_TIMEOUT = 3.0

T = TypeVar("T")


@dataclass(frozen=True)
class PostgresServer:
    """Where the server is and which role/database we use to create test databases."""

    host: str
    port: int
    user: str
    password: str | None
    admin_database: str
    query: str = ""

    def dsn(self, database: str | None = None) -> str:
        """libpq/asyncpg DSN (``postgresql://...``) for ``database``."""
        return self._url("postgresql", database or self.admin_database)

    def sqlalchemy_url(self, database: str, driver: str = "asyncpg") -> str:
        """SQLAlchemy URL, ``postgresql+asyncpg://...`` by default."""
        return self._url(f"postgresql+{driver}", database)

    def _url(self, scheme: str, database: str) -> str:
        auth = quote(self.user, safe="")
        if self.password is not None:
            auth += ":" + quote(self.password, safe="")
        host = f"[{self.host}]" if ":" in self.host else self.host
        url = f"{scheme}://{auth}@{host}:{self.port}/{quote(database, safe='')}"
        return f"{url}?{self.query}" if self.query else url


def _run(factory: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine in its own loop on a worker thread (works inside a running loop too)."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, factory()).result()  # type: ignore[arg-type]


def _candidates() -> list[tuple[PostgresServer, bool]]:
    """(server, admin database fixed by the URL) pairs to try, in order."""
    bases = [os.environ[ENV_URL_BASE]] if os.environ.get(ENV_URL_BASE) else list(DEFAULT_BASES)
    result = []
    for base in bases:
        parts = urlsplit(base)
        if parts.scheme not in ("postgres", "postgresql") and not parts.scheme.startswith(
            "postgresql+"
        ):
            raise ValueError(f"{ENV_URL_BASE} must be a postgresql:// URL, got {base!r}")
        database = unquote(parts.path.lstrip("/"))
        server = PostgresServer(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 5432,
            user=unquote(parts.username) if parts.username else "postgres",
            password=unquote(parts.password) if parts.password is not None else None,
            admin_database=database or MAINTENANCE_DATABASES[0],
            query=parts.query,
        )
        result.append((server, bool(database)))
    return result


async def _probe(server: PostgresServer, fixed_db: bool) -> PostgresServer | None:
    databases = [server.admin_database] if fixed_db else list(MAINTENANCE_DATABASES)
    for database in databases:
        candidate = PostgresServer(
            server.host, server.port, server.user, server.password, database, server.query
        )
        try:
            conn = await asyncpg.connect(candidate.dsn(), timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
            continue
        try:
            may_create = await conn.fetchval(
                "SELECT rolsuper OR rolcreatedb FROM pg_roles WHERE rolname = current_user"
            )
        finally:
            await conn.close()
        return candidate if may_create else None
    return None


_found: PostgresServer | None = None
_probed = False


def find_server() -> PostgresServer | None:
    """The first candidate that answers and may CREATE DATABASE, or None (cached)."""
    global _found, _probed
    if not _probed:
        for server, fixed_db in _candidates():
            _found = _run(lambda s=server, f=fixed_db: _probe(s, f))
            if _found is not None:
                break
        _probed = True
    return _found


def available() -> bool:
    """Does a usable PostgreSQL answer (see the module docstring for where we look)?"""
    return find_server() is not None


def describe_target() -> str:
    """Human-readable list of what we tried, for skip/fail messages."""
    tried = ", ".join(s.dsn() for s, _ in _candidates())
    return f"PostgreSQL not reachable or role may not CREATE DATABASE (tried {tried})"


def new_database_name() -> str:
    """Unique per process and call: parallel sessions (xdist, two checkouts) never collide."""
    return f"{DB_PREFIX}{os.getpid()}_{secrets.token_hex(4)}"


def create_database(server: PostgresServer, name: str | None = None) -> str:
    """CREATE DATABASE with a fresh unique name; returns the name."""
    name = name or new_database_name()

    async def create() -> None:
        conn = await asyncpg.connect(server.dsn(), timeout=CONNECT_TIMEOUT)
        try:
            await conn.execute(f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8'")
        finally:
            await conn.close()

    _run(create)
    return name


def drop_database(server: PostgresServer, name: str) -> None:
    """Terminate the database's connections (a leaked pool must not block cleanup), drop it."""
    if not name.startswith(DB_PREFIX):
        raise ValueError(f"refusing to drop {name!r}: not a test database")

    async def drop() -> None:
        conn = await asyncpg.connect(server.dsn(), timeout=CONNECT_TIMEOUT)
        try:
            await conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = $1 AND pid <> pg_backend_pid()",
                name,
            )
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        finally:
            await conn.close()

    _run(drop)


class ThrowawayDatabase:
    """``with ThrowawayDatabase() as db: db.url`` creates a database and drops it afterwards."""

    def __init__(self, server: PostgresServer | None = None) -> None:
        found = server or find_server()
        if found is None:
            raise RuntimeError(describe_target())
        self.server = found
        self.name: str | None = None

    @property
    def url(self) -> str:
        """SQLAlchemy async URL: ``postgresql+asyncpg://user@host:port/<name>``."""
        return self.server.sqlalchemy_url(self._require_name())

    @property
    def dsn(self) -> str:
        """Plain ``postgresql://`` DSN for asyncpg."""
        return self.server.dsn(self._require_name())

    def create(self) -> ThrowawayDatabase:
        self.name = create_database(self.server)
        return self

    def drop(self) -> None:
        if self.name is not None:
            drop_database(self.server, self.name)
            self.name = None

    def __enter__(self) -> ThrowawayDatabase:
        return self.create()

    def __exit__(self, *exc_info: object) -> None:
        self.drop()

    def _require_name(self) -> str:
        if self.name is None:
            raise RuntimeError("throw-away database not created yet")
        return self.name
