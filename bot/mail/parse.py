"""Raw MIME -> `IncomingMail`: pure, and it never raises.

Real mail is messy: Polish in UTF-8, ISO-8859-2 and Windows-1250, encoded-word
headers, quoted-printable and base64, HTML-only mail, RFC 2231 file names,
unknown charsets, broken MIME, enormous lines. The stdlib parser
(`email.policy.default`) reads the structure; `bot.mail.headers` decodes the
header values, `bot.mail.bodies` the text and the attachments, both through the
charset fallbacks of `bot.mail.charsets`. Whatever cannot be understood keeps the
raw bytes and the reason in the record, so nothing is lost.
"""

from __future__ import annotations

import hashlib
import re
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser

from bot.mail.bodies import MAX_TEXT, read_content
from bot.mail.charsets import clean, decode_bytes, one_line
from bot.mail.headers import (
    decode_header_value,
    parse_addresses,
    parse_auth,
    parse_date,
    parse_ids,
    parse_message_id,
    raw_first,
    raw_values,
)
from handlers.mailbox.events import SYNTHETIC_ID_DOMAIN, Address, IncomingMail

DEFAULT_MAX_ATTACHMENT = 15 * 1024 * 1024
MAX_HEADER_VALUE = 4000
MAX_HEADERS = 300

NO_REPLY = re.compile(r"^(no[-_.]?reply|do[-_.]?not[-_.]?reply|bounces?)([-+_.].*)?$")
DAEMONS = ("mailer-daemon", "postmaster")
AUTOREPLY_HEADERS = ("x-autoreply", "x-autorespond", "x-autoresponder")
HEADERS_END = re.compile(rb"\r?\n\r?\n")
SUBJECT_LINE = re.compile(rb"^subject:[ \t]*(.*(?:\r?\n[ \t].*)*)", re.IGNORECASE | re.MULTILINE)
ID_LINE = re.compile(rb"^message-id:[ \t]*<([^<>\s]+)>", re.IGNORECASE | re.MULTILINE)

PARSER = BytesParser(policy=policy.default)


def parse_mail(raw: bytes, *, max_attachment_bytes: int = DEFAULT_MAX_ATTACHMENT) -> IncomingMail:
    """Read one message; never raises (a failure gives a raw record with the reason)."""
    raw = bytes(raw)
    try:
        return read_message(raw, max_attachment_bytes)
    except Exception as error:  # noqa: BLE001 - nothing may stop the watcher
        return unparsed(raw, f"{type(error).__name__}: {error}"[:500])


def read_message(raw: bytes, max_attachment: int) -> IncomingMail:
    """`parse_mail` without its safety net."""
    message = PARSER.parsebytes(raw)
    assert isinstance(message, EmailMessage)
    content = read_content(message, max_attachment)
    senders = parse_addresses(raw_values(message, "from"))
    sender = next((a for a in senders if a.address), senders[0] if senders else Address("", ""))
    text = content.text
    problems = content.problems
    if len(text) > MAX_TEXT:
        problems.append(f"text longer than {MAX_TEXT} characters, cut")
        text = text[:MAX_TEXT]
    if not text.strip() and not content.attachments and _body_start(raw).strip():
        problems.append("no readable part")
    return IncomingMail(
        message_id=parse_message_id(raw_first(message, "message-id")) or synthetic_id(raw, message),
        subject=decode_header_value(raw_first(message, "subject"))[:MAX_HEADER_VALUE],
        sender=sender,
        to=parse_addresses(raw_values(message, "to")),
        cc=parse_addresses(raw_values(message, "cc")),
        reply_to=parse_addresses(raw_values(message, "reply-to")),
        date=parse_date(raw_first(message, "date")),
        text=text,
        html=content.html,
        headers=[
            (one_line(str(name))[:200], decode_header_value(value)[:MAX_HEADER_VALUE])
            for name, value in list(message.raw_items())[:MAX_HEADERS]
        ],
        size=len(raw),
        auth=parse_auth(raw_values(message, "authentication-results")),
        automatic=automatic_reason(message, sender),
        in_reply_to=(parse_ids(raw_first(message, "in-reply-to")) or [None])[0],
        references=parse_ids(" ".join(raw_values(message, "references"))),
        attachments=content.attachments,
        parse_error="; ".join(problems) if problems else None,
        raw=raw if problems else None,
    )


def automatic_reason(message: Message, sender: Address) -> str | None:
    """Why this message must never get an automatic answer (RFC 3834), or None."""
    names = {str(name).strip().lower() for name, _value in message.raw_items()}
    auto = one_line(raw_first(message, "auto-submitted")).lower()
    if auto and auto.split(";")[0].strip() != "no":
        return "auto-submitted"
    if names.intersection(AUTOREPLY_HEADERS):
        return "autoreply"
    precedence = one_line(raw_first(message, "precedence")).lower()
    if precedence in ("bulk", "list", "junk", "auto_reply"):
        return "precedence-" + precedence
    if "list-id" in names or "list-unsubscribe" in names:
        return "mailing-list"
    suppress = raw_first(message, "x-auto-response-suppress").lower()
    if suppress and any(word in suppress for word in ("all", "oof", "autoreply")):
        return "suppressed"
    if "return-path" in names and one_line(raw_first(message, "return-path")) in ("<>", ""):
        return "bounce"
    if message.get_content_type() == "multipart/report":
        return "report"
    local = sender.address.split("@", 1)[0]
    if not sender.address:
        return "no-sender"
    if local in DAEMONS:
        return "mailer-daemon"
    if NO_REPLY.match(local):
        return "no-reply"
    return None


def synthetic_id(raw: bytes, message: Message | None = None) -> str:
    """A stable id for mail without a Message-ID: the same bytes give the same id."""
    digest = hashlib.sha256()
    if message is not None:
        for name in ("from", "to", "cc", "date", "subject"):
            value = raw_first(message, name)
            digest.update(value.encode("utf-8", "surrogateescape") + b"\0")
        digest.update(_body_start(raw))
    else:
        digest.update(raw[:65536].replace(b"\r\n", b"\n"))
    return digest.hexdigest()[:40] + SYNTHETIC_ID_DOMAIN


def _body_offset(raw: bytes) -> int | None:
    end = HEADERS_END.search(raw)
    return end.end() if end else None


def _body_start(raw: bytes) -> bytes:
    offset = _body_offset(raw)
    body = raw[offset : offset + 4096] if offset is not None else b""
    return body.replace(b"\r\n", b"\n")


def unparsed(raw: bytes, reason: str) -> IncomingMail:
    """The last resort: the raw bytes, whatever text they give, and why."""
    subject_match = SUBJECT_LINE.search(raw[:65536])
    id_match = ID_LINE.search(raw[:65536])
    subject = ""
    if subject_match:
        subject = decode_header_value(subject_match.group(1).decode("ascii", "surrogateescape"))
    message_id = None
    if id_match:
        message_id = parse_message_id("<" + id_match.group(1).decode("ascii", "replace") + ">")
    offset = _body_offset(raw)
    body = raw[offset:] if offset is not None else raw
    return IncomingMail(
        message_id=message_id or synthetic_id(raw),
        subject=subject[:MAX_HEADER_VALUE],
        text=clean(decode_bytes(body[: MAX_TEXT * 2]))[:MAX_TEXT],
        size=len(raw),
        automatic="unparsed",
        parse_error=reason,
        raw=raw,
    )
