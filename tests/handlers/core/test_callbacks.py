"""Every registered kind of button, pressed with forged or garbled data.

A resident (or a curious coordinator) can send any callback data a Telegram
client lets them craft. Whatever it is, the answer is the stale-button message:
never the internal-error apology, never an error in the log.
"""

from __future__ import annotations

import logging
import typing
from datetime import UTC, datetime
from typing import Any, Literal, get_args, get_origin

import pytest

from handlers.core.callbacks import SEPARATOR, CallbackData, CallbackTooLong
from handlers.routes import ROUTES
from tests.conftest import COORDINATOR_ID
from tests.handlers.contest_fixture import sample_contest
from tests.harness import ChatHarness, Person, texts

STALE = "nieaktualny"
APOLOGY = "coś poszło nie tak"
KINDS = sorted(ROUTES.kinds.values(), key=lambda k: k.key())


def _hints(kind: type[CallbackData]) -> dict[str, Any]:
    hints = typing.get_type_hints(kind)
    return {name: hints[name] for name in kind.readers}


def _sample(hint: Any) -> str:
    """A value of the right type (which may still name nothing that exists)."""
    if hint is int:
        return "987654"
    if get_origin(hint) is Literal:
        return str(get_args(hint)[0])
    return "zz"


def _garbled(hint: Any) -> list[str]:
    """Values of the wrong type for a field."""
    if hint is int:
        return ["abc", "-1", "", "1.5", "9" * 20]
    if get_origin(hint) is Literal:
        return ["nonsense", ""]
    return [""]


def well_formed(kind: type[CallbackData]) -> str:
    values = [_sample(h) for h in _hints(kind).values()]
    return SEPARATOR.join([kind.key(), *values])


def malformed(kind: type[CallbackData]) -> list[str]:
    """Data that must not parse as `kind`: wrong types, missing or extra fields, too long."""
    hints = _hints(kind)
    good = [_sample(h) for h in hints.values()]
    found = [kind.key() + SEPARATOR + "9" * 70]
    if not hints:
        return [*found, kind.key() + SEPARATOR, kind.key() + SEPARATOR + "x"]
    for index, hint in enumerate(hints.values()):
        for wrong in _garbled(hint):
            values = [*good[:index], wrong, *good[index + 1 :]]
            found.append(SEPARATOR.join([kind.key(), *values]))
    found.append(SEPARATOR.join([kind.key(), *good[:-1]]))  # one field short
    if list(hints.values())[-1] is not str:  # a last text field may contain the separator
        found.append(SEPARATOR.join([kind.key(), *good, "extra"]))
    return found


def test_every_kind_round_trips_and_refuses_what_does_not_fit() -> None:
    for kind in KINDS:
        data = well_formed(kind)
        parsed = ROUTES.parse(data)
        if parsed is not None:  # a kind's own check may refuse the sample (e.g. a form step)
            assert type(parsed) is kind and parsed.pack() == data
        for wrong in malformed(kind):
            assert ROUTES.parse(wrong) is None, (kind.__name__, wrong)
    for wrong in ["", "nosuch", "nosuch:x:y", ":", "::", "survey", "survey:", "survey:q1"]:
        assert ROUTES.parse(wrong) is None, wrong


def test_a_button_over_64_bytes_is_refused_when_built() -> None:
    [kind] = [k for k in KINDS if k.key() == "surveys:pick"]
    with pytest.raises(CallbackTooLong):
        kind("x" * 80).pack()  # type: ignore[call-arg]


@pytest.fixture
async def insider(harness: ChatHarness) -> Person:
    """A coordinator who also consented: nothing but the data itself can refuse a press."""
    services = harness.service.services
    services.contest = sample_contest()
    services.clock = lambda: datetime(2030, 5, 20, 10, 0, tzinfo=UTC)
    person = harness.person(COORDINATOR_ID, coordinator=True, name="Marta")
    await person.send("/start")
    await person.press("Tak, zgadzam")
    return person


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.key())
async def test_forged_data_of_every_kind_is_a_stale_button(
    insider: Person, kind: type[CallbackData], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    for data in [*malformed(kind), "nosuch" + SEPARATOR + kind.key()]:
        answer = texts(await insider.choose(data))
        assert STALE in answer, (data, answer)
        assert APOLOGY not in answer
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.key())
async def test_well_formed_data_naming_nothing_is_answered_without_an_error(
    insider: Person, kind: type[CallbackData], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    answer = texts(await insider.choose(well_formed(kind)))
    assert answer and APOLOGY not in answer
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
