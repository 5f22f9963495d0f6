"""Corpus cases about MIME structure: HTML only, Outlook's alternative with attachments,
RFC 2231 file names, Apple Mail's inline parts and a forwarded message."""

from __future__ import annotations

import base64
import quopri

from tests.mail.corpus_builders import (
    CENTRE,
    POLISH,
    Case,
    b64_lines,
    crlf,
    encoded_word,
    mime,
)
from tests.mail.corpus_charsets import utf8_thunderbird


def html_only() -> Case:
    html = (
        "<html><head><style>p{color:red}</style><script>alert(1)</script></head><body>"
        "<p>Dzień dobry,</p><p>chciałabym zapisać córkę na <b>zajęcia taneczne</b>.</p>"
        "<ul><li>wiek: 9 lat</li><li>dni: wtorek&nbsp;i czwartek</li></ul>"
        '<p onclick="steal()">Pozdrawiam<br>Ewa Nowak</p></body></html>'
    )
    raw = mime(
        f"""
From: Ewa Nowak <ewa.nowak@example.pl>
To: {CENTRE}
Subject: Zapisy na taniec
Message-ID: <html-only@example.pl>
MIME-Version: 1.0
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: quoted-printable
""",
        quopri.encodestring(html.encode()).replace(b"\n", b"\r\n"),
    )
    return Case(
        "html_only",
        raw,
        "Zapisy na taniec",
        ("chciałabym zapisać córkę na zajęcia taneczne", "wiek: 9 lat", "Ewa Nowak"),
        "ewa.nowak@example.pl",
    )


def outlook_alternative_with_attachments() -> Case:
    """Outlook: multipart/mixed > alternative (plain + html), RFC 2231 and encoded-word names."""
    plain = f"Dzień dobry,\n\nw załączniku wniosek.\n{POLISH}\n".encode()
    html = f"<p>Dzień dobry,</p><p>w załączniku wniosek.</p><p>{POLISH}</p>".encode()
    pdf = b"%PDF-1.4\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"
    docx = b"PK\x03\x04" + b"\x00\xff" * 500
    name_2231 = "Wniosek – Koło Gospodyń Wiejskich.pdf"
    encoded_2231 = "".join(
        c
        if (c.isascii() and c.isalnum()) or c in ".-"
        else "".join(f"%{b:02X}" for b in c.encode())
        for c in name_2231
    )
    raw = (
        mime(
            f"""
From: =?utf-8?B?{base64.b64encode("Koło Gospodyń Wiejskich".encode()).decode()}?= <kgw@example.pl>
To: {encoded_word("Ośrodek", "utf-8")} <{CENTRE}>
Cc: sekretariat@example.pl
Subject: =?utf-8?Q?Wniosek_KGW_=E2=80=93_do=C5=BCynki?=
Message-ID: <outlook-1@EXCH.example.pl>
Date: Fri, 05 Dec 2025 14:00:00 +0100
Authentication-Results: mx.lokalnie.test; spf=pass smtp.mailfrom=example.pl;
 dkim=pass header.d=example.pl; dmarc=pass header.from=example.pl
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="----=_mixed_001"
""",
            b"",
        )
        + crlf(
            """This is a multi-part message in MIME format.

------=_mixed_001
Content-Type: multipart/alternative; boundary="----=_alt_002"

------=_alt_002
Content-Type: text/plain; charset="utf-8"
Content-Transfer-Encoding: base64

"""
        )
        + b64_lines(plain)
        + crlf(
            """
------=_alt_002
Content-Type: text/html; charset="utf-8"
Content-Transfer-Encoding: base64

"""
        )
        + b64_lines(html)
        + crlf(
            f"""
------=_alt_002--

------=_mixed_001
Content-Type: application/pdf; name="wniosek.pdf"
Content-Disposition: attachment;
 filename*=utf-8''{encoded_2231}
Content-Transfer-Encoding: base64

"""
        )
        + b64_lines(pdf)
        + crlf(
            f"""
------=_mixed_001
Content-Type: application/vnd.openxmlformats-officedocument.wordprocessingml.document
Content-Disposition: attachment; filename="{encoded_word("Budżet inicjatywy.docx", "utf-8")}"
Content-Transfer-Encoding: base64

"""
        )
        + b64_lines(docx)
        + crlf("\n------=_mixed_001--\n")
    )
    return Case(
        "outlook_alternative_with_attachments",
        raw,
        "Wniosek KGW – dożynki",
        ("w załączniku wniosek.", POLISH),
        "kgw@example.pl",
        attachments=(name_2231, "Budżet inicjatywy.docx"),
    )


def rfc2231_continuation() -> Case:
    raw = mime(
        f"""
From: anna@example.pl
To: {CENTRE}
Subject: Skan
Message-ID: <cont@example.pl>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b1"
""",
        crlf(
            """--b1
Content-Type: text/plain; charset=utf-8

W załączniku skan zgody.
--b1
Content-Type: image/jpeg
Content-Disposition: attachment;
 filename*0*=utf-8''Zgoda%20rodzica%20%E2%80%93%20;
 filename*1*=%C5%BCaneta.jpg
Content-Transfer-Encoding: base64

/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAEBAQ==
--b1--
"""
        ),
    )
    return Case(
        "rfc2231_continuation",
        raw,
        "Skan",
        ("W załączniku skan zgody.",),
        "anna@example.pl",
        attachments=("Zgoda rodzica – żaneta.jpg",),
    )


def apple_mail_inline() -> Case:
    raw = mime(
        f"""
From: Kasia <kasia@icloud.example>
To: {CENTRE}
Subject: Zdjęcie z festynu
Message-ID: <apple@icloud.example>
Mime-Version: 1.0 (Mac OS X Mail 16.0)
Content-Type: multipart/mixed; boundary="Apple-Mail=_1"
""",
        crlf(
            """--Apple-Mail=_1
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

Zobaczcie zdj=C4=99cie:

--Apple-Mail=_1
Content-Disposition: inline; filename=festyn.png
Content-Type: image/png; name="festyn.png"
Content-Transfer-Encoding: base64

iVBORw0KGgo=
--Apple-Mail=_1
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

Pozdrawiam, Kasia
--Apple-Mail=_1--
"""
        ),
    )
    return Case(
        "apple_mail_inline",
        raw,
        "Zdjęcie z festynu",
        ("Zobaczcie zdjęcie:", "Pozdrawiam, Kasia"),
        "kasia@icloud.example",
        attachments=("festyn.png",),
    )


def forwarded_message() -> Case:
    inner = utf8_thunderbird(99).raw
    raw = mime(
        f"""
From: sekretariat@example.pl
To: {CENTRE}
Subject: =?utf-8?Q?PD:_Pytanie_o_warsztaty?=
Message-ID: <fwd@example.pl>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="fw"
""",
        crlf("--fw\nContent-Type: text/plain; charset=utf-8\n\nPrzesyłam dalej.\n--fw\n")
        + crlf("Content-Type: message/rfc822\n\n")
        + inner
        + crlf("\n--fw--\n"),
    )
    return Case(
        "forwarded_message",
        raw,
        "PD: Pytanie o warsztaty",
        ("Przesyłam dalej.",),
        "sekretariat@example.pl",
        attachments=("Pytanie o warsztaty ceramiki nr 99.eml",),
    )
