"""Header values of a parsed message: text, addresses, ids, dates, verdicts.

Values are read as the message carries them (`Message.raw_items()`), then decoded
here, so that raw 8-bit bytes (old webmails put Windows-1250 straight into headers)
go through the same charset fallbacks as a body, and a malformed header can never
raise while it is read.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from datetime import UTC, datetime
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime

from bot.mail.charsets import decode_bytes, has_surrogates, one_line
from handlers.mailbox.events import SYNTHETIC_ID_DOMAIN, Address

MAX_REFERENCES = 50
MAX_ID = 400

ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=")
FOLD = re.compile(r"\r?\n(?=[ \t])")
ANGLE_ID = re.compile(r"<([^<>\s]+)>")
BARE_ADDRESS = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")
AUTH_VERDICT = re.compile(r"\b(spf|dkim|dmarc|arc)\s*=\s*([a-z]+)", re.IGNORECASE)


def raw_values(message: Message, name: str) -> list[str]:
    """Every value of header `name` (any case), as the message carries it."""
    wanted = name.lower()
    return [str(value) for key, value in message.raw_items() if key.lower() == wanted]


def raw_first(message: Message, name: str) -> str:
    values = raw_values(message, name)
    return values[0] if values else ""


def unfold(value: str) -> str:
    return FOLD.sub("", value)


def _word_bytes(encoding: str, data: str) -> bytes | None:
    raw = data.encode("latin-1", "replace")
    try:
        if encoding in "bB":
            return base64.b64decode(raw + b"=" * (-len(raw) % 4), validate=True)
        return binascii.a2b_qp(raw, header=True)
    except (binascii.Error, ValueError):
        return None


def decode_words(value: str) -> str:
    """RFC 2047 encoded words, decoded with the charset fallbacks.

    Adjacent words of one charset are joined before decoding (some mailers split a
    UTF-8 character across two words, which `email.header` would turn into two
    replacement characters), and the whitespace between two encoded words is
    dropped (RFC 2047 section 6.2).
    """
    out: list[str] = []
    run: list[bytes] = []  # the bytes of adjacent words of one charset
    run_charset = ""
    position = 0
    previous_was_word = False

    def flush() -> None:
        if run:
            out.append(decode_bytes(b"".join(run), run_charset))
            run.clear()

    for match in ENCODED_WORD.finditer(value):
        start, end = match.span()
        between = value[position:start]
        position = end
        charset, encoding, encoded = match.groups()
        data = _word_bytes(encoding, encoded)
        if data is None:
            flush()
            out.append(between + match.group(0))
            previous_was_word = False
            continue
        charset = charset.split("*", 1)[0]  # RFC 2231 may add *language
        adjacent = previous_was_word and (not between or between.isspace())
        if run and not (adjacent and charset.lower() == run_charset.lower()):
            flush()
        if not adjacent:
            out.append(between)
        if not run:
            run_charset = charset
        run.append(data)
        previous_was_word = True
    flush()
    out.append(value[position:])
    return "".join(out)


def decode_header_value(value: object) -> str:
    """A header's text: unfolded, raw 8-bit bytes and encoded words decoded, one line."""
    if value is None:
        return ""
    text = unfold(str(value))
    if has_surrogates(text):
        text = decode_bytes(text.encode("ascii", "surrogateescape"))
    if "=?" in text:
        try:
            text = decode_words(text)
        except Exception:  # noqa: BLE001 - a header must never stop the message
            pass
    return one_line(text)


def parse_addresses(values: list[str]) -> list[Address]:
    """The mailboxes of address headers; what a strict reading refuses is salvaged."""
    if not values:
        return []
    unfolded = [unfold(v) for v in values]
    try:
        pairs = getaddresses(unfolded)
    except Exception:  # noqa: BLE001
        pairs = []
    result = []
    any_address = False
    for name, address in pairs:
        address = decode_header_value(address).lower()
        if "@" in address:
            any_address = True
        elif name:
            address = ""
        else:
            continue
        result.append(Address(decode_header_value(name)[:200], address[:320]))
    if not any_address:
        found = BARE_ADDRESS.findall(decode_header_value(" ".join(unfolded)))
        result = [Address("", a.lower()[:320]) for a in found] or result
    return result


def parse_message_id(value: str) -> str | None:
    """A Message-ID without its angle brackets; a hash when it is absurdly long."""
    text = unfold(value).strip()
    match = ANGLE_ID.search(text)
    found = match.group(1) if match else re.sub(r"\s+", "", text)
    found = one_line(found.strip("<>"))
    if not found:
        return None
    if len(found) > MAX_ID:
        return hashlib.sha256(found.encode()).hexdigest()[:40] + SYNTHETIC_ID_DOMAIN
    return found


def parse_ids(value: str) -> list[str]:
    """The ids of In-Reply-To or References, the last MAX_REFERENCES of them."""
    ids = [one_line(i) for i in ANGLE_ID.findall(unfold(value))]
    return [i for i in ids if i and len(i) <= MAX_ID][-MAX_REFERENCES:]


def parse_date(value: str) -> datetime | None:
    """The Date header in UTC (a date without a zone taken as UTC); None if unreadable."""
    if not value:
        return None
    try:
        moment = parsedate_to_datetime(unfold(value).strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


def parse_auth(values: list[str]) -> dict[str, dict[str, str]]:
    """Verdicts of Authentication-Results by authserv-id (RFC 8601): {"mx.example.pl":
    {"spf": "pass"}}. Anyone can put such a header in a message; only the receiving
    server's own authserv-id may be trusted, and the caller decides which that is.
    For one authserv-id the topmost header (added last, by the server) wins."""
    found: dict[str, dict[str, str]] = {}
    for value in values:
        head, _semicolon, rest = unfold(value).partition(";")
        words = head.split()
        if not words:
            continue
        verdicts = found.setdefault(words[0].lower(), {})
        for method, result in AUTH_VERDICT.findall(rest):
            verdicts.setdefault(method.lower(), result.lower())
    return found
