"""The contest file: the shipped contest loads, the deadline is the centre's minute, and
every mistake a coordinator can make with money, dates and the form is at its line."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from bot.cli import app
from handlers.contest.files import (
    ContestFileError,
    Problem,
    check_contest_file,
    find_contest,
    load_contest,
)
from handlers.contest.model import Contest
from handlers.core.content_files import note
from handlers.core.forms import QuestionType, Text
from tests.handlers.content_text import edit, line_of

WARSAW = ZoneInfo("Europe/Warsaw")
CONTENT = Path(__file__).resolve().parents[3] / "content"

VALID = """\
slug: proba
name: {pl: Konkurs, en: Contest}
intro: {pl: Zgłoś pomysł, en: Send your idea}
number_prefix: PR-1
budget_total: 30000
cap_per_initiative: 10000
winners: {min: 3, max: 7}
opens: 2021-05-10 00:00
closes: 2021-06-07 23:59
criteria:
  - id: cele
    text: {pl: Cele, en: Aims}
    weight: 3
    scale: {min: 0, max: 5}
  - id: nowe
    text: {pl: Nowość, en: Originality}
    weight: 1
    scale: {min: 0, max: 5}
form:
  - id: wnioskodawca
    type: text
    text: {pl: Wnioskodawca, en: Applicant}
  - id: email
    type: email
    text: {pl: Adres e-mail, en: E-mail address}
  - id: tytul
    type: text
    max_length: 100
    text: {pl: Tytuł, en: Title}
attachments:
  types: [application/pdf]
messages:
  submitted: {pl: Złożony, en: Submitted}
  under_review: {pl: W ocenie, en: Under review}
  changes_requested: {pl: Popraw, en: Please change}
  accepted: {pl: Przyjęty, en: Accepted}
  rejected: {pl: Odrzucony, en: Rejected}
  withdrawn: {pl: Wycofany, en: Withdrawn}
"""


def check(tmp_path: Path, text: str) -> list[Problem]:
    path = tmp_path / "contest.yaml"
    path.write_text(text, encoding="utf-8")
    return check_contest_file(path, WARSAW)


def only(problems: list[Problem]) -> Problem:
    assert len(problems) == 1, problems
    return problems[0]


def all_texts(contest: Contest) -> list[Text]:
    texts = [contest.name, contest.intro]
    texts += [getattr(contest.messages, name) for name in type(contest.messages).model_fields]
    for criterion in contest.criteria:
        texts += [criterion.text, *([criterion.help] if criterion.help else [])]
    for question in contest.form:
        texts += [question.text, *([question.help] if question.help else [])]
        texts += [option.text for option in question.options]
    return texts


# --- the shipped contest -------------------------------------------------------------


def test_shipped_contest_loads_with_the_kalisz_pomorski_rules() -> None:
    path = CONTENT / "contest.yaml"
    assert check_contest_file(path, WARSAW) == []
    contest = load_contest(path, WARSAW)
    assert contest.slug == "inicjatywy-2021" and contest.number_prefix == "KP-2021"
    assert contest.budget_total == Decimal(30000)
    assert contest.cap_per_initiative == Decimal(10000)
    assert (contest.winners.min, contest.winners.max) == (3, 7)
    assert 3 <= len(contest.criteria) <= 5
    assert all(c.scale.min in (0, 1) and c.scale.max == 5 for c in contest.criteria)
    ids = [q.id for q in contest.form]
    assert {"wnioskodawca", "email", "tytul", "telefon", "opis", "partnerzy"} <= set(ids)
    title = contest.question("tytul")
    assert title is not None and title.max_length == 100
    partners = contest.question("partnerzy")
    assert partners is not None and partners.optional
    assert contest.attachments.max_files == 5
    assert contest.attachments.max_megabytes == Decimal(10)
    assert set(contest.attachments.types) == {"application/pdf", "image/jpeg", "image/png"}


def test_shipped_contest_every_text_in_polish_and_english() -> None:
    contest = load_contest(CONTENT / "contest.yaml", WARSAW)
    for text in all_texts(contest):
        assert text.languages() in (None, {"pl", "en"})
        assert text.get("pl").strip() and text.get("en").strip()
    polish = contest.messages.accepted.get("pl") + contest.intro.get("pl")
    assert any(letter in polish for letter in "ąęłńóśźż")


def test_shipped_contest_applicant_type_is_a_single_choice_of_three() -> None:
    contest = load_contest(CONTENT / "contest.yaml", WARSAW)
    kind = contest.form[0]
    assert kind.type is QuestionType.SINGLE
    assert [o.id for o in kind.options] == ["osoba-prywatna", "grupa-nieformalna", "organizacja"]


def test_find_contest_in_the_shipped_content_is_the_contest() -> None:
    contest, problems = find_contest(CONTENT, WARSAW)
    assert problems == [] and contest is not None and contest.slug == "inicjatywy-2021"


# --- the deadline: the centre's time, to the minute ----------------------------------


def test_load_contest_closing_minute_is_warsaw_summer_time() -> None:
    contest = load_contest(CONTENT / "contest.yaml", WARSAW)
    # 23:59 in Warsaw in June (CEST, UTC+2) is 21:59 UTC.
    assert contest.closes == datetime(2021, 6, 7, 23, 59, tzinfo=WARSAW)
    assert contest.closes.astimezone(UTC) == datetime(2021, 6, 7, 21, 59, tzinfo=UTC)
    assert datetime(2021, 6, 7, 21, 58, 59, tzinfo=UTC) < contest.closes
    assert not datetime(2021, 6, 7, 21, 59, tzinfo=UTC) < contest.closes
    assert contest.opens is not None
    assert contest.opens.astimezone(UTC) == datetime(2021, 5, 9, 22, 0, tzinfo=UTC)


def test_load_contest_winter_closing_is_one_hour_from_utc(tmp_path: Path) -> None:
    text = edit(VALID, "closes: 2021-06-07 23:59", "closes: 2021-12-06 23:59")
    path = tmp_path / "contest.yaml"
    path.write_text(text, encoding="utf-8")
    contest = load_contest(path, WARSAW)
    assert contest.closes.astimezone(UTC) == datetime(2021, 12, 6, 22, 59, tzinfo=UTC)


def test_load_contest_explicit_offset_is_kept_and_shown_in_warsaw(tmp_path: Path) -> None:
    text = edit(VALID, "closes: 2021-06-07 23:59", "closes: 2021-06-07T21:59:00Z")
    path = tmp_path / "contest.yaml"
    path.write_text(text, encoding="utf-8")
    contest = load_contest(path, WARSAW)
    assert contest.closes == datetime(2021, 6, 7, 23, 59, tzinfo=WARSAW)


def test_check_contest_file_closing_date_without_time_is_refused(tmp_path: Path) -> None:
    text = edit(VALID, "closes: 2021-06-07 23:59", "closes: 2021-06-07")
    problem = only(check(tmp_path, text))
    assert problem.line == line_of(text, "closes:")
    assert problem.message == note("content.error.date_only", example="2021-06-07 23:59")


def test_check_contest_file_closing_before_opening_reported_at_closes(tmp_path: Path) -> None:
    text = edit(VALID, "closes: 2021-06-07 23:59", "closes: 2021-05-01 12:00")
    problem = only(check(tmp_path, text))
    assert problem.line == line_of(text, "closes:")
    assert problem.where == "closes"
    assert problem.message == note(
        "content.error.closes_before_opens", closes="2021-05-01 12:00", opens="2021-05-10 00:00"
    )


# --- money ---------------------------------------------------------------------------


def test_check_contest_file_valid_file_has_no_problems(tmp_path: Path) -> None:
    assert check(tmp_path, VALID) == []


def test_check_contest_file_cap_above_total_reported_at_the_cap(tmp_path: Path) -> None:
    text = edit(VALID, "cap_per_initiative: 10000", "cap_per_initiative: 40000")
    problem = only(check(tmp_path, text))
    assert problem.line == line_of(text, "cap_per_initiative")
    assert problem.message.key == "content.error.cap_above_total"
    assert problem.message.value("total") == Decimal(30000)


def test_check_contest_file_cap_too_low_to_ever_use_the_budget(tmp_path: Path) -> None:
    text = edit(VALID, "cap_per_initiative: 10000", "cap_per_initiative: 1000")
    problem = only(check(tmp_path, text))
    assert problem.line == line_of(text, "cap_per_initiative")
    assert problem.message.key == "content.error.cap_too_low"
    assert problem.message.value("reachable") == 7000
    assert problem.message.value("total") == 30000


def test_check_contest_file_amount_with_spaces_explains_the_format(tmp_path: Path) -> None:
    text = edit(VALID, "budget_total: 30000", 'budget_total: "30 000 zł"')
    problem = only(check(tmp_path, text))
    assert problem.line == line_of(text, "budget_total")
    assert problem.message == note("content.error.not_amount", got='"30 000 zł"')


def test_check_contest_file_amount_below_a_grosz_is_refused(tmp_path: Path) -> None:
    text = edit(VALID, "budget_total: 30000", "budget_total: 30000.125")
    problem = only(check(tmp_path, text))
    assert problem.line == line_of(text, "budget_total")
    assert problem.message == note("content.error.decimal_places", value="30000.125")


def test_check_contest_file_more_min_than_max_winners_reported_at_winners(tmp_path: Path) -> None:
    text = edit(VALID, "winners: {min: 3, max: 7}", "winners: {min: 8, max: 7}")
    problem = only(check(tmp_path, text))
    assert problem.line == line_of(text, "winners:")
    assert problem.message == note("content.error.winners_order")


# --- criteria and the form -----------------------------------------------------------


def test_check_contest_file_duplicate_criterion_id_at_the_second(tmp_path: Path) -> None:
    text = edit(VALID, "  - id: nowe\n", "  - id: cele\n")
    problem = only(check(tmp_path, text))
    assert problem.line == line_of(text, "- id: cele", nth=2)
    assert problem.message.key == "content.error.duplicate_criterion_id"
    assert problem.message.value("first") == "criteria[1]"


def test_check_contest_file_zero_weight_reported_at_the_weight(tmp_path: Path) -> None:
    text = edit(VALID, "weight: 1", "weight: 0")
    problem = only(check(tmp_path, text))
    assert problem.line == line_of(text, "weight: 0")
    assert problem.where == 'criteria[2] (id "nowe").weight'
    assert problem.message == note("content.error.greater_than", limit=0, got="0")


def test_check_contest_file_missing_title_question_is_reported(tmp_path: Path) -> None:
    text = edit(VALID, "  - id: tytul\n", "  - id: nazwa\n")
    problem = only(check(tmp_path, text))
    assert problem.line == line_of(text, "form:")
    assert problem.message.key == "content.error.form_lacks_why"
    assert problem.message.value("question") == "tytul"


def test_check_contest_file_email_question_of_the_wrong_type(tmp_path: Path) -> None:
    text = edit(VALID, "    type: email\n", "    type: text\n")
    problem = only(check(tmp_path, text))
    assert problem.line == line_of(text, "    type: text", nth=2)
    assert problem.where == 'form[2] (id "email")'
    assert problem.message.key == "content.error.required_type"
    assert problem.message.value("expected") == "email"


def test_check_contest_file_optional_email_is_refused(tmp_path: Path) -> None:
    text = edit(VALID, "    type: email\n", "    type: email\n    optional: true\n")
    problem = only(check(tmp_path, text))
    assert problem.line == line_of(text, "optional: true")
    assert problem.message.key == "content.error.required_answer"


def test_check_contest_file_form_show_if_rules_as_for_surveys(tmp_path: Path) -> None:
    text = edit(
        VALID,
        "    max_length: 100\n",
        "    max_length: 100\n    show_if: {question: opis, answered: true}\n",
    )
    problems = check(tmp_path, text)
    assert [p.line for p in problems] == [line_of(text, "show_if:")] * 2
    assert note("content.error.unknown_question", question="opis") in [p.message for p in problems]


def test_check_contest_file_missing_english_message_is_reported(tmp_path: Path) -> None:
    text = edit(VALID, "accepted: {pl: Przyjęty, en: Accepted}", "accepted: {pl: Przyjęty}")
    problem = only(check(tmp_path, text))
    assert problem.line == line_of(text, "accepted:")
    assert problem.where == "messages.accepted"
    assert problem.message == note(
        "content.error.no_text_contest", language="en", languages="pl, en"
    )


def test_check_contest_file_missing_message_is_reported(tmp_path: Path) -> None:
    text = edit(VALID, "  withdrawn: {pl: Wycofany, en: Withdrawn}\n", "")
    problem = only(check(tmp_path, text))
    assert problem.line == line_of(text, "messages:")
    assert problem.where == "messages"
    assert problem.message == note("content.error.missing_field", field="withdrawn")


def test_check_contest_file_attachment_extension_suggests_the_type(tmp_path: Path) -> None:
    text = edit(VALID, "types: [application/pdf]", "types: [application/pdf, jpg]")
    problem = only(check(tmp_path, text))
    assert problem.line == line_of(text, "types:")
    assert problem.message == note(
        "content.error.file_type_like", value='"jpg"', extension="jpg", type="image/jpeg"
    )


def test_check_contest_file_attachments_larger_than_telegram_allows(tmp_path: Path) -> None:
    text = edit(VALID, "  types: [application/pdf]\n", "  max_megabytes: 30\n")
    problem = only(check(tmp_path, text))
    assert problem.line == line_of(text, "max_megabytes")
    assert problem.message.key == "content.error.file_too_large"


def test_check_contest_file_bad_number_prefix_explains_the_form(tmp_path: Path) -> None:
    text = edit(VALID, "number_prefix: PR-1", "number_prefix: pr 1")
    problem = only(check(tmp_path, text))
    assert problem.line == line_of(text, "number_prefix")
    assert problem.message == note("content.error.bad_number_prefix", value='"pr 1"')


def test_check_contest_file_unknown_field_suggests_the_right_one(tmp_path: Path) -> None:
    text = edit(VALID, "budget_total: 30000", "budget_totl: 30000")
    problems = check(tmp_path, text)
    assert (
        Problem(
            line_of(text, "budget_totl"),
            note("content.error.unknown_field_like", field="budget_totl", like="budget_total"),
        )
        in problems
    )


def test_check_contest_file_several_problems_in_line_order(tmp_path: Path) -> None:
    text = VALID
    text = edit(text, "cap_per_initiative: 10000", "cap_per_initiative: 50000")
    text = edit(text, "closes: 2021-06-07 23:59", "closes: 2021-06-07")
    text = edit(text, "accepted: {pl: Przyjęty, en: Accepted}", "accepted: {pl: Przyjęty}")
    problems = check(tmp_path, text)
    assert [p.line for p in problems] == [
        line_of(text, "cap_per_initiative"),
        line_of(text, "closes:"),
        line_of(text, "accepted:"),
    ]


# --- files, the service, the CLI -----------------------------------------------------


def test_find_contest_without_a_file_means_no_contest(tmp_path: Path) -> None:
    assert find_contest(tmp_path, WARSAW) == (None, [])


def test_find_contest_broken_file_gives_its_problems(tmp_path: Path) -> None:
    (tmp_path / "contest.yaml").write_text(edit(VALID, "weight: 1", "weight: -1"))
    contest, problems = find_contest(tmp_path, WARSAW)
    assert contest is None and len(problems) == 1


def test_load_contest_problems_raise_with_path_and_line(tmp_path: Path) -> None:
    path = tmp_path / "contest.yaml"
    text = edit(VALID, "weight: 1", "weight: -1")
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ContestFileError) as caught:
        load_contest(path, WARSAW)
    assert str(caught.value).startswith(f"{path}:{line_of(text, 'weight: -1')}: criteria[2]")


def test_check_contest_file_invalid_yaml_reports_its_line(tmp_path: Path) -> None:
    text = edit(VALID, "intro: {pl: Zgłoś pomysł, en: Send your idea}", "intro: Uwaga: termin")
    problem = only(check(tmp_path, text))
    assert problem.line == line_of(text, "Uwaga: termin")
    assert problem.message.key == "content.error.yaml_quotes"


def test_cli_contest_check_prints_path_line_and_fails(tmp_path: Path) -> None:
    path = tmp_path / "contest.yaml"
    text = edit(VALID, "cap_per_initiative: 10000", "cap_per_initiative: 40000")
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(app, ["contest", "check", str(path)])
    assert result.exit_code == 1
    assert result.output.startswith(f"{path}:{line_of(text, 'cap_per_initiative')}: ")


def test_cli_contest_check_shipped_file_is_ok() -> None:
    path = CONTENT / "contest.yaml"
    result = CliRunner().invoke(app, ["contest", "check", str(path)])
    assert result.exit_code == 0 and result.output.strip() == f"{path}: OK"


def test_the_shipped_form_fits_a_phone_and_a_long_label_warns_at_its_line(
    tmp_path: Path,
) -> None:
    from handlers.contest.files import label_warnings
    from handlers.core.form_checks import BUTTON_WIDTH

    shipped = CONTENT / "contest.yaml"
    assert label_warnings(shipped) == []
    text = shipped.read_text(encoding="utf-8")
    short = "        short: {pl: Organizacja pozarządowa, en: Non-governmental organisation}\n"
    assert short in text
    copy = tmp_path / "contest.yaml"
    copy.write_text(text.replace(short, ""), encoding="utf-8")
    warnings = label_warnings(copy)
    polish = "Organizacja pozarządowa (stowarzyszenie, fundacja, KGW)"
    english = "A non-governmental organisation (association, foundation, rural women's club)"
    assert [w.message for w in warnings] == [
        note("content.warning.button_width", language=lang, length=len(long), width=BUTTON_WIDTH)
        for lang, long in (("pl", polish), ("en", english))
    ]
    lines = text.replace(short, "").splitlines()
    # At the option's `text:`, the line under its id.
    assert {w.line for w in warnings} == {
        next(n for n, line in enumerate(lines, 1) if "id: organizacja" in line) + 1
    }
