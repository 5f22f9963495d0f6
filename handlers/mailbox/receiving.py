"""Receiving mail: a batch of parsed e-mails (from the IMAP watcher, inside its
transaction) stored once each by Message-ID, threaded (In-Reply-To, References,
then the normalised subject from the same address), linked to the resident who
proved the sender's address (`storage.mail.proofs`; an address merely typed
somewhere links nothing, since anyone can type anyone's address), and shown
to every coordinator as outbox rows keyed by the stored message's id, queued in
the same transaction, so a crash neither loses nor repeats a notification. An
optional acknowledgement answers the first message of a new thread."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.core.notify import coordinator_languages
from handlers.core.services import Services
from handlers.mailbox.cards import OWN_SENDER, notify
from handlers.mailbox.content import MailContent
from handlers.mailbox.events import IncomingMail
from handlers.mailbox.outgoing import acknowledge
from handlers.mailbox.subjects import subject_key
from handlers.mailbox.verdicts import trusted_auth
from storage import mail as store
from storage.mail import MailThread, NewAttachment, NewMessage, proofs
from storage.types import utcnow


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
    # The authserv-id of the centre's own mail provider: only its
    # Authentication-Results are trusted; "" trusts none.
    authserv_id: str = ""


@dataclass
class Received:
    stored: list[int] = field(default_factory=list)
    duplicates: int = 0
    problems: int = 0


@dataclass
class Threading:
    """Where the messages of a batch go: each one's thread and place in it, and which
    threads the batch started."""

    thread_of: dict[str, MailThread] = field(default_factory=dict)
    position_of: dict[str, int] = field(default_factory=dict)
    new: set[MailThread] = field(default_factory=set)


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
    now = utcnow()
    # A reply to the contest's confirmation e-mail proves its sender's address, so
    # it is linked like any later mail from that address.
    await proofs.prove_by_replies(
        session,
        [(m.sender.address, [i for i in (m.in_reply_to, *m.references) if i]) for m in fresh],
        now,
    )
    counterparts = {m.message_id: _counterpart(m, own) for m in fresh}
    residents = await proofs.residents_by_proven(session, set(counterparts.values()) - own)
    threading = await _thread(session, fresh, counterparts, residents, policy, stored)

    rows = [
        NewMessage(
            thread_id=threading.thread_of[mail.message_id].id,
            message_id=mail.message_id,
            folder=mail.folder,
            uidvalidity=mail.uidvalidity,
            uid=mail.uid,
            seen=mail.seen,
            in_reply_to=mail.in_reply_to,
            reference_ids=list(mail.references),
            from_name=mail.sender.name,
            from_address=mail.sender.address,
            to=_pairs(mail.to),
            cc=_pairs(mail.cc),
            reply_to=_pairs(mail.reply_to),
            subject=mail.subject,
            date=mail.date,
            received_at=now,
            text=mail.text,
            html=mail.html,
            headers=[[name, value] for name, value in mail.headers],
            size=mail.size,
            auth=trusted_auth(mail, policy.authserv_id),
            automatic=OWN_SENDER if mail.sender.address.lower() in own else mail.automatic,
            parse_error=mail.parse_error,
            raw=mail.raw,
            resident_id=residents.get(counterparts[mail.message_id]),
        )
        for mail in fresh
    ]
    result.problems += sum(1 for mail in fresh if mail.parse_error)
    ids = await store.insert_messages(session, rows)
    await store.insert_attachments(
        session,
        [
            NewAttachment(
                message_id=row_id,
                filename=attachment.filename,
                content_type=attachment.content_type[:200],
                size=attachment.size,
                sha256=attachment.sha256,
                path=attachment.path,
                skipped=attachment.skipped,
            )
            for mail, row_id in zip(fresh, ids, strict=True)
            for attachment in mail.attachments
        ],
    )
    result.stored.extend(ids)
    if policy.notify:
        await _tell(session, services, policy, threading, fresh, ids, rows)
    return result


async def _tell(
    session: AsyncSession,
    services: Services,
    policy: MailPolicy,
    threading: Threading,
    fresh: list[IncomingMail],
    ids: list[int],
    rows: list[NewMessage],
) -> None:
    """The coordinators' cards and the acknowledgements of a stored batch."""
    messages = [
        (mail, store.as_message(row_id, row))
        for mail, row_id, row in zip(fresh, ids, rows, strict=True)
    ]
    if services.coordinator_ids:
        languages = await coordinator_languages(session, services)
        for mail, message in messages:
            position = threading.position_of[mail.message_id]
            await notify(session, services, languages, mail, message, position)
    if policy.acknowledgement is not None:
        acknowledged: set[str] = set()
        for mail, message in messages:
            first = threading.position_of[mail.message_id] == 1
            if first and threading.thread_of[mail.message_id] in threading.new:
                await acknowledge(
                    session,
                    services,
                    policy.acknowledgement,
                    policy.own_addresses,
                    mail,
                    message,
                    acknowledged,
                )
    await session.flush()


async def _thread(
    session: AsyncSession,
    mails: Sequence[IncomingMail],
    counterparts: dict[str, str],
    residents: dict[str, int],
    policy: MailPolicy,
    by_id: dict[str, int],
) -> Threading:
    """The thread of each message, found or new; `by_id` maps stored Message-IDs to
    their threads. New threads are flushed, so that they have their ids."""
    keys = [(subject_key(m.subject), counterparts[m.message_id]) for m in mails]
    by_subject = await store.threads_by_subject(session, keys)
    wanted = {by_id[r] for m in mails for r in (m.in_reply_to, *m.references) if r and r in by_id}
    loaded = await store.threads_by_id(session, {*wanted, *by_subject.values()})
    in_batch_ids: dict[str, MailThread] = {}
    in_batch_subjects: dict[tuple[str, str], MailThread] = {}
    threading = Threading()
    now = utcnow()

    for mail, key in zip(mails, keys, strict=True):
        address = key[1]
        thread: MailThread | None = None
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
            thread = MailThread(
                subject=mail.subject,
                subject_key=key[0],
                counterpart=address,
                status=store.HANDLED if handled else store.OPEN,
                resident_id=residents.get(address),
                message_count=1,
                created_at=now,
                last_message_at=moment,
            )
            session.add(thread)
            threading.new.add(thread)
        else:
            thread.message_count = (thread.message_count or 0) + 1
            if not handled:
                thread.status = store.OPEN
            if moment > thread.last_message_at:
                thread.last_message_at = moment
            if thread.resident_id is None and address in residents:
                thread.resident_id = residents[address]
        threading.position_of[mail.message_id] = thread.message_count
        threading.thread_of[mail.message_id] = thread
        in_batch_ids[mail.message_id] = thread
        if key[0] and key[1]:
            in_batch_subjects[key] = thread
    await store.plan_as_usual(session)  # the lookups are done; writes from here
    await session.flush()
    return threading
