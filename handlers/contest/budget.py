"""Budget lines of a proposal: reading "item – amount" and checking the cap. Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from handlers.core.flow import InvalidAnswer

# The amount is the last number in the line, e.g. "Farby i pedzle - 1 250,50 zl".
# (Currency words are written with escapes: no Polish text in code.)
NUMBER = r"\d{1,3}(?:[ \u00a0]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?"
CURRENCY = r"(?:z\u0142|zl|pln|z\u0142otych)"
AMOUNT = re.compile(
    rf"^(?P<item>.*?)[\s:;=\u2013\u2014-]*(?P<amount>{NUMBER})\s*{CURRENCY}?\s*$",
    re.IGNORECASE,
)
MAX_ITEM_LENGTH = 120
MAX_LINES = 40


@dataclass(frozen=True)
class Line:
    item: str
    amount: Decimal

    def as_dict(self) -> dict[str, str]:
        return {"item": self.item, "amount": f"{self.amount:.2f}"}


def parse_line(text: str, *, cap: Decimal) -> Line:
    """One budget line typed by the applicant; `InvalidAnswer` says what is expected."""
    match = AMOUNT.match(text.strip())
    if not match:
        raise InvalidAnswer("budget.invalid.format")
    item = match["item"].strip(" \t:;=\u2013\u2014-")
    if not item:
        raise InvalidAnswer("budget.invalid.no_item")
    if len(item) > MAX_ITEM_LENGTH:
        raise InvalidAnswer("budget.invalid.item_too_long", max=MAX_ITEM_LENGTH)
    raw = re.sub(r"[ \u00a0]", "", match["amount"]).replace(",", ".")
    try:
        amount = Decimal(raw)
    except InvalidOperation:
        raise InvalidAnswer("budget.invalid.format") from None
    if amount <= 0:
        raise InvalidAnswer("budget.invalid.zero")
    if amount > cap:
        raise InvalidAnswer("budget.invalid.line_over_cap", cap=money(cap))
    return Line(item, amount.quantize(Decimal("0.01")))


def lines_of(stored: list[dict[str, str]]) -> list[Line]:
    return [Line(line["item"], Decimal(line["amount"])) for line in stored]


def total(lines: list[Line]) -> Decimal:
    return sum((line.amount for line in lines), Decimal("0.00"))


def check_complete(lines: list[Line], *, cap: Decimal) -> None:
    """A budget can be closed only with at least one line and a total within the cap."""
    if not lines:
        raise InvalidAnswer("budget.invalid.empty")
    if total(lines) > cap:
        raise InvalidAnswer(
            "budget.invalid.over_cap",
            total=money(total(lines)),
            cap=money(cap),
            over=money(total(lines) - cap),
        )


def money(amount: Decimal) -> str:
    """Polish-style amount: 12 345,50 (the currency is added by the text around it)."""
    whole, _, cents = f"{amount:,.2f}".partition(".")
    return whole.replace(",", "\u00a0") + "," + cents
