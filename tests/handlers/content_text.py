"""Editing a content file's text in a test, and finding where a problem should be reported."""

from __future__ import annotations


def edit(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, f"{old!r} must occur once"
    return text.replace(old, new)


def line_of(text: str, needle: str, nth: int = 1) -> int:
    """The 1-based line of the nth line containing `needle`."""
    found = [i for i, line in enumerate(text.splitlines(), start=1) if needle in line]
    return found[nth - 1]
