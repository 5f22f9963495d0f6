"""Residents' questions to the coordinators (/ask) and the coordinators' answers.

A resident writes `/ask` and then the question (or `/ask question` at once). The
question is stored, and every coordinator gets it in their chat with who asked and
a "reply" button; the first coordinator to press it types the answer, which goes
back to the resident's chat and is stored with who answered. Unanswered questions
are counted on the /admin panel and listed by its "residents' questions" action.

Conversation state: flow `ask` (the resident typing a question) and flow `askr`
(a coordinator typing an answer; the step is the question's id).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.core import flow
from handlers.core.admin import AdminOpen, refuse
from handlers.core.context import Context
from handlers.core.events import Button, Kind, Reply
from handlers.core.flow import InvalidAnswer
from handlers.core.notify import tell
from handlers.core.routing import Router
from handlers.core.staff import working_row
from handlers.mailbox.buttons import ANSWER, AnswerQuestion
from storage import conversations, events, personal_data, residents
from storage import questions as store
from storage.models import Resident
from storage.proposals import ResidentQuestion

ASK = "ask"
MAX_QUESTION = 2000
MAX_ANSWER = 3000
LISTED = 10
router = Router("mailbox.questions")


router.cancel_text(ASK, "ask.cancelled")
router.cancel_text(ANSWER, "ask.answer_cancelled")


# --- the resident asks ---------------------------------------------------------------


@router.menu_item("ask", "menu.ask")
async def _ask_now(ctx: Context) -> bool:
    return True


@router.command("ask", needs_consent=True, order=38)
async def ask_command(ctx: Context) -> list[Reply]:
    assert ctx.resident is not None
    if ctx.event.args.strip():
        return await _store_question(ctx, ctx.event.args)
    await conversations.begin(ctx.session, resident_id=ctx.resident.id, flow=ASK, step="text")
    return [ctx.reply("ask.prompt")]


@router.flow(ASK)
async def on_question(ctx: Context) -> list[Reply]:
    if ctx.event.kind is not Kind.TEXT or not ctx.event.text:
        return [ctx.reply("ask.type_it")]
    return await _store_question(ctx, ctx.event.text)


async def _store_question(ctx: Context, text: str) -> list[Reply]:
    assert ctx.resident is not None
    try:
        question_text = flow.free_text(text, min_length=None, max_length=MAX_QUESTION)
    except InvalidAnswer as error:
        return [ctx.reply(error.key, **error.values)]
    current = await conversations.current(ctx.session, ctx.resident.id)
    if current is not None and current.flow == ASK:
        await conversations.end(ctx.session, ctx.resident.id)
    question = await store.ask(
        ctx.session,
        resident_id=ctx.resident.id,
        channel=ctx.event.channel,
        chat_id=ctx.event.chat_id,
        text=question_text,
    )
    await events.record(ctx.session, "question_asked", resident_id=ctx.resident.id)
    await _tell_coordinators(ctx, question, ctx.resident)
    return [ctx.reply("ask.sent")]


async def _tell_coordinators(ctx: Context, question: ResidentQuestion, asker: Resident) -> None:
    texts = ctx.services.translator
    language = texts.default_language
    name = asker.name or ctx.event.display_name or texts.text(language, "ask.no_name")
    text = texts.text(
        language,
        "ask.to_coordinator",
        name=name,
        telegram_id=asker.telegram_id if asker.telegram_id is not None else "–",
        question=question.text,
    )
    reply_button = Button(
        texts.text(language, "ask.reply_button"), AnswerQuestion(question.id).pack()
    )
    for coordinator in sorted(ctx.services.coordinator_ids):
        await tell(
            ctx,
            chat_id=str(coordinator),
            reply=Reply(text, [[reply_button]]),
            key=f"ask:{question.id}:{coordinator}",
        )


# --- a coordinator answers ------------------------------------------------------------


@router.choice(AnswerQuestion, coordinator_only=True)
async def on_reply_button(ctx: Context, pressed: AnswerQuestion) -> list[Reply]:
    question = await store.get(ctx.session, pressed.question)
    if question is None:
        return [ctx.reply("input.stale_button")]
    if question.answered_at is not None:
        return [_already_answered(ctx, question)]
    row = await working_row(ctx)
    await conversations.begin(ctx.session, resident_id=row.id, flow=ANSWER, step=str(question.id))
    return [ctx.reply("ask.reply_prompt", question=question.text)]


def _already_answered(ctx: Context, question: ResidentQuestion) -> Reply:
    return ctx.reply(
        "ask.already_answered", by=question.answered_by or "–", answer=question.answer or ""
    )


@router.flow(ANSWER, coordinator_only=True)
async def on_answer(ctx: Context) -> list[Reply]:
    assert ctx.resident is not None
    conversation = await conversations.current(ctx.session, ctx.resident.id)
    assert conversation is not None
    if not ctx.is_coordinator:
        await conversations.end(ctx.session, ctx.resident.id)
        return await refuse(ctx, "answer to a question")
    if ctx.event.kind is not Kind.TEXT or not ctx.event.text:
        return [ctx.reply("ask.type_answer")]
    try:
        answer = flow.free_text(ctx.event.text, min_length=None, max_length=MAX_ANSWER)
    except InvalidAnswer as error:
        return [ctx.reply(error.key, **error.values)]
    await conversations.end(ctx.session, ctx.resident.id)
    question = await store.get(ctx.session, int(conversation.step))
    if question is None:
        return [ctx.reply("input.stale_button")]
    if question.answered_at is not None:
        return [_already_answered(ctx, question)]
    await store.answer(ctx.session, question, text=answer, by=ctx.event.user_id)
    await events.record(
        ctx.session,
        "question_answered",
        resident_id=question.resident_id,
        data={"question": question.id, "by": ctx.event.user_id},
    )
    if not question.chat_id:
        return [ctx.reply("ask.answer_undeliverable")]
    asker = await residents.get(ctx.session, question.resident_id) if question.resident_id else None
    language = asker.language if asker is not None else ctx.services.translator.default_language
    text = ctx.services.translator.text(
        language, "ask.answer_to_resident", question=question.text, answer=answer
    )
    await tell(
        ctx,
        chat_id=question.chat_id,
        channel=question.channel,
        reply=Reply(text),
        key=f"ask-answer:{question.id}",
        resident_id=question.resident_id,
    )
    return [ctx.reply("ask.answer_queued")]


# --- the coordinator's panel ------------------------------------------------------------


async def _panel_line(ctx: Context) -> str | None:
    count = await store.count_unanswered(ctx.session)
    return ctx.t("ask.panel_line", count=count)


router.panel_line(_panel_line)


@router.admin_action("questions", "admin.questions")
async def unanswered(ctx: Context, pressed: AdminOpen) -> list[Reply]:
    """The oldest unanswered questions, each with its reply button."""
    count = await store.count_unanswered(ctx.session)
    if not count:
        return [ctx.reply("ask.none_waiting")]
    replies = [ctx.reply("ask.waiting_title", count=count, shown=min(count, LISTED))]
    for question in await store.unanswered(ctx.session, limit=LISTED):
        asker = (
            await residents.get(ctx.session, question.resident_id) if question.resident_id else None
        )
        name = (asker.name if asker else None) or ctx.t("ask.no_name")
        telegram_id = asker.telegram_id if asker and asker.telegram_id is not None else "–"
        button = Button(ctx.t("ask.reply_button"), AnswerQuestion(question.id).pack())
        text = ctx.t(
            "ask.to_coordinator", name=name, telegram_id=telegram_id, question=question.text
        )
        replies.append(Reply(text, [[button]]))
    return replies


# --- the resident's rights ----------------------------------------------------------------


async def _forget_questions(ctx: Context) -> None:
    assert ctx.resident is not None
    await store.forget_resident(ctx.session, ctx.resident.id)


router.forget_hook(_forget_questions)


async def _my_questions(session: AsyncSession, resident: Resident) -> list[dict[str, Any]]:
    return [
        {
            "asked_at": q.asked_at.isoformat(),
            "question": q.text,
            "answer": q.answer,
            "answered_at": q.answered_at.isoformat() if q.answered_at else None,
        }
        for q in await store.of_resident(session, resident.id)
    ]


personal_data.register("questions_to_coordinators", _my_questions)
