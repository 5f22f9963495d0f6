"""One line for results and lists: how many entries came on paper, by phone, in person."""

from __future__ import annotations

from collections.abc import Mapping

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
