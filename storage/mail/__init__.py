"""The mailbox in the store: `models` (the tables), `ingest` (storing batches of
incoming mail with the IMAP checkpoint), `queries` (threads, cards, a resident's
mail), `proofs` (the addresses residents proved: the only link of mail to a
person). `storage.models` imports this package so Alembic and the metadata see
the tables.

Every e-mail is stored once, keyed by its Message-ID (a stable hash when it has
none), whichever way it arrives (IDLE, polling, a full `mail sync`, a resync after
a UIDVALIDITY change). The server is never changed: the checkpoint
`(UIDVALIDITY, last UID)` per folder is how the watcher knows where it stopped.
"""

from storage.mail import proofs
from storage.mail.ingest import (
    NewAttachment,
    NewMessage,
    as_message,
    checkpoint,
    insert_attachments,
    insert_messages,
    known_message_ids,
    plan_as_usual,
    prefer_custom_plans,
    save_checkpoint,
    threads_by_id,
    threads_by_subject,
    threads_of_message_ids,
)
from storage.mail.models import (
    HANDLED,
    IN,
    OPEN,
    OUT,
    MailAcknowledgement,
    MailAttachment,
    MailCheckpoint,
    MailMessage,
    MailThread,
    ProvenAddress,
)
from storage.mail.proofs import proven_addresses
from storage.mail.queries import (
    acknowledged_on,
    attachments_of,
    by_message_id,
    count_open,
    forget_resident,
    get_attachment,
    get_message,
    get_thread,
    latest_incoming,
    latest_senders,
    list_messages,
    mark_handled,
    of_resident,
    open_threads,
    record_acknowledgement,
    thread_messages,
    thread_page,
)

__all__ = [
    "HANDLED",
    "IN",
    "OPEN",
    "OUT",
    "MailAcknowledgement",
    "MailAttachment",
    "MailCheckpoint",
    "MailMessage",
    "MailThread",
    "ProvenAddress",
    "NewAttachment",
    "NewMessage",
    "acknowledged_on",
    "as_message",
    "attachments_of",
    "by_message_id",
    "checkpoint",
    "count_open",
    "forget_resident",
    "get_attachment",
    "get_message",
    "get_thread",
    "insert_attachments",
    "insert_messages",
    "known_message_ids",
    "latest_incoming",
    "latest_senders",
    "list_messages",
    "mark_handled",
    "of_resident",
    "open_threads",
    "plan_as_usual",
    "prefer_custom_plans",
    "proofs",
    "proven_addresses",
    "record_acknowledgement",
    "save_checkpoint",
    "thread_messages",
    "thread_page",
    "threads_by_id",
    "threads_by_subject",
    "threads_of_message_ids",
]
