"""A conversation's stored data, kept in two parts that never mix.

`state` is the flow's own bookkeeping (which survey, which proposal, whether a
field is being corrected); `pending` is the part of an answer given so far (the
ticked options of a multiple choice, the rows of a matrix, a chosen "other").
Both live in the conversation row's JSON as {"state": {...}, "pending": {...}},
so nothing a resident answers can be taken for a control flag, or the reverse.

Rows written before this split kept everything in one flat dict; `read` still
loads them, taking the flow's known state keys out of it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

STATE, PENDING = "state", "pending"


@dataclass(frozen=True)
class FlowData:
    state: dict[str, Any] = field(default_factory=dict)
    pending: dict[str, Any] = field(default_factory=dict)

    def stored(self) -> dict[str, Any]:
        """The JSON written to the conversation row."""
        return {STATE: dict(self.state), PENDING: dict(self.pending)}


def read(stored: dict[str, Any] | None, state_keys: Iterable[str]) -> FlowData:
    """The two parts of a stored conversation (old flat rows included)."""
    data = dict(stored or {})
    if isinstance(data.get(STATE), dict):
        pending = data.get(PENDING)
        return FlowData(dict(data[STATE]), dict(pending) if isinstance(pending, dict) else {})
    keys = set(state_keys)
    return FlowData(
        {k: v for k, v in data.items() if k in keys},
        {k: v for k, v in data.items() if k not in keys},
    )
