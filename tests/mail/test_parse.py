"""MIME -> record on a corpus of real clients' shapes: every case read, nothing lost."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import pytest

from bot.mail import headers, parse
from bot.mail.headers import decode_header_value
from bot.mail.parse import parse_mail
from handlers.mailbox.events import SYNTHETIC_ID_DOMAIN, Address
from handlers.mailbox.subjects import bare_subject, reply_subject, subject_key
from tests.mail import corpus

CASES = corpus.corpus()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_parse_mail_real_client_shapes_give_subject_text_sender_and_files(
    case: corpus.Case,
) -> None:
    mail = parse_mail(case.raw, max_attachment_bytes=1_000_000)

    assert mail.subject == case.subject
    for fragment in case.text:
        assert fragment in mail.text
    assert mail.sender.address == case.sender
    assert tuple(a.filename for a in mail.attachments) == case.attachments
    assert mail.automatic == case.automatic
    assert (mail.parse_error is not None) == case.problem
    # What could not be read completely keeps its bytes.
    assert (mail.raw == case.raw) if case.problem else mail.raw is None
    if case.message_id:
        assert mail.message_id == case.message_id
    assert "\x00" not in mail.text


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_parse_mail_same_bytes_twice_same_message_id(case: corpus.Case) -> None:
    assert parse_mail(case.raw).message_id == parse_mail(bytes(case.raw)).message_id


def test_parse_mail_without_message_id_gets_stable_synthetic_id() -> None:
    raw = corpus.no_message_id().raw
    first = parse_mail(raw).message_id
    assert first.endswith(SYNTHETIC_ID_DOMAIN)
    assert parse_mail(raw.replace(b"\r\n", b"\n")).message_id == first
    other = raw.replace("Wiadomość".encode(), "Inna wiadomość".encode())
    assert parse_mail(other).message_id != first


def test_parse_mail_html_only_text_readable_and_html_sanitised() -> None:
    mail = parse_mail(corpus.html_only().raw)
    assert mail.html is not None
    assert "<script" not in mail.html and "onclick" not in mail.html
    assert "alert(1)" not in mail.text and "color:red" not in mail.text
    assert "dni: wtorek i czwartek" in mail.text.replace("\xa0", " ")


def test_parse_mail_outlook_attachments_kept_with_hash_and_auth_verdicts() -> None:
    mail = parse_mail(corpus.outlook_alternative_with_attachments().raw)
    pdf, docx = mail.attachments
    assert pdf.content_type == "application/pdf"
    assert pdf.content is not None and pdf.content.startswith(b"%PDF-1.4")
    assert pdf.size == len(pdf.content) and pdf.sha256 and len(pdf.sha256) == 64
    assert docx.content is not None and docx.content.startswith(b"PK")
    assert mail.auth == {"mx.lokalnie.test": {"spf": "pass", "dkim": "pass", "dmarc": "pass"}}
    assert [a.address for a in mail.cc] == ["sekretariat@example.pl"]
    assert mail.sender.name == "Koło Gospodyń Wiejskich"
    assert mail.html is not None and "<p>" in mail.html
    # The plain alternative is the text, not the HTML converted.
    assert mail.text.startswith("Dzień dobry,\n\nw załączniku wniosek.")


def test_parse_mail_attachment_over_cap_listed_but_not_kept() -> None:
    mail = parse_mail(corpus.outlook_alternative_with_attachments().raw, max_attachment_bytes=2000)
    pdf, docx = mail.attachments
    assert pdf.content is None and pdf.skipped == "too_large" and pdf.size > 2000
    assert docx.content is not None and docx.skipped is None


def test_parse_mail_reply_headers_give_in_reply_to_and_references() -> None:
    _first, second, _third = corpus.conversation()
    mail = parse_mail(second)
    assert mail.in_reply_to == "thread-1.maria@example.pl"
    assert mail.references == ["thread-1.maria@example.pl"]


def test_parse_mail_enormous_line_kept_whole() -> None:
    case = corpus.enormous_line()
    mail = parse_mail(case.raw)
    assert len(mail.text.splitlines()[0]) == 100_000


def test_parse_mail_display_name_with_comma_stays_one_address() -> None:
    mail = parse_mail(corpus.base64_utf8().raw)
    assert mail.sender.name == "Kowalski, Jan"
    assert [a.address for a in mail.to] == [corpus.CENTRE]


def test_parse_mail_internal_error_keeps_raw_and_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(raw: bytes, limit: int) -> None:
        raise RuntimeError("parser bug")

    monkeypatch.setattr(parse, "read_message", explode)
    raw = corpus.windows_1250_8bit().raw
    mail = parse_mail(raw)
    assert mail.raw == raw
    assert mail.parse_error == "RuntimeError: parser bug"
    assert mail.message_id == "cp1250@example.com.pl"
    assert mail.subject == "Prośba o salę – październik"
    assert mail.automatic == "unparsed"


def test_decode_header_value_utf8_split_across_words_joined() -> None:
    # "ż" is c5 bc: some mailers put the two bytes into two encoded words.
    assert decode_header_value("=?utf-8?Q?Wa=C5?= =?utf-8?Q?=BCne?=") == "Ważne"
    assert decode_header_value("=?utf-8?Q?a?= b =?utf-8?Q?c?=") == "a b c"
    assert decode_header_value("Re: =?iso-8859-2?Q?=A3=F3d=BC?=\r\n suffix") == "Re: Łódź suffix"


def test_decode_header_value_broken_word_left_as_text() -> None:
    assert decode_header_value("=?utf-8?B?***?= plain") == "=?utf-8?B?***?= plain"


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Re: Wynajem sali", "Wynajem sali"),
        ("Odp: RE: Wynajem  sali", "Wynajem sali"),
        ("PD: Fwd: Wynajem sali", "Wynajem sali"),
        ("RE[2]: Wynajem sali", "Wynajem sali"),
        ("Fw: Re: odp: Wynajem sali", "Wynajem sali"),
        ("Recital fortepianowy", "Recital fortepianowy"),
    ],
)
def test_bare_subject_reply_prefixes_removed(subject: str, expected: str) -> None:
    assert bare_subject(subject) == expected
    assert subject_key(subject) == expected.casefold()
    assert reply_subject(subject) == f"Re: {expected}"


@pytest.mark.parametrize("charset", ["utf-8", "cp1250"])
def test_parse_mail_attachment_name_in_raw_8bit_decoded(charset: str) -> None:
    name = 'filename="Budżet – zgoda.pdf"'.encode(charset)
    raw = (
        b"From: anna@example.pl\r\nSubject: Plik\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain\r\n\r\nW za\xc5\x82\xc4\x85czniku.\r\n"
        b"--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; "
        + name
        + b"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQ=\r\n--b--\r\n"
    )
    mail = parse_mail(raw)
    assert [a.filename for a in mail.attachments] == ["Budżet – zgoda.pdf"]
    assert mail.parse_error is None


def test_parse_mail_nul_dropped_and_line_ends_kept_in_one_enormous_line() -> None:
    raw = corpus.enormous_line().raw.replace(b"\r\nKoniec.", b"\x00\r\nx\r\r\nKoniec.")
    line = corpus.enormous_line().text[0][:10]
    mail = parse_mail(raw)
    assert mail.text.startswith(line) and len(mail.text.splitlines()[0]) == 100_000
    assert mail.text.endswith("ko\nx\r\nKoniec.\n") and "\x00" not in mail.text


def _utc_reference(text: str) -> datetime | None:
    """What `parse_date` gives: `parsedate_to_datetime` in UTC, an unknown zone as UTC."""
    try:
        moment = parsedate_to_datetime(text)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def test_parse_date_same_as_parsedate_to_datetime_in_utc() -> None:
    rng = random.Random(5)
    for _ in range(3000):
        day = rng.choice(["1", "01", "31", "29", "30"])
        month = rng.choice(["Jan", "Feb", "Dec", "jan"])
        year = rng.choice(["2025", "2024", "0001", "9999", "0068", "69"])
        clock = ":".join(rng.choice(["00", "23", "24", "59", "60"]) for _ in range(3))
        zone = rng.choice("+-") + rng.choice(["00", "01", "14", "24"]) + rng.choice(["00", "30"])
        text = f"{rng.choice(['Mon, ', ''])}{day} {month} {year} {clock} {zone}"
        moment = headers.parse_date(text)
        assert moment == _utc_reference(text), text
        assert moment is None or moment.tzinfo is UTC, text


ADDRESS_HEADERS = [
    (["a@b.pl, C@D.pl"], [Address("", "a@b.pl"), Address("", "c@d.pl")]),
    (
        ['"Kowalska, Anna" <anna@x.pl>, Jan <jan@y.pl>, bez adresu'],
        [Address("Kowalska, Anna", "anna@x.pl"), Address("Jan", "jan@y.pl")],
    ),
    (["Undisclosed recipients:;"], []),
    (["a@b.pl", "nazwa", "c@d.pl"], [Address("", "a@b.pl"), Address("", "c@d.pl")]),
    (["=?utf-8?q?=C5=81ukasz?= <l@x.pl>, <>"], [Address("Łukasz", "l@x.pl")]),
    (["zepsuty <<a@b.pl>"], [Address("zepsuty", ""), Address("", "a@b.pl")]),
]


@pytest.mark.parametrize(("values", "expected"), ADDRESS_HEADERS)
def test_parse_addresses_of_several_mailboxes(values: list[str], expected: list[Address]) -> None:
    assert headers.parse_addresses(values) == expected


def test_parse_mail_picture_inside_alternative_and_footer_after_it_both_kept() -> None:
    raw = (
        b"From: lista@example.pl\r\nSubject: Biuletyn\r\nMessage-ID: <footer@example.pl>\r\n"
        b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="m"\r\n\r\n'
        b'--m\r\nContent-Type: multipart/alternative; boundary="a"\r\n\r\n'
        b"--a\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nTre\xc5\x9b\xc4\x87 listu\r\n"
        b"--a\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Tre\xc5\x9b\xc4\x87</p>\r\n"
        b'--a\r\nContent-Type: image/png; name="logo.png"\r\nContent-Transfer-Encoding: base64'
        b"\r\n\r\niVBORw0KGgo=\r\n--a--\r\n"
        b"--m\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nStopka listy\r\n--m--\r\n"
    )
    mail = parse_mail(raw)
    assert mail.text == "Treść listu\n\nStopka listy"
    assert [a.filename for a in mail.attachments] == ["logo.png"]
    assert mail.html is not None and "<p>" in mail.html
    assert mail.parse_error is None
