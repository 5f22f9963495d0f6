"""The retention job: what is past the centre's period is erased; what is fresh stays."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from bot.app import Service
from bot.cli import app
from bot.cli_support import cli_text
from bot.commands.privacy import CATEGORY_KEYS
from scheduler.retention_job import apply_retention
from scheduler.runtime import JobRuntime
from storage import events, outbox, residents, retention
from storage.mail.models import MailAttachment, MailMessage, MailThread
from storage.models import (
    Event,
    InboundReceipt,
    OutboxMessage,
    Resident,
    ResidentQuestion,
    SurveyAnswer,
    SurveyResponse,
)
from tests.conftest import CONTENT, COORDINATOR_ID, make_settings
from tests.harness import ChatHarness

NOW = datetime.now().astimezone()
# content/centre.yaml: 60 months.
LONG_AGO = NOW - timedelta(days=30 * 61)
RECENTLY = NOW - timedelta(days=20)


@pytest.fixture
async def harness(database_url: str, tmp_path: Path) -> AsyncIterator[ChatHarness]:
    service = Service(make_settings(database_url, tmp_path))
    await service.prepare()
    try:
        yield ChatHarness(service)
    finally:
        await service.close()


async def plant(harness: ChatHarness, telegram_id: int, name: str, when: datetime) -> int:
    """A resident and one row of every kind, all dated `when`; the resident's id."""
    data_dir = harness.service.services.data_dir
    async with harness.service.store.transaction() as session:
        resident = await residents.create_with_consent(
            session, telegram_id=telegram_id, name=name, language="pl"
        )
        resident.last_active_at = when
        response = SurveyResponse(
            survey="diagnoza-2021",
            resident_id=resident.id,
            status="finished",
            channel="telegram",
            started_at=when,
            updated_at=when,
            finished_at=when,
        )
        session.add(response)
        await session.flush()
        session.add(SurveyAnswer(response_id=response.id, question="q1", value=f"{name} idea"))
        session.add(
            ResidentQuestion(
                resident_id=resident.id,
                channel="telegram",
                chat_id=str(telegram_id),
                text=f"{name} asks",
                asked_at=when,
            )
        )
        await events.record(session, f"planted-{name}", resident_id=resident.id)
        message_id = await outbox.enqueue(
            session,
            channel="telegram",
            recipient=str(telegram_id),
            payload={"text": f"to {name}"},
            idempotency_key=f"planted:{name}",
            resident_id=resident.id,
        )
        await outbox.mark_sent(session, message_id)
        session.add(
            InboundReceipt(channel="telegram", external_id=f"1:{telegram_id}", received_at=when)
        )
        thread = MailThread(
            subject=f"{name} mail",
            counterpart=f"{name}@example.org",
            last_message_at=when,
            created_at=when,
        )
        session.add(thread)
        await session.flush()
        mail = MailMessage(
            thread_id=thread.id,
            message_id=f"{name}@example.org",
            from_address=f"{name}@example.org",
            subject=f"{name} mail",
            text=f"{name} writes",
            received_at=when,
        )
        session.add(mail)
        await session.flush()
        path = f"mail/{name}.pdf"
        (data_dir / "mail").mkdir(parents=True, exist_ok=True)
        (data_dir / path).write_bytes(b"%PDF " + name.encode())
        session.add(MailAttachment(message_id=mail.id, filename=f"{name}.pdf", path=path))
        resident_id = resident.id
    # Timestamps the storage functions set to "now", moved back.
    async with harness.service.store.transaction() as session:
        for row in await session.scalars(select(Event).where(Event.resident_id == resident_id)):
            row.at = when
        sent = await outbox.find(session, f"planted:{name}")
        assert sent is not None
        sent.created_at = sent.sent_at = when
    return resident_id


def report(database_url: str, tmp_path: Path) -> str:
    env = {
        "DATABASE_URL": database_url,
        "CONTENT_DIR": str(CONTENT),
        "DATA_DIR": str(tmp_path / "data"),
        "COORDINATOR_IDS": str(COORDINATOR_ID),
    }
    result = CliRunner().invoke(app, ["privacy", "report"], env=env)
    assert result.exit_code == 0, result.output
    return result.output


def line_of(output: str, category: str) -> list[str]:
    [line] = [line for line in output.splitlines() if line.startswith(category + " ")]
    return line[len(category) :].split()


async def test_old_rows_go_fresh_rows_stay(
    harness: ChatHarness, database_url: str, tmp_path: Path
) -> None:
    old = await plant(harness, 61_000_001, "Oldname", LONG_AGO)
    fresh = await plant(harness, 61_000_002, "Freshname", RECENTLY)
    data_dir = harness.service.services.data_dir

    before = await asyncio.to_thread(report, database_url, tmp_path)
    for category in (
        "residents",
        "survey responses (finished)",
        "e-mails",
        "events",
        "outbox (delivered, failed, cancelled)",
        "inbound receipts",
        "questions (/ask)",
        "proposals (submitted)",
    ):
        assert cli_text(CATEGORY_KEYS[category]) in before
    # total, six age buckets, past: one old resident past 60 months, one fresh.
    assert line_of(before, cli_text("cli.privacy_category.residents"))[:8] == [
        "2",
        "1",
        "0",
        "0",
        "0",
        "0",
        "1",
        "1",
    ]
    assert line_of(before, cli_text("cli.privacy_category.inbound_receipts"))[7] == "1"

    outcome = await apply_retention(JobRuntime(harness.service.store, harness.service.services))
    assert outcome.erased_residents == 1

    async with harness.service.store.transaction() as session:
        gone = await session.get(Resident, old)
        kept = await session.get(Resident, fresh)
        assert gone is not None and gone.telegram_id is None and gone.name is None
        assert gone.forgotten_at is not None
        assert kept is not None and kept.name == "Freshname" and kept.forgotten_at is None
        answers = [a.value for a in await session.scalars(select(SurveyAnswer))]
        assert answers == ["Freshname idea"]
        # (the survey is anonymous: starting the CLI cut the finished responses' link)
        assert len(list(await session.scalars(select(SurveyResponse)))) == 1
        questions = [q.text for q in await session.scalars(select(ResidentQuestion))]
        assert questions == ["Freshname asks"]
        kinds = [e.kind for e in await session.scalars(select(Event))]
        assert "planted-Oldname" not in kinds and "planted-Freshname" in kinds
        keys = [m.idempotency_key for m in await session.scalars(select(OutboxMessage))]
        assert "planted:Oldname" not in keys and "planted:Freshname" in keys
        receipts = [r.external_id for r in await session.scalars(select(InboundReceipt))]
        assert receipts == ["1:61000002"]
        mails = {m.message_id: m for m in await session.scalars(select(MailMessage))}
        assert mails["Oldname@example.org"].text == ""
        assert mails["Oldname@example.org"].from_address == ""
        assert mails["Freshname@example.org"].text == "Freshname writes"
        threads = [t.subject for t in await session.scalars(select(MailThread))]
        assert sorted(threads) == ["", "Freshname mail"]
    assert not (data_dir / "mail" / "Oldname.pdf").exists()
    assert (data_dir / "mail" / "Freshname.pdf").exists()

    after = await asyncio.to_thread(report, database_url, tmp_path)
    assert line_of(after, cli_text("cli.privacy_category.residents"))[:8] == [
        "1",
        "1",
        "0",
        "0",
        "0",
        "0",
        "0",
        "0",
    ]
    # A second run finds nothing more to do.
    again = await apply_retention(JobRuntime(harness.service.store, harness.service.services))
    assert again.erased_residents == 0 and again.emptied_mails == 0


def test_the_daily_job_has_a_stable_id() -> None:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    from scheduler.retention_job import JOB_ID, run_retention, schedule_retention

    scheduler = AsyncIOScheduler()
    runtime = JobRuntime(None, None)  # type: ignore[arg-type]
    schedule_retention(scheduler, runtime)
    [job] = scheduler.get_jobs()
    assert job.id == JOB_ID == "retention:daily" and job.func is run_retention


def test_every_category_of_the_report_has_a_name_in_the_catalogue() -> None:
    """The report names each category in the configured language, never by its code name."""
    assert set(CATEGORY_KEYS) == {category.name for category in retention.CATEGORIES}
