"""The compiled fast path of MIME parsing gives the record the stdlib path gives.

A message the fast path is not sure of goes to the stdlib path; either way the stored
e-mail (text, HTML, headers, addresses, files, problems) must be the same.
"""

from __future__ import annotations

import base64
import dataclasses
import random
from email.parser import BytesParser
from email.utils import getaddresses
from typing import Any

import pytest

from bot.mail.parse import RAW_HEADERS, _simple_address, parse_mail, parse_mail_stdlib
from bot.mail.parse_fast import parse_fast, top_headers
from tests.mail import corpus

CASES = corpus.corpus()
CAP = 1_000_000
# Shapes the fast path reads itself; the rest are left to the stdlib path.
FAST = {c.name for c in CASES} - {
    "broken_mime_no_boundary",  # a multipart without its parts
    "broken_base64",  # the compiled parser refuses it; the stdlib path salvages it
    "garbage",  # no header block
}


def stored(raw: bytes, *, stdlib: bool = False) -> dict[str, Any]:
    parse = parse_mail_stdlib if stdlib else parse_mail
    return dataclasses.asdict(parse(raw, max_attachment_bytes=CAP))


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_parse_mail_fast_path_and_stdlib_path_store_the_same(case: corpus.Case) -> None:
    assert stored(case.raw) == stored(case.raw, stdlib=True)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_parse_fast_reads_well_formed_shapes_and_leaves_the_rest(case: corpus.Case) -> None:
    assert (parse_fast(case.raw, CAP) is not None) == (case.name in FAST)


def _with_part(headers: bytes, body: bytes, *, close: bool = True) -> bytes:
    return (
        b"From: Anna <anna@example.pl>\r\nTo: bot@lokalnie.test\r\nSubject: Pliki\r\n"
        b"Message-ID: <variant@example.pl>\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n'
        b"--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nW za\xc5\x82\xc4\x85czniku.\r\n"
        b"--b1\r\n" + headers + b"\r\n" + body + (b"\r\n--b1--\r\n" if close else b"\r\n")
    )


PDF = base64.b64encode(b"%PDF-1.4 zgoda")


def _pdf(disposition: bytes, body: bytes = PDF) -> bytes:
    headers = (
        b"Content-Type: application/pdf\r\nContent-Disposition: "
        + disposition
        + b"\r\nContent-Transfer-Encoding: base64\r\n"
    )
    return _with_part(headers, body)


VARIANTS = {
    "raw_utf8_filename": _pdf('attachment; filename="Budżet.pdf"'.encode()),
    "raw_cp1250_filename": _pdf('attachment; filename="Budżet.pdf"'.encode("cp1250")),
    "encoded_word_filename_latin2": _pdf(b'attachment; filename="=?iso-8859-2?Q?Bud=BFet.pdf?="'),
    "encoded_word_filename_cp1250_folded": _pdf(
        b'attachment;\r\n filename="=?windows-1250?Q?Bud=BFet_=9Cwi=EAta.pdf?="'
    ),
    "encoded_word_filename_latin1": _pdf(b'attachment; filename="=?iso-8859-1?Q?=80uro.pdf?="'),
    "rfc2231_filename": _pdf(b"attachment; filename*=utf-8''Bud%C5%BCet.pdf"),
    "base64_stray_characters": _pdf(b"attachment", PDF[:4] + b"!*" + PDF[4:]),
    "base64_without_padding": _pdf(b"attachment", PDF.rstrip(b"=") + b"Q"),
    "body_right_after_part_headers": _with_part(
        b"Content-Type: text/plain\r\nDzie\xc5\x84 dobry\r\n", b"tre\xc5\x9b\xc4\x87"
    ),
    "no_closing_boundary": _with_part(b"Content-Type: text/plain\r\n", b"koniec", close=False),
    "uuencoded": _with_part(
        b"Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: x-uuencode\r\n",
        b"begin 644 a.txt\r\n#86)C\r\n`\r\nend",
    ),
    "unix_from_line": b"From anna@example.pl Mon Dec  1 10:00:00 2025\r\n"
    + corpus.utf8_thunderbird().raw,
    "lone_cr_in_headers": corpus.utf8_thunderbird().raw.replace(b"\r\nTo:", b"\rTo:", 1),
    "folded_headers": corpus.utf8_thunderbird().raw.replace(b"Subject: ", b"Subject:\r\n  \t", 1),
}


@pytest.mark.parametrize("raw", VARIANTS.values(), ids=VARIANTS.keys())
def test_parse_mail_fast_path_and_stdlib_path_agree_on_awkward_variants(raw: bytes) -> None:
    assert stored(raw) == stored(raw, stdlib=True)


def test_parse_mail_damaged_base64_still_reported_with_fast_path() -> None:
    mail = parse_mail(VARIANTS["base64_stray_characters"])
    assert mail.parse_error == "damaged base64 (decoded what was readable)"
    assert mail.raw == VARIANTS["base64_stray_characters"]


def test_parse_fast_quoted_printable_trailing_spaces_dropped_as_rfc_2045_says() -> None:
    raw = _with_part(
        b"Content-Type: text/plain; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: quoted-printable\r\n",
        b"Zapisz=C4=99 si=C4=99   \r\nna warsztaty",
    )
    assert parse_fast(raw, CAP) is not None
    fast = parse_mail(raw)
    slow = parse_mail_stdlib(raw)
    assert "Zapiszę się\nna warsztaty" in fast.text
    assert [line.rstrip() for line in fast.text.splitlines()] == [
        line.rstrip() for line in slow.text.splitlines()
    ]


ADDRESS_FORMS = [
    "anna@example.pl",
    "  anna@example.pl\t",
    "Anna Nowak <anna@example.pl>",
    "Anna   Nowak<anna@example.pl>",
    '"Nowak, Anna" <anna@example.pl>',
    '"" <anna@example.pl>',
    "J. Nowak <j.nowak@example.pl>",
    "=?utf-8?B?S2/Fgm8gR29zcG9kecWE?= <kgw@example.pl>",
    "o'brien <o'brien@example.ie>",
    "Anna <anna@example.pl> (biuro)",
    "anna@example.pl, jan@example.pl",
    "<anna@example.pl>",
    ".anna@example.pl",
    "anna..nowak@example.pl",
    'a"b <x@example.pl>',
]


@pytest.mark.parametrize("value", ADDRESS_FORMS)
def test_simple_address_same_as_getaddresses_or_declines(value: str) -> None:
    found = _simple_address(value)
    assert found is None or found == getaddresses([value])


def test_simple_address_same_as_getaddresses_on_random_strings() -> None:
    pieces = ["a", "b.", "Jan", " ", "\t", "@", "<", ">", '"', ",", ".", "x@y.pl", "=?q?", "("]
    pieces.append("\\")
    rng = random.Random(5)
    checked = 0
    for _ in range(20_000):
        value = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 8)))
        found = _simple_address(value)
        if found is not None:
            checked += 1
            assert found == getaddresses([value]), value
    assert checked > 100


def test_top_headers_same_as_compat32_or_declines_on_random_blocks() -> None:
    pieces = [b"From", b"Subject", b":", b" ", b"\t", b"\r\n", b"\n", b"\r", b"a", b"X-Y"]
    pieces += [b"\xc5\xbc", b"=?utf-8?q?a?=", b"\r\n ", b"\n\t", b";", b"\x00", b"\r\n\r\n"]
    rng = random.Random(11)
    read = 0
    for _ in range(5000):
        raw = b"".join(rng.choice(pieces) for _ in range(rng.randint(1, 14)))
        raw = (b"From: a\r\n" if rng.random() < 0.5 else b"") + raw + b"\r\n\r\nbody"
        items = top_headers(raw)
        if items is not None:
            read += 1
            message = BytesParser(policy=RAW_HEADERS).parsebytes(raw)
            assert items == list(message.raw_items()), raw
    assert read > 500


def _forwarding(part_headers: bytes, inner: bytes, end: bytes = b"\r\n--fw--\r\n") -> bytes:
    return (
        b"From: sekretariat@example.pl\r\nTo: bot@lokalnie.test\r\nSubject: PD: Pytanie\r\n"
        b"Message-ID: <fwd-variant@example.pl>\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="fw"\r\n\r\n'
        b"--fw\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nPrzesy\xc5\x82am dalej.\r\n"
        b"--fw\r\n" + part_headers + b"\r\n" + inner + end
    )


INNER = corpus.utf8_thunderbird(7).raw
RFC822 = b"Content-Type: message/rfc822\r\n"
FORWARDED = {
    "plain": (_forwarding(RFC822, INNER), True),
    "named": (_forwarding(b'Content-Type: message/rfc822; name="fw.eml"\r\n', INNER), True),
    "raw_8bit_subject": (_forwarding(RFC822, b"Subject: Pro\x9cba\r\n\r\nTre\x9c\xe6\r\n"), True),
    "bare_line_ends_in_body": (_forwarding(RFC822, b"Subject: a\r\n\r\nx\ny\rz\r\n"), True),
    "no_body": (_forwarding(RFC822, b"Subject: a\r\n\r\n"), True),
    "long_header_refolded": (_forwarding(RFC822, b"Subject: " + b"a " * 40 + b"\r\n\r\nx"), False),
    "folded_header": (_forwarding(RFC822, b"Subject: a\r\n b\r\n\r\nx"), False),
    "trailing_space": (_forwarding(RFC822, b"Subject: a \r\n\r\nx"), False),
    "tab_in_header": (_forwarding(RFC822, b"Subject: a\tb\r\n\r\nx"), False),
    "inner_multipart": (_forwarding(RFC822, corpus.apple_mail_inline().raw), False),
    "base64_encoded": (
        _forwarding(RFC822 + b"Content-Transfer-Encoding: base64\r\n", b"U3ViamVjdDogYQ0KDQp4"),
        False,
    ),
    "lone_cr_before_boundary": (
        _forwarding(RFC822, b"Subject: a\r\n\r\nx", b"\r--fw--\r\n"),
        False,
    ),
    "text_before_boundary": (_forwarding(RFC822, b"Subject: a\r\n\r\nx", b"y--fw--\r\n"), False),
    "boundary_in_text": (_forwarding(RFC822, b"Subject: a\r\n\r\nsee --fw above"), False),
}


@pytest.mark.parametrize(("raw", "fast"), FORWARDED.values(), ids=FORWARDED.keys())
def test_parse_mail_forwarded_message_same_on_both_paths(raw: bytes, fast: bool) -> None:
    assert stored(raw) == stored(raw, stdlib=True)
    assert (parse_fast(raw, CAP) is not None) == fast


def test_parse_mail_forwarded_messages_same_on_both_paths_on_random_shapes() -> None:
    rng = random.Random(13)
    names = [b"From", b"Subject", b"subject", b"X-Long", b"Content-Type", b"MIME-Version"]
    values = [b"Zofia <z@example.pl>", b"a b  c", b"tail ", b"\xc5\xbc\xc3\xb3\xc5\x82w", b""]
    values += [b"x" * 60, b"x" * 70, b"y\r\n z", b"text/plain; charset=utf-8", b"image/png"]
    values += [b"multipart/mixed; boundary=x", b"message/rfc822", b"  lead"]
    bodies = [b"Dzie\xc5\x84 dobry\r\n", b"a\r\nb\nc\rd", b"", b"line\r\n\r\n", b"--fw\r\n"]
    ends = [b"\r\n--fw--\r\n", b"\n--fw--\r\n", b"\r--fw--", b"--fw--\r\n"]
    fast = 0
    for _ in range(600):
        headers = [rng.choice(names) + b": " + rng.choice(values) for _ in range(rng.randint(0, 5))]
        body = b"".join(rng.choice(bodies) for _ in range(rng.randint(0, 3)))
        inner = b"".join(h + b"\r\n" for h in headers) + b"\r\n" + body
        raw = _forwarding(RFC822, inner, rng.choice(ends))
        assert stored(raw) == stored(raw, stdlib=True), raw
        fast += parse_fast(raw, CAP) is not None
    assert fast > 50
