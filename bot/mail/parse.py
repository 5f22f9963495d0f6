"""Raw MIME -> `IncomingMail`: pure, and it never raises.

Real mail is messy: Polish in UTF-8, ISO-8859-2 and Windows-1250, encoded-word
headers, quoted-printable and base64, HTML-only mail, RFC 2231 file names,
unknown charsets, broken MIME, enormous lines. The structure is read by the
compiled fast path (`bot.mail.parse_fast`) when it is sure to read it as the
stdlib would, else by the stdlib parser in its lenient `compat32` mode (several
times faster than `policy.default`, and its headers are plain strings that
cannot throw on a malformed address); headers and bodies are then decoded here with a charset
fallback chain (declared charset, UTF-8, Windows-1250, ISO-8859-2, then
replacement characters). Whatever cannot be understood keeps the raw bytes and
the reason in the record, so nothing is lost.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import functools
import hashlib
import html as html_module
import mimetypes
import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta, timezone
from email import errors as email_errors
from email.message import Message
from email.parser import BytesParser
from email.policy import Compat32
from email.utils import collapse_rfc2231_value, getaddresses, parsedate_to_datetime

import nh3
from inscriptis import get_text

from handlers.mailbox.events import (
    SYNTHETIC_ID_DOMAIN,
    Address,
    IncomingAttachment,
    IncomingMail,
)

FALLBACK_CHARSETS = ("utf-8", "cp1250", "iso-8859-2")
DEFAULT_MAX_ATTACHMENT = 15 * 1024 * 1024
MAX_TEXT = 1_000_000
MAX_HTML = 2_000_000
MAX_HEADER_VALUE = 4000
MAX_HEADERS = 300
MAX_DEPTH = 30
MAX_REFERENCES = 50
MAX_ID = 400

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
BASE64_ALPHABET = re.compile(rb"[^A-Za-z0-9+/]")
BASE64_IGNORED = re.compile(rb"[\s=]")

ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=")
FOLD = re.compile(r"\r?\n(?=[ \t])")
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
ANGLE_ID = re.compile(r"<([^<>\s]+)>")
BARE_ADDRESS = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")
AUTH_VERDICT = re.compile(r"\b(spf|dkim|dmarc|arc)\s*=\s*([a-z]+)", re.IGNORECASE)
NO_REPLY = re.compile(r"^(no[-_.]?reply|do[-_.]?not[-_.]?reply|bounces?)([-+_.].*)?$")
DAEMONS = ("mailer-daemon", "postmaster")
# The end of the header block. Only where it ends is used, and a pattern that starts with
# "\n" is searched for several times faster than one that starts with "\r?".
HEADERS_END = re.compile(rb"\n\r?\n")
SUBJECT_LINE = re.compile(rb"^subject:[ \t]*(.*(?:\r?\n[ \t].*)*)", re.IGNORECASE | re.MULTILINE)
ID_LINE = re.compile(rb"^message-id:[ \t]*<([^<>\s]+)>", re.IGNORECASE | re.MULTILINE)
TAGS = re.compile(r"<[^>]*>")


class _RawHeaders(Compat32):
    """compat32, except that a header with raw 8-bit bytes is read as the text it is
    (the bytes as surrogates) instead of an "unknown-8bit" Header whose text has lost
    them: a file name sent as raw UTF-8 or Windows-1250 is then decoded by
    `decode_header_value` like any other header."""

    def header_fetch_parse(self, name: str, value: str) -> str:
        return value


RAW_HEADERS = _RawHeaders()
_MISSING = object()


# --- decoding ----------------------------------------------------------------------


def decode_bytes(data: bytes, declared: str | None = None) -> str:
    """Text from bytes: the declared charset when it works, else the Polish fallbacks."""
    return _decode(data, declared)[0]


def _decode(data: bytes, declared: str | None) -> tuple[str, str]:
    """`decode_bytes`, and the codec that read the bytes."""
    if declared:
        name = declared.strip().strip("\"'").lower()
        try:
            return data.decode(name), name
        except (LookupError, UnicodeError, ValueError, TypeError):
            pass
    for charset in FALLBACK_CHARSETS:
        try:
            return data.decode(charset), charset
        except UnicodeDecodeError:
            continue
    return data.decode("utf-8", "replace"), "utf-8"


# Codecs (by `codecs.lookup` name) that read CR, LF and NUL from those single bytes
# only, never inside another character, and never give lone surrogates.
PLAIN_CODECS = frozenset(
    {"ascii", "utf-8", "latin-1", "iso8859-1", "iso8859-2", "cp1250", "cp1252"}
)


def _plain_codec(name: str) -> bool | None:
    """Whether `name` is one of `PLAIN_CODECS`; None for a name Python does not know (or
    cannot look up: it may hold NUL or raw 8-bit bytes), as `_decode` finds too."""
    try:
        return codecs.lookup(name).name in PLAIN_CODECS
    except (LookupError, UnicodeError, ValueError, TypeError):
        return None


def decode_body_text(data: bytes, declared: str | None) -> tuple[str, bool]:
    """`decode_bytes` with CRLF made LF (as `record` wants a body's text), and whether
    `clean` is sure to leave the text as it is.

    Both are found on the bytes where the codecs allow (the fallbacks always do): on a
    long text of two bytes a character, looking for NUL is a slow scan and every copy
    costs, and CRLF is made LF before decoding with the fast byte search.
    """
    name = declared.strip().strip("\"'").lower() if declared else ""
    # An unknown name is not used: the fallbacks, all plain, read the bytes.
    if not name or _plain_codec(name) is not False:
        text, codec = _decode(_lf_bytes(data), declared)
    else:
        text, codec = _decode(data, declared)
        text = _lf_line_ends(text)
    return text, b"\x00" not in data and bool(_plain_codec(codec))


def clean(text: str) -> str:
    """No NUL (PostgreSQL refuses it) and no lone surrogates (UTF-8 refuses them)."""
    if text.isascii():
        return text.replace("\x00", "") if "\x00" in text else text
    # Look for NUL in the UTF-8 bytes the surrogate check makes anyway: in a str of
    # two or four bytes a character, searching for NUL is a slow scan.
    try:
        has_nul = b"\x00" in text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "replace").decode("utf-8")
        has_nul = "\x00" in text
    return text.replace("\x00", "") if has_nul else text


def _lf_line_ends(text: str) -> str:
    return text.replace("\r\n", "\n") if "\r" in text else text


def _lf_bytes(data: bytes) -> bytes:
    """`data.replace(b"\\r\\n", b"\\n")`. `replace` searches for the two bytes at about a
    nanosecond a byte: bytes with few line ends (one enormous line) are done here with
    searches for CR alone, many times faster."""
    found = data.find(b"\r")
    if found < 0:
        return data
    if len(data) < 10_000:
        return data.replace(b"\r\n", b"\n")
    # The pieces are views, not copies: the join is the one copy of a long text.
    view = memoryview(data)
    kept: list[memoryview] = []
    start = 0  # where the bytes not yet kept begin
    for _ in range(100):
        if found < 0:
            kept.append(view[start:])
            return b"".join(kept)
        if data.startswith(b"\n", found + 1):
            kept.append(view[start:found])
            start = found + 1
        found = data.find(b"\r", found + 1)
    return data.replace(b"\r\n", b"\n")  # many line ends: `replace` is as fast


def _paragraphs(texts: list[str]) -> str:
    """`"\\n\\n".join(texts)` with CRLF made LF, of texts in which it already is: a CR
    that ends a text meets the LF of the blank line after it."""
    ended = [text[:-1] if text.endswith("\r") else text for text in texts[:-1]]
    return "\n\n".join([*ended, *texts[-1:]])


def _has_text(text: str) -> bool:
    """Whether `text.strip()` would leave anything (without copying a long text)."""
    return bool(text) and not text.isspace()


def _has_surrogates(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _word_bytes(encoding: str, data: str) -> bytes | None:
    raw = data.encode("latin-1", "replace")
    try:
        if encoding in "bB":  # what base64.b64decode(validate=True) calls
            return binascii.a2b_base64(raw + b"=" * (-len(raw) % 4), strict_mode=True)
        return binascii.a2b_qp(raw, header=True)
    except (binascii.Error, ValueError):
        return None


def _decode_words(value: str) -> str:
    """RFC 2047 encoded words. Adjacent words of one charset are joined before decoding
    (some mailers split a UTF-8 character across two words), and the whitespace between
    two encoded words is dropped (RFC 2047 section 6.2)."""
    out: list[str] = []
    run: list[bytes] = []  # the bytes of adjacent words of one charset
    run_charset = ""
    position = 0
    previous_was_word = False
    for match in ENCODED_WORD.finditer(value):
        start, end = match.span()
        between = value[position:start]
        position = end
        charset, encoding, encoded = match.groups()
        data = _word_bytes(encoding, encoded)
        if data is None:
            if run:
                out.append(decode_bytes(b"".join(run), run_charset))
                run = []
            out.append(between + match.group(0))
            previous_was_word = False
            continue
        charset = charset.split("*", 1)[0]  # RFC 2231 may add *language
        adjacent = previous_was_word and (not between or between.isspace())
        if run and not (adjacent and charset.lower() == run_charset.lower()):
            out.append(decode_bytes(b"".join(run), run_charset))
            run = []
        if not adjacent:
            out.append(between)
        if not run:
            run_charset = charset
        run.append(data)
        previous_was_word = True
    if run:
        out.append(decode_bytes(b"".join(run), run_charset))
    out.append(value[position:])
    return "".join(out)


def unfold(value: str) -> str:
    return FOLD.sub("", value) if "\n" in value else value


# Tabs and line ends become spaces, other control characters go (what CONTROL matches).
ONE_LINE = {9: " ", 10: " ", 13: " ", 0x7F: None} | {
    code: None for code in range(0x20) if code not in (9, 10, 13)
}


def one_line(text: str) -> str:
    if not text.isprintable():  # else there is nothing for `ONE_LINE` to change
        text = text.translate(ONE_LINE)
    # In ASCII, `ONE_LINE` has already dropped NUL, all that `clean` would do.
    return (text if text.isascii() else clean(text)).strip()


def decode_header_value(value: object) -> str:
    """A header's text: unfolded, raw 8-bit bytes and encoded words decoded, one line."""
    if value is None:
        return ""
    text = str(value)
    if text.isascii() and text.isprintable() and "=?" not in text:
        return text.strip()  # most headers: nothing to unfold, decode or drop
    text = unfold(text)
    if not text.isascii() and _has_surrogates(text):
        # Raw 8-bit bytes in a header (not allowed, common): the parser keeps them as
        # surrogates; decode them with the same fallbacks as a body.
        text = decode_bytes(text.encode("ascii", "surrogateescape"))
    if "=?" in text:
        try:
            text = _decode_words(text)
        except Exception:  # noqa: BLE001 - a header must never stop the message
            pass
    return one_line(text)


# --- headers -----------------------------------------------------------------------


class Headers:
    """The top-level headers by lower-case name, raw values in order."""

    def __init__(self, items: Iterable[tuple[str, object]]) -> None:
        self._index([(str(name), str(value)) for name, value in items])

    @classmethod
    def of_text(cls, items: list[tuple[str, str]]) -> Headers:
        """The headers of a list whose names and values are already text (kept as it is)."""
        headers = cls.__new__(cls)
        headers._index(items)
        return headers

    def _index(self, items: list[tuple[str, str]]) -> None:
        self.items: list[tuple[str, str]] = items
        self.by_name: dict[str, list[str]] = {}
        self.first_at: dict[str, int] = {}  # where in `items` each name is first
        for index, (name, value) in enumerate(self.items):
            key = name.strip().lower()
            values = self.by_name.get(key)
            if values is None:
                self.by_name[key] = [value]
                self.first_at[key] = index
            else:
                values.append(value)

    def first(self, name: str) -> str:
        values = self.by_name.get(name)
        return values[0] if values else ""

    def all(self, name: str) -> list[str]:
        return self.by_name.get(name, [])

    def __contains__(self, name: str) -> bool:
        return name in self.by_name


# One mailbox in the forms most headers use: "a@b.pl", "Name Words <a@b.pl>" and
# "\"Quoted, Name\" <a@b.pl>", with the characters for which `getaddresses` returns
# the words joined by one space and the address as written. Anything else goes to
# `getaddresses` itself (tests compare the two).
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
_ADDR_SPEC = rf"{_ATEXT}+(?:\.{_ATEXT}+)*@{_ATEXT}+(?:\.{_ATEXT}+)*"
_WORD = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+"
SIMPLE_BARE = re.compile(rf"[ \t]*({_ADDR_SPEC})[ \t]*")
SIMPLE_NAMED = re.compile(rf"[ \t]*({_WORD}(?:[ \t]+{_WORD})*)[ \t]*<({_ADDR_SPEC})>[ \t]*")
SIMPLE_QUOTED = re.compile(rf'[ \t]*"([^"\\\r\n]*)"[ \t]*<({_ADDR_SPEC})>[ \t]*')
BLANKS = re.compile(r"[ \t]+")


def _simple_address(value: str) -> list[tuple[str, str]] | None:
    """`getaddresses([value])` for a value in one of the simple forms, else None."""
    match = SIMPLE_BARE.fullmatch(value)
    if match:
        return [("", match.group(1))]
    match = SIMPLE_NAMED.fullmatch(value)
    if match:
        return [(BLANKS.sub(" ", match.group(1)), match.group(2))]
    match = SIMPLE_QUOTED.fullmatch(value)
    if match:
        return [(match.group(1), match.group(2))]
    return None


def parse_addresses(values: list[str]) -> list[Address]:
    if not values:
        return []
    unfolded = [unfold(v) for v in values]
    pairs = _simple_address(unfolded[0]) if len(unfolded) == 1 else None
    if pairs is not None and "=?" not in pairs[0][1]:
        # One mailbox in a simple form (most headers): its address is printable ASCII
        # with an "@", which decoding would leave as it is.
        name, address = pairs[0]
        return [Address(decode_header_value(name)[:200], address.lower()[:320])]
    if pairs is None:
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
        # A header the strict parser refused: salvage the addresses themselves.
        found = BARE_ADDRESS.findall(decode_header_value(" ".join(unfolded)))
        result = [Address("", a.lower()[:320]) for a in found] or result
    return result


def parse_message_id(value: str) -> str | None:
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
    if not value:
        return []  # most messages have no In-Reply-To or References
    ids = [one_line(i) for i in ANGLE_ID.findall(unfold(value))]
    return [i for i in ids if i and len(i) <= MAX_ID][-MAX_REFERENCES:]


MONTHS = {
    name: number
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}
# The form nearly all mail dates have ("Mon, 01 Dec 2025 10:00:00 +0100").
RFC5322_DATE = re.compile(
    r"(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), )?([0-9]{1,2}) "
    rf"({'|'.join(MONTHS)}) ([0-9]{{4}}) "
    r"([0-9]{2}):([0-9]{2}):([0-9]{2}) ([+-])([0-9]{2})([0-9]{2})"
)


def _date_fields(match: re.Match[str]) -> tuple[tuple[int, ...], int, bool]:
    """The fields of a date in the common form, its zone's offset in seconds, and
    whether the zone is known ("-0000" says it is not), as `parsedate_to_datetime`
    reads them (two-digit years too)."""
    day, month, year, hour, minute, second, sign, zone_hours, zone_minutes = match.groups()
    full_year = int(year)
    if full_year < 100:
        full_year += 1900 if full_year > 68 else 2000
    fields = (full_year, MONTHS[month], int(day), int(hour), int(minute), int(second))
    offset = int(zone_hours) * 3600 + int(zone_minutes) * 60
    return fields, -offset if sign == "-" else offset, offset != 0 or sign == "+"


def _date(text: str) -> datetime:
    """`parsedate_to_datetime(text)`, read here for the common form (several times faster),
    the same way: two-digit years, "-0000" for an unknown zone, the same errors."""
    match = RFC5322_DATE.fullmatch(text)
    if match is None:
        return parsedate_to_datetime(text)
    fields, offset, known_zone = _date_fields(match)
    if not known_zone:
        return datetime(*fields)
    return datetime(*fields, tzinfo=timezone(timedelta(seconds=offset)))


def _utc_date(match: re.Match[str]) -> datetime:
    """`_date(...).astimezone(UTC)` of a date in the common form (an unknown zone taken
    as UTC, as `parse_date` does), without building a time zone for it."""
    fields, offset, _ = _date_fields(match)
    if not -86400 < offset < 86400:
        raise ValueError("offset out of range")  # what `timezone` raises for it
    moment = datetime(*fields, tzinfo=UTC)
    return moment - timedelta(seconds=offset) if offset else moment


def parse_date(value: str) -> datetime | None:
    if not value:
        return None
    text = unfold(value).strip()
    match = RFC5322_DATE.fullmatch(text)
    try:
        if match is not None:
            return _utc_date(match)
        moment = parsedate_to_datetime(text)
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


def parse_auth(values: list[str]) -> dict[str, str]:
    """Verdicts of Authentication-Results; the topmost header (our server's) wins."""
    verdicts: dict[str, str] = {}
    for value in values:
        for method, result in AUTH_VERDICT.findall(unfold(value)):
            verdicts.setdefault(method.lower(), result.lower())
    return verdicts


AUTOREPLY_HEADERS = frozenset({"x-autoreply", "x-autorespond", "x-autoresponder"})


def automatic_reason(headers: Headers, sender: Address, content_type: str) -> str | None:
    """Why this message must never get an automatic answer (RFC 3834), or None."""
    if "auto-submitted" in headers:
        auto = one_line(headers.first("auto-submitted")).lower()
        if auto and auto.split(";")[0].strip() != "no":
            return "auto-submitted"
    if not headers.by_name.keys().isdisjoint(AUTOREPLY_HEADERS):
        return "autoreply"
    if "precedence" in headers:
        precedence = one_line(headers.first("precedence")).lower()
        if precedence in ("bulk", "list", "junk", "auto_reply"):
            return "precedence-" + precedence
    if "list-id" in headers or "list-unsubscribe" in headers:
        return "mailing-list"
    suppress = headers.first("x-auto-response-suppress").lower()
    if suppress and any(word in suppress for word in ("all", "oof", "autoreply")):
        return "suppressed"
    if "return-path" in headers and one_line(headers.first("return-path")) in ("<>", ""):
        return "bounce"
    if content_type == "multipart/report":
        return "report"
    local = sender.address.split("@", 1)[0]
    if not sender.address:
        return "no-sender"
    if local in DAEMONS:
        return "mailer-daemon"
    if NO_REPLY.match(local):
        return "no-reply"
    return None


# --- bodies ------------------------------------------------------------------------


def html_to_text(html: str) -> str:
    """Readable text of an HTML body (inscriptis keeps lists, tables and paragraphs)."""
    html = html[:MAX_HTML]
    try:
        text = get_text(html)
    except Exception:  # noqa: BLE001 - lxml can choke on pathological markup
        text = html_module.unescape(TAGS.sub(" ", html))
    lines = [line.rstrip() for line in text.splitlines()]
    return "\n".join(lines).strip()


# `nh3.clean` with its default rules, built once: `nh3.clean` builds them on every call.
HTML_CLEANER = nh3.Cleaner()


def sanitise_html(html: str) -> str | None:
    try:
        return HTML_CLEANER.clean(html[:MAX_HTML])
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


def _payload_bytes(
    part: Message, problems: list[str] | None = None, payload: object = _MISSING
) -> bytes:
    """The part's body with its transfer encoding decoded (`payload`: what
    `part.get_payload()` gave, when the caller has it: the call is not cheap)."""
    if payload is _MISSING:
        payload = part.get_payload()
    if isinstance(payload, str) and part.get("content-transfer-encoding", "").strip().lower() == (
        "base64"
    ):
        data, damaged = lenient_base64(payload.encode("ascii", "surrogateescape"))
        if damaged and problems is not None:
            problems.append("damaged base64 (decoded what was readable)")
        return data
    try:
        data = part.get_payload(decode=True)
    except Exception:  # noqa: BLE001
        data = None
    if isinstance(data, bytes):
        return data
    if isinstance(payload, str):
        return payload.encode("ascii", "surrogateescape")
    return b""


def safe_filename(name: str | None) -> str | None:
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


# A content header in the plain form most mail has: a type, then "key=value" parameters
# whose values are tokens or quoted strings without a backslash, quote, semicolon or
# line break, and no RFC 2231 ("*") keys. For it, `Message.get_params` comes down to
# the type, then each key in lower case with its value unquoted.
_TOKEN_VALUE = r'[^\s;="\\<>]+'
_QUOTED_VALUE = r'"[^"\\;\r\n]*"'
_KEY_VALUE = rf"[ \t]*([A-Za-z0-9-]+)[ \t]*=[ \t]*({_TOKEN_VALUE}|{_QUOTED_VALUE})[ \t]*"
SIMPLE_PARAMS = re.compile(rf'[ \t]*([^\s;="\\]+)[ \t]*((?:;{_KEY_VALUE})*)')
SIMPLE_PARAM = re.compile(rf";{_KEY_VALUE}")


def _simple_params(value: str) -> list[tuple[str, object]] | None:
    """`Message.get_params()` of a header in the plain form, else None."""
    match = SIMPLE_PARAMS.fullmatch(value)
    if match is None:
        return None
    params: list[tuple[str, object]] = [(match.group(1), "")]
    for key, found in SIMPLE_PARAM.findall(match.group(2)):
        params.append((key.lower(), found[1:-1] if found[0] == '"' else found))
    return params


CONTENT_HEADERS = ("content-type", "content-disposition", "content-transfer-encoding")


def _content_type(value: str | None, default: str = "text/plain") -> str:
    """`Message.get_content_type()` of a part whose Content-Type is `value`."""
    if value is None:
        return default
    found = value.partition(";")[0].strip().lower()
    return found if found.count("/") == 1 else "text/plain"


def _by_key(params: Iterable[tuple[str, object]]) -> dict[str, object]:
    """Parameters by lower-case key, the first of each: what `Message.get_param` finds."""
    keyed: dict[str, object] = {}
    for key, value in params:
        keyed.setdefault(key.lower(), value)
    return keyed


def _plain_params(value: str) -> dict[str, object] | None:
    """`_by_key(_simple_params(value))`, None when not in the plain form; shared for a
    short value: never change it."""
    if len(value) > MAX_CACHED_PARAMS or _ONE_OF_A_KIND.search(value):
        return _read_plain_params(value)
    return _cached_plain_params(value)


def _read_plain_params(value: str) -> dict[str, object] | None:
    params = _simple_params(value)
    return None if params is None else _by_key(params)


# Most content headers are a few values seen in message after message ("text/plain;
# charset=utf-8"): each is read once. Values with a boundary or a file name are one of
# a kind in real mail and are never kept (nor would a test corpus that repeats them
# show a saving real mail does not have); long ones are not kept at all.
MAX_CACHED_PARAMS = 200
_ONE_OF_A_KIND = re.compile(r"boundary|name", re.IGNORECASE)
_cached_plain_params = functools.lru_cache(maxsize=512)(_read_plain_params)


class PartHeaders:
    """The content headers of one MIME part, each of them parsed once.

    A walk asks every part for its type, disposition, charset and file name, and each
    `email.message.Message` call parses its header again. The answers here are those
    calls' (the stdlib's own `Message.get_params`, kept per header, and what
    `get_param`, `get_filename` and `get_boundary` do with it), an exception included.
    They are read from the first value of each content header (what `Message.get`
    gives), so the fast path needs no `Message` for a part.
    """

    __slots__ = ("fields", "content_type", "maintype", "_params")

    def __init__(self, message: Message) -> None:
        fields = {}
        for name in CONTENT_HEADERS:
            value = message.get(name)
            if value is not None:
                fields[name] = str(value)
        self._set(fields, message.get_content_type())

    @classmethod
    def from_fields(cls, fields: dict[str, str]) -> PartHeaders:
        """The headers of a part whose first content headers by lower-case name are
        `fields` (its default type text/plain, as outside a multipart/digest)."""
        headers = cls.__new__(cls)
        headers._set(fields, _content_type(fields.get("content-type")))
        return headers

    def _set(self, fields: dict[str, str], content_type: str) -> None:
        self.fields = fields
        self.content_type = content_type
        self.maintype = content_type.split("/")[0]
        # Each header's parameters by lower-case key, None when it is missing.
        self._params: dict[str, dict[str, object] | None | Exception] = {}

    def _params_of(self, header: str) -> dict[str, object] | None:
        found = self._params.get(header, _MISSING)
        if found is _MISSING:
            value = self.fields.get(header)
            found = None if value is None else _plain_params(value)
            if found is None and value is not None:
                try:
                    found = _by_key(_one_header(header, value).get_params(header=header))
                except Exception as error:  # noqa: BLE001 - raised again as `get_param` would
                    found = error
            self._params[header] = found
        if isinstance(found, Exception):
            raise found
        return found  # type: ignore[return-value]

    def param(self, name: str, failobj: object = None, header: str = "content-type") -> object:
        """`Message.get_param(name, failobj, header)`."""
        params = self._params_of(header)
        if params is None:
            return failobj
        return params.get(name.lower(), failobj)

    def boundary(self) -> str | None:
        """`Message.get_boundary()`."""
        boundary = self.param("boundary", _MISSING)
        if boundary is _MISSING:
            return None
        return collapse_rfc2231_value(boundary).rstrip()  # type: ignore[arg-type]

    def charset(self) -> str | None:
        """The charset parameter as text, None when missing or unreadable."""
        try:
            value = self.param("charset")
        except Exception:  # noqa: BLE001
            return None
        if isinstance(value, tuple):  # RFC 2231 (charset, language, value)
            value = value[2]
        return str(value) if value else None

    def filename(self) -> str | None:
        """The file name, made safe; None when missing or unreadable."""
        try:
            name = self.raw_filename()
        except Exception:  # noqa: BLE001
            name = None
        return safe_filename(name)

    def raw_filename(self) -> str | None:
        """`Message.get_filename()`."""
        name = self.param("filename", _MISSING, "content-disposition")
        if name is _MISSING:
            name = self.param("name", _MISSING)
        if name is _MISSING:
            return None
        return collapse_rfc2231_value(name).strip()  # type: ignore[arg-type]

    def disposition(self) -> str:
        """`(Message.get_content_disposition() or "").lower()`."""
        value = self.fields.get("content-disposition")
        return "" if value is None else value.partition(";")[0].strip().lower()

    def transfer_encoding(self) -> str:
        return self.fields.get("content-transfer-encoding", "").strip().lower()


def _one_header(name: str, value: str) -> Message:
    """A message of this one header, for the stdlib's parameter parsing."""
    message = Message(policy=RAW_HEADERS)
    message.set_raw(name, value)
    return message


def _forwarded_subject(payload: object) -> str:
    inner = payload[0] if isinstance(payload, list) and payload else None
    if isinstance(inner, Message):
        return decode_header_value(inner.get("subject", ""))
    return ""


def _forwarded_bytes(payload: object) -> bytes:
    """A forwarded message's bytes, as the stdlib serialises the parsed message."""
    inner = payload[0] if isinstance(payload, list) and payload else None
    if isinstance(inner, Message):
        try:
            return inner.as_bytes()
        except Exception:  # noqa: BLE001
            return inner.as_string().encode("utf-8", "surrogateescape")
    if isinstance(payload, str):
        return payload.encode("ascii", "surrogateescape")
    return b""


class _Walk:
    """What a walk through the MIME tree found."""

    def __init__(self, max_attachment: int) -> None:
        self.max_attachment = max_attachment
        self.plain: list[str] = []  # with CRLF made LF
        self.plain_clean = True  # whether `clean` would leave every text in `plain` as it is
        self.html: list[str] = []
        self.attachments: list[IncomingAttachment] = []
        self.problems: list[str] = []

    def visit(self, part: Message, depth: int = 0) -> None:
        if depth > MAX_DEPTH:
            self.problems.append("MIME nested too deeply")
            return
        headers = PartHeaders(part)
        payload = part.get_payload()
        if headers.content_type == "message/rfc822" or (
            headers.maintype == "message" and isinstance(payload, list)
        ):
            self.forwarded(headers, _forwarded_bytes(payload), _forwarded_subject(payload))
            return
        if isinstance(payload, list):
            for child in payload:
                if isinstance(child, Message):
                    self.visit(child, depth + 1)
            return
        if headers.maintype == "multipart":
            self.problems.append("multipart body without its boundary")
            self.plain.append(_lf_line_ends(decode_bytes(_payload_bytes(part, None, payload))))
            self.plain_clean = False
            return
        self.leaf(headers, _payload_bytes(part, self.problems, payload))

    def leaf(self, headers: PartHeaders, data: bytes) -> None:
        """A part that is not a container, its transfer encoding decoded."""
        content_type = headers.content_type
        filename = headers.filename()
        if (
            content_type in ("text/plain", "text/html")
            and headers.disposition() != "attachment"
            and (not filename)
        ):
            if content_type == "text/plain":
                text, is_clean = decode_body_text(data, headers.charset())
                self.plain.append(text)
                self.plain_clean = self.plain_clean and is_clean
            else:
                self.html.append(decode_bytes(data, headers.charset()))
            return
        self._attach(data, content_type, filename)

    def forwarded(self, headers: PartHeaders, data: bytes, subject: str) -> None:
        """A message/* part: an attachment named after its file name or subject."""
        name = headers.filename() or safe_filename((subject or "message")[:100] + ".eml")
        self._attach(data, "message/rfc822", name)

    def _attach(self, data: bytes, content_type: str, filename: str | None) -> None:
        if not filename:
            extension = mimetypes.guess_extension(content_type) or ".bin"
            filename = f"attachment-{len(self.attachments) + 1}{extension}"
        size = len(data)
        if size > self.max_attachment:
            attachment = IncomingAttachment(filename, content_type, size, None, skipped="too_large")
        else:
            digest = hashlib.sha256(data).hexdigest()
            attachment = IncomingAttachment(filename, content_type, size, data, sha256=digest)
        self.attachments.append(attachment)


def _serious_defects(message: Message) -> list[str]:
    found = []
    for part in message.walk():
        for defect in getattr(part, "defects", []):
            if isinstance(defect, SERIOUS_DEFECTS):
                found.append(type(defect).__name__)
    return sorted(set(found))


# --- the record --------------------------------------------------------------------


def synthetic_id(raw: bytes, headers: Headers | None = None) -> str:
    """A stable id for mail without a Message-ID: the same bytes give the same id."""
    digest = hashlib.sha256()
    if headers is not None:
        for name in ("from", "to", "cc", "date", "subject"):
            digest.update(headers.first(name).encode("utf-8", "surrogateescape") + b"\0")
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


def parse_mail(raw: bytes, *, max_attachment_bytes: int = DEFAULT_MAX_ATTACHMENT) -> IncomingMail:
    """Read one message; never raises (a failure gives a raw record with the reason).

    The compiled fast path (`bot.mail.parse_fast`) reads what it is sure to read as
    the stdlib path would; everything else, and everything when it is not
    installed, goes through the stdlib parser.
    """
    raw = bytes(raw)
    try:
        return _parse(raw, max_attachment_bytes)
    except Exception as error:  # noqa: BLE001 - nothing may stop the watcher
        return unparsed(raw, f"{type(error).__name__}: {error}"[:500])


FastPath = Callable[[bytes, int], IncomingMail | None]
_FAST_PATH: list[FastPath | None] = []


def _fast_path() -> FastPath | None:
    """The compiled fast path, imported on first use (it builds on this module); None
    where fast-mail-parser has no wheel: then every message takes the stdlib path."""
    if not _FAST_PATH:
        try:
            from bot.mail.parse_fast import parse_fast
        except ModuleNotFoundError as error:
            if error.name != "fast_mail_parser":
                raise
            _FAST_PATH.append(None)
        else:
            _FAST_PATH.append(parse_fast)
    return _FAST_PATH[0]


def parse_mail_stdlib(
    raw: bytes, *, max_attachment_bytes: int = DEFAULT_MAX_ATTACHMENT
) -> IncomingMail:
    """`parse_mail` without the fast path (for comparing the two)."""
    raw = bytes(raw)
    try:
        return _parse_stdlib(raw, max_attachment_bytes)
    except Exception as error:  # noqa: BLE001
        return unparsed(raw, f"{type(error).__name__}: {error}"[:500])


def _parse(raw: bytes, max_attachment: int) -> IncomingMail:
    fast = _fast_path()
    if fast is not None:
        found = fast(raw, max_attachment)
        if found is not None:
            return found
    return _parse_stdlib(raw, max_attachment)


def _parse_stdlib(raw: bytes, max_attachment: int) -> IncomingMail:
    message = BytesParser(policy=RAW_HEADERS).parsebytes(raw)
    headers = Headers(message.raw_items())
    walk = _Walk(max_attachment)
    walk.visit(message)
    return record(raw, headers, message.get_content_type(), walk, _serious_defects(message))


def record(
    raw: bytes, headers: Headers, content_type: str, walk: _Walk, defects: list[str]
) -> IncomingMail:
    """The record of a message from its top-level headers and what the walk found."""
    senders = parse_addresses(headers.all("from"))
    sender = next((a for a in senders if a.address), senders[0] if senders else Address("", ""))
    plain = _paragraphs([p for p in walk.plain if _has_text(p)])
    html_source = "\n".join([h for h in walk.html if _has_text(h)])
    if plain:
        text = plain if walk.plain_clean else clean(plain)
    else:
        text = clean(_lf_line_ends(html_to_text(html_source) if html_source else ""))
    problems = walk.problems + defects
    if len(text) > MAX_TEXT:
        problems.append(f"text longer than {MAX_TEXT} characters, cut")
        text = text[:MAX_TEXT]
    if not _has_text(text) and not walk.attachments and _body_start(raw).strip():
        problems.append("no readable part")
    header_lines = _header_lines(headers.items[:MAX_HEADERS])

    return IncomingMail(
        message_id=parse_message_id(headers.first("message-id")) or synthetic_id(raw, headers),
        subject=_decoded_first(headers, header_lines, "subject"),
        sender=sender,
        to=parse_addresses(headers.all("to")),
        cc=parse_addresses(headers.all("cc")),
        reply_to=parse_addresses(headers.all("reply-to")),
        date=parse_date(headers.first("date")),
        text=text,
        html=clean(sanitise_html(html_source) or "") or None if html_source else None,
        headers=header_lines,
        size=len(raw),
        auth=parse_auth(headers.all("authentication-results")),
        automatic=automatic_reason(headers, sender, content_type),
        in_reply_to=(parse_ids(headers.first("in-reply-to")) or [None])[0],
        references=parse_ids(" ".join(headers.all("references"))),
        attachments=walk.attachments,
        parse_error="; ".join(problems) if problems else None,
        raw=raw if problems else None,
    )


def _header_lines(items: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """`(one_line(name)[:200], decode_header_value(value)[:MAX_HEADER_VALUE])` of each
    header. Most names and values are printable ASCII without encoded words: for them
    both functions come down to `strip`, done here without two calls a header."""
    lines = []
    for name, value in items:
        name = name.strip() if name.isascii() and name.isprintable() else one_line(name)
        if value.isascii() and value.isprintable() and "=?" not in value:
            value = value.strip()
        else:
            value = decode_header_value(value)
        lines.append((name[:200], value[:MAX_HEADER_VALUE]))
    return lines


def _decoded_first(headers: Headers, header_lines: list[tuple[str, str]], name: str) -> str:
    """`decode_header_value(headers.first(name))[:MAX_HEADER_VALUE]`, taken from the
    decoded header lines when it is among them (a header is decoded once)."""
    index = headers.first_at.get(name)
    if index is not None and index < len(header_lines):
        return header_lines[index][1]
    return decode_header_value(headers.first(name))[:MAX_HEADER_VALUE]


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
