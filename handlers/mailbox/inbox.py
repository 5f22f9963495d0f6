"""The mailbox, channel-agnostic: storing incoming mail, and the coordinators' side.

Incoming mail (`receive_mail`, called by the IMAP watcher with a batch of parsed
messages inside its transaction): each message is stored once (by Message-ID),
threaded (In-Reply-To, References, then the normalised subject from the same
address), linked to the resident who owns the sender's address, and shown to
every coordinator as an outbox row keyed by the stored message's id, queued in
the same transaction, so a crash neither loses nor repeats a notification. An
optional acknowledgement answers the first message of a new thread.

The coordinators' side, in the chat: the notification's buttons (reply, mark
handled, and with the contest: link to a proposal, turn into a proposal), the
reply flow (the text typed becomes the e-mail, after a preview), and /inbox.
Replies are queued as outbox rows of channel "email" with the Message-ID fixed
now, In-Reply-To, References and a "Re:" subject, and stored in the thread.

Conversation state of a reply: flow `mailreply`, step `text` (waiting for the
text) then `confirm` (preview shown); `answers` = {"message": id, "draft": text}.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import yaml
from babel.dates import format_datetime
from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.core.callbacks import Callback
from handlers.core.centre import ContentError, Localised
from handlers.core.context import Context
from handlers.core.events import Button, Kind, Reply
from handlers.core.replies import to_payload
from handlers.core.routing import Router
from handlers.core.services import Services
from handlers.core.staff import working_row
from handlers.mailbox.events import SYNTHETIC_ID_DOMAIN, IncomingMail
from storage import conversations, outbox, personal_data
from storage import mail as store
from storage.db import Store
from storage.mail import MailMessage, MailThread, ThreadState
from storage.models import Resident
from storage.types import utcnow

log = logging.getLogger(__name__)

MAIL = "mail"
REPLY = "mailreply"
TEXT, CONFIRM = "text", "confirm"
EMAIL_CHANNEL = "email"
router = Router("mailbox.inbox")


router.cancel_text(REPLY, "mail.reply_cancelled")
MAIL_FILE = "mail.yaml"

PREVIEW_LINES = 8
PREVIEW_CHARS = 700
INBOX_LIMIT = 10
QUOTE_CHARS = 4000
LABEL_CHARS = 60
MAX_REFERENCES = 20
SUBJECT_PREFIX = re.compile(
    r"^\s*(?:\[[^\]]{0,40}\]\s*)?(?:re|odp|fwd?|pd|aw|wg|tr)\s*(?:\[\d+\]|\(\d+\))?\s*:\s*",
    re.IGNORECASE,
)
WHITESPACE = re.compile(r"\s+")
FAILED_VERDICTS = ("fail", "softfail", "permerror")


# --- subjects and addresses ------------------------------------------------------------


def bare_subject(subject: str) -> str:
    """The subject without its Re:/Odp:/Fwd:/PD: prefixes (repeated, any case)."""
    text = subject or ""
    while True:
        stripped = SUBJECT_PREFIX.sub("", text, count=1)
        if stripped == text:
            return WHITESPACE.sub(" ", text).strip()
        text = stripped


def subject_key(subject: str) -> str:
    """What two subjects of one conversation have in common, for threading."""
    return bare_subject(subject).casefold()[:255]


def reply_subject(subject: str) -> str:
    return "Re: " + (bare_subject(subject) or "")


def new_message_id(services: Services) -> str:
    """A Message-ID for a message we send, fixed when it is queued (without <>)."""
    domain = services.centre.email.rpartition("@")[2].lower() or "localhost"
    return f"{uuid.uuid4().hex}@{domain}"


def _real_id(message_id: str | None) -> str | None:
    """Made-up ids (for mail that had none) never go into another e-mail's headers."""
    if not message_id or message_id.endswith(SYNTHETIC_ID_DOMAIN):
        return None
    return message_id


# --- the contest's part: link / turn into a proposal --------------------------------------


@dataclass(frozen=True)
class MailFile:
    name: str
    content_type: str
    size: int
    # Relative to DATA_DIR (`Services.data_dir`); None when the file was over the cap.
    path: str | None


@dataclass(frozen=True)
class MailForProposal:
    """An incoming e-mail as the contest code sees it."""

    message_id: int
    thread_id: int
    sender_name: str
    sender_address: str
    subject: str
    text: str
    received_at: datetime
    resident_id: int | None
    attachments: list[MailFile] = field(default_factory=list)


class ProposalBridge(Protocol):
    """What the contest (handlers/contest/proposal.py) provides to the mailbox.

    `ref` is the contest's short reference of a proposal (its id or number, at
    most 30 characters: it travels in a button's 64-byte callback data); `label`
    is what a coordinator reads ("#2026/3 Warsztaty ceramiki").
    """

    async def candidates(self, ctx: Context, mail: MailForProposal) -> list[tuple[str, str]]:
        """Proposals this e-mail could belong to, best first: [(ref, label)], at most 8."""
        ...

    async def link(self, ctx: Context, mail: MailForProposal, ref: str) -> str | None:
        """Attach the e-mail (text and files) to proposal `ref`; its label, None if gone."""
        ...

    async def create(self, ctx: Context, mail: MailForProposal) -> tuple[str, str] | None:
        """Turn the e-mail into a contest entry (with its attachments); (ref, label)."""
        ...


# At most one: the contest registers itself with `register_proposal_bridge`.
PROPOSAL_FROM_MAIL: list[ProposalBridge] = []


def register_proposal_bridge(bridge: ProposalBridge) -> None:
    PROPOSAL_FROM_MAIL[:] = [bridge]


def proposal_bridge(services: Services) -> ProposalBridge | None:
    """The bridge, when there is one and a contest to put e-mails into."""
    if PROPOSAL_FROM_MAIL and services.contest is not None:
        return PROPOSAL_FROM_MAIL[0]
    return None


# Besides residents' own `email`, other parts may know an address (e.g. an applicant's
# contact address in a proposal): (session, lower-case addresses) -> {address: resident
# id} for those it knows. Asked once per batch, not per address: an import of thousands
# of messages would otherwise run thousands of queries.
SenderLookup = Callable[[AsyncSession, set[str]], Awaitable[dict[str, int]]]
SENDER_LOOKUPS: list[SenderLookup] = []


# --- content: the acknowledgement -----------------------------------------------------


class Acknowledgement(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: Localised


class MailContent(BaseModel):
    model_config = ConfigDict(extra="forbid")
    acknowledgement: Acknowledgement


def load_mail_content(content_dir: Path) -> MailContent:
    path = content_dir / MAIL_FILE
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        return MailContent.model_validate(raw)
    except OSError as error:
        raise ContentError(f"{path}: cannot read ({error.strerror})") from None
    except yaml.YAMLError as error:
        raise ContentError(f"{path}: not valid YAML ({error})") from None
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ContentError(f"{path}: {where}: {first['msg']}") from None


# --- receiving ----------------------------------------------------------------------------


@dataclass
class MailPolicy:
    """How a batch of incoming mail is treated."""

    # Tell the coordinators (not for the first import of an existing mailbox).
    notify: bool = True
    # The acknowledgement to send to a new thread, or None when switched off.
    acknowledgement: MailContent | None = None
    # Our own addresses: never acknowledged, never a thread's counterpart.
    own_addresses: frozenset[str] = frozenset()
    # First import of an existing mailbox: mail already read on the server is
    # taken as handled (the coordinator dealt with it before Lokalnie).
    baseline: bool = False


@dataclass
class Received:
    stored: list[int] = field(default_factory=list)
    duplicates: int = 0
    problems: int = 0


def _counterpart(mail: IncomingMail, own: frozenset[str]) -> str:
    address = mail.sender.address
    if address and address not in own:
        return address
    for candidate in (*mail.reply_to, *mail.to, *mail.cc):
        if candidate.address and candidate.address not in own:
            return candidate.address
    return address


def _pairs(addresses: Sequence[Any]) -> list[list[str]]:
    return [[a.name, a.address] for a in addresses]


async def receive_mail(
    session: AsyncSession,
    services: Services,
    mails: Sequence[IncomingMail],
    policy: MailPolicy,
) -> Received:
    """Store a batch of parsed e-mails once each, thread them, queue what they cause."""
    result = Received()
    await store.prefer_custom_plans(session)
    # One query answers both "stored already?" and "which thread does it answer?".
    referenced = {i for m in mails for i in (m.in_reply_to, *m.references) if i}
    stored = await store.threads_of_message_ids(
        session, {*referenced, *(m.message_id for m in mails)}
    )
    known = set(stored)
    fresh: list[IncomingMail] = []
    for mail in mails:
        if mail.message_id in known:
            result.duplicates += 1
            continue
        known.add(mail.message_id)
        fresh.append(mail)
    if not fresh:
        return result

    own = policy.own_addresses
    counterparts = {m.message_id: _counterpart(m, own) for m in fresh}
    residents = await _residents(session, set(counterparts.values()))
    threads, new_threads, positions = await _threads(
        session, fresh, counterparts, residents, policy, stored
    )

    now = utcnow()
    rows = [
        store.NewMessage(
            threads[mail.message_id].id,  # type: ignore[arg-type]  (set by _threads)
            store.IN,
            mail.message_id,
            mail.folder,
            mail.uidvalidity,
            mail.uid,
            mail.seen,
            mail.in_reply_to,
            mail.references,
            mail.sender.name,
            mail.sender.address,
            _pairs(mail.to),
            _pairs(mail.cc),
            _pairs(mail.reply_to),
            mail.subject,
            mail.date,
            now,
            mail.text,
            mail.html,
            mail.headers,
            mail.size,
            mail.auth,
            mail.automatic,
            mail.parse_error,
            mail.raw,
            residents.get(counterparts[mail.message_id]),
            None,
            None,
        )
        for mail in fresh
    ]
    result.problems += sum(1 for mail in fresh if mail.parse_error)
    # One INSERT for the batch (a bulk import stores thousands of these).
    ids = await store.insert_messages(session, rows)
    await store.insert_attachments(
        session,
        [
            store.NewAttachment(
                row_id,
                attachment.filename,
                attachment.content_type[:200],
                attachment.size,
                attachment.sha256,
                attachment.path,
                attachment.skipped,
            )
            for mail, row_id in zip(fresh, ids, strict=True)
            for attachment in mail.attachments
        ],
    )
    result.stored.extend(ids)
    if not policy.notify:
        return result
    # Plain objects for the cards and acknowledgements; not in the session.
    messages = [
        (mail, _message(row_id, row)) for mail, row_id, row in zip(fresh, ids, rows, strict=True)
    ]

    if services.coordinator_ids:
        languages = await _coordinator_languages(session, services)
        for mail, message in messages:
            position = positions[mail.message_id]
            await _notify(session, services, languages, mail, message, position)
    if policy.acknowledgement is not None:
        acknowledged: set[str] = set()
        for mail, message in messages:
            if threads[mail.message_id] in new_threads and positions[mail.message_id] == 1:
                await _acknowledge(session, services, policy, mail, message, acknowledged)
    await session.flush()
    return result


def _message(row_id: int, row: store.NewMessage) -> MailMessage:
    """The stored message as an object, with lists of its own (as loaded ones have)."""
    values = row._asdict()
    values["reference_ids"] = list(row.reference_ids)
    values["headers"] = [list(header) for header in row.headers]
    values["auth"] = dict(row.auth)
    return MailMessage(id=row_id, **values)


async def _residents(session: AsyncSession, addresses: set[str]) -> dict[str, int]:
    found = await store.residents_by_email(session, addresses)
    for lookup in SENDER_LOOKUPS:
        missing = {a for a in addresses - set(found) if a}
        if not missing:
            break
        found.update(await lookup(session, missing))
    return found


async def _threads(
    session: AsyncSession,
    mails: Sequence[IncomingMail],
    counterparts: dict[str, str],
    residents: dict[str, int],
    policy: MailPolicy,
    by_id: dict[str, int],
) -> tuple[dict[str, ThreadState], set[ThreadState], dict[str, int]]:
    """The thread of each message (found or new), which threads are new, and each
    message's position in its thread; `by_id` maps stored Message-IDs to threads."""
    # A batch often repeats a subject (replies, a mailing): each is normalised once.
    subject_keys = {m.subject: subject_key(m.subject) for m in mails}
    keys = [(subject_keys[m.subject], counterparts[m.message_id]) for m in mails]
    by_subject = await store.threads_by_subject(session, keys)
    wanted = {by_id[r] for m in mails for r in (m.in_reply_to, *m.references) if r and r in by_id}
    loaded = await store.thread_states(session, {*wanted, *by_subject.values()})
    in_batch_ids: dict[str, ThreadState] = {}
    in_batch_subjects: dict[tuple[str, str], ThreadState] = {}
    result: dict[str, ThreadState] = {}
    positions: dict[str, int] = {}
    new: set[ThreadState] = set()
    created: list[ThreadState] = []  # the new ones, in order
    changed: dict[int, ThreadState] = {}  # stored ones this batch changes, by id
    now = utcnow()

    for mail, key in zip(mails, keys, strict=True):
        address = key[1]
        thread: ThreadState | None = None
        for reference in (mail.in_reply_to, *reversed(mail.references)):
            if not reference:
                continue
            thread = in_batch_ids.get(reference)
            if thread is None and reference in by_id:
                thread = loaded.get(by_id[reference])
            if thread is not None:
                break
        if thread is None and key[0] and key[1]:
            thread = in_batch_subjects.get(key)
            if thread is None and key in by_subject:
                thread = loaded.get(by_subject[key])
        moment = min(mail.date or now, now)
        handled = policy.baseline and mail.seen
        if thread is None:
            thread = ThreadState(
                id=None,
                subject=mail.subject,
                subject_key=key[0],
                counterpart=address,
                status=store.HANDLED if handled else store.OPEN,
                resident_id=residents.get(address),
                message_count=1,
                created_at=now,
                last_message_at=moment,
            )
            new.add(thread)
            created.append(thread)
        else:
            thread.message_count = (thread.message_count or 0) + 1
            if not handled:
                thread.status = store.OPEN
            if moment > thread.last_message_at:
                thread.last_message_at = moment
            if thread.resident_id is None and address in residents:
                thread.resident_id = residents[address]
            if thread.id is not None:  # stored before this batch
                changed[thread.id] = thread
        positions[mail.message_id] = thread.message_count
        result[mail.message_id] = thread
        in_batch_ids[mail.message_id] = thread
        if key[0] and key[1]:
            in_batch_subjects[key] = thread
    await store.plan_as_usual(session)  # the lookups are done; writes from here
    await store.update_threads(session, list(changed.values()))
    # New threads in one INSERT, which sets their ids.
    await store.insert_threads(session, created)
    return result, new, positions


async def _coordinator_languages(session: AsyncSession, services: Services) -> dict[int, str]:
    rows = await session.execute(
        select(Resident.telegram_id, Resident.language).where(
            Resident.telegram_id.in_(list(services.coordinator_ids))
        )
    )
    known = {telegram_id: language for telegram_id, language in rows.all()}
    translator = services.translator
    return {cid: translator.language_or_default(known.get(cid)) for cid in services.coordinator_ids}


def _preview(text: str) -> str:
    lines = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith(">"):
            continue
        lines.append(stripped[:PREVIEW_CHARS])
        if len(lines) >= PREVIEW_LINES:
            break
    preview = "\n".join(lines)
    return preview if len(preview) <= PREVIEW_CHARS else preview[: PREVIEW_CHARS - 1] + "…"


def _sender(message: MailMessage) -> str:
    if message.from_name and message.from_address:
        return f"{message.from_name} <{message.from_address}>"
    return message.from_address or message.from_name


def mail_card(
    services: Services,
    language: str,
    message: MailMessage,
    thread: MailThread,
    attachment_names: Sequence[str],
    resident_name: str | None = None,
    position: int | None = None,
) -> Reply:
    """What a coordinator sees of one incoming e-mail, with its buttons; `position` is
    the message's place in its thread (the thread's length when not given)."""

    def t(key: str, **values: object) -> str:
        return services.translator.text(language, key, **values)

    subject = message.subject or t("mail.no_subject")
    count = position if position is not None else thread.message_count
    key = "mail.new" if count <= 1 else "mail.new_in_thread"
    parts = [
        t(
            key,
            sender=_sender(message) or "?",
            subject=subject,
            count=count,
            preview=_preview(message.text) or t("mail.no_text"),
        )
    ]
    if attachment_names:
        parts.append(t("mail.attachments", names=", ".join(attachment_names)))
    if resident_name is not None:
        parts.append(t("mail.from_resident", name=resident_name or "?"))
    failed = {k: v for k, v in (message.auth or {}).items() if v in FAILED_VERDICTS}
    if failed:
        verdicts = ", ".join(f"{k.upper()}={v}" for k, v in sorted(failed.items()))
        parts.append(t("mail.auth_failed", verdicts=verdicts))
    if message.parse_error:
        parts.append(t("mail.unreadable", reason=message.parse_error[:200]))
    if thread.proposal_ref:
        parts.append(t("mail.thread_linked", ref=thread.proposal_ref))

    def button(label: str, step: str, value: int) -> Button:
        return Button(t(label), Callback(MAIL, step, str(value)).pack())

    buttons = [[button("mail.btn_reply", "reply", message.id)]]
    if thread.status != store.HANDLED:
        buttons[0].append(button("mail.btn_done", "done", thread.id))
    if proposal_bridge(services) is not None:
        buttons.append(
            [
                button("mail.btn_link", "link", message.id),
                button("mail.btn_make", "make", message.id),
            ]
        )
    return Reply("\n\n".join(parts), buttons)


async def _notify(
    session: AsyncSession,
    services: Services,
    languages: dict[int, str],
    mail: IncomingMail,
    row: MailMessage,
    position: int,
) -> None:
    thread = await store.get_thread(session, row.thread_id)
    assert thread is not None
    names = [a.filename for a in mail.attachments]
    resident_name = None
    if row.resident_id is not None:
        resident = await session.get(Resident, row.resident_id)
        resident_name = (resident.name or "") if resident else None
    for coordinator_id in sorted(services.coordinator_ids):
        card = mail_card(
            services, languages[coordinator_id], row, thread, names, resident_name, position
        )
        await outbox.enqueue(
            session,
            channel=services.chat_channel,
            recipient=str(coordinator_id),
            payload=to_payload(card),
            idempotency_key=f"mail:new:{row.id}:{coordinator_id}",
        )


def local_day(services: Services) -> str:
    return services.clock().astimezone(services.timezone).date().isoformat()


async def _acknowledge(
    session: AsyncSession,
    services: Services,
    policy: MailPolicy,
    mail: IncomingMail,
    row: MailMessage,
    done: set[str],
) -> None:
    """The automatic acknowledgement of a new thread, where RFC 3834 allows one."""
    assert policy.acknowledgement is not None
    target = mail.answer_to.address
    if mail.automatic or not target or target in policy.own_addresses or target in done:
        return
    if mail.sender.address in policy.own_addresses:
        return
    day = local_day(services)
    if await store.acknowledged_on(session, address=target, day=day):
        return
    done.add(target)
    language = services.translator.default_language
    if row.resident_id is not None:
        resident = await session.get(Resident, row.resident_id)
        if resident is not None:
            language = resident.language
    centre = services.centre
    text = policy.acknowledgement.acknowledgement.text.get(language).format(
        centre=centre.name, subject=mail.subject or ""
    )
    outgoing = await _store_outgoing(
        session,
        services,
        thread_id=row.thread_id,
        original=row,
        to=target,
        text=text,
        author_id=None,
    )
    await store.record_acknowledgement(session, address=target, day=day, message_id=row.id)
    await _queue_email(session, outgoing, auto_submitted="auto-replied")


# --- outgoing -------------------------------------------------------------------------------


async def _store_outgoing(
    session: AsyncSession,
    services: Services,
    *,
    thread_id: int,
    original: MailMessage,
    to: str,
    text: str,
    author_id: int | None,
) -> MailMessage:
    now = utcnow()
    references = [r for r in original.reference_ids or [] if r]
    original_id = _real_id(original.message_id)
    if original_id and original_id not in references:
        references.append(original_id)
    outgoing = MailMessage(
        thread_id=thread_id,
        direction=store.OUT,
        message_id=new_message_id(services),
        in_reply_to=original_id,
        reference_ids=references[-MAX_REFERENCES:],
        from_name=services.centre.name,
        from_address=services.centre.email.lower(),
        to=[["", to]],
        cc=[],
        reply_to=[],
        subject=reply_subject(original.subject),
        date=now,
        received_at=now,
        text=text,
        headers=[],
        size=len(text.encode()),
        auth={},
        resident_id=original.resident_id,
        author_id=author_id,
        seen=True,
    )
    session.add(outgoing)
    thread = await store.get_thread(session, thread_id)
    if thread is not None:
        thread.message_count = (thread.message_count or 0) + 1
        thread.last_message_at = now
    await session.flush()
    return outgoing


async def _queue_email(
    session: AsyncSession, message: MailMessage, *, auto_submitted: str | None = None
) -> None:
    payload: dict[str, Any] = {
        "subject": message.subject,
        "text": message.text,
        "message_id": message.message_id,
        "in_reply_to": message.in_reply_to,
        "references": list(message.reference_ids or []),
    }
    if auto_submitted:
        payload["auto_submitted"] = auto_submitted
    await outbox.enqueue(
        session,
        channel=EMAIL_CHANNEL,
        recipient=message.to[0][1],
        resident_id=message.resident_id,
        payload=payload,
        idempotency_key=f"mail:out:{message.id}",
    )


async def report_delivery_failure(
    database: Store,
    services: Services,
    *,
    recipient: str,
    payload: dict[str, Any],
    error: str,
    key: str,
) -> None:
    """Tell every coordinator that an e-mail was refused for good (SMTP 5xx, login)."""
    async with database.transaction() as session:
        languages = await _coordinator_languages(session, services)
        for coordinator_id in sorted(services.coordinator_ids):
            text = services.translator.text(
                languages[coordinator_id],
                "mail.send_failed",
                recipient=recipient,
                subject=str(payload.get("subject") or ""),
                error=error[:300],
            )
            await outbox.enqueue(
                session,
                channel=services.chat_channel,
                recipient=str(coordinator_id),
                payload={"text": text},
                idempotency_key=f"mail:failed:{key}:{coordinator_id}"[:200],
            )
    services.on_outbox_written()


# --- the coordinators' buttons ----------------------------------------------------------------


def _number(value: str) -> int | None:
    head = value.split(".", 1)[0]
    return int(head) if head.isdigit() else None


@router.choice(MAIL, coordinator_only=True)
async def on_mail(ctx: Context, callback: Callback) -> list[Reply]:
    number = _number(callback.value)
    if number is None:
        return [ctx.reply("input.stale_button")]
    if callback.step == "reply":
        return await start_reply(ctx, number)
    if callback.step == "done":
        return await _mark_handled(ctx, number)
    if callback.step == "show":
        return await _show_thread(ctx, number)
    if callback.step in ("link", "pick", "make") and proposal_bridge(ctx.services):
        return await _proposal_action(ctx, callback, number)
    return [ctx.reply("input.stale_button")]


async def _card(ctx: Context, message: MailMessage) -> Reply:
    thread = await store.get_thread(ctx.session, message.thread_id)
    assert thread is not None
    attachments = (await store.attachments_of(ctx.session, [message.id])).get(message.id, [])
    resident_name = None
    if message.resident_id is not None:
        resident = await ctx.session.get(Resident, message.resident_id)
        resident_name = (resident.name or "") if resident else None
    return mail_card(
        ctx.services,
        ctx.language,
        message,
        thread,
        [a.filename for a in attachments],
        resident_name,
    )


async def _show_thread(ctx: Context, thread_id: int) -> list[Reply]:
    message = await store.latest_incoming(ctx.session, thread_id)
    if message is None or message.erased_at is not None:
        return [ctx.reply("mail.gone")]
    return [await _card(ctx, message)]


async def _mark_handled(ctx: Context, thread_id: int) -> list[Reply]:
    thread = await store.get_thread(ctx.session, thread_id)
    if thread is None:
        return [ctx.reply("mail.gone")]
    if thread.status == store.HANDLED:
        return [ctx.reply("mail.already_handled")]
    await store.mark_handled(ctx.session, thread, by=ctx.event.user_id)
    return [ctx.reply("mail.handled", subject=thread.subject or ctx.t("mail.no_subject"))]


# --- replying ----------------------------------------------------------------------------------


def _reply_target(message: MailMessage, own: str) -> str:
    if message.direction == store.IN:
        for _name, address in message.reply_to or []:
            if address:
                return str(address)
        return message.from_address
    for _name, address in message.to or []:
        if address and address != own:
            return str(address)
    return ""


async def start_reply(ctx: Context, message_id: int) -> list[Reply]:
    message = await store.get_message(ctx.session, message_id)
    if message is None or message.erased_at is not None:
        return [ctx.reply("mail.gone")]
    # A conversation belongs to a row; a coordinator who never consented gets a working one.
    await working_row(ctx)
    assert ctx.resident is not None
    target = _reply_target(message, ctx.services.centre.email.lower())
    if not target:
        return [ctx.reply("mail.reply_no_address")]
    await conversations.begin(
        ctx.session,
        resident_id=ctx.resident.id,
        flow=REPLY,
        step=TEXT,
        answers={"message": message.id},
    )
    subject = reply_subject(message.subject)
    return [ctx.reply("mail.reply_prompt", recipient=target, subject=subject)]


@router.flow(REPLY)
async def on_reply_input(ctx: Context) -> list[Reply]:
    assert ctx.resident is not None
    conversation = await conversations.current(ctx.session, ctx.resident.id)
    assert conversation is not None
    if not ctx.is_coordinator:
        await conversations.end(ctx.session, ctx.resident.id)
        return [ctx.reply("admin.refused")]
    text = (ctx.event.text or "").strip() if ctx.event.kind is Kind.TEXT else ""
    if not text:
        return [ctx.reply("mail.reply_text_only")]
    message = await store.get_message(ctx.session, int(conversation.answers.get("message", 0)))
    if message is None or message.erased_at is not None:
        await conversations.end(ctx.session, ctx.resident.id)
        return [ctx.reply("mail.gone")]
    answers = {**conversation.answers, "draft": text}
    await conversations.advance(ctx.session, conversation, step=CONFIRM, answers=answers)
    target = _reply_target(message, ctx.services.centre.email.lower())
    buttons = [
        [
            ctx.button("mail.btn_send", REPLY, CONFIRM, "send"),
            ctx.button("mail.btn_cancel", REPLY, CONFIRM, "cancel"),
        ]
    ]
    return [
        ctx.reply(
            "mail.reply_preview",
            buttons=buttons,
            recipient=target,
            subject=reply_subject(message.subject),
            text=text,
        )
    ]


@router.choice(REPLY, coordinator_only=True)
async def on_reply_choice(ctx: Context, callback: Callback) -> list[Reply]:
    current = await conversations.current(ctx.session, ctx.resident.id) if ctx.resident else None
    if current is None or (current.flow, current.step) != (REPLY, CONFIRM):
        return [ctx.reply("input.stale_button")]
    assert ctx.resident is not None
    await conversations.end(ctx.session, ctx.resident.id)
    if callback.value != "send":
        return [ctx.reply("mail.reply_cancelled")]
    message = await store.get_message(ctx.session, int(current.answers.get("message", 0)))
    if message is None or message.erased_at is not None:
        return [ctx.reply("mail.gone")]
    target = _reply_target(message, ctx.services.centre.email.lower())
    text = str(current.answers.get("draft", ""))
    body = text + "\n\n" + _quote(ctx, message)
    outgoing = await _store_outgoing(
        ctx.session,
        ctx.services,
        thread_id=message.thread_id,
        original=message,
        to=target,
        text=body,
        author_id=ctx.event.user_id,
    )
    await _queue_email(ctx.session, outgoing)
    thread = await store.get_thread(ctx.session, message.thread_id)
    if thread is not None and thread.status != store.HANDLED:
        await store.mark_handled(ctx.session, thread, by=ctx.event.user_id)
    return [ctx.reply("mail.reply_queued", recipient=target)]


def _quote(ctx: Context, message: MailMessage) -> str:
    when = message.date or message.received_at
    header = ctx.t(
        "mail.reply_quote",
        date=format_datetime(
            when.astimezone(ctx.services.timezone), "d MMMM y, HH:mm", locale=ctx.language
        ),
        sender=_sender(message),
    )
    quoted = "\n".join("> " + line for line in message.text[:QUOTE_CHARS].splitlines())
    return f"{header}\n{quoted}"


# --- /inbox --------------------------------------------------------------------------------------


@router.command("inbox", coordinator_only=True, order=94)
async def inbox(ctx: Context) -> list[Reply]:
    return await inbox_listing(ctx)


@router.admin_action("inbox", "admin.inbox")
async def inbox_from_panel(ctx: Context, callback: Callback) -> list[Reply]:
    return await inbox_listing(ctx)


async def inbox_listing(ctx: Context) -> list[Reply]:
    count = await store.count_open(ctx.session)
    if count == 0:
        return [ctx.reply("mail.inbox_empty")]
    buttons = []
    for thread in await store.open_threads(ctx.session, limit=INBOX_LIMIT):
        latest = await store.latest_incoming(ctx.session, thread.id)
        sender = (latest.from_name or latest.from_address) if latest else thread.counterpart
        when = format_datetime(
            thread.last_message_at.astimezone(ctx.services.timezone), "dd.MM", locale=ctx.language
        )
        label = ctx.t(
            "mail.inbox_line",
            sender=sender or "?",
            subject=thread.subject or ctx.t("mail.no_subject"),
            when=when,
        )
        if len(label) > LABEL_CHARS:
            label = label[: LABEL_CHARS - 1] + "…"
        buttons.append([Button(label, Callback(MAIL, "show", str(thread.id)).pack())])
    return [ctx.reply("mail.inbox_title", buttons=buttons, count=count)]


# --- the contest's buttons ----------------------------------------------------------------------


async def mail_for_proposal(session: AsyncSession, message: MailMessage) -> MailForProposal:
    attachments = (await store.attachments_of(session, [message.id])).get(message.id, [])
    return MailForProposal(
        message_id=message.id,
        thread_id=message.thread_id,
        sender_name=message.from_name,
        sender_address=message.from_address,
        subject=message.subject,
        text=message.text,
        received_at=message.received_at,
        resident_id=message.resident_id,
        attachments=[MailFile(a.filename, a.content_type, a.size, a.path) for a in attachments],
    )


async def _proposal_action(ctx: Context, callback: Callback, message_id: int) -> list[Reply]:
    bridge = proposal_bridge(ctx.services)
    assert bridge is not None
    message = await store.get_message(ctx.session, message_id)
    if message is None or message.erased_at is not None:
        return [ctx.reply("mail.gone")]
    mail = await mail_for_proposal(ctx.session, message)
    thread = await store.get_thread(ctx.session, message.thread_id)
    assert thread is not None
    if callback.step == "link":
        options = await bridge.candidates(ctx, mail)
        if not options:
            return [ctx.reply("mail.link_none")]
        buttons = [
            [Button(label[:LABEL_CHARS], Callback(MAIL, "pick", f"{message_id}.{ref}").pack())]
            for ref, label in options[:8]
        ]
        return [ctx.reply("mail.link_pick", buttons=buttons)]
    if callback.step == "pick":
        ref = callback.value.split(".", 1)[1] if "." in callback.value else ""
        label = await bridge.link(ctx, mail, ref) if ref else None
        if label is None:
            return [ctx.reply("input.stale_button")]
        thread.proposal_ref = ref[:64]
        await ctx.session.flush()
        return [ctx.reply("mail.linked", label=label)]
    made = await bridge.create(ctx, mail)
    if made is None:
        return [ctx.reply("mail.proposal_failed")]
    ref, label = made
    thread.proposal_ref = ref[:64]
    if thread.status != store.HANDLED:
        await store.mark_handled(ctx.session, thread, by=ctx.event.user_id)
    return [ctx.reply("mail.made", label=label)]


# --- the resident's rights ----------------------------------------------------------------------


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


async def _emails(session: AsyncSession, resident: Resident) -> list[dict[str, Any]]:
    messages = await store.of_resident(session, resident.id, resident.email)
    files = await store.attachments_of(session, [m.id for m in messages])
    return [
        {
            "direction": "received" if m.direction == store.IN else "sent",
            "date": _iso(m.date or m.received_at),
            "from": m.from_address,
            "to": [address for _name, address in m.to or []],
            "subject": m.subject,
            "text": m.text,
            "attachments": [a.filename for a in files.get(m.id, [])],
        }
        for m in messages
    ]


async def _forget_mail(ctx: Context) -> None:
    """/forget: the resident's e-mails are emptied (see `storage.mail.forget_resident`);
    their attachment files are deleted once the erasure is committed."""
    assert ctx.resident is not None
    paths = await store.forget_resident(ctx.session, ctx.resident.id, ctx.resident.email)
    if not paths:
        return
    root = ctx.services.data_dir

    def delete_files(_session: object) -> None:
        for path in paths:
            try:
                (root / path).unlink(missing_ok=True)
            except OSError as error:
                log.warning("could not delete %s: %s", path, error)

    event.listen(ctx.session.sync_session, "after_commit", delete_files, once=True)


personal_data.register("emails", _emails)
router.forget_hook(_forget_mail)
