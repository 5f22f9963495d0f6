"""The personal-data map: every table and column of the store, and what the
resident's rights do to it.

A column is either not personal (ids, statuses, counters, times of things that
are not about a person), or personal: then the map says which /mydata section
shows it and what /forget does to it. Whatever /forget keeps is kept with a
stated reason. `tests/storage/test_personal_map.py` walks the migrated schema of
both stores and fails on a table or column that is missing here (or named here
but gone); the /forget test checks that only what is kept here survives.

Other parts of the product (the retention job, the privacy report) read it
through `MAP`, `personal_columns()` and `kept()`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class Forget(StrEnum):
    """What /forget does to a value."""

    NOTHING = "nothing"  # not personal: stays as it is
    DELETE = "delete"  # the row goes (and a file it names)
    ERASE = "erase"  # the value is emptied, the row stays
    UNLINK = "unlink"  # the link to the person is cut, the row stays anonymous
    KEEP = "keep"  # kept as it is, for the stated reason


@dataclass(frozen=True)
class Column:
    personal: bool
    forget: Forget
    # The /mydata section that shows it (None: not shown, with `reason`).
    mydata: str | None = None
    reason: str = ""


@dataclass(frozen=True)
class Table:
    name: str
    about: str
    columns: Mapping[str, Column] = field(default_factory=dict)


PLAIN = Column(personal=False, forget=Forget.NOTHING)
STAFF = Column(
    personal=True,
    forget=Forget.KEEP,
    reason="a coordinator's Telegram id: who acted for the centre (accountability); "
    "not the resident's data",
)


def personal(forget: Forget, mydata: str | None = None, reason: str = "") -> Column:
    return Column(personal=True, forget=forget, mydata=mydata, reason=reason)


def table(name: str, about: str, /, *, plain: str = "", **columns: Column) -> Table:
    """`plain`: the not personal columns, space-separated; the rest by name."""
    everything = {column: PLAIN for column in plain.split()}
    everything.update(columns)
    return Table(name, about, everything)


DEL = Forget.DELETE
ERASE = Forget.ERASE
UNLINK = Forget.UNLINK
KEEP = Forget.KEEP
ACCOUNTING = (
    "a submitted proposal is a record of the grant procedure (public finance "
    "accounting): number, status, title, closed answers, amounts and dates stay, "
    "unlinked from the person"
)
STATISTICS = "an answer that does not identify anyone, kept unlinked for the survey's totals"

_TABLES = [
    table("alembic_version", "the schema's migration mark", plain="version_num"),
    table(
        "residents",
        "a person the bot talks to; the row stays as an anonymous id",
        plain="id language",
        telegram_id=personal(ERASE, "profile"),
        email=personal(ERASE, "profile"),
        name=personal(ERASE, "profile"),
        consent_given_at=personal(KEEP, "profile", "proof that consent was given (RODO art. 7)"),
        consent_withdrawn_at=personal(KEEP, "profile", "proof that consent was withdrawn"),
        subscribed=personal(ERASE, "profile"),
        blocked=personal(KEEP, "profile", "a delivery flag of an anonymous row"),
        created_at=personal(KEEP, "profile", "when the anonymous row was made"),
        forgotten_at=personal(KEEP, None, "proof that the erasure was done"),
        last_active_at=personal(
            ERASE, None, "when the person last wrote: only for the retention period"
        ),
    ),
    table(
        "conversations",
        "what the resident is in the middle of",
        plain="id",
        resident_id=personal(DEL, "conversation_in_progress"),
        flow=personal(DEL, "conversation_in_progress"),
        step=personal(DEL, "conversation_in_progress"),
        answers=personal(DEL, "conversation_in_progress"),
        updated_at=personal(DEL, "conversation_in_progress"),
    ),
    table(
        "outbox",
        "messages to deliver; rows to, or quoting, the person are deleted",
        plain="id channel status attempts next_attempt_at priority broadcast_id "
        "external_id last_error",
        recipient=personal(DEL, "messages_to_you"),
        resident_id=personal(DEL, "messages_to_you"),
        payload=personal(DEL, "messages_to_you"),
        idempotency_key=personal(DEL),
        sent_at=personal(DEL, "messages_to_you"),
        created_at=personal(DEL, "messages_to_you"),
    ),
    table(
        "events",
        "the event log (no personal details in data)",
        plain="id at kind data",
        resident_id=personal(
            KEEP, "events", "points at the emptied resident row only: who it was is gone"
        ),
    ),
    table(
        "panel_keys",
        "the key the panel's sign-in links are signed with",
        plain="id secret created_at",
    ),
    table(
        "panel_link_uses",
        "panel sign-in links already used (a random number, no resident)",
        plain="nonce used_at",
        coordinator_id=STAFF,
    ),
    table(
        "panel_sessions",
        "coordinators signed in to the panel",
        plain="id token_hash created_at last_seen_at ended_at",
        coordinator_id=STAFF,
    ),
    table(
        "panel_audit",
        "what coordinators did in the panel (proposal numbers and statuses, no resident's details)",
        plain="id at action target detail",
        coordinator_id=STAFF,
    ),
    table(
        "inbound_receipts",
        "Telegram update numbers already handled (bot id : update id, no user id)",
        plain="id channel external_id received_at",
    ),
    table(
        "inbound_updates",
        "Telegram updates as they came; emptied once handled, deleted a week after",
        plain="id bot_id update_id received_at handled_at attempts last_error",
        chat_id=personal(
            DEL, None, "only until the update is handled (then emptied); set-aside ones: /forget"
        ),
        data=personal(
            DEL,
            None,
            "the raw update (Telegram id, name, text), only until it is handled (then "
            "emptied; a polled one is stored so only when its handling failed); one set "
            "aside after errors is deleted by /forget or a week after",
        ),
    ),
    table(
        "survey_responses",
        "a pass through a survey",
        plain="id survey status language channel started_at updated_at finished_at",
        resident_id=personal(UNLINK, "survey_responses"),
    ),
    table(
        "survey_answers",
        "one answer",
        plain="id response_id question answered_at",
        value=personal(
            DEL,
            "survey_responses",
            "answers to name, phone, e-mail and contact "
            "questions are deleted; the others: " + STATISTICS,
        ),
    ),
    table(
        "survey_participations",
        "took part in an anonymous survey (no link to the answers)",
        plain="id survey",
        resident_id=personal(DEL, "anonymous_surveys_taken"),
    ),
    table(
        "survey_contacts",
        "the contact part of an anonymous survey, with its own consent",
        plain="id survey",
        resident_id=personal(DEL, "survey_contact_details"),
        consent=personal(DEL, "survey_contact_details"),
        interest=personal(DEL, "survey_contact_details"),
        details=personal(DEL, "survey_contact_details"),
        given_on=personal(DEL, "survey_contact_details"),
    ),
    table(
        "entries_on_behalf",
        "a paper questionnaire or a proposal by phone / in person, entered by a "
        "coordinator for a resident without a smartphone",
        plain="id kind subject channel consent entered_on response_id proposal_id status",
        resident_id=personal(UNLINK, "entries_on_behalf"),
        name=personal(ERASE, "entries_on_behalf"),
        email=personal(ERASE, "entries_on_behalf"),
        consent_note=personal(
            KEEP, "entries_on_behalf", "proof that consent was given (RODO art. 7)"
        ),
        entered_by=STAFF,
    ),
    table(
        "proposals",
        "contest proposals: drafts are deleted, submitted ones kept anonymised",
        plain="id contest number status progress language channel source created_at "
        "updated_at submitted_at edit_until",
        resident_id=personal(UNLINK, "proposals"),
        answers=personal(ERASE, "proposals", "kept: the title and closed answers; " + ACCOUNTING),
        budget=personal(
            ERASE, "proposals", "kept: the amounts, the items' text goes; " + ACCOUNTING
        ),
    ),
    table(
        "proposal_attachments",
        "files of a proposal (the file in DATA_DIR goes with the row)",
        plain="id proposal_id mime_type size created_at",
        name=personal(DEL, "proposals"),
        path=personal(DEL, "proposals"),
    ),
    table(
        "proposal_snapshots",
        "a proposal as it was at each submission, for the coordinators to see what changed",
        plain="id proposal_id taken_at kind",
        answers=personal(DEL, "proposals"),
        budget=personal(DEL, "proposals"),
        files=personal(DEL, "proposals"),
    ),
    table(
        "proposal_history",
        "a proposal's changes",
        plain="id proposal_id at kind from_status to_status",
        actor=STAFF,
        note=personal(ERASE, "proposals"),
    ),
    table(
        "proposal_scores",
        "coordinators' scores",
        plain="id proposal_id criterion value at",
        coordinator_id=STAFF,
        comment=personal(ERASE, None, "a coordinator's comment on a mark, may name the applicant"),
    ),
    table(
        "contest_outcomes",
        "the confirmed selection",
        plain="id contest proposal_id selected rank amount decided_at announced_at",
        note=personal(ERASE, None, "a coordinator's note, may name the applicant"),
        decided_by=STAFF,
    ),
    table(
        "resident_questions",
        "questions sent with /ask and the answers",
        plain="id channel asked_at answered_at",
        resident_id=personal(DEL, "questions_to_coordinators"),
        chat_id=personal(DEL, "questions_to_coordinators"),
        text=personal(DEL, "questions_to_coordinators"),
        answer=personal(DEL, "questions_to_coordinators"),
        answered_by=STAFF,
    ),
    table(
        "broadcasts",
        "coordinators' messages to an audience (no resident's data)",
        plain="id text file extra audience status scheduled_at created_at started_at "
        "finished_at total expanded progress_channel",
        created_by=STAFF,
        progress_chat=STAFF,
    ),
    table(
        "announcements",
        "when contest results are announced",
        plain="id contest at done_at",
        set_by=STAFF,
    ),
    table("job_runs", "scheduled jobs that ran", plain="id job_id ran_at outcome"),
    table(
        "mail_threads",
        "e-mail conversations; a forgotten person's threads are emptied",
        plain="id status proposal_ref message_count created_at last_message_at handled_at",
        subject=personal(ERASE, "emails"),
        subject_key=personal(ERASE),
        counterpart=personal(ERASE, "emails"),
        resident_id=personal(UNLINK),
        handled_by=STAFF,
    ),
    table(
        "mail_messages",
        "e-mails from and to the person's proven addresses; emptied, the row stays "
        "so that a resync does not import the mail again",
        plain="id thread_id direction folder uidvalidity uid seen size automatic "
        "parse_error date received_at erased_at",
        message_id=personal(
            KEEP, None, "the Message-ID alone: without it a resync imports the erased mail again"
        ),
        in_reply_to=personal(KEEP, None, "a Message-ID, kept for the same reason"),
        reference_ids=personal(ERASE),
        from_name=personal(ERASE, "emails"),
        from_address=personal(ERASE, "emails"),
        to=personal(ERASE, "emails"),
        cc=personal(ERASE),
        reply_to=personal(ERASE),
        subject=personal(ERASE, "emails"),
        text=personal(ERASE, "emails"),
        html=personal(ERASE),
        headers=personal(ERASE),
        auth=personal(KEEP, None, "the sender check's verdict (pass / fail), no address"),
        raw=personal(ERASE),
        resident_id=personal(UNLINK),
        author_id=STAFF,
    ),
    table(
        "mail_attachments",
        "files of e-mails (the file in DATA_DIR goes with the row)",
        plain="id message_id content_type size sha256 skipped",
        filename=personal(DEL, "emails"),
        path=personal(DEL),
    ),
    table(
        "mail_proven_addresses",
        "the e-mail addresses the person proved (a code typed back, or a reply to our "
        "confirmation): the only way mail is linked to them",
        plain="id",
        resident_id=personal(DEL, "proven_addresses"),
        address=personal(DEL, "proven_addresses"),
        proven_at=personal(DEL, "proven_addresses"),
        how=personal(DEL, "proven_addresses"),
    ),
    table(
        "mail_address_challenges",
        "proofs of an address in progress (a hashed code, or the confirmation's Message-ID)",
        plain="id kind code_hash message_id attempts created_at expires_at",
        resident_id=personal(DEL),
        address=personal(DEL),
    ),
    table(
        "mail_checkpoints",
        "where the mail watcher stopped",
        plain="folder uidvalidity last_uid updated_at",
    ),
    table(
        "mail_acknowledgements",
        "automatic acknowledgements sent (one per address and day)",
        plain="id day message_id sent_at",
        address=personal(DEL),
    ),
]

MAP: dict[str, Table] = {t.name: t for t in _TABLES}


def personal_columns() -> list[tuple[str, str, Column]]:
    """(table, column, how) for every personal column."""
    return [
        (t.name, name, column)
        for t in _TABLES
        for name, column in t.columns.items()
        if column.personal
    ]


def kept() -> list[tuple[str, str, str]]:
    """(table, column, reason) of every personal value /forget leaves in the store."""
    return [
        (table_name, name, column.reason)
        for table_name, name, column in personal_columns()
        if column.forget in (Forget.KEEP, Forget.ERASE) and column.reason
    ]
