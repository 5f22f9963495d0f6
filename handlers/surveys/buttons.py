"""The coordinator's survey buttons (/results, /export), as typed callback data."""

from __future__ import annotations

from dataclasses import dataclass

from handlers.core.callbacks import CallbackData, kind

RESULTS = "results"
EXPORT = "export"


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
    """Ask whether to send the results to the subscribers."""


@kind(RESULTS, "shareyes")
@dataclass(frozen=True)
class ResultsShareYes(SurveyChosen):
    """Send them."""


@kind(EXPORT, "pick")
@dataclass(frozen=True)
class ExportPick(SurveyChosen):
    """Export a survey's responses."""
