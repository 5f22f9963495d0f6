"""Corpus cases about charsets and transfer encodings: UTF-8, ISO-8859-2, Windows-1250,
raw 8-bit headers, base64 and a charset nobody knows."""

from __future__ import annotations

import quopri
from email import policy
from email.message import EmailMessage

from tests.mail.corpus_builders import CENTRE, POLISH, Case, b64_lines, encoded_word, mime


def utf8_thunderbird(n: int = 1) -> Case:
    message = EmailMessage()
    message["From"] = "Zofia Łukasiewicz <zofia@example.pl>"
    message["To"] = CENTRE
    message["Subject"] = f"Pytanie o warsztaty ceramiki nr {n}"
    message["Message-ID"] = f"<utf8-{n}@example.pl>"
    message["Date"] = "Mon, 01 Dec 2025 10:00:00 +0100"
    message.set_content(f"Dzień dobry,\n\n{POLISH}.\nCzy są wolne miejsca?\n\nZofia\n")
    return Case(
        "utf8_thunderbird",
        message.as_bytes(policy=policy.SMTP),
        f"Pytanie o warsztaty ceramiki nr {n}",
        (POLISH, "Czy są wolne miejsca?"),
        "zofia@example.pl",
        message_id=f"utf8-{n}@example.pl",
    )


def iso_8859_2_qp() -> Case:
    body = quopri.encodestring(f"Witam,\n{POLISH}.\nPozdrawiam, Józef\n".encode("iso-8859-2"))
    raw = mime(
        f"""
From: =?ISO-8859-2?Q?J=F3zef_Kowalczyk?= <jozef@poczta.example.pl>
To: {CENTRE}
Subject: {encoded_word("Zgłoszenie: świetlica", "iso-8859-2", "Q")}
Message-ID: <latin2-qp@poczta.example.pl>
Date: Tue, 02 Dec 2025 08:15:00 +0100
MIME-Version: 1.0
Content-Type: text/plain; charset=ISO-8859-2
Content-Transfer-Encoding: quoted-printable
""",
        body.replace(b"\n", b"\r\n"),
    )
    return Case(
        "iso_8859_2_qp",
        raw,
        "Zgłoszenie: świetlica",
        (POLISH, "Pozdrawiam, Józef"),
        "jozef@poczta.example.pl",
    )


def windows_1250_8bit() -> Case:
    body = f"Szanowni Państwo,\r\n{POLISH}.\r\nZ poważaniem\r\nHalina Żak\r\n".encode("cp1250")
    raw = mime(
        f"""
From: {encoded_word("Halina Żak", "windows-1250")} <halina@example.com.pl>
To: {CENTRE}
Subject: {encoded_word("Prośba o salę – październik", "windows-1250")}
Message-ID: <cp1250@example.com.pl>
Date: Wed, 03 Dec 2025 12:00:00 +0100
MIME-Version: 1.0
Content-Type: text/plain; charset="windows-1250"
Content-Transfer-Encoding: 8bit
""",
        body,
    )
    return Case(
        "windows_1250_8bit",
        raw,
        "Prośba o salę – październik",
        (POLISH, "Halina Żak"),
        "halina@example.com.pl",
    )


def raw_8bit_headers() -> Case:
    """An old webmail that puts Windows-1250 bytes straight into the headers."""
    headers = (
        "From: Stanisław Wójcik <stan@example.pl>\r\n"
        f"To: {CENTRE}\r\n"
        "Subject: Dziękuję za pomoc – źródło\r\n"
        "Message-ID: <raw8bit@example.pl>\r\n"
        "Content-Type: text/plain\r\n"
        "\r\n"
    ).encode("cp1250")
    body = "Treść bez deklaracji kodowania: żółw.\r\n".encode("cp1250")
    return Case(
        "raw_8bit_headers",
        headers + body,
        "Dziękuję za pomoc – źródło",
        ("Treść bez deklaracji kodowania: żółw.",),
        "stan@example.pl",
    )


def base64_utf8() -> Case:
    raw = mime(
        f"""
From: "Kowalski, Jan" <jan.kowalski@example.org>
To: {CENTRE}
Subject: {encoded_word("Wniosek o dofinansowanie – część 2", "utf-8")}
Message-ID: <b64@example.org>
Date: Thu, 04 Dec 2025 09:30:00 +0000
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: base64
""",
        b64_lines(f"Dzień dobry,\n{POLISH}.\n".encode()),
    )
    return Case(
        "base64_utf8",
        raw,
        "Wniosek o dofinansowanie – część 2",
        (POLISH,),
        "jan.kowalski@example.org",
    )


def unknown_charset() -> Case:
    raw = mime(
        f"""
From: {encoded_word("Bożena", "x-mac-ce-unknown", "Q", "cp1250")} <bozena@example.pl>
To: {CENTRE}
Subject: {encoded_word("Zaświadczenie – ważne", "x-unknown-polish", actual="utf-8")}
Message-ID: <unknown-charset@example.pl>
MIME-Version: 1.0
Content-Type: text/plain; charset="x-unknown-polish"
Content-Transfer-Encoding: 8bit
""",
        f"Treść w nieznanym kodowaniu: {POLISH}\r\n".encode(),
    )
    return Case(
        "unknown_charset",
        raw,
        "Zaświadczenie – ważne",
        (f"Treść w nieznanym kodowaniu: {POLISH}",),
        "bozena@example.pl",
    )
