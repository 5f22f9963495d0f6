"""Corpus cases of broken or odd mail: a missing MIME boundary, bad base64, an enormous
line, no Message-ID, garbage and NUL bytes."""

from __future__ import annotations

import base64

from tests.mail.corpus_builders import CENTRE, Case, mime


def broken_mime_no_boundary() -> Case:
    raw = mime(
        f"""
From: marek@example.pl
To: {CENTRE}
Subject: Zepsuta wiadomość
Message-ID: <broken@example.pl>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="nie-ma-takiej-granicy"
""",
        "Ta wiadomość twierdzi, że ma części, ale ich nie ma. Żółty.\r\n".encode(),
    )
    return Case(
        "broken_mime_no_boundary",
        raw,
        "Zepsuta wiadomość",
        ("Ta wiadomość twierdzi, że ma części, ale ich nie ma. Żółty.",),
        "marek@example.pl",
        problem=True,
    )


def broken_base64() -> Case:
    raw = mime(
        f"""
From: piotr@example.pl
To: {CENTRE}
Subject: Uszkodzony base64
Message-ID: <bad-b64@example.pl>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: base64
""",
        base64.b64encode("Dzień dobry, część treści.".encode())[:-3] + b"!!*\r\n",
    )
    return Case(
        "broken_base64",
        raw,
        "Uszkodzony base64",
        ("Dzień dobry",),
        "piotr@example.pl",
        problem=True,
    )


def enormous_line() -> Case:
    line = ("Bardzo długa linia bez końca ż " * 4000)[:100_000]
    raw = mime(
        f"""
From: dlugo@example.pl
To: {CENTRE}
Subject: Długa linia
Message-ID: <long-line@example.pl>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit
""",
        line.encode() + b"\r\nKoniec.\r\n",
    )
    return Case("enormous_line", raw, "Długa linia", (line[:5000], "Koniec."), "dlugo@example.pl")


def no_message_id() -> Case:
    raw = mime(
        f"""
From: bez.id@example.pl
To: {CENTRE}
Subject: Bez identyfikatora
Date: Sat, 06 Dec 2025 10:00:00 +0100
Content-Type: text/plain; charset=utf-8
""",
        "Wiadomość bez Message-ID.\r\n".encode(),
    )
    return Case(
        "no_message_id",
        raw,
        "Bez identyfikatora",
        ("Wiadomość bez Message-ID.",),
        "bez.id@example.pl",
    )


def garbage() -> Case:
    raw = b"\x00\xff\xfe not a message at all \x80\x81\r\n\r\n\xc5\xbc\xc3\xb3\xc5\x82w\r\n"
    return Case(
        "garbage", raw, "", ("not a message at all",), "", automatic="no-sender", problem=True
    )


def nul_bytes() -> Case:
    raw = mime(
        f"""
From: nul@example.pl
To: {CENTRE}
Subject: Zero
Message-ID: <nul@example.pl>
Content-Type: text/plain; charset=utf-8
""",
        b"Przed\x00po zerze.\r\n",
    )
    # Dovecot hands NUL out as 0x80; the parser drops NUL itself.
    return Case("nul_bytes", raw, "Zero", ("Przed", "po zerze."), "nul@example.pl")
