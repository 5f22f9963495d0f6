"""Survey files: an anonymous survey asks personal questions only in its contact part,
after consent."""

from __future__ import annotations

from pathlib import Path

from handlers.core.content_files import note
from handlers.surveys.files import load_survey_file
from tests.handlers.content_text import edit, line_of
from tests.handlers.surveys.survey_file import (
    SURVEYS,
    VALID,
    WARSAW,
    check,
    only,
)

ANONYMOUS = VALID.replace("questions:\n", "anonymous: true\nquestions:\n", 1)
LEADERS = "leaders:\n  interest: wiek\n  values: [mlodszy]\n  consent: zgoda\n  contact: [imie]\n"


def test_check_survey_file_anonymous_survey_asking_email_among_answers_is_rejected(
    tmp_path: Path,
) -> None:
    text = ANONYMOUS + (
        "  - id: mejl\n    type: email\n    optional: true\n    text: {pl: E-mail, en: E-mail}\n"
    )
    problem = only(check(tmp_path, text))
    assert problem.line == line_of(text, "id: mejl")
    assert problem.message == note("content.error.anonymous_personal", question="mejl")


def test_check_survey_file_anonymous_survey_name_marked_personal_must_be_in_contact_part(
    tmp_path: Path,
) -> None:
    text = edit(ANONYMOUS, "    type: text\n", "    type: text\n    personal: true\n")
    problem = only(check(tmp_path, text))
    assert problem.line == line_of(text, "id: imie")
    assert problem.message == note("content.error.anonymous_personal", question="imie")
    # In the contact part, asked after consent, it is fine; not anonymous, fine too.
    assert check(tmp_path, text + LEADERS) == []
    assert check(tmp_path, text.replace("anonymous: true\n", "")) == []


def test_check_survey_file_contact_question_not_behind_consent_is_rejected(
    tmp_path: Path,
) -> None:
    text = edit(ANONYMOUS, "    show_if: {question: zgoda, equals: true}\n", "") + LEADERS
    problem = only(check(tmp_path, text))
    assert problem.message == note(
        "content.error.contact_before_consent",
        question="imie",
        show_if="show_if: {question: zgoda, equals: true}",
    )


def test_shipped_diagnosis_keeps_contacts_in_its_contact_part() -> None:
    survey = load_survey_file(SURVEYS / "diagnoza-2021.yaml", WARSAW)
    assert survey.anonymous and survey.leaders is not None
    assert set(survey.leaders.contact) == {"imie", "telefon", "email"}
    name = survey.question("imie")
    assert name is not None and name.personal
