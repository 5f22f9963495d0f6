"""Typed callback data: `flow:step:value`, packed into Telegram's 64 bytes.

The step is carried so a button from an old message is recognised as stale
when the resident's conversation has moved on.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_BYTES = 64
SEPARATOR = ":"


class CallbackTooLong(ValueError):
    pass


@dataclass(frozen=True)
class Callback:
    flow: str
    step: str
    value: str = ""

    def pack(self) -> str:
        if SEPARATOR in self.flow or SEPARATOR in self.step:
            raise ValueError("flow and step may not contain ':'")
        packed = SEPARATOR.join((self.flow, self.step, self.value))
        if len(packed.encode()) > MAX_BYTES:
            raise CallbackTooLong(packed)
        return packed

    @classmethod
    def parse(cls, data: str | None) -> Callback | None:
        """None for anything that is not ours (garbled or foreign data)."""
        if not data:
            return None
        parts = data.split(SEPARATOR, 2)
        if len(parts) != 3 or not parts[0] or not parts[1]:
            return None
        return cls(*parts)
