"""Typed callback data: one frozen dataclass per kind of button.

A kind is declared where its feature lives, with a prefix (and usually a fixed
action) and typed fields::

    @kind("myprop", "show")
    @dataclass(frozen=True)
    class ProposalShow(CallbackData):
        proposal: int

`ProposalShow(7).pack()` gives `myprop:show:7`, within Telegram's 64 bytes.
`parse(data, kinds)` is the only place that reads button data back: it finds
the kind by its prefix (and action), converts every field to its declared type
and runs the kind's own check. Anything else - garbled, forged, a field of the
wrong type, a kind nobody registered - is None, which the entry point answers
as a stale button. Handlers therefore only ever see well-typed objects.

The step a button belongs to (`at_step()`) is the action, or for a form's
buttons a field, so a button from an old message is recognised as stale when
the conversation has moved on.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any, ClassVar, Literal, TypeVar, get_args, get_origin

MAX_BYTES = 64
SEPARATOR = ":"
# Ids are positive and short; a longer run of digits is not one of ours.
DIGITS = re.compile(r"^[0-9]{1,15}$")


class CallbackTooLong(ValueError):
    """A button whose data would not fit Telegram's 64 bytes: a programming error."""


@dataclass(frozen=True)
class CallbackData:
    """The base of every kind; `prefix` and `action` are set by `@kind`."""

    prefix: ClassVar[str] = ""
    action: ClassVar[str | None] = None
    # Field name -> converter from text (raises ValueError for what does not fit).
    readers: ClassVar[dict[str, Callable[[str], Any]]] = {}

    @classmethod
    def key(cls) -> str:
        return cls.prefix if cls.action is None else f"{cls.prefix}{SEPARATOR}{cls.action}"

    def at_step(self) -> str:
        """The conversation step this button belongs to (stateful kinds only)."""
        return self.action or ""

    def check(self) -> bool:
        """A kind's own rule beyond the field types (e.g. a step that must decode)."""
        return True

    def pack(self) -> str:
        values = [_write(getattr(self, f.name)) for f in fields(self)]
        for value in values[:-1]:
            if SEPARATOR in value:
                raise ValueError(f"{SEPARATOR!r} only allowed in the last field: {self!r}")
        packed = SEPARATOR.join([self.key(), *values])
        if len(packed.encode()) > MAX_BYTES:
            raise CallbackTooLong(packed)
        return packed


KindT = TypeVar("KindT", bound=type[CallbackData])


def kind(prefix: str, action: str | None = None) -> Callable[[KindT], KindT]:
    """Declare a dataclass as a kind of button: its prefix, action and field readers."""
    if not prefix or SEPARATOR in prefix or (action is not None and SEPARATOR in action):
        raise ValueError(f"bad callback prefix/action {prefix!r} {action!r}")

    def declare(cls: KindT) -> KindT:
        hints = typing.get_type_hints(cls)
        cls.prefix = prefix
        cls.action = action
        cls.readers = {f.name: _reader(hints[f.name], cls, f.name) for f in fields(cls)}
        return cls

    return declare


def _write(value: object) -> str:
    return str(value)


def _reader(hint: object, cls: type, name: str) -> Callable[[str], Any]:
    if hint is int:
        return _read_int
    if hint is str:
        return _read_str
    if get_origin(hint) is Literal:
        allowed = tuple(str(a) for a in get_args(hint))
        return lambda text: _read_literal(text, allowed)
    raise TypeError(f"{cls.__name__}.{name}: callback fields are int, str or Literal")


def _read_int(text: str) -> int:
    if not DIGITS.match(text):
        raise ValueError(text)
    return int(text)


def _read_str(text: str) -> str:
    if not text:
        raise ValueError("empty")
    return text


def _read_literal(text: str, allowed: tuple[str, ...]) -> str:
    if text not in allowed:
        raise ValueError(text)
    return text


def parse(data: str | None, kinds: Mapping[str, type[CallbackData]]) -> CallbackData | None:
    """The typed button behind `data`, or None for anything not exactly one of `kinds`."""
    if not data or len(data.encode(errors="replace")) > MAX_BYTES:
        return None
    head, has_rest, rest = data.partition(SEPARATOR)
    action, has_tail, tail = rest.partition(SEPARATOR)
    fixed = kinds.get(f"{head}{SEPARATOR}{action}") if has_rest else None
    if fixed is not None and fixed.action is not None:
        found, text, has_values = fixed, tail, bool(has_tail)
    else:
        found = kinds.get(head)
        if found is None or found.action is not None:
            return None
        text, has_values = rest, bool(has_rest)
    names = list(found.readers)
    if not names:
        return found() if not has_values else None
    if not has_values:
        return None
    parts = text.split(SEPARATOR, len(names) - 1)
    if len(parts) != len(names):
        return None
    try:
        values = {name: found.readers[name](part) for name, part in zip(names, parts, strict=True)}
        made = found(**values)
        return made if made.check() else None
    except (ValueError, TypeError, LookupError):
        return None
