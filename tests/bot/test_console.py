"""The terminal channel: each `lokalnie chat` session is one person's chat on a
shared store, a full rehearsal of the Telegram one: buttons pressed by letter keys
(digits are always typed answers), files sent with /attach, coordinators' notices in
the coordinator's own session, and what a coordinator's actions queue for other
people shown marked with the chat it is for."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app import Service
from bot.config import Settings
from bot.console import ConsoleProblem, ConsoleTransport, parse_line, read_attachment
from handlers.core.events import Kind, OutgoingFile, Reply
from handlers.core.replies import to_payload
from storage import surveys as survey_store
from storage.proposals import Proposal
from tests.conftest import COORDINATOR_ID
from tests.harness import said

RESIDENT = 4242
QUESTION = "Czy sala widowiskowa jest wolna w sobotę?"
ANSWER = "Tak, zapraszamy."
PDF = b"%PDF-1.4 plan of the evening"
# A key shown for a button: [a] ... [z], [aa] ...; never a number.
NUMBERED = re.compile(r"\[\d+\] ")

Line = str | Callable[[str], str]


def press(label: str) -> Callable[[str], str]:
    """The key of the newest button whose label is `label`, read off the screen."""

    def key(screen: str) -> str:
        found = re.findall(r"\[([a-z]+)\] " + re.escape(label) + r"(?=\s|$)", screen)
        assert found, f"no button {label!r} on the screen"
        return found[-1]

    return key


async def session(
    settings: Settings,
    user_id: int,
    *lines: Line,
    coordinator: bool = False,
    demo: bool = False,
) -> str:
    """One `lokalnie chat` run: what its terminal showed. A line may be worked out
    from the screen so far (e.g. the key of a button)."""
    out = io.StringIO()
    queue = list(lines)

    async def read_line() -> str | None:
        if not queue:
            return None
        line = queue.pop(0)
        return line(out.getvalue()) if callable(line) else line

    service = Service(settings, demo=demo)
    try:
        await service.prepare()
        await service.run_console(
            user_id=user_id, coordinator=coordinator, out=out, read_line=read_line
        )
    finally:
        await service.close()
    return out.getvalue()


CONSENT = ("/start", press(said("start.consent_yes")), press(said("news.no")))


# --- questions for coordinators, and what they send to others -----------------------


async def test_console_resident_question_reaches_the_coordinators_terminal_session(
    settings: Settings,
) -> None:
    resident = await session(settings, RESIDENT, *CONSENT, f"/ask {QUESTION}")
    assert said("ask.sent") in resident
    assert QUESTION not in resident.split(said("ask.sent"))[-1]  # the notice is not here

    coordinator = await session(
        settings, COORDINATOR_ID, press(said("ask.reply_button")), ANSWER, coordinator=True
    )
    assert QUESTION in coordinator
    # The answer goes to the resident: shown here marked with whom it is for.
    marked = said("console.for_other", chat=RESIDENT)
    assert marked in coordinator
    assert f"  │ {ANSWER}" in coordinator.split(marked, 1)[1]

    # It still waits for the resident, in the terminal the question came from.
    later = await session(settings, RESIDENT)
    assert ANSWER in later
    assert said("console.for_other", chat=COORDINATOR_ID) not in later
    assert "│" not in later


async def test_a_residents_session_never_shows_messages_for_others(settings: Settings) -> None:
    resident = await session(settings, RESIDENT, *CONSENT, f"/ask {QUESTION}")
    notice = said("console.for_other", chat=COORDINATOR_ID)
    assert notice not in resident


# --- button keys ---------------------------------------------------------------------


def test_a_key_presses_its_button_and_digits_stay_typed_answers() -> None:
    buttons = {"a": "survey:ocena:1", "e": "survey:ocena:5"}
    common = {"chat_id": "7", "user_id": 7, "coordinator": False, "buttons": buttons}
    pressed = parse_line("E", **common)
    assert pressed is not None and pressed.kind is Kind.CHOICE
    assert pressed.choice == "survey:ocena:5"
    for typed in ("5", "1", "1, 3, 5", "5 4 3"):
        event = parse_line(typed, **common)
        assert event is not None and event.kind is Kind.TEXT and event.text == typed


async def answers_of(settings: Settings, survey: str) -> list[dict[str, object]]:
    service = Service(settings)
    try:
        async with service.store.transaction() as session:
            return [r.answers for r in await survey_store.all_responses(session, survey)]
    finally:
        await service.close()


async def test_on_a_scale_a_typed_number_is_the_value_and_a_key_is_its_button(
    settings: Settings,
) -> None:
    # The event evaluation opens with a 1-5 scale; it is the only open survey.
    typed = await session(settings, 501, *CONSENT, "/survey", "5")
    assert NUMBERED.search(typed) is None
    assert re.search(r"\[[a-z]\] 1 +\[[a-z]\] 2", typed)  # a scale row on one line
    pressed = await session(settings, 502, *CONSENT, "/survey", press("4"))
    assert NUMBERED.search(pressed) is None
    assert [a["ocena"] for a in await answers_of(settings, "ewaluacja")] == [5, 4]


# --- /attach -------------------------------------------------------------------------


def test_attach_refuses_a_missing_path_and_a_folder(tmp_path: Path) -> None:
    for typed, key in (("", "console.attach_usage"), ("nie-ma.pdf", "console.attach_missing")):
        with pytest.raises(ConsoleProblem) as refused:
            read_attachment(typed)
        assert refused.value.key == key
    with pytest.raises(ConsoleProblem) as folder:
        read_attachment(str(tmp_path))
    assert folder.value.key == "console.attach_missing"


def test_attach_reads_a_quoted_path_with_spaces(tmp_path: Path) -> None:
    path = tmp_path / "plan wieczoru.pdf"
    path.write_bytes(PDF)
    event = parse_line(f'/attach "{path}"', chat_id="7", user_id=7, coordinator=False, buttons={})
    assert event is not None and event.kind is Kind.FILE and event.file is not None
    assert event.file.name == "plan wieczoru.pdf" and event.file.content == PDF
    assert event.file.mime_type == "application/pdf"


PROPOSAL = (
    "/propose",
    press("Osoba prywatna"),
    "Ewa Nowak",
    "ewa@example.pl",
    "600 100 200",
    "Potańcówka pod lipami",
    "Wieczór tańców ludowych dla całej wsi, z muzyką na żywo.",
    "Chcemy, żeby sąsiedzi się poznali.",
    "Dla całej wsi.",
    "40",
    "Pomierzyn, świetlica, sierpień.",
    "Mieszkańcy przygotują poczęstunek.",
    press(said("survey.skip")),
    "Muzyk i nagłośnienie – 1500",
    press(said("proposal.budget_done")),
)


async def test_attach_sends_a_file_into_the_proposal_of_the_demo_edition(
    settings: Settings, tmp_path: Path
) -> None:
    plan = tmp_path / "plan.pdf"
    plan.write_bytes(PDF)
    screen = await session(
        settings,
        RESIDENT,
        *CONSENT,
        *PROPOSAL,
        f"/attach {tmp_path / 'nie-ma.pdf'}",
        f"/attach {plan}",
        press(said("proposal.files_done")),
        press(said("proposal.submit")),
        demo=True,
    )
    assert said("console.attach_missing", path=tmp_path / "nie-ma.pdf") in screen
    assert said("proposal.files_saved", name="plan.pdf") in screen
    service = Service(settings)
    try:
        async with service.store.transaction() as session_:
            [proposal] = list(await session_.scalars(select(Proposal)))
    finally:
        await service.close()
    assert proposal.status == "submitted"
    # Stored apart from the real edition, under the demo contest and numbers.
    assert proposal.contest == "demo-inicjatywy-2021"
    assert proposal.number == "DEMO-KP-2021-001"
    assert said("proposal.submitted", title="Potańcówka pod lipami", number=proposal.number) in (
        screen
    )
    folder = settings.data_dir / "attachments" / str(proposal.id)
    assert [p.read_bytes() for p in folder.iterdir()] == [PDF]


async def test_console_shows_an_album_as_its_saved_files(tmp_path: Path) -> None:
    out = io.StringIO()
    transport = ConsoleTransport(out, tmp_path / "pobrane", lambda key, **values: key)
    pictures = [
        OutgoingFile(f"wykres-{n}.png", "image/png", b"\x89PNG" + bytes([n])) for n in (1, 2)
    ]
    report = OutgoingFile("raport.html", "text/html", b"<html></html>")
    await transport.deliver(str(RESIDENT), to_payload(Reply("Wykresy (2)", album=pictures)))
    await transport.deliver(str(RESIDENT), to_payload(Reply("Raport", file=report)))
    shown = out.getvalue()
    assert "Wykresy (2)" in shown
    for file in [*pictures, report]:
        path = tmp_path / "pobrane" / file.name
        assert f"-> {path}" in shown and path.read_bytes() == file.content
    assert shown.index("wykres-1.png") < shown.index("wykres-2.png") < shown.index("raport.html")
