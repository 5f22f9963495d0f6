"""The coordinator's survey buttons (/results, sharing them, /export), as typed callback data."""

from __future__ import annotations

from dataclasses import dataclass

from handlers.core.callbacks import CallbackData, kind

RESULTS = "results"
EXPORT = "export"
# The coordinator's flow of sharing results, and its one step.
SHARE = "rshare"
PREVIEW = "preview"


@dataclass(frozen=True)
class SurveyChosen(CallbackData):
    slug: str


@kind(RESULTS, "pick")
@dataclass(frozen=True)
class ResultsPick(SurveyChosen):
    """Show a survey's results."""


@kind(RESULTS, "share")
@dataclass(frozen=True)
class ResultsShare(SurveyChosen):
    """Start sharing the results with the subscribers (a preview comes first)."""


@kind(SHARE, "interim")
@dataclass(frozen=True)
class ShareInterim(SurveyChosen):
    """Yes, preview the interim results of a survey that is still open."""


@kind(SHARE, "pick")
@dataclass(frozen=True)
class ShareToggle(CallbackData):
    """Pick an open answer into what is sent, or take it out (an index into the preview)."""

    index: int

    def at_step(self) -> str:
        return PREVIEW


@kind(SHARE, "send")
@dataclass(frozen=True)
class ShareSend(CallbackData):
    """Send exactly what the preview showed."""

    def at_step(self) -> str:
        return PREVIEW


@kind(SHARE, "cancel")
@dataclass(frozen=True)
class ShareCancel(CallbackData):
    """Send nothing."""


@kind(EXPORT, "pick")
@dataclass(frozen=True)
class ExportPick(SurveyChosen):
    """Export a survey's responses."""
