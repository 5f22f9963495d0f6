"""The demo edition: the shipped surveys and contest with open dates, for trying the bot.

A newcomer who starts the terminal chat with `--demo` must be able to take the
diagnosis and submit a proposal even though the centre's real edition closed long
ago. The real edition is never touched: every survey with dates and the contest get
a copy whose slug starts with `demo-` (so demo answers and proposals are stored
apart from the real ones), whose title says it is a demo, and whose dates run from
now for DEMO_DAYS. Surveys without dates are open anyway and are not copied.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from handlers.contest.model import Contest
from handlers.core.forms import Survey, Text
from handlers.core.i18n import LANGUAGES, Translator

# How long the demo edition stays open from the moment the bot starts.
DEMO_DAYS = 30
SLUG_PREFIX = "demo-"
NUMBER_PREFIX = "DEMO"
# Slugs and proposal number prefixes have a maximum length (handlers/core/forms.py,
# handlers/contest/model.py).
MAX_SLUG = 40
MAX_NUMBER_PREFIX = 20


@dataclass(frozen=True)
class DemoEdition:
    """What the bot serves in demo mode, and until when the demo copies are open."""

    surveys: dict[str, Survey]
    contest: Contest | None
    closes: datetime


def demo_closes(now: datetime, timezone: ZoneInfo) -> datetime:
    """The end of the local day DEMO_DAYS from now (a date people can read)."""
    day = (now.astimezone(timezone) + timedelta(days=DEMO_DAYS)).date()
    return datetime.combine(day, time(23, 59), tzinfo=timezone)


def demo_slug(slug: str) -> str:
    return (SLUG_PREFIX + slug)[:MAX_SLUG].rstrip("-_")


def demo_text(translator: Translator, text: Text) -> Text:
    """The title in every language, marked as a demo (the marker from the catalogue)."""
    return Text(
        {lang: translator.text(lang, "demo.title", title=text.get(lang)) for lang in LANGUAGES}
    )


def demo_edition(
    surveys: dict[str, Survey],
    contest: Contest | None,
    *,
    now: datetime,
    timezone: ZoneInfo,
    translator: Translator,
) -> DemoEdition:
    """The real surveys plus an open demo copy of each dated one; the demo contest.

    The real surveys stay in the catalogue with their own dates (a closed one stays
    closed); the contest, of which the bot serves one, is replaced by its demo copy.
    """
    closes = demo_closes(now, timezone)
    served = dict(surveys)
    for survey in surveys.values():
        if survey.opens is None and survey.closes is None:
            continue
        copy = survey.model_copy(
            update={
                "slug": demo_slug(survey.slug),
                "title": demo_text(translator, survey.title),
                "opens": None,
                "closes": closes,
            }
        )
        served[copy.slug] = copy
    demo_contest = None
    if contest is not None:
        prefix = f"{NUMBER_PREFIX}-{contest.number_prefix}"[:MAX_NUMBER_PREFIX].rstrip("-")
        demo_contest = contest.model_copy(
            update={
                "slug": demo_slug(contest.slug),
                "name": demo_text(translator, contest.name),
                "number_prefix": prefix,
                "opens": None,
                "closes": closes,
            }
        )
    return DemoEdition(surveys=served, contest=demo_contest, closes=closes)
