"""The fast path of `parse_mail`: the MIME tree from fast-mail-parser (Rust `mailparse`).

Only the structure and the transfer decoding (base64, quoted-printable) come from the
compiled parser, which does that in about a tenth of the stdlib feed parser's time
(7 against 63 microseconds per message of the test corpus). The top-level headers
are split here exactly as the stdlib's `compat32` parser splits them, and every
charset, encoded word, address, date, file name and MIME parameter is read by the
same code as on the stdlib path (`bot.mail.parse`), so both paths give the same record.

Whatever this path is not sure to read the way the stdlib path would, it leaves to
the stdlib path (`parse_fast` returns None): anything the compiled parser rejects
(it is strict about base64, where the stdlib path salvages what it can and says
so), a header block `compat32` would read differently, odd lines in a part's
headers, a multipart without parts, boundary or closing boundary, digests and
`message/*` parts other than a plain forwarded message (see `_forwarded`), transfer
encodings other than 7bit, 8bit, binary, base64 and quoted-printable, nesting deeper
than `MAX_DEPTH`.

One difference is kept on purpose: in quoted-printable, trailing spaces at the end of
an encoded line are dropped and "=" followed by spaces before the line break is a
soft break (RFC 2045 6.7); the stdlib keeps both as they are. Only whitespace
differs.
"""

from __future__ import annotations

import re

import fast_mail_parser

from bot.mail.parse import (
    CONTENT_HEADERS,
    MAX_DEPTH,
    Headers,
    PartHeaders,
    _Walk,
    decode_header_value,
    record,
)
from handlers.mailbox.events import IncomingMail

# A field name as compat32 reads one: printable ASCII but ":".
FIELD_NAME = re.compile(r"[\x21-\x39\x3b-\x7e]+\Z")
BLANK_LINE = re.compile(rb"\n\r?\n")
# A header block compat32 reads field by field: every line a field (such a name, then
# ":") or a continuation of one (it starts with a blank); and one field of it, its
# value without the blanks after the colon or the line end after its last line.
HEADER_BLOCK = re.compile(r"(?:[\x21-\x39\x3b-\x7e]+:.*\n(?:[ \t].*\n)*)+")
HEADER_FIELD = re.compile(r"([\x21-\x39\x3b-\x7e]+):[ \t]*(.*(?:\n[ \t].*)*)\n")
WORD_CHARSET = re.compile(rb"=\?([^?\s*]+)(?:\*[^?\s]*)?\?[bBqQ]\?")
# Charsets Python and the compiled parser (WHATWG labels) decode the same way.
SAME_CHARSETS = frozenset({b"utf-8", b"utf8", b"iso-8859-2", b"latin2", b"windows-1250", b"cp1250"})
TRANSFER_ENCODINGS = ("", "7bit", "8bit", "binary", "base64", "quoted-printable")
UNENCODED = ("", "7bit", "8bit", "binary")
# Main types the stdlib generator writes out with its plain text handler.
PLAIN_BODY_TYPES = ("text", "application", "image", "audio", "video")
LINE_END = re.compile(rb"\r\n|\r|\n")


class _NotSure(Exception):
    """This message is for the stdlib path."""


def parse_fast(raw: bytes, max_attachment: int) -> IncomingMail | None:
    """The record of `raw`, or None when the stdlib path must read it."""
    items = top_headers(raw)
    if items is None:
        return None
    try:
        tree = fast_mail_parser.parse_email_tree(raw)
    except fast_mail_parser.ParseError:
        return None
    headers = Headers.of_text(items)
    walk = _Walk(max_attachment)
    root_headers = _top_content_headers(headers)
    try:
        _visit(walk, tree, root_headers, raw, 0)
    except _NotSure:
        return None
    return record(raw, headers, root_headers.content_type, walk, [])


def top_headers(raw: bytes) -> list[tuple[str, str]] | None:
    """The top-level headers as compat32 gives them (`raw_items()`), or None when the
    header block has anything compat32 might read another way (a lone CR, a line
    that is neither a field nor a continuation, no blank line after it)."""
    end = BLANK_LINE.search(raw)
    if end is None:
        return None
    block = raw[: end.start() + 1].decode("ascii", "surrogateescape")
    if block.count("\r") != block.count("\r\n") or HEADER_BLOCK.fullmatch(block) is None:
        return None  # a CR that does not end a line, or a line compat32 reads otherwise
    # compat32's header_source_parse: the value's first line without leading blanks,
    # its continuation lines as they are, no line end after the last. One regex finds
    # them all (a field at a time in Python costs several times more).
    return [(name, value.rstrip("\r\n")) for name, value in HEADER_FIELD.findall(block)]


def _top_content_headers(headers: Headers) -> PartHeaders:
    """`_content_headers` of the top-level headers, from their lower-case names (the
    names `top_headers` gives have no blanks to strip)."""
    found = headers.by_name
    return PartHeaders.from_fields(
        {name: found[name][0] for name in CONTENT_HEADERS if name in found}
    )


def _content_headers(items: list[tuple[str, str]]) -> PartHeaders:
    fields: dict[str, str] = {}
    for name, value in items:
        lowered = name.lower()
        if lowered in CONTENT_HEADERS:
            fields.setdefault(lowered, value)  # the first, as `Message.get` reads it
    return PartHeaders.from_fields(fields)


def _part_headers(node: fast_mail_parser.PyMimePart, raw: bytes) -> PartHeaders:
    """A node's content headers as compat32 holds them, for the stdlib's own parameter
    parsing (charset, boundary, file names, RFC 2231)."""
    fields: dict[str, str] = {}
    for name, values in node.headers.items():
        if FIELD_NAME.match(name) is None:
            raise _NotSure  # a body line taken for a header: compat32 sees a defect
        lowered = name.lower()
        for value in values:
            if not value:
                raise _NotSure  # a line without a colon: compat32 sees a defect
            if not value.isascii():
                value = _as_compat32(value, raw)
            if lowered in CONTENT_HEADERS:
                fields.setdefault(lowered, value)
    return PartHeaders.from_fields(fields)


def _as_compat32(value: str, raw: bytes) -> str:
    """A non-ASCII header value of a part the way compat32 would hold it.

    The compiled parser read raw 8-bit bytes as Latin-1 or UTF-8: when those bytes
    are in the message, compat32 holds them (as surrogates), and so does this. Else
    the text came from encoded words (Outlook puts them even in quoted file names),
    which the shared code would decode to the same text when both read the charset
    alike (the compiled parser follows WHATWG, where e.g. "iso-8859-1" means
    windows-1252); a replacement character or another charset is for the stdlib path.
    """
    for codec in ("latin-1", "utf-8"):
        try:
            data = value.encode(codec)
        except UnicodeEncodeError:
            continue
        if data in raw:
            return data.decode("ascii", "surrogateescape")
    labels = {label.lower() for label in WORD_CHARSET.findall(raw)}
    if "\ufffd" in value or not labels <= SAME_CHARSETS:
        raise _NotSure
    return value


def _visit(
    walk: _Walk,
    node: fast_mail_parser.PyMimePart,
    part: PartHeaders,
    raw: bytes,
    depth: int,
    boundaries: tuple[bytes, ...] = (),
) -> None:
    """`_Walk.visit` over the compiled parser's tree (`boundaries`: the enclosing ones)."""
    if depth > MAX_DEPTH:
        raise _NotSure
    content_type = part.content_type
    if content_type != node.content_type.lower():
        raise _NotSure
    if node.is_message or part.maintype == "message":
        _forwarded(walk, node, part, raw, boundaries)
        return
    if part.maintype == "multipart":
        boundary = part.boundary()
        if (
            not node.children
            or content_type == "multipart/digest"
            or not boundary
            or not boundary.isascii()
            or b"--" + boundary.encode("ascii") + b"--" not in raw
        ):
            raise _NotSure
        inside = (*boundaries, boundary.encode("ascii"))
        for child in node.children:
            _visit(walk, child, _part_headers(child, raw), raw, depth + 1, inside)
        return
    if node.children or node.content is None:
        raise _NotSure
    if part.transfer_encoding() not in TRANSFER_ENCODINGS:
        raise _NotSure
    walk.leaf(part, node.content)


def _forwarded(
    walk: _Walk,
    node: fast_mail_parser.PyMimePart,
    part: PartHeaders,
    raw: bytes,
    boundaries: tuple[bytes, ...],
) -> None:
    """A forwarded message as `_Walk.visit` stores it: an attachment of the bytes the
    stdlib writes the parsed message back as (`Message.as_bytes()`). Only a plain one
    is read here: a message/rfc822 part, not transfer-encoded, in multiparts whose
    boundaries are all whole CRLF lines, holding a one-part message whose header
    block compat32 reads as `top_headers` does."""
    data = node.content
    if (
        part.content_type != "message/rfc822"
        or not node.is_message
        or data is None
        or part.transfer_encoding() not in UNENCODED
        or not boundaries
        or not all(_whole_lines(raw, boundary) for boundary in boundaries)
    ):
        raise _NotSure
    items = top_headers(data)
    end = BLANK_LINE.search(data)
    if items is None or end is None or _content_headers(items).maintype not in PLAIN_BODY_TYPES:
        raise _NotSure
    subject = next((value for name, value in items if name.lower() == "subject"), "")
    walk.forwarded(part, _written_back(items, data[end.end() :]), decode_header_value(subject))


def _whole_lines(raw: bytes, boundary: bytes) -> bool:
    """Whether every "--boundary" in `raw` is a whole line, CRLF before and after: then
    both parsers end each part at the same byte (the CRLF before a delimiter is the
    delimiter's), where a lone CR or LF, or text around it, can make them differ."""
    marker = b"\r\n--" + boundary
    lines = (
        raw.count(marker + b"\r\n") + raw.count(marker + b"--\r\n") + raw.endswith(marker + b"--")
    )
    return raw.count(b"--" + boundary) == lines


def _written_back(items: list[tuple[str, str]], body: bytes) -> bytes:
    """`Message.as_bytes()` of a one-part message compat32 read as these headers and body.

    The generator (compat32, "\\n" line ends) writes a header with raw 8-bit bytes as
    it is, and refolds any other header to 78 columns: one that is a single printable
    line, no longer than that and without a trailing space, comes out unchanged; for any
    other this path is not sure. The body's line ends all become "\\n".
    """
    lines = []
    for name, value in items:
        if value.isascii() and not (
            value.isprintable() and not value.endswith(" ") and len(name) + 2 + len(value) <= 78
        ):
            raise _NotSure
        lines.append(f"{name}: {value}\n")
    head = "".join(lines).encode("ascii", "surrogateescape")
    return head + b"\n" + LINE_END.sub(b"\n", body)
