"""First contact: greeting, the RODO information clause, consent, language, news."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from handlers.core.callbacks import CallbackData, kind
from handlers.core.context import Context
from handlers.core.events import Reply
from handlers.core.routing import Router
from storage import events, residents

YesNo = Literal["yes", "no"]


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


def _consent_question(ctx: Context) -> list[Reply]:
    centre = ctx.services.centre
    greeting = ctx.t(
        "start.greeting",
        bot=centre.bot_name,
        centre=centre.name_in_greeting.get(ctx.language),
        programme=centre.programme.get(ctx.language),
    )
    buttons = [
        [ctx.button("start.consent_yes", ConsentAnswer(ctx.language, "yes"))],
        [ctx.button("start.consent_no", ConsentAnswer(ctx.language, "no"))],
    ]
    return [
        Reply(greeting),
        Reply(_clause(ctx) + "\n\n" + ctx.t("start.consent_question"), buttons),
    ]


router = Router("core.start")


@router.command("start", order=10)
async def start(ctx: Context) -> list[Reply]:
    if ctx.consented:
        name = ctx.resident.name if ctx.resident else None
        return [ctx.reply("start.welcome_back", name_suffix=f", {name}" if name else "")]
    return _consent_question(ctx)


@router.choice(ConsentAnswer, without_consent=True)
async def on_consent(ctx: Context, pressed: ConsentAnswer) -> list[Reply]:
    if ctx.consented:
        return [ctx.reply("start.already_agreed")]
    ctx.language = ctx.services.translator.language_or_default(pressed.language)
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
    buttons = [
        [ctx.button("news.yes", NewsAnswer("yes"))],
        [ctx.button("news.no", NewsAnswer("no"))],
    ]
    return [ctx.reply("start.thanks"), ctx.reply("news.offer", buttons=buttons)]


@router.choice(NewsAnswer)
async def on_news(ctx: Context, pressed: NewsAnswer) -> list[Reply]:
    assert ctx.resident is not None
    wanted = pressed.answer == "yes"
    if ctx.resident.subscribed == wanted:
        return [ctx.reply("news.on" if wanted else "news.off")]
    return await _set_news(ctx, wanted)


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
