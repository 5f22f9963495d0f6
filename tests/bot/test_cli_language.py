"""The `lokalnie` command speaks one language, DEFAULT_LANGUAGE (Polish unless set):
its help, its output and its one-line failures come from that catalogue, times are
the centre's local time to the minute, and planned jobs are named by their titles."""

from __future__ import annotations

import logging
import re
import shutil
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from handlers.core.i18n import Translator
from tests.bot.test_config import run_cli
from tests.conftest import CONTENT
from tests.servers.ports import free_port

TEXTS = Translator(CONTENT / "locales")
LANGUAGES = ("pl", "en")
# Wide enough that typer does not wrap a help sentence over two lines.
WIDE = {"COLUMNS": "250"}
MICROSECONDS = re.compile(r"\d:\d\d:\d\d\.\d+|\+00:00")


def text(language: str, key: str, /, **values: object) -> str:
    return TEXTS.text(language, key, **values)


def other(language: str) -> str:
    return "en" if language == "pl" else "pl"


def cli(tmp_path: Path, language: str, *args: str, **env: str):  # type: ignore[no-untyped-def]
    env = {"DATABASE_URL": f"sqlite:///{tmp_path}/cli.db", **WIDE, **env}
    return run_cli(tmp_path, *args, DEFAULT_LANGUAGE=language, **env)


def content_with_an_open_survey(tmp_path: Path) -> Path:
    """The shipped content with the diagnosis open until 30.06.2099 23:59."""
    content = tmp_path / "content"
    shutil.copytree(CONTENT, content)
    survey = content / "surveys" / "diagnoza-2021.yaml"
    source = survey.read_text(encoding="utf-8")
    source = source.replace("opens: 2021-03-01 00:00", "opens: 2026-01-01 00:00")
    survey.write_text(source.replace("closes: 2021-04-30 23:59", "closes: 2099-06-30 23:59"))
    return content


@pytest.mark.parametrize("language", LANGUAGES)
def test_help_is_in_the_configured_language(tmp_path: Path, language: str) -> None:
    top = cli(tmp_path, language, "--help")
    assert top.returncode == 0, top.stderr
    for key in (
        "app",
        "debug",
        "run",
        "chat",
        "broadcast",
        "schedule",
        "survey",
        "mail",
        "privacy",
    ):
        assert text(language, f"cli.help.{key}") in top.stdout
        assert text(other(language), f"cli.help.{key}") not in top.stdout
    broadcast = cli(tmp_path, language, "broadcast", "--help")
    assert broadcast.returncode == 0, broadcast.stderr
    for key in ("broadcast", "broadcast_send", "broadcast_status", "broadcast_cancel"):
        assert text(language, f"cli.help.{key}") in broadcast.stdout
        assert text(other(language), f"cli.help.{key}") not in broadcast.stdout


def test_help_falls_back_to_polish_for_an_unknown_language(tmp_path: Path) -> None:
    result = cli(tmp_path, "de", "--help")
    assert result.returncode == 0, result.stderr
    assert text("pl", "cli.help.app") in result.stdout


@pytest.mark.parametrize("language", LANGUAGES)
def test_schedule_and_broadcasts_show_titles_and_local_times(tmp_path: Path, language: str) -> None:
    env = {"CONTENT_DIR": str(content_with_an_open_survey(tmp_path))}
    words = "Zapraszamy na koncert kolęd w sobotę wieczorem do sali widowiskowej"
    queued = cli(tmp_path, language, "broadcast", "send", "--text", words, "--at",
                 "24.12.2098 18:00", **env)  # fmt: skip
    assert queued.returncode == 0, queued.stderr
    assert queued.stdout.strip() == text(
        language, "cli.broadcast_queued_at", number=1, count=0,
        when="24.12.2098 18:00", zone="Europe/Warsaw",
    )  # fmt: skip
    start = "Zapraszamy na koncert kolęd w sobotę…"

    planned = cli(tmp_path, language, "schedule", "list", **env)
    assert planned.returncode == 0, planned.stderr
    source = (CONTENT / "surveys" / "diagnoza-2021.yaml").read_text(encoding="utf-8")
    survey = yaml.safe_load(source)["title"][language]
    kind = text(language, "cli.schedule_kind.survey_reminder")
    # Three days and one day before the close, in Warsaw's summer time.
    assert planned.stdout.splitlines() == [
        text(language, "cli.schedule_line", when="24.12.2098 18:00",
             what=text(language, "cli.schedule_kind.broadcast"),
             title=text(language, "cli.schedule_broadcast", number=1, text=start)),
        text(language, "cli.schedule_line", when="27.06.2099 23:59", what=kind, title=survey),
        text(language, "cli.schedule_line", when="29.06.2099 23:59", what=kind, title=survey),
    ]  # fmt: skip
    assert "survey-reminder:" not in planned.stdout and "broadcast:1" not in planned.stdout

    status = cli(tmp_path, language, "broadcast", "status", **env)
    assert status.returncode == 0, status.stderr
    assert status.stdout.strip() == text(
        language, "cli.broadcast_line", number=1, text=start,
        state=text(language, "cli.broadcast_state.scheduled"), when="24.12.2098 18:00",
        audience=text(language, "audience.subscribers"),
        sent=0, total=0, waiting=0, failed=0, cancelled=0,
    )  # fmt: skip
    surveys = cli(tmp_path, language, "survey", "list", **env)
    assert "01.01.2026 00:00 – 30.06.2099 23:59" in surveys.stdout
    for output in (queued.stdout, planned.stdout, status.stdout, surveys.stdout):
        assert not MICROSECONDS.search(output)


@pytest.mark.parametrize("language", LANGUAGES)
def test_failures_are_one_line_in_the_configured_language(tmp_path: Path, language: str) -> None:
    missing = cli(tmp_path, language, "broadcast", "status", "99")
    assert missing.returncode == 2
    assert missing.stderr.strip() == "lokalnie: " + text(language, "cli.no_broadcast", number=99)

    port = free_port()
    refused = cli(tmp_path, language, "schedule", "list",
                  DATABASE_URL=f"postgresql://postgres@127.0.0.1:{port}/lokalnie")  # fmt: skip
    assert refused.returncode == 2
    expected = text(language, "cli.startup.refused", server=f"127.0.0.1:{port}")
    assert refused.stderr.strip() == f"lokalnie: {expected}"

    bad_format = cli(tmp_path, language, "proposals", "list", "--format", "pdf")
    assert bad_format.returncode == 2
    assert bad_format.stderr.strip() == "lokalnie: " + text(
        language, "cli.bad_format", formats="table, json, csv, xlsx", given="pdf"
    )


BROKEN_SURVEY = """\
slug: inna
title: {pl: Próba, en: Trial}
intro: {pl: Wstęp, en: Introduction}
outro: {pl: Dziękujemy, en: Thank you}
opens: 2021-03-01 00:00
closes: 2021-01-01 00:00
questions:
  - id: wiek
    type: jeden
    text: {pl: Wiek, en: Age}
  - id: imie
    type: text
    text: {pl: Imię}
"""


@pytest.mark.parametrize("language", LANGUAGES)
def test_survey_check_reports_every_problem_in_the_configured_language(
    tmp_path: Path, language: str
) -> None:
    from functools import partial

    from handlers.surveys.files import check_survey_file

    path = tmp_path / "proba.yaml"
    path.write_text(BROKEN_SURVEY, encoding="utf-8")
    result = cli(tmp_path, language, "survey", "check", str(path))
    assert result.returncode == 1, result.stderr
    problems = check_survey_file(path, ZoneInfo("Europe/Warsaw"))
    assert [p.message.key for p in problems] == [
        "content.error.slug_file_name",
        "content.error.closes_before_opens",
        "content.error.unknown_type",
        "content.error.no_text_survey",
    ]
    # Each at its line, with the field it is about, in the configured language only.
    assert [p.line for p in problems] == [1, 6, 9, 13]
    lines = result.stdout.splitlines()
    assert lines == [p.format(path, partial(text, language)) for p in problems]
    assert lines[1].startswith(f"{path}:6: closes: ")
    assert lines[3].startswith(f'{path}:13: questions[2] (id "imie").text: ')
    for line, problem in zip(lines, problems, strict=True):
        assert problem.format(path, partial(text, other(language))) != line


@pytest.mark.parametrize("language", LANGUAGES)
def test_bot_start_logs_a_broken_survey_in_the_configured_language(
    tmp_path: Path, sqlite_url: str, language: str, caplog: pytest.LogCaptureFixture
) -> None:
    from functools import partial

    from bot.app import Service
    from handlers.surveys.files import check_survey_file
    from tests.conftest import make_settings

    content = tmp_path / "content"
    shutil.copytree(CONTENT, content)
    broken = content / "surveys" / "proba.yaml"
    broken.write_text(BROKEN_SURVEY, encoding="utf-8")
    settings = make_settings(sqlite_url, tmp_path, content_dir=content, default_language=language)
    with caplog.at_level(logging.ERROR, logger="bot.app"):
        service = Service(settings)
    assert "diagnoza-2021" in service.services.surveys  # the others are served
    [record] = [r for r in caplog.records if r.name == "bot.app"]
    render = partial(text, language)
    problems = check_survey_file(broken, settings.timezone_info)
    assert record.getMessage().splitlines() == [
        render("cli.survey_not_loaded", path=broken),
        *(p.format(broken, render) for p in problems),
    ]
