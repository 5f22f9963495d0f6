"""Mail shaped like real clients' (Thunderbird, Outlook, Gmail, Apple Mail, old webmails),
written here byte by byte, with what a reader must get out of each.

Every case is a raw RFC 5322 message with CRLF line ends, as an IMAP server returns it.
This module is the entry point: `corpus()`, `conversation()` and every case by name. The cases
live by kind in `corpus_charsets`, `corpus_structure`, `corpus_broken` and `corpus_auto`; the
shared builders in `corpus_builders`.
"""

from __future__ import annotations

from tests.mail.corpus_auto import auto_replies
from tests.mail.corpus_broken import (
    broken_base64,
    broken_mime_no_boundary,
    enormous_line,
    garbage,
    no_message_id,
    nul_bytes,
)
from tests.mail.corpus_builders import CENTRE, POLISH, Case, crlf, mime
from tests.mail.corpus_charsets import (
    base64_utf8,
    iso_8859_2_qp,
    raw_8bit_headers,
    unknown_charset,
    utf8_thunderbird,
    windows_1250_8bit,
)
from tests.mail.corpus_structure import (
    apple_mail_inline,
    forwarded_message,
    html_only,
    outlook_alternative_with_attachments,
    rfc2231_continuation,
)

__all__ = [
    "CENTRE",
    "POLISH",
    "Case",
    "apple_mail_inline",
    "auto_replies",
    "base64_utf8",
    "broken_base64",
    "broken_mime_no_boundary",
    "conversation",
    "corpus",
    "crlf",
    "enormous_line",
    "forwarded_message",
    "garbage",
    "html_only",
    "iso_8859_2_qp",
    "no_message_id",
    "nul_bytes",
    "outlook_alternative_with_attachments",
    "raw_8bit_headers",
    "rfc2231_continuation",
    "unknown_charset",
    "utf8_thunderbird",
    "windows_1250_8bit",
]


def corpus() -> list[Case]:
    """Every case once."""
    return [
        utf8_thunderbird(),
        iso_8859_2_qp(),
        windows_1250_8bit(),
        raw_8bit_headers(),
        base64_utf8(),
        html_only(),
        outlook_alternative_with_attachments(),
        rfc2231_continuation(),
        unknown_charset(),
        broken_mime_no_boundary(),
        broken_base64(),
        enormous_line(),
        no_message_id(),
        apple_mail_inline(),
        forwarded_message(),
        *auto_replies(),
        garbage(),
        nul_bytes(),
    ]


def conversation(sender: str = "maria@example.pl") -> list[bytes]:
    tag = sender.split("@")[0]
    first = mime(
        f"""
From: Maria <{sender}>
To: {CENTRE}
Subject: Wynajem sali na spotkanie
Message-ID: <thread-1.{tag}@example.pl>
Content-Type: text/plain; charset=utf-8
""",
        "Czy sala jest wolna w sobotę?\r\n".encode(),
    )
    second = mime(
        f"""
From: Maria <{sender}>
To: {CENTRE}
Subject: Re: Wynajem sali na spotkanie
Message-ID: <thread-2.{tag}@example.pl>
In-Reply-To: <thread-1.{tag}@example.pl>
References: <thread-1.{tag}@example.pl>
Content-Type: text/plain; charset=utf-8
""",
        b"Jeszcze jedno pytanie.\r\n",
    )
    third = mime(
        f"""
From: Maria <{sender}>
To: {CENTRE}
Subject: Odp: RE: Wynajem sali  na spotkanie
Message-ID: <thread-3.{tag}@example.pl>
Content-Type: text/plain; charset=utf-8
""",
        "Mój program poczty zgubił nagłówki.\r\n".encode(),
    )
    return [first, second, third]
