"""The diagnosis survey as a resident answers it: the updates to push, and the replies
Lokalnie answers each with (derived from the survey file with the bot's own form code)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from handlers.core.i18n import Translator

ROOT = Path(__file__).resolve().parent.parent
_TEXTS = Translator(ROOT / "content" / "locales")


def said(key: str) -> str:
    """The start of the bot's Polish text for `key`: proof the real path was taken."""
    return _TEXTS.text("pl", key).split("{")[0][:20]


DIAGNOSIS = "diagnoza-2021"
DIAGNOSIS_OUTRO = yaml.safe_load(
    (ROOT / "content" / "surveys" / "diagnoza-2021.yaml").read_text(encoding="utf-8")
)["outro"]["pl"][:30]
# What a resident types for the text questions, by question type.
TYPED = {"email": "mieszkaniec@example.pl", "phone": "600 123 456"}
TYPED_DEFAULT = "Anna"


@dataclass(frozen=True)
class Step:
    """One update per resident: a text message or a button press."""

    name: str
    kind: str  # "message" or "callback"
    value: str
    replies: int  # messages Lokalnie answers with (the echo bot always sends one)
    expect: str  # a piece of Lokalnie's answer, to make sure the real path was taken
    counted: bool = True  # in the figures (the diagnosis leaves out /start, consent, /survey)
    edit: bool = False  # Lokalnie edits the pressed message (editMessageText) instead


def diagnosis_steps(path: Path) -> tuple[Step, ...]:
    """/start, consent, /survey, then the survey answered with the first option everywhere.

    The answers are derived from the survey file with the bot's own form code (the way
    ``tests/e2e/survey_driver.py`` answers: tick the first option then "done", the lowest
    point of a scale, "yes", a plausible typed text), so the callback data are exactly the
    ones Lokalnie's buttons carry. Each step expects a piece of what the bot must answer: the
    ticked option, the next matrix row, the next question, and at the end the outro.
    """
    from zoneinfo import ZoneInfo

    from handlers.core import flow
    from handlers.core import form_runner as runner
    from handlers.core.forms import Question, QuestionType
    from handlers.surveys.conversation import SurveyPress
    from handlers.surveys.files import load_survey_file

    survey = load_survey_file(path, ZoneInfo("Europe/Warsaw"))
    questions = survey.questions

    def first_text(question: Question | None) -> str:
        if question is None:
            return DIAGNOSIS_OUTRO
        return question.text.get("pl")

    first = flow.next_unanswered(questions, {})
    steps = [
        Step("/start", "message", "/start", 1, said("start.first_screen"), counted=False),
        Step("consent", "callback", "consent:pl:yes", 2, said("start.thanks"), counted=False),
        Step("/survey", "message", f"/survey {survey.slug}", 2, first_text(first), counted=False),
    ]
    answers: dict[str, Any] = {}
    question = first
    while question is not None:
        step = runner.Step.start(questions, question)
        pending: dict[str, Any] = {}
        while True:
            kind = question.type
            name = step.encode()
            if kind in (QuestionType.SINGLE, QuestionType.MULTIPLE):
                value = runner.DONE if pending.get("chosen") else flow.choice_ids(question)[0]
            elif kind is QuestionType.SCALE:
                assert question.scale is not None
                value = str(question.scale.min)
            elif kind is QuestionType.MATRIX:
                # One message: each row's lowest point, then "done" (a lone row saves itself).
                assert question.scale is not None
                rated = pending.get("rows", {})
                rows = [i for i in flow.shown_items(question, answers) if i.id not in rated]
                value = (
                    f"{question.items.index(rows[0])}={question.scale.min}" if rows else runner.DONE
                )
            elif kind is QuestionType.YESNO:
                value = "y"
            else:
                value = ""
            if value:
                action = runner.on_button(question, step, pending, value, answers)
                data = SurveyPress(name, value).pack()
                press = Step(f"{name}:{value}", "callback", data, 1, "")
            else:
                text = TYPED.get(str(kind), TYPED_DEFAULT)
                action = runner.on_text(question, step, pending, text)
                press = Step(f"{name} typed", "message", text, 1, "")
            if isinstance(action, runner.Save):
                answers[question.id] = action.value
                question = flow.next_unanswered(questions, answers)
                steps.append(replace(press, expect=first_text(question)))
                break
            assert isinstance(action, runner.Show)
            # A ticked option or a rated row: the message is edited in place.
            assert action.replace
            steps.append(replace(press, expect=question.text.get("pl")[:20], edit=True))
            step, pending = action.step, action.pending
    return tuple(steps)


def open_diagnosis(target: Path) -> Path:
    """A copy of ``content/`` in which the 2021 diagnosis has no ``opens``/``closes``."""
    from zoneinfo import ZoneInfo

    from handlers.surveys.files import load_survey_file

    shutil.copytree(ROOT / "content", target)
    path = target / "surveys" / f"{DIAGNOSIS}.yaml"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    kept = [line for line in lines if not line.startswith(("opens:", "closes:"))]
    if len(lines) - len(kept) != 2:
        raise RuntimeError(f"{path.name}: expected one opens: and one closes: line")
    path.write_text("".join(kept), encoding="utf-8")
    survey = load_survey_file(path, ZoneInfo("Europe/Warsaw"))
    assert survey.opens is None and survey.closes is None
    return target
