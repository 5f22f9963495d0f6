"""Budget lines of a proposal: reading "item – amount" and checking the cap. Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from babel import Locale
from babel.numbers import format_currency

from handlers.core.flow import InvalidAnswer

# The amount is the last number in the line, e.g. "Farby i pedzle - 1 250,50 zl".
# The pattern finds where the amount is; `amount_of` then reads it strictly, so a
# number that is wrong (a sign, an exponent, a range, 3 decimals) gets its own
# answer instead of being read as part of it ("-5" as 5, "12,345" as 345).
# (Currency words are written with escapes: no Polish text in code.)
SPACES = "\u0020\u00a0\u202f"  # space, non-breaking space, narrow non-breaking space
SPACED = rf"\d{{1,3}}(?:[{SPACES}]\d{{3}})+(?:[.,]\d+)?"
COMPACT = r"\d[\d.,]*(?:[eE][-+]?\d+)?"
NUMBER = rf"(?:{SPACED}|{COMPACT})"
MINUS = "-\u2212"  # hyphen-minus, minus sign (first in a class: "-" is literal there)
DASHES = "-\u2013\u2014"  # hyphen, en dash, em dash
CURRENCY = r"(?:(?:z\u0142(?:otych)?|zl(?:otych)?|pln)\.?)"
AMOUNT = re.compile(
    rf"^(?P<item>.*?)(?P<sign>[{MINUS}+])?(?P<number>{NUMBER})"
    rf"(?:[{DASHES}](?P<upper>{NUMBER}))?\s*{CURRENCY}?\s*$",
    re.IGNORECASE,
)
# Thousands grouped with a dot ("1.200"), optionally with a decimal comma.
DOT_GROUPED = re.compile(r"^[1-9]\d{0,2}(?:\.\d{3})+(?:,\d+)?$")
PLAIN = re.compile(r"^\d+(?:[.,]\d+)?$")
SEPARATORS = f" \t:;={DASHES}"
MAX_ITEM_LENGTH = 120
MAX_LINES = 40
CENTS = Decimal("0.01")


@dataclass(frozen=True)
class Line:
    item: str
    amount: Decimal

    def as_dict(self) -> dict[str, str]:
        return {"item": self.item, "amount": f"{self.amount:.2f}"}


def parse_line(text: str, *, cap: Decimal, language: str = "pl", currency: str = "PLN") -> Line:
    """One budget line typed by the applicant; `InvalidAnswer` says what is expected.

    `language` and `currency` only shape the amounts quoted in that answer."""
    match = AMOUNT.match(text.strip())
    if not match:
        raise InvalidAnswer("budget.invalid.format")
    item = item_name(match["item"])
    return Line(item, _checked(match, cap, language=language, currency=currency))


def parse_amount(
    text: str, *, cap: Decimal, language: str = "pl", currency: str = "PLN"
) -> Decimal | None:
    """A message that is only an amount ("3000", "1 200,50 zl"), checked as strictly
    as a line's; None when the message has more than an amount."""
    match = AMOUNT.match(text.strip())
    if not match or match["item"].strip(SEPARATORS):
        return None
    return _checked(match, cap, language=language, currency=currency)


def item_name(text: str) -> str:
    """What the money is for, as typed (a line's name, or a new name for a line)."""
    item = text.strip(SEPARATORS).strip()
    if not item:
        raise InvalidAnswer("budget.invalid.no_item")
    if len(item) > MAX_ITEM_LENGTH:
        raise InvalidAnswer("budget.invalid.item_too_long", max=MAX_ITEM_LENGTH)
    return item


def _checked(match: re.Match[str], cap: Decimal, *, language: str, currency: str) -> Decimal:
    raw_item = match["item"]
    if match["upper"] is not None:
        raise InvalidAnswer("budget.invalid.range")
    amount = amount_of(match["number"])
    # A minus glued to the number but not to the item is a sign ("Farby -5");
    # glued to both it separates them ("Farby-5").
    negative = match["sign"] in tuple(MINUS) and (not raw_item or raw_item[-1].isspace())
    if negative and amount > 0:
        raise InvalidAnswer("budget.invalid.negative")
    if amount <= 0:
        raise InvalidAnswer("budget.invalid.zero")
    if amount > cap:
        raise InvalidAnswer(
            "budget.invalid.line_over_cap", cap=money(cap, language=language, currency=currency)
        )
    return amount.quantize(CENTS)


def amount_of(number: str) -> Decimal:
    """The amount a number stands for, as Poles write it, at most to the grosz.

    Thousands are grouped with a space (any kind) or a dot, the decimal mark is a
    comma or a dot (a dot only when it is not grouping thousands: "1.200" is 1200,
    "1.5" is 1,50). Anything else says what is wrong with it.
    """
    compact = re.sub(f"[{SPACES}]", "", number)
    if "e" in compact.lower():
        raise InvalidAnswer("budget.invalid.digits")
    if DOT_GROUPED.match(compact):
        compact = compact.replace(".", "")
    elif not PLAIN.match(compact):
        raise InvalidAnswer("budget.invalid.digits")
    whole, _, fraction = compact.replace(",", ".").partition(".")
    if len(fraction) > 2:
        raise InvalidAnswer("budget.invalid.decimals")
    # Exact whatever its length (no context precision): "1" * 40 is over the cap,
    # not an arithmetic error.
    return Decimal(f"{whole}.{fraction or '0'}")


def lines_of(stored: list[dict[str, str]]) -> list[Line]:
    return [Line(line["item"], Decimal(line["amount"])) for line in stored]


def total(lines: list[Line]) -> Decimal:
    return sum((line.amount for line in lines), Decimal("0.00"))


def check_complete(
    lines: list[Line], *, cap: Decimal, language: str = "pl", currency: str = "PLN"
) -> None:
    """A budget can be closed only with at least one line and a total within the cap."""
    if not lines:
        raise InvalidAnswer("budget.invalid.empty")
    if total(lines) > cap:
        shown = {"language": language, "currency": currency}
        raise InvalidAnswer(
            "budget.invalid.over_cap",
            total=money(total(lines), **shown),
            cap=money(cap, **shown),
            over=money(total(lines) - cap, **shown),
        )


def money(amount: Decimal, *, language: str, currency: str) -> str:
    """An amount with its currency as the reader's language writes it.

    Babel's currency format of the locale: in Polish grouped with non-breaking
    spaces, a decimal comma and the symbol after the number; "PLN100,000" in
    English. Whole amounts drop the decimals.
    """
    locale = Locale.parse(language)
    pattern = locale.currency_formats["standard"].pattern
    if amount == amount.to_integral_value():
        return format_currency(
            amount,
            currency,
            format=pattern.replace(".00", ""),
            locale=locale,
            currency_digits=False,
        )
    return format_currency(amount, currency, locale=locale)
