"""INSERT ... ON CONFLICT for whichever store the session is on.

One statement instead of "look it up, then insert": the database's own unique
index decides, which is cheaper and also right under concurrent writers.
Statements on hot paths are built once per dialect and given their values as
parameters, so SQLAlchemy neither rebuilds nor re-keys them for every event.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def dialect(session: AsyncSession) -> str:
    return session.bind.dialect.name  # type: ignore[union-attr]


def insert_into(dialect_name: str, table: Table) -> Any:
    """The dialect's INSERT (with `on_conflict_do_nothing/update`) into `table`."""
    if dialect_name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)
