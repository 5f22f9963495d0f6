"""Button labels are cut at a word with "…", never in the middle of one."""

from __future__ import annotations

import pytest

from handlers.core.events import Button, Reply
from handlers.core.labels import FULL_WIDTH, cut_label, fit_keyboard, width_in_row
from handlers.core.replies import to_payload

LONG = "Jak się nazywasz – albo jak nazywa się Wasza grupa lub organizacja?"


def test_a_label_that_fits_is_kept() -> None:
    assert cut_label("Tak, zgadzam się") == "Tak, zgadzam się"


def test_a_long_label_ends_with_a_whole_word_and_an_ellipsis() -> None:
    cut = cut_label(LONG)
    assert cut.endswith("…") and len(cut) <= FULL_WIDTH
    head = cut.removesuffix("…")
    assert LONG.startswith(head)
    # The next character of the original is a space: no word was split.
    assert LONG[len(head)] == " " or LONG[len(head) :].startswith((" ", ","))


@pytest.mark.parametrize("limit", range(8, len(LONG) + 2))
def test_no_cut_splits_a_word_at_any_width(limit: int) -> None:
    cut = cut_label(LONG, limit)
    assert len(cut) <= limit
    if len(LONG) <= limit:
        assert cut == LONG
        return
    head = cut.removesuffix("…")
    assert cut.endswith("…") and LONG.startswith(head)
    assert not LONG[len(head)].isalnum()


def test_punctuation_before_the_ellipsis_is_dropped() -> None:
    assert cut_label("Sport, rekreacja, turystyka i wypoczynek", 20) == "Sport, rekreacja…"


def test_one_very_long_word_is_cut_as_nothing_better_exists() -> None:
    word = "Konstantynopolitańczykowianeczka" * 2
    cut = cut_label(word, 20)
    assert len(cut) == 20 and cut.endswith("…")


def test_buttons_sharing_a_row_share_the_width() -> None:
    rows = fit_keyboard([[Button(LONG, "a"), Button(LONG, "b")], [Button(LONG, "c")]])
    assert all(len(b.label) <= width_in_row(2) for b in rows[0])
    assert len(rows[1][0].label) <= FULL_WIDTH
    assert [b.data for row in rows for b in row] == ["a", "b", "c"]


def test_every_payload_leaving_for_a_channel_is_fitted() -> None:
    payload = to_payload(Reply("?", [[Button(LONG, "x:1")]]))
    [[[label, data]]] = payload["buttons"]
    assert label == cut_label(LONG) and data == "x:1"


def test_a_yes_no_pair_is_noted_in_the_payload() -> None:
    reply = Reply("?", [[Button("Tak", "q:y", "yes")], [Button("Nie", "q:n", "no")]])
    assert to_payload(reply)["yes_no"] == {"yes": "q:y", "no": "q:n"}
    # Half a pair is no pair: nothing to type for.
    assert "yes_no" not in to_payload(Reply("?", [[Button("Tak", "q:y", "yes")]]))
