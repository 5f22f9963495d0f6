"""Outbox payload -> `EmailMessage`, with the `email` package's API only.

Text that came from people (a resident's subject, a coordinator's reply) only
ever goes into a header through `EmailMessage`'s header API after being made one
line, and addresses are built with `headerregistry.Address`, so no user text
can add a header or a recipient.

The payload of an outbox row of channel "email" (see `handlers.core.mail_out` and
`handlers.mailbox.outgoing`):

    subject, text          required
    html                   optional alternative part (already safe HTML)
    message_id             without <>, fixed when the row was queued; when
                           missing, derived from the row's content (stable
                           across retries)
    in_reply_to            Message-ID (without <>) this answers
    references             list of Message-IDs, oldest first
    auto_submitted         "auto-replied" / "auto-generated" (RFC 3834)
    bulk                   True for mail to many: Precedence: bulk and a
                           List-Unsubscribe header
    list_unsubscribe       mailto: or https: address for List-Unsubscribe
    reply_to               an address
    cc                     list of addresses
    attachments            [{"name", "mime_type", "content_b64"}]
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses, parseaddr
from typing import Any

from storage.types import utcnow

MAX_REFERENCES = 20
ID = re.compile(r"^[^<>\s@]+@[^<>\s@]+$")
CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


class BadPayload(ValueError):
    """The payload cannot become an e-mail (no retry will change that)."""


def one_line(text: object) -> str:
    return CONTROL.sub(" ", str(text or "")).strip()


def domain_of(address: str) -> str:
    _name, addr = parseaddr(address)
    return addr.rpartition("@")[2].lower() or "localhost"


def fallback_message_id(recipient: str, payload: dict[str, Any], domain: str) -> str:
    digest = hashlib.sha256(
        (recipient + "\0" + json.dumps(payload, sort_keys=True, default=str)).encode()
    ).hexdigest()
    return f"{digest[:32]}@{domain}"


def mailbox(text: str) -> Address:
    """One address (with its display name); refuses anything that is not exactly one."""
    pairs = getaddresses([one_line(text)])
    if len(pairs) != 1:
        raise BadPayload(f"not exactly one e-mail address: {text!r}")
    name, addr = pairs[0]
    if not addr or "@" not in addr or "," in addr:
        raise BadPayload(f"not an e-mail address: {text!r}")
    try:
        return Address(display_name=one_line(name), addr_spec=addr)
    except (ValueError, IndexError) as error:
        raise BadPayload(f"not an e-mail address: {text!r} ({error})") from None


def _id(value: object) -> str | None:
    text = one_line(value).strip("<>")
    return text if ID.match(text) else None


def build_message(recipient: str, payload: dict[str, Any], *, mail_from: str) -> EmailMessage:
    """The e-mail for one outbox row; raises `BadPayload` when it cannot be built."""
    sender = mailbox(mail_from)
    domain = sender.domain.lower()
    message = EmailMessage()
    message["From"] = sender
    message["To"] = mailbox(recipient)
    cc = [mailbox(a) for a in payload.get("cc") or []]
    if cc:
        message["Cc"] = cc
    if payload.get("reply_to"):
        message["Reply-To"] = mailbox(str(payload["reply_to"]))
    message["Subject"] = one_line(payload.get("subject"))[:900]
    message["Date"] = format_datetime(utcnow())
    message_id = _id(payload.get("message_id")) or fallback_message_id(recipient, payload, domain)
    message["Message-ID"] = f"<{message_id}>"
    in_reply_to = _id(payload.get("in_reply_to"))
    if in_reply_to:
        message["In-Reply-To"] = f"<{in_reply_to}>"
    references = [r for r in (_id(v) for v in payload.get("references") or []) if r]
    if in_reply_to and in_reply_to not in references:
        references.append(in_reply_to)
    if references:
        message["References"] = " ".join(f"<{r}>" for r in references[-MAX_REFERENCES:])
    if payload.get("auto_submitted"):
        message["Auto-Submitted"] = one_line(payload["auto_submitted"])
    if payload.get("bulk"):
        message["Precedence"] = "bulk"
        target = one_line(payload.get("list_unsubscribe")) or (
            f"mailto:{sender.addr_spec}?subject=unsubscribe"
        )
        message["List-Unsubscribe"] = f"<{target.strip('<>')}>"
        if target.startswith("https://"):
            message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    text = str(payload.get("text") or "")
    message.set_content(text.replace("\r\n", "\n"))
    if payload.get("html"):
        message.add_alternative(str(payload["html"]), subtype="html")
    for attachment in payload.get("attachments") or []:
        _attach(message, attachment)
    return message


def _attach(message: EmailMessage, attachment: dict[str, Any]) -> None:
    try:
        content = base64.b64decode(attachment["content_b64"])
        maintype, _, subtype = str(attachment.get("mime_type") or "").partition("/")
    except (KeyError, ValueError, TypeError) as error:
        raise BadPayload(f"attachment unreadable: {error}") from None
    if not maintype or not subtype:
        maintype, subtype = "application", "octet-stream"
    message.add_attachment(
        content,
        maintype=maintype,
        subtype=subtype,
        filename=one_line(attachment.get("name")) or "attachment",
    )
