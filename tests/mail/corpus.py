"""Mail shaped like real clients' (Thunderbird, Outlook, Gmail, Apple Mail, old webmails),
written here byte by byte, with what a reader must get out of each.

Every case is a raw RFC 5322 message with CRLF line ends, as an IMAP server returns it.
"""

from __future__ import annotations

import base64
import quopri
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage

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


def _mime(headers: str, body: bytes) -> bytes:
    return crlf(headers.strip("\n") + "\n\n") + body


def _b64_lines(data: bytes) -> bytes:
    encoded = base64.b64encode(data)
    return b"\r\n".join(encoded[i : i + 76] for i in range(0, len(encoded), 76)) + b"\r\n"


def _percent(char: str) -> str:
    return "".join(f"%{b:02X}" for b in char.encode())


def _word(text: str, charset: str, encoding: str = "B", actual: str | None = None) -> str:
    """An RFC 2047 encoded word labelled `charset` (the bytes are in `actual` if given)."""
    data = text.encode(actual or charset)
    if encoding == "B":
        return f"=?{charset}?B?{base64.b64encode(data).decode()}?="
    quoted = quopri.encodestring(data, header=True).decode().replace("?", "=3F")
    return f"=?{charset}?Q?{quoted}?="


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
    raw = _mime(
        f"""
From: =?ISO-8859-2?Q?J=F3zef_Kowalczyk?= <jozef@poczta.example.pl>
To: {CENTRE}
Subject: {_word("Zgłoszenie: świetlica", "iso-8859-2", "Q")}
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
    raw = _mime(
        f"""
From: {_word("Halina Żak", "windows-1250")} <halina@example.com.pl>
To: {CENTRE}
Subject: {_word("Prośba o salę – październik", "windows-1250")}
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
    raw = _mime(
        f"""
From: "Kowalski, Jan" <jan.kowalski@example.org>
To: {CENTRE}
Subject: {_word("Wniosek o dofinansowanie – część 2", "utf-8")}
Message-ID: <b64@example.org>
Date: Thu, 04 Dec 2025 09:30:00 +0000
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: base64
""",
        _b64_lines(f"Dzień dobry,\n{POLISH}.\n".encode()),
    )
    return Case(
        "base64_utf8",
        raw,
        "Wniosek o dofinansowanie – część 2",
        (POLISH,),
        "jan.kowalski@example.org",
    )


def html_only() -> Case:
    html = (
        "<html><head><style>p{color:red}</style><script>alert(1)</script></head><body>"
        "<p>Dzień dobry,</p><p>chciałabym zapisać córkę na <b>zajęcia taneczne</b>.</p>"
        "<ul><li>wiek: 9 lat</li><li>dni: wtorek&nbsp;i czwartek</li></ul>"
        '<p onclick="steal()">Pozdrawiam<br>Ewa Nowak</p></body></html>'
    )
    raw = _mime(
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
        _mime(
            f"""
From: =?utf-8?B?{base64.b64encode("Koło Gospodyń Wiejskich".encode()).decode()}?= <kgw@example.pl>
To: {_word("Ośrodek", "utf-8")} <{CENTRE}>
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
        + _b64_lines(plain)
        + crlf(
            """
------=_alt_002
Content-Type: text/html; charset="utf-8"
Content-Transfer-Encoding: base64

"""
        )
        + _b64_lines(html)
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
        + _b64_lines(pdf)
        + crlf(
            f"""
------=_mixed_001
Content-Type: application/vnd.openxmlformats-officedocument.wordprocessingml.document
Content-Disposition: attachment; filename="{_word("Budżet inicjatywy.docx", "utf-8")}"
Content-Transfer-Encoding: base64

"""
        )
        + _b64_lines(docx)
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
    raw = _mime(
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


def unknown_charset() -> Case:
    raw = _mime(
        f"""
From: {_word("Bożena", "x-mac-ce-unknown", "Q", "cp1250")} <bozena@example.pl>
To: {CENTRE}
Subject: {_word("Zaświadczenie – ważne", "x-unknown-polish", actual="utf-8")}
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


def broken_mime_no_boundary() -> Case:
    raw = _mime(
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
    raw = _mime(
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
    raw = _mime(
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
    raw = _mime(
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


def apple_mail_inline() -> Case:
    raw = _mime(
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
    raw = _mime(
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


def _auto(name: str, extra: str, sender: str, reason: str) -> Case:
    raw = _mime(
        f"""
From: {sender}
To: {CENTRE}
Subject: Automatyczna odpowiedź: nieobecność
Message-ID: <{name}@example.pl>
{extra}
Content-Type: text/plain; charset=utf-8
""",
        "Jestem na urlopie do poniedziałku.\r\n".encode(),
    )
    return Case(
        name,
        raw,
        "Automatyczna odpowiedź: nieobecność",
        ("Jestem na urlopie do poniedziałku.",),
        sender.split("<")[-1].strip(">").lower(),
        automatic=reason,
    )


def auto_replies() -> list[Case]:
    return [
        _auto(
            "auto-submitted", "Auto-Submitted: auto-replied", "urlop@example.pl", "auto-submitted"
        ),
        _auto("x-autoreply", "X-Autoreply: yes", "urlop2@example.pl", "autoreply"),
        _auto("precedence-bulk", "Precedence: bulk", "news@example.pl", "precedence-bulk"),
        _auto("precedence-list", "Precedence: list", "lista@example.pl", "precedence-list"),
        _auto("precedence-junk", "Precedence: junk", "smieci@example.pl", "precedence-junk"),
        _auto("daemon", "", "MAILER-DAEMON@mx.example.pl", "mailer-daemon"),
        _auto("noreply", "", "Allegro <no-reply@allegro.example>", "no-reply"),
    ]


def garbage() -> Case:
    raw = b"\x00\xff\xfe not a message at all \x80\x81\r\n\r\n\xc5\xbc\xc3\xb3\xc5\x82w\r\n"
    return Case(
        "garbage", raw, "", ("not a message at all",), "", automatic="no-sender", problem=True
    )


def nul_bytes() -> Case:
    raw = _mime(
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


@dataclass
class Thread:
    """A conversation: a question, a reply with headers, a reply that lost them."""

    messages: list[bytes] = field(default_factory=list)


def conversation(sender: str = "maria@example.pl") -> list[bytes]:
    tag = sender.split("@")[0]
    first = _mime(
        f"""
From: Maria <{sender}>
To: {CENTRE}
Subject: Wynajem sali na spotkanie
Message-ID: <thread-1.{tag}@example.pl>
Content-Type: text/plain; charset=utf-8
""",
        "Czy sala jest wolna w sobotę?\r\n".encode(),
    )
    second = _mime(
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
    third = _mime(
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
