"""How entries on behalf of residents show in results, lists and exports: a line with
how many came on paper, by phone, in person, and the channel's name in a table."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from handlers.core.i18n import Translator
from storage.on_behalf import CHANNELS


def counts_line(counts: Mapping[str, int], translator: Translator, language: str) -> str | None:
    """E.g. "Entered by the centre: on paper 2, by phone 1, in person 0"; None when none."""
    if not any(counts.get(channel, 0) for channel in CHANNELS):
        return None
    parts = [
        translator.text(
            language,
            "onbehalf.count_part",
            channel=translator.text(language, f"onbehalf.via.{channel}"),
            count=counts.get(channel, 0),
        )
        for channel in CHANNELS
    ]
    return translator.text(language, "onbehalf.counts", counts=", ".join(parts))


def channel_label(channel: str, t: Callable[[str], str]) -> str:
    """A response's or proposal's channel for an export: on-behalf channels in words."""
    return t(f"onbehalf.via.{channel}") if channel in CHANNELS else channel
