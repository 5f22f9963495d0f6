"""Which answers of a survey may go where: the answer part, the contact part, the public part.

- *Personal* questions collect data that identifies a person: the e-mail and
  phone types and any question the content marks `personal: true` (a name, an
  address). They never leave the coordinators.
- The *contact part* of an anonymous survey is its `leaders` section: the consent
  question and the contact questions. Their answers are stored apart from the
  answers once the response is finished (`storage.survey_privacy`), so exports,
  results and charts of an anonymous survey never see them.
- The *public part* is what may be sent beyond the coordinators: aggregates of
  closed questions only (choice, scale, matrix, yes/no), never personal or
  contact questions, never the free texts of "other".
"""

from __future__ import annotations

from collections.abc import Iterable

from handlers.core.forms import Question, QuestionType, Survey
from storage.db import Store
from storage.survey_privacy import ContactPart, seal_finished

PERSONAL_TYPES = (QuestionType.EMAIL, QuestionType.PHONE)
CLOSED_TYPES = (
    QuestionType.SINGLE,
    QuestionType.MULTIPLE,
    QuestionType.SCALE,
    QuestionType.MATRIX,
    QuestionType.YESNO,
)
# Free answers a coordinator may pick, one by one, to share.
OPEN_TYPES = (QuestionType.TEXT,)


def is_personal(question: Question) -> bool:
    return question.type in PERSONAL_TYPES or question.personal


def personal_questions(survey: Survey) -> list[str]:
    """Answers that identify a person: erased by /forget, unlike the other answers."""
    ids = {q.id for q in survey.questions if is_personal(q)}
    if survey.leaders is not None:
        ids |= set(survey.leaders.contact)
    return sorted(ids)


def contact_ids(survey: Survey) -> list[str]:
    """The questions of the contact part (consent first); empty without `leaders`."""
    if survey.leaders is None:
        return []
    return [survey.leaders.consent, *survey.leaders.contact]


def contact_part(survey: Survey) -> ContactPart | None:
    """What the store moves out of a finished anonymous response, None if not anonymous."""
    if not survey.anonymous:
        return None
    leaders = survey.leaders
    if leaders is None:
        return ContactPart(survey=survey.slug)
    return ContactPart(
        survey=survey.slug,
        consent=leaders.consent,
        details=tuple(leaders.contact),
        interest=leaders.interest,
        interest_values=tuple(str(v) for v in leaders.values),
    )


def answer_part(survey: Survey) -> Survey:
    """The survey as its answers are kept: without the contact part when anonymous."""
    if not survey.anonymous:
        return survey
    apart = set(contact_ids(survey))
    kept = [q for q in survey.questions if q.id not in apart]
    if len(kept) == len(survey.questions):
        return survey
    return survey.model_copy(update={"questions": kept})


def is_public(survey: Survey, question: Question) -> bool:
    """May this question's aggregate be sent to subscribers?"""
    return (
        question.type in CLOSED_TYPES
        and not is_personal(question)
        and question.id not in contact_ids(survey)
    )


def is_pickable(survey: Survey, question: Question) -> bool:
    """May a coordinator pick single free answers of this question to share?"""
    if is_personal(question) or question.id in contact_ids(survey):
        return False
    return question.type in OPEN_TYPES or (question.type in CLOSED_TYPES and question.other)


async def seal_anonymous_surveys(store: Store, surveys: Iterable[Survey]) -> None:
    """Cut the finished responses of anonymous surveys kept before sealing existed.

    At start-up, since which surveys are anonymous is content: a survey made
    anonymous later, or responses stored by an older version, are sealed too.
    """
    for survey in surveys:
        part = contact_part(survey)
        if part is not None:
            async with store.transaction() as session:
                await seal_finished(session, part)
