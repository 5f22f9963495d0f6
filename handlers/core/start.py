"""First contact: greeting, the RODO information, consent, language, news.

The information is layered: the first screen says who the controller is, what
for, that consent can be withdrawn (/forget) and where to read more - a button
for the full clause (its details come from content/centre.yaml).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from handlers.core import typed_yesno
from handlers.core.callbacks import CallbackData, kind
from handlers.core.context import Context
from handlers.core.events import Button, Reply
from handlers.core.menu import with_menu
from handlers.core.routing import Router
from storage import events, residents

YesNo = Literal["yes", "no"]
# Chats remembered (in memory) as shown the consent question.
CONSENT_SHOWN_KEPT = 1000


@kind("consent")
@dataclass(frozen=True)
class ConsentAnswer(CallbackData):
    # The language travels in the button: nothing is stored before consent.
    language: str
    answer: YesNo


@kind("news", "offer")
@dataclass(frozen=True)
class NewsAnswer(CallbackData):
    answer: YesNo


@kind("consent", "clause")
@dataclass(frozen=True)
class FullClause(CallbackData):
    language: str


@kind("lang", "pick")
@dataclass(frozen=True)
class LanguagePick(CallbackData):
    language: str


def _clause(ctx: Context) -> str:
    centre = ctx.services.centre
    return ctx.t(
        "privacy.clause",
        controller=centre.name,
        address=centre.address,
        email=centre.email,
        dpo=centre.data_protection_officer,
        programme=centre.programme.get(ctx.language),
        retention=centre.retention.text.get(ctx.language),
    )


def _consent_buttons(ctx: Context) -> list[list[Button]]:
    _remember_shown(ctx)
    return ctx.yes_no(
        "start.consent_yes",
        ConsentAnswer(ctx.language, "yes"),
        "start.consent_no",
        ConsentAnswer(ctx.language, "no"),
    )


def _chat(ctx: Context) -> str:
    return f"{ctx.event.channel}:{ctx.event.chat_id}"


def _remember_shown(ctx: Context) -> None:
    shown = ctx.services.consent_shown
    shown.pop(_chat(ctx), None)
    shown[_chat(ctx)] = ctx.language
    while len(shown) > CONSENT_SHOWN_KEPT:
        shown.pop(next(iter(shown)))


def first_screen(ctx: Context) -> str:
    """The short notice: who, what for, how to withdraw, where to read more."""
    centre = ctx.services.centre
    return ctx.t(
        "start.first_screen",
        bot=centre.bot_name,
        centre=centre.name_in_greeting.get(ctx.language),
        programme=centre.programme.get(ctx.language),
        controller=centre.name,
        button=ctx.t("start.full_clause"),
    )


def _consent_question(ctx: Context) -> list[Reply]:
    buttons = _consent_buttons(ctx)
    buttons.append([ctx.button("start.full_clause", FullClause(ctx.language))])
    return [Reply(first_screen(ctx), buttons)]


router = Router("core.start")


@router.command("start", order=10)
async def start(ctx: Context) -> list[Reply]:
    if ctx.consented:
        name = ctx.resident.name if ctx.resident else None
        welcome = ctx.reply("start.welcome_back", name_suffix=f", {name}" if name else "")
        return await with_menu(ctx, [welcome])
    return _consent_question(ctx)


@router.choice(FullClause, without_consent=True)
async def on_full_clause(ctx: Context, pressed: FullClause) -> list[Reply]:
    if ctx.consented:
        return [Reply(_clause(ctx))]
    ctx.language = ctx.services.translator.language_or_default(pressed.language)
    question = _clause(ctx) + "\n\n" + ctx.t("start.consent_question")
    return [Reply(question, _consent_buttons(ctx))]


async def typed_consent(ctx: Context) -> list[Reply] | None:
    """A typed "tak" / "nie" from someone who has not agreed yet; None for other text.

    It answers the consent question only when this chat was shown it; otherwise
    the question is shown (consent is never taken without the notice)."""
    translator = ctx.services.translator
    answer = typed_yesno.meaning(translator, ctx.event.text)
    if answer is None:
        return None
    shown_in = ctx.services.consent_shown.get(_chat(ctx))
    if shown_in is None:
        ctx.language = typed_yesno.language_of(translator, ctx.event.text) or ctx.language
        return _consent_question(ctx)
    return await on_consent(ctx, ConsentAnswer(shown_in, "yes" if answer == "yes" else "no"))


@router.choice(ConsentAnswer, without_consent=True)
async def on_consent(ctx: Context, pressed: ConsentAnswer) -> list[Reply]:
    if ctx.consented:
        return [ctx.reply("start.already_agreed")]
    ctx.language = ctx.services.translator.language_or_default(pressed.language)
    ctx.services.consent_shown.pop(_chat(ctx), None)
    if pressed.answer != "yes":
        return [ctx.reply("start.consent_declined")]
    if ctx.resident is not None:
        # A coordinator's working row (handlers/core/staff.py) made before they consented.
        resident = await residents.give_consent(
            ctx.session, ctx.resident, name=ctx.event.display_name, language=ctx.language
        )
    else:
        resident = await residents.create_with_consent(
            ctx.session,
            telegram_id=ctx.event.user_id,
            name=ctx.event.display_name,
            language=ctx.language,
        )
    ctx.resident = resident
    await events.record(
        ctx.session, "consent_given", resident_id=resident.id, data={"channel": ctx.event.channel}
    )
    buttons = ctx.yes_no("news.yes", NewsAnswer("yes"), "news.no", NewsAnswer("no"))
    return [ctx.reply("start.thanks"), ctx.reply("news.offer", buttons=buttons)]


@router.choice(NewsAnswer)
async def on_news(ctx: Context, pressed: NewsAnswer) -> list[Reply]:
    assert ctx.resident is not None
    wanted = pressed.answer == "yes"
    if ctx.resident.subscribed == wanted:
        return await with_menu(ctx, [ctx.reply("news.on" if wanted else "news.off")])
    # The answer closes the first conversation: what can be done now follows.
    return await with_menu(ctx, await _set_news(ctx, wanted))


@router.menu_item("subscribe", "menu.news_on")
async def _news_now_off(ctx: Context) -> bool:
    return ctx.resident is not None and not ctx.resident.subscribed


@router.menu_item("stop", "menu.news_off")
async def _news_now_on(ctx: Context) -> bool:
    return ctx.resident is not None and ctx.resident.subscribed


async def _set_news(ctx: Context, wanted: bool) -> list[Reply]:
    assert ctx.resident is not None
    await residents.set_subscribed(ctx.session, ctx.resident, subscribed=wanted)
    await events.record(
        ctx.session, "subscribed" if wanted else "unsubscribed", resident_id=ctx.resident.id
    )
    return [ctx.reply("news.on" if wanted else "news.off")]


@router.command("help", order=20)
async def help_(ctx: Context) -> list[Reply]:
    lines = [
        f"/{c.name} – {ctx.t('command.' + c.name)}"
        for c in ctx.routes.menu(coordinator=ctx.is_coordinator)
    ]
    key = "help.intro" if ctx.consented else "help.intro_new"
    return [Reply(ctx.t(key, bot=ctx.services.centre.bot_name) + "\n\n" + "\n".join(lines))]


@router.command("language", order=30)
async def language(ctx: Context) -> list[Reply]:
    buttons = [
        [
            ctx.button("language.pl", LanguagePick("pl")),
            ctx.button("language.en", LanguagePick("en")),
        ]
    ]
    return [ctx.reply("language.question", buttons=buttons)]


@router.choice(LanguagePick, without_consent=True)
async def on_language(ctx: Context, pressed: LanguagePick) -> list[Reply]:
    ctx.language = ctx.services.translator.language_or_default(pressed.language)
    if ctx.resident is None or not ctx.consented:
        # Nothing is stored before consent: show the start in the chosen language.
        return [ctx.reply("language.changed"), *_consent_question(ctx)]
    await residents.set_language(ctx.session, ctx.resident, language=ctx.language)
    await events.record(
        ctx.session,
        "language_changed",
        resident_id=ctx.resident.id,
        data={"language": ctx.language},
    )
    return [ctx.reply("language.changed")]


@router.command("subscribe", needs_consent=True, order=40)
async def subscribe(ctx: Context) -> list[Reply]:
    assert ctx.resident is not None
    if ctx.resident.subscribed:
        return [ctx.reply("news.already_on")]
    return await _set_news(ctx, True)


@router.command("stop", needs_consent=True, order=50)
async def stop(ctx: Context) -> list[Reply]:
    assert ctx.resident is not None
    if not ctx.resident.subscribed:
        return [ctx.reply("news.already_off")]
    return await _set_news(ctx, False)
