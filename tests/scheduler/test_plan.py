"""The plan: which reminders and announcements run when, from content, with a set clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from handlers.broadcasts.plan import plan
from handlers.broadcasts.rules import ScheduleRules, load_rules, parse_duration
from handlers.core.centre import ContentError
from handlers.core.content_files import note
from storage.schedule import Announcement
from tests.handlers.contest_fixture import CLOSES, sample_contest
from tests.handlers.survey_fixture import sample_survey

RULES = ScheduleRules(
    survey_reminders=[timedelta(days=3), timedelta(days=1)],
    contest_reminders=[timedelta(days=7), timedelta(hours=3)],
    grace_period=timedelta(hours=12),
)
SURVEY_CLOSES = datetime(2030, 4, 30, 21, 59, tzinfo=UTC)


def jobs_at(now: datetime) -> list[tuple[str, datetime]]:
    planned = plan(
        surveys={"probna": sample_survey(closes=SURVEY_CLOSES)},
        contest=sample_contest(),
        rules=RULES,
        announcements=[Announcement(contest="test-2030", at=CLOSES + timedelta(days=20))],
        broadcasts=[],
        now=now,
    )
    return [(job.id, job.run_at) for job in planned]


def test_plan_reminders_fall_before_the_deadlines_in_order() -> None:
    assert jobs_at(datetime(2030, 1, 1, tzinfo=UTC)) == [
        ("survey-reminder:probna:3d", SURVEY_CLOSES - timedelta(days=3)),
        ("survey-reminder:probna:1d", SURVEY_CLOSES - timedelta(days=1)),
        ("contest-reminder:test-2030:7d", CLOSES - timedelta(days=7)),
        ("contest-reminder:test-2030:3h", CLOSES - timedelta(hours=3)),
        ("announcement:test-2030", CLOSES + timedelta(days=20)),
    ]


def test_plan_job_missed_within_grace_is_kept_and_beyond_is_dropped() -> None:
    due = SURVEY_CLOSES - timedelta(days=1)
    within = [job for job, _ in jobs_at(due + timedelta(hours=11))]
    beyond = [job for job, _ in jobs_at(due + timedelta(hours=13))]
    assert "survey-reminder:probna:1d" in within
    assert "survey-reminder:probna:1d" not in beyond


def test_plan_job_ids_are_stable_across_replans() -> None:
    first = jobs_at(datetime(2030, 1, 1, tzinfo=UTC))
    again = jobs_at(datetime(2030, 1, 2, tzinfo=UTC))
    assert first == again


def test_rules_durations_read_days_hours_minutes() -> None:
    assert parse_duration("3d") == timedelta(days=3)
    assert parse_duration("12h") == timedelta(hours=12)
    assert parse_duration("30m") == timedelta(minutes=30)


def test_rules_a_wrong_duration_names_the_field_and_the_value(tmp_path: Path) -> None:
    (tmp_path / "schedule.yaml").write_text("survey_reminders: [3 dni]\n", encoding="utf-8")
    with pytest.raises(ContentError) as caught:
        load_rules(tmp_path)
    assert caught.value.problem.where == "survey_reminders"
    assert caught.value.problem.message == note("content.error.duration", value="3 dni")
