"""Budget amounts: each way of writing one, and what the applicant is told."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from handlers.contest.budget import money, parse_amount, parse_line
from handlers.core.flow import InvalidAnswer
from handlers.core.i18n import Translator
from tests.conftest import CONTENT
from tests.handlers.contest.test_proposal import applicant, fill_form
from tests.handlers.contest_fixture import sample_contest
from tests.harness import ChatHarness, texts

CAP = Decimal("10000")
NBSP, NNBSP = "\u00a0", "\u202f"

# (what the applicant types, the amount kept or the catalogue key of the answer)
AMOUNTS: list[tuple[str, str]] = [
    # plain numbers and the decimal mark
    ("Sprzęt 1200", "1200.00"),
    ("Sprzęt 1200,5", "1200.50"),
    ("Sprzęt 1200,50", "1200.50"),
    ("Sprzęt 1200.50", "1200.50"),
    ("Sprzęt 0,5", "0.50"),
    ("Sprzęt 0,01", "0.01"),
    # thousands separators
    ("Sprzęt 1 200", "1200.00"),
    (f"Sprzęt 1{NBSP}200", "1200.00"),
    (f"Sprzęt 1{NNBSP}200,50", "1200.50"),
    ("Sprzęt 1.200", "1200.00"),
    ("Sprzęt 1.200,50", "1200.50"),
    ("Sprzęt 1 200.50", "1200.50"),
    # currency, separators between item and amount
    ("Sprzęt 1200 zł", "1200.00"),
    ("Sprzęt 1200zł", "1200.00"),
    ("Sprzęt 1200 PLN", "1200.00"),
    ("Sprzęt 1200 złotych", "1200.00"),
    ("Sprzęt 1200 zl.", "1200.00"),
    ("Sprzęt: 1200", "1200.00"),
    ("Sprzęt – 1200", "1200.00"),
    ("Sprzęt - 5", "5.00"),
    ("Sprzęt-5", "5.00"),
    ("Warsztaty 2024 – 1500", "1500.00"),
    ("Sprzęt +5", "5.00"),
    # signs
    ("Sprzęt -5", "budget.invalid.negative"),
    ("Sprzęt \u22125", "budget.invalid.negative"),
    ("Sprzęt 0", "budget.invalid.zero"),
    ("Sprzęt 0,00", "budget.invalid.zero"),
    ("Sprzęt -0", "budget.invalid.zero"),
    # exponents
    ("Sprzęt 1e309", "budget.invalid.digits"),
    ("Sprzęt 1E3", "budget.invalid.digits"),
    ("Sprzęt 1,5e2", "budget.invalid.digits"),
    # more than two decimal places (a comma is never a thousands separator)
    ("Sprzęt 12,345", "budget.invalid.decimals"),
    ("Sprzęt 0,001", "budget.invalid.decimals"),
    ("Sprzęt 0.001", "budget.invalid.decimals"),
    ("Sprzęt 1 200,505", "budget.invalid.decimals"),
    # ranges
    ("Sprzęt 100-200", "budget.invalid.range"),
    ("Sprzęt 100–200 zł", "budget.invalid.range"),
    # numbers that are no amount
    ("Sprzęt 1,200.50", "budget.invalid.digits"),
    ("Sprzęt 1..2", "budget.invalid.digits"),
    ("Sprzęt 1.2.3", "budget.invalid.digits"),
    ("Sprzęt 12,", "budget.invalid.digits"),
    # over the cap, however long
    ("Sprzęt 10000,01", "budget.invalid.line_over_cap"),
    ("Sprzęt " + "9" * 60, "budget.invalid.line_over_cap"),
    # nonsense
    ("Sprzęt", "budget.invalid.format"),
    ("Sprzęt dużo", "budget.invalid.format"),
    ("Sprzęt 12a", "budget.invalid.format"),
    ("Sprzęt 100 EUR", "budget.invalid.format"),
    ("", "budget.invalid.format"),
    ("1200", "budget.invalid.no_item"),
    ("– 1200 zł", "budget.invalid.no_item"),
    ("-5", "budget.invalid.no_item"),
]


@pytest.mark.parametrize(("line", "expected"), AMOUNTS, ids=[line for line, _ in AMOUNTS])
def test_amount(line: str, expected: str) -> None:
    if expected.startswith("budget."):
        with pytest.raises(InvalidAnswer) as refused:
            parse_line(line, cap=CAP)
        assert refused.value.key == expected
    else:
        parsed = parse_line(line, cap=CAP)
        assert parsed.amount == Decimal(expected)
        assert parsed.as_dict()["amount"] == expected


# The amounts alone, as typed to change a budget line's amount: read as strictly.
BARE = [
    (line.removeprefix("Sprzęt "), expected)
    for line, expected in AMOUNTS
    if line.startswith("Sprzęt ") and expected != "budget.invalid.format"
]


@pytest.mark.parametrize(("amount", "expected"), BARE, ids=[amount for amount, _ in BARE])
def test_a_bare_amount_is_read_like_a_lines(amount: str, expected: str) -> None:
    if expected.startswith("budget."):
        with pytest.raises(InvalidAnswer) as refused:
            parse_amount(amount, cap=CAP)
        assert refused.value.key == expected
    else:
        assert parse_amount(amount, cap=CAP) == Decimal(expected)


@pytest.mark.parametrize("text", ["Farby 300", "Sprzęt 12a", "dużo", "100 EUR", ""])
def test_a_message_with_more_than_an_amount_is_no_bare_amount(text: str) -> None:
    assert parse_amount(text, cap=CAP) is None


@pytest.mark.parametrize("language", ["pl", "en"])
def test_every_answer_about_an_amount_has_a_text(language: str) -> None:
    translator = Translator(CONTENT / "locales", "pl")
    for key in {expected for _, expected in AMOUNTS if expected.startswith("budget.")}:
        text = translator.text(language, key, cap="10 000,00", max=120)
        assert text and text != key


async def test_negative_amount_is_answered_and_not_stored(harness: ChatHarness) -> None:
    harness.service.services.contest = sample_contest()
    harness.service.services.clock = lambda: datetime(2030, 5, 20, 10, 0, tzinfo=UTC)
    ewa = await applicant(harness, 640)
    await fill_form(ewa)
    refused = await ewa.send("Sprzęt -5")
    assert "nie może być ujemna" in texts(refused)
    kept = await ewa.send("Sprzęt 12,50 zł")
    assert "Razem: 12,50\u00a0zł" in texts(kept)


@pytest.mark.parametrize(
    ("amount", "language", "shown"),
    [
        ("100000", "pl", f"100{NBSP}000{NBSP}z\u0142"),
        ("12345.50", "pl", f"12{NBSP}345,50{NBSP}z\u0142"),
        ("0.5", "pl", f"0,50{NBSP}z\u0142"),
        ("100000", "en", "PLN100,000"),
        ("1200.5", "en", "PLN1,200.50"),
    ],
)
def test_amounts_are_shown_as_the_language_writes_money(
    amount: str, language: str, shown: str
) -> None:
    assert money(Decimal(amount), language=language, currency="PLN") == shown


def test_the_cap_in_an_answer_is_written_as_money() -> None:
    with pytest.raises(InvalidAnswer) as refused:
        parse_line("Scena 20000", cap=CAP, language="pl", currency="PLN")
    assert refused.value.values["cap"] == f"10{NBSP}000{NBSP}z\u0142"
