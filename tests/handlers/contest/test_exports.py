"""Proposal exports and `lokalnie proposals`: every field, budget line, score and status
change, in files Excel in Polish opens and tools can read."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from bot.cli import app
from bot.cli_support import cli_language, cli_text
from handlers.contest import exports as proposal_exports
from handlers.contest import exports_xlsx
from handlers.contest import records as proposal_records
from handlers.contest.files import load_contest
from handlers.contest.model import Contest
from handlers.contest.records import history_key
from handlers.core.i18n import Translator
from storage import proposals, scores
from storage.db import Store
from tests.conftest import CONTENT
from tests.handlers.review_fixture import submit

WARSAW = ZoneInfo("Europe/Warsaw")
FORMULA = '=HYPERLINK("http://zly.example")'


@pytest.fixture
def contest() -> Contest:
    return load_contest(CONTENT / "contest.yaml", WARSAW)


@pytest.fixture
def translator() -> Translator:
    return Translator(CONTENT / "locales")


async def fill(url: str, contest: Contest) -> None:
    """Two submitted proposals, scored by two coordinators, one asked for changes."""
    store = Store(url)
    try:
        async with store.transaction() as session:
            first = await submit(session, contest, title=FORMULA, amounts=["6000", "2500.50"])
            second = await submit(session, contest, title="Kino pod chmurką", amounts=["4000"])
            for coordinator, mark in ((900001, 5), (900002, 3)):
                for criterion in contest.criteria:
                    await scores.set_score(
                        session,
                        proposal_id=first.id,
                        coordinator_id=coordinator,
                        criterion=criterion.id,
                        value=mark,
                    )
            stored = await proposals.get(session, second.id)
            assert stored is not None
            await proposals.record(
                session,
                stored,
                "status",
                to_status=proposals.CHANGES_REQUESTED,
                actor=900001,
                note="Proszę dopisać miejsce.",
            )
            await scores.store_outcome(
                session,
                contest=contest.slug,
                decisions=[scores.Decision(first.id, True, 1, proposal_records.amount(stored))],
                decided_by=900001,
            )
    finally:
        await store.close()


async def records(url: str, contest: Contest) -> list[proposal_records.ProposalRecord]:
    store = Store(url)
    try:
        async with store.transaction() as session:
            return await proposal_records.records(session, contest)
    finally:
        await store.close()


def read_csv(data: bytes) -> list[dict[str, str]]:
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    keys, _names, *body = rows
    return [dict(zip(keys, row, strict=True)) for row in body]


async def test_export_csv_every_field_budget_score_and_history(
    sqlite_url: str, contest: Contest, translator: Translator
) -> None:
    await fill(sqlite_url, contest)
    found = await records(sqlite_url, contest)
    data = proposal_exports.to_csv(
        contest, found, language="pl", translator=translator, timezone=WARSAW
    )
    first, second = read_csv(data)
    assert first["number"] == "KP-2021-001" and first["title"] == "'" + FORMULA
    assert first["amount"] == "8500,50"
    assert first["budget"] == "Pozycja 1: 6\u00a0000\u00a0zł | Pozycja 2: 2\u00a0500,50\u00a0zł"
    assert first["rank"] == "1" and first["score"] == "4" and first["scorers"] == "2"
    assert first["selected"] == "Tak"
    assert "900002 Zgodność z celami programu: 3" in first["scores"]
    assert first["wnioskodawca"] == "Koło Gospodyń Wiejskich"
    assert first["email"] == "kgw@example.pl"
    assert second["status"] == "do poprawy"
    assert "do poprawy (900001): Proszę dopisać miejsce." in second["history"]


async def test_export_xlsx_has_a_sheet_per_kind_of_line(
    sqlite_url: str, contest: Contest, translator: Translator
) -> None:
    await fill(sqlite_url, contest)
    found = await records(sqlite_url, contest)
    data = exports_xlsx.to_xlsx(
        contest, found, language="pl", translator=translator, timezone=WARSAW
    )
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["Wnioski", "Budżet", "Oceny", "Historia", "Załączniki"]
    grid = book["Wnioski"]
    assert grid.cell(row=3, column=3).value == FORMULA  # text, never a formula
    assert grid.cell(row=3, column=3).data_type == "s"
    budget = [[c.value for c in row] for row in book["Budżet"].iter_rows(min_row=2)]
    assert budget == [
        ["KP-2021-001", "Pozycja 1", 6000.0],
        ["KP-2021-001", "Pozycja 2", 2500.5],
        ["KP-2021-002", "Pozycja 1", 4000.0],
    ]
    assert book["Oceny"].max_row == 1 + 2 * len(contest.criteria)
    notes = [row[6].value for row in book["Historia"].iter_rows(min_row=2)]
    assert "Proszę dopisać miejsce." in notes
    # Events are named in the reader's language, as the catalogue names them.
    events = {row[2].value for row in book["Historia"].iter_rows(min_row=2)}
    stored = {h.kind for r in found for h in r.history}
    assert events == {translator.text("pl", history_key(kind), kind=kind) for kind in stored}
    assert events.isdisjoint(stored)
    # Amounts stay numbers, shown with the currency.
    assert book["Budżet"].cell(row=2, column=3).number_format.endswith('"zł"')


async def test_export_json_keeps_the_stored_shapes(sqlite_url: str, contest: Contest) -> None:
    await fill(sqlite_url, contest)
    data = json.loads(proposal_exports.to_json(contest, await records(sqlite_url, contest)))
    first, second = data["proposals"]
    assert first["budget_total"] == "8500.50"
    assert first["budget"][1] == {"item": "Pozycja 2", "amount": "2500.50"}
    assert first["ranking"] == {"rank": 1, "score": 4.0, "scorers": 2, "spread": 2.0}
    assert first["outcome"]["selected"] is True and first["outcome"]["decided_by"] == 900001
    assert len(first["scores"]) == 10
    assert second["history"][-1]["note"] == "Proszę dopisać miejsce."
    assert second["ranking"] == {"rank": None, "score": None, "scorers": 0, "spread": None}


def test_cli_proposals_list_show_export(sqlite_url: str, contest: Contest, tmp_path: Path) -> None:
    asyncio.run(fill(sqlite_url, contest))
    env = {
        "DATABASE_URL": sqlite_url,
        "CONTENT_DIR": str(CONTENT),
        "DATA_DIR": str(tmp_path / "data"),
        "TELEGRAM_BOT_TOKEN": "",
        "COORDINATOR_IDS": "",
    }
    runner = CliRunner()
    listed = runner.invoke(app, ["proposals", "list"], env=env)
    assert listed.exit_code == 0, listed.output
    assert "KP-2021-001" in listed.output and "Kino pod chmurką" in listed.output
    shown = runner.invoke(app, ["proposals", "show", "kp-2021-002"], env=env)
    assert shown.exit_code == 0, shown.output
    assert "Kino pod chmurką" in shown.output and "Proszę dopisać miejsce." in shown.output
    assert "Pozycja 1: 4\u00a0000\u00a0zł" in shown.output
    out = tmp_path / "wnioski.xlsx"
    exported = runner.invoke(
        app, ["proposals", "export", "--format", "xlsx", "--out", str(out)], env=env
    )
    assert exported.exit_code == 0, exported.output
    assert load_workbook(out).sheetnames[0] == "Wnioski"
    missing = runner.invoke(app, ["proposals", "show", "KP-2021-099"], env=env)
    assert missing.exit_code == 2
    assert missing.output.strip() == "lokalnie: " + cli_text(
        "cli.no_proposal", number="KP-2021-099", contest=contest.name.get(cli_language())
    )
