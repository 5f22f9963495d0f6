"""Numbers in forms: limits written as the reader's language writes them, and typed
numbers grouped with any kind of space read as one number."""

from __future__ import annotations

import pytest

from handlers.core import flow
from handlers.core.flow import InvalidAnswer
from handlers.core.forms import Question

NBSP, NNBSP = "\u00a0", "\u202f"


def count_question() -> Question:
    return Question.model_validate(
        {"id": "liczba", "type": "number", "text": {"pl": "Ile?", "en": "How many?"}, "max": 100000}
    )


def test_limits_are_grouped_in_the_readers_language() -> None:
    assert flow.plain_number(100000, "pl") == f"100{NBSP}000"
    assert flow.plain_number(100000, "en") == "100,000"
    assert flow.plain_number(100000) == "100000"  # as the content file has it


@pytest.mark.parametrize("typed", ["12000", "12 000", f"12{NBSP}000", f"12{NNBSP}000"])
def test_a_number_grouped_with_any_space_is_one_number(typed: str) -> None:
    assert flow.parse_text(count_question(), typed) == 12000


def test_a_number_over_the_limit_is_refused() -> None:
    with pytest.raises(InvalidAnswer) as refused:
        flow.parse_text(count_question(), "100001")
    assert refused.value.key == "flow.invalid.range"
