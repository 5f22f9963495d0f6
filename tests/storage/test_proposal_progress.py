"""Migration 0009: the proposal flow's step marks leave the answers for `progress`."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from alembic import command
from sqlalchemy import text

from storage.db import Store
from storage.migrate import alembic_config, upgrade_async


async def test_old_step_marks_move_out_of_the_answers(tmp_path: Path) -> None:
    database_url = f"sqlite+aiosqlite:///{tmp_path}/old.db"
    # The schema as it was before 0009 (every branch merged by 0008).
    await asyncio.to_thread(command.upgrade, alembic_config(database_url), "0008")
    store = Store(database_url)
    old = {"tytul": "Potańcówka", "_budget_done": True, "_files_done": True}
    async with store.transaction() as session:
        await session.execute(
            text(
                "INSERT INTO proposals (contest, status, answers, budget, language, channel,"
                " source, created_at, updated_at)"
                " VALUES ('k', 'draft', :answers, '[]', 'pl', 'console', 'chat',"
                " '2030-05-20 10:00:00', '2030-05-20 10:00:00')"
            ),
            {"answers": json.dumps(old)},
        )
    await store.close()

    await upgrade_async(database_url)

    store = Store(database_url)
    async with store.transaction() as session:
        answers, progress = (
            await session.execute(text("SELECT answers, progress FROM proposals"))
        ).one()
    await store.close()
    loaded = [json.loads(v) if isinstance(v, str) else v for v in (answers, progress)]
    assert loaded == [{"tytul": "Potańcówka"}, {"budget": True, "files": True}]
