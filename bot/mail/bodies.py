"""The readable text, the HTML and the attachments of a message parsed with
`email.policy.default`.

The text is every inline plain part, in order (Apple Mail puts the words after an
inline picture in a part of their own), else the HTML body `get_body()` finds, made
readable with inscriptis. Every other part is an attachment; a forwarded message is
one too, named after its subject. Transfer encodings are decoded by `get_payload(decode=True)`,
which reads damaged base64 as far as it can and records the damage as a defect;
charsets go through `bot.mail.charsets`, so an unknown one never stops a message.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import html as html_module
import mimetypes
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import errors as email_errors
from email.message import EmailMessage, Message

import nh3
from inscriptis import get_text

from bot.mail.charsets import clean, decode_bytes
from bot.mail.headers import decode_header_value, raw_first
from handlers.mailbox.events import IncomingAttachment

MAX_TEXT = 1_000_000
MAX_HTML = 2_000_000
MAX_DEPTH = 30
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
TAGS = re.compile(r"<[^>]*>")
BASE64_ALPHABET = re.compile(rb"[^A-Za-z0-9+/]")
BASE64_IGNORED = re.compile(rb"[\s=]")
TEXT_TYPES = ("text/plain", "text/html")

# Defects after which the text or an attachment may be incomplete: keep the raw bytes.
SERIOUS_DEFECTS = (
    email_errors.NoBoundaryInMultipartDefect,
    email_errors.StartBoundaryNotFoundDefect,
    email_errors.MultipartInvariantViolationDefect,
    email_errors.InvalidBase64CharactersDefect,
    email_errors.InvalidBase64LengthDefect,
    email_errors.InvalidBase64PaddingDefect,
    email_errors.MissingHeaderBodySeparatorDefect,
)


@dataclass
class Content:
    """What a message says and carries."""

    text: str = ""
    html: str | None = None
    attachments: list[IncomingAttachment] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def html_to_text(html: str) -> str:
    """Readable text of an HTML body (inscriptis keeps lists, tables and paragraphs)."""
    html = html[:MAX_HTML]
    try:
        text = get_text(html)
    except Exception:  # noqa: BLE001 - lxml can choke on pathological markup
        text = html_module.unescape(TAGS.sub(" ", html))
    lines = [line.rstrip() for line in text.splitlines()]
    return "\n".join(lines).strip()


def sanitise_html(html: str) -> str | None:
    """The HTML without scripts, handlers and styles (nh3's default rules)."""
    try:
        return nh3.clean(html[:MAX_HTML])
    except Exception:  # noqa: BLE001
        return None


def safe_filename(name: str | None) -> str | None:
    """A file name to show and store: decoded, no path, no control characters."""
    if not name:
        return None
    name = decode_header_value(name)
    name = re.split(r"[/\\]", name)[-1]
    name = CONTROL.sub("", name).strip(" .")
    if not name:
        return None
    if len(name) > 200:
        stem, dot, extension = name.rpartition(".")
        name = (stem[: 190 - len(extension)] + dot + extension) if dot else name[:200]
    return name


def _filename(part: Message) -> str | None:
    """The part's file name. A name sent as raw 8-bit bytes (not allowed, common) is
    read from the raw header through the charset fallbacks, which the stdlib's header
    objects cannot do (they keep such bytes as replacement characters)."""
    for header, parameter in (("content-disposition", "filename"), ("content-type", "name")):
        raw = raw_first(part, header)
        if raw and not raw.isascii():
            text = decode_header_value(raw)
            params = EmailMessage()
            params[header] = text
            found = params.get_param(parameter, header=header)
            if isinstance(found, str) and found:
                return safe_filename(found)
    try:
        return safe_filename(part.get_filename())
    except Exception:  # noqa: BLE001 - a header the stdlib cannot read: no name
        return None


def _charset(part: Message) -> str | None:
    try:
        return part.get_content_charset()
    except Exception:  # noqa: BLE001
        return None


def lenient_base64(data: bytes) -> tuple[bytes, bool]:
    """Base64 that survives stray characters and a cut end; tells whether it had to."""
    cleaned = BASE64_ALPHABET.sub(b"", data)
    damaged = len(cleaned) != len(BASE64_IGNORED.sub(b"", data))
    if len(cleaned) % 4 == 1:
        cleaned, damaged = cleaned[:-1], True
    try:
        return base64.b64decode(cleaned + b"=" * (-len(cleaned) % 4)), damaged
    except (binascii.Error, ValueError):
        return data, True


def _payload(part: Message) -> bytes:
    """The part's body with its transfer encoding decoded.

    Base64 is read here, as far as it goes, with the damage recorded as a defect of
    the part: the stdlib gives damaged base64 back still encoded, and most of a text
    is better than none.
    """
    payload = part.get_payload()
    if isinstance(payload, str) and part.get("content-transfer-encoding", "").strip().lower() == (
        "base64"
    ):
        data, damaged = lenient_base64(payload.encode("ascii", "surrogateescape"))
        if damaged:
            part.defects.append(email_errors.InvalidBase64CharactersDefect())
        return data
    try:
        data = part.get_payload(decode=True)
    except Exception:  # noqa: BLE001
        data = None
    if isinstance(data, bytes):
        return data
    return payload.encode("ascii", "surrogateescape") if isinstance(payload, str) else b""


def _text_of(part: Message) -> str:
    return decode_bytes(_payload(part), _charset(part)).replace("\r\n", "\n")


def _is_text(part: Message) -> bool:
    """A text part meant to be read, not a file."""
    return (
        part.get_content_type() in TEXT_TYPES
        and not part.is_attachment()
        and _filename(part) is None
    )


def _forwarded(part: Message) -> tuple[bytes, str]:
    """A message/* part: its bytes and its subject."""
    inner = part.get_payload(0) if part.is_multipart() else None
    if not isinstance(inner, Message):
        return _payload(part), ""
    subject = decode_header_value(raw_first(inner, "subject"))
    try:
        return inner.as_bytes(), subject
    except Exception:  # noqa: BLE001
        return inner.as_string().encode("utf-8", "surrogateescape"), subject


def _leaves(part: EmailMessage, depth: int = 0) -> Iterator[EmailMessage]:
    """Every part that is not a multipart, in the order of the message; a message/*
    part is one leaf (a forwarded message is a file, its text is not ours).

    Not `iter_attachments()`: it passes over whatever is inside a
    multipart/alternative (a picture Outlook put there) and a plain text after a
    nested alternative (a mailing list's footer), and both would be lost.
    """
    if depth > MAX_DEPTH:
        raise ValueError("MIME nested too deeply")
    if part.get_content_maintype() == "multipart" and part.is_multipart():
        for child in part.iter_parts():
            yield from _leaves(child, depth + 1)
    else:
        yield part


def _attachment(
    data: bytes, content_type: str, filename: str | None, number: int, limit: int
) -> IncomingAttachment:
    if not filename:
        extension = mimetypes.guess_extension(content_type) or ".bin"
        filename = f"attachment-{number}{extension}"
    if len(data) > limit:
        return IncomingAttachment(filename, content_type, len(data), None, skipped="too_large")
    digest = hashlib.sha256(data).hexdigest()
    return IncomingAttachment(filename, content_type, len(data), data, sha256=digest)


def read_content(message: EmailMessage, max_attachment: int) -> Content:
    """The text, HTML and attachments of `message`."""
    content = Content()
    plain: list[str] = []
    for part in _leaves(message):
        content_type = part.get_content_type()
        if content_type in TEXT_TYPES and _is_text(part):
            if content_type == "text/plain":
                plain.append(_text_of(part))
            continue  # HTML: the body's, below
        if part.get_content_maintype() == "multipart":
            content.problems.append("multipart body without its boundary")
            plain.append(_text_of(part))
            continue
        if part.get_content_maintype() == "message":
            data, subject = _forwarded(part)
            name = _filename(part) or safe_filename((subject or "message")[:100] + ".eml")
            content_type = "message/rfc822"
        else:
            data, name = _payload(part), _filename(part)
        number = len(content.attachments) + 1
        content.attachments.append(_attachment(data, content_type, name, number, max_attachment))
    html_part = message.get_body(preferencelist=("html",))
    html = _text_of(html_part) if html_part is not None else ""
    paragraphs = [p for p in plain if p.strip()]
    if paragraphs:
        content.text = clean("\n\n".join(paragraphs))
    elif html.strip():
        content.text = clean(html_to_text(html).replace("\r\n", "\n"))
    if html.strip():
        content.html = clean(sanitise_html(html) or "") or None
    content.problems += serious_defects(message)
    return content


def serious_defects(message: Message) -> list[str]:
    """Names of the defects after which something may be missing (read after the
    payloads were decoded: damaged base64 is found then)."""
    found = set()
    for part in message.walk():
        for defect in part.defects:
            if isinstance(defect, SERIOUS_DEFECTS):
                found.add(type(defect).__name__)
    return sorted(found)
