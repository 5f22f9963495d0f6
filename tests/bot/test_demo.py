"""The demo edition: `lokalnie run --demo` (what `make run` does without a token) lets
a newcomer take the diagnosis and submit a proposal on the shipped content, while the
centre's real edition keeps its own dates and stays closed."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bot.app import Service
from bot.config import Settings
from handlers.core.labels import cut_label
from tests.bot.test_config import run_cli
from tests.harness import said

REAL_SURVEY = "diagnoza-2021"
REAL_CONTEST = "inicjatywy-2021"
DIAGNOSIS = "Diagnoza potrzeb kulturalnych mieszkańców gminy Kalisz Pomorski 2021"
CONTEST = "Konkurs inicjatyw lokalnych „Dom Kultury+” – Kalisz Pomorski 2021"


async def test_the_demo_adds_open_copies_and_keeps_the_real_edition(settings: Settings) -> None:
    now = datetime.now(UTC)
    real = Service(settings)
    demo = Service(settings, demo=True)
    try:
        assert all(not slug.startswith("demo-") for slug in real.services.surveys)
        assert real.services.contest is not None and real.services.contest.slug == REAL_CONTEST
        surveys = demo.services.surveys
        # The real diagnosis is still there, closed as its file says.
        assert surveys[REAL_SURVEY].closes == real.services.surveys[REAL_SURVEY].closes
        assert surveys[REAL_SURVEY].closes is not None and surveys[REAL_SURVEY].closes < now
        copy = surveys["demo-" + REAL_SURVEY]
        assert copy.opens is None and copy.closes is not None and copy.closes > now
        assert copy.title.get("pl") == said("demo.title", title=DIAGNOSIS)
        assert copy.questions == surveys[REAL_SURVEY].questions
        # A survey without dates is open anyway: no copy of it.
        assert "demo-ewaluacja" not in surveys
        contest = demo.services.contest
        assert contest is not None and contest.slug == "demo-" + REAL_CONTEST
        assert contest.closes > now and contest.number_prefix == "DEMO-KP-2021"
        assert contest.name.get("pl") == said("demo.title", title=CONTEST)
        assert demo.demo_closes == contest.closes
    finally:
        await real.close()
        await demo.close()


# Consent, no news, then what a newcomer tries first.
TRY = "/start\na\nb\n/survey\n/survey diagnoza-2021\n/propose\n"


def test_run_with_the_demo_offers_the_diagnosis_and_an_open_call(tmp_path: Path) -> None:
    db = {"DATABASE_URL": f"sqlite:///{tmp_path}/try.db", "DATA_DIR": str(tmp_path / "data")}
    shown = run_cli(tmp_path, "run", "--demo", stdin=TRY, **db)
    assert shown.returncode == 0, shown.stderr
    out = shown.stdout
    assert said("console.no_token") in out
    assert said("console.demo").split("{until}")[0] in out
    # The demo diagnosis is offered (on a button, cut to fit); the real one stays
    # closed when asked for by name.
    assert cut_label(said("demo.title", title=DIAGNOSIS)) in out
    assert said("survey.closed", title=DIAGNOSIS, when="30 kwietnia 2021, 23:59") in out
    # The call for proposals is open: its first step is asked.
    assert said("demo.title", title=CONTEST) in out
    assert "Kto zgłasza inicjatywę?" in out
    assert said("proposal.closed", name=CONTEST, when="7 czerwca 2021, 23:59") not in out

    # Without --demo, the same store serves only the real, closed edition.
    real = run_cli(tmp_path, "run", stdin="/propose\n", **db)
    assert real.returncode == 0, real.stderr
    assert said("proposal.closed", name=CONTEST, when="7 czerwca 2021, 23:59") in real.stdout
    assert said("demo.title", title=CONTEST) not in real.stdout
