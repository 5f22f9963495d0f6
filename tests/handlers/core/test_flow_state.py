"""A conversation's data: the flow's state apart from a pending answer; old rows still load."""

from __future__ import annotations

from handlers.core import flow_state


def test_state_and_pending_are_stored_apart() -> None:
    data = flow_state.FlowData({"survey": "s", "response": 3}, {"chosen": ["a"]})
    stored = data.stored()
    assert stored == {"state": {"survey": "s", "response": 3}, "pending": {"chosen": ["a"]}}
    assert flow_state.read(stored, ("survey", "response")) == data


def test_a_pending_answer_named_like_a_state_key_stays_an_answer() -> None:
    stored = flow_state.FlowData({"proposal": 1}, {"proposal": "typed"}).stored()
    assert flow_state.read(stored, ("proposal",)).pending == {"proposal": "typed"}


def test_a_flat_row_from_before_the_split_still_loads() -> None:
    old = {"survey": "s", "response": 3, "chosen": ["a"], "partial": {"choice": "other"}}
    data = flow_state.read(old, ("survey", "response"))
    assert data.state == {"survey": "s", "response": 3}
    assert data.pending == {"chosen": ["a"], "partial": {"choice": "other"}}
    assert flow_state.read(None, ("survey",)) == flow_state.FlowData()
