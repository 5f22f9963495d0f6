"""The shared parts of the test mail corpus (`tests.mail.corpus`): what a case is, and the
small builders that write raw RFC 5322 messages with CRLF line ends, as an IMAP server returns them.
"""

from __future__ import annotations

import base64
import quopri
from dataclasses import dataclass

POLISH = "Zażółć gęślą jaźń, Łódź, Świnoujście, Gdańsk"
CENTRE = "bot@lokalnie.test"


@dataclass(frozen=True)
class Case:
    name: str
    raw: bytes
    subject: str
    text: tuple[str, ...]
    sender: str = ""
    attachments: tuple[str, ...] = ()
    automatic: str | None = None
    problem: bool = False
    message_id: str | None = None


def crlf(text: str) -> bytes:
    return text.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8")


def mime(headers: str, body: bytes) -> bytes:
    return crlf(headers.strip("\n") + "\n\n") + body


def b64_lines(data: bytes) -> bytes:
    encoded = base64.b64encode(data)
    return b"\r\n".join(encoded[i : i + 76] for i in range(0, len(encoded), 76)) + b"\r\n"


def encoded_word(text: str, charset: str, encoding: str = "B", actual: str | None = None) -> str:
    """An RFC 2047 encoded word labelled `charset` (the bytes are in `actual` if given)."""
    data = text.encode(actual or charset)
    if encoding == "B":
        return f"=?{charset}?B?{base64.b64encode(data).decode()}?="
    quoted = quopri.encodestring(data, header=True).decode().replace("?", "=3F")
    return f"=?{charset}?Q?{quoted}?="
