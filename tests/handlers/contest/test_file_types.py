"""Attachments are typed from their bytes: the name and the sender's mime_type are ignored,
the stored name's extension follows the content, and what the contest does not accept is
refused with the list of what it does."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from handlers.core.events import IncomingFile, Kind
from storage import proposals
from tests.handlers.contest.test_proposal import applicant, fill_form
from tests.handlers.contest_fixture import sample_contest
from tests.harness import ChatHarness, texts

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ACCEPTED = ["application/pdf", "image/jpeg", "image/png", DOCX_TYPE, "text/plain"]


def pdf() -> bytes:
    return b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"\x00\x80")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def jpeg() -> bytes:
    # SOI, a JFIF APP0 segment, EOI: what the magic numbers of a JPEG are.
    app0 = b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    return b"\xff\xd8\xff\xe0" + struct.pack(">H", len(app0) + 2) + app0 + b"\xff\xd9"


def docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
            'package/2006/content-types"/>',
        )
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def html() -> bytes:
    return b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"


# (what is sent: name, claimed type, bytes) -> (stored name and type, or None if refused)
CASES = [
    ("plan.pdf", "application/pdf", pdf(), ("plan.pdf", "application/pdf")),
    ("zdjecie.png", "image/png", png(), ("zdjecie.png", "image/png")),
    ("foto.jpg", "image/jpeg", jpeg(), ("foto.jpg", "image/jpeg")),
    ("opis.docx", DOCX_TYPE, docx(), ("opis.docx", DOCX_TYPE)),
    # The name and the claimed type lie; the bytes decide the extension.
    ("skan.pdf", "application/pdf", png(), ("skan.png", "image/png")),
    ("program.html", "text/html", pdf(), ("program.pdf", "application/pdf")),
    (
        "notatki",
        "application/octet-stream",
        "Zażółć gęślą jaźń\n".encode(),
        ("notatki.txt", "text/plain"),
    ),
    # An HTML page sent as a PDF is not a PDF, and is not text the contest wants either.
    ("wniosek.pdf", "application/pdf", html(), None),
    ("archiwum.pdf", "application/pdf", b"PK\x03\x04" + b"\x00" * 40, None),
    ("dane.bin", "application/pdf", bytes(range(256)), None),
]


@pytest.fixture
def contest_harness(harness: ChatHarness) -> ChatHarness:
    services = harness.service.services
    services.contest = sample_contest()
    services.clock = lambda: datetime(2030, 5, 20, 10, 0, tzinfo=UTC)
    return harness


@pytest.mark.parametrize(("name", "claimed", "content", "expected"), CASES)
async def test_attachment_type_from_content(
    contest_harness: ChatHarness,
    name: str,
    claimed: str,
    content: bytes,
    expected: tuple[str, str] | None,
) -> None:
    services = contest_harness.service.services
    services.contest = services.contest.model_copy(
        update={"attachments": services.contest.attachments.model_copy(update={"types": ACCEPTED})}
    )
    ewa = await applicant(contest_harness, 701)
    await fill_form(ewa)
    await ewa.send("Poczęstunek: 500")
    prompt = await ewa.press("Gotowe – budżet")
    assert "PDF, JPG, PNG, DOCX, TXT" in texts(prompt)
    answer = texts(
        await ewa.send_kind(
            Kind.FILE, file=IncomingFile("f1", name, claimed, len(content), content)
        )
    )
    async with contest_harness.service.store.transaction() as session:
        [proposal] = list(await session.scalars(select(proposals.Proposal)))
        stored = await proposals.attachments(session, proposal.id)
    if expected is None:
        assert "nie możemy przyjąć" in answer
        assert "PDF, JPG, PNG, DOCX, TXT" in answer
        assert stored == []
        folder = contest_harness.service.settings.data_dir / "attachments"
        assert not folder.exists() or not any(folder.rglob("*.*"))
        return
    stored_name, mime = expected
    assert f"Zapisano załącznik {stored_name}" in answer
    [attachment] = stored
    assert (attachment.name, attachment.mime_type) == (stored_name, mime)
    path = contest_harness.service.settings.data_dir / attachment.path
    assert Path(attachment.path).suffix == Path(stored_name).suffix
    assert path.read_bytes() == content


async def test_text_refused_when_the_contest_does_not_list_it(
    contest_harness: ChatHarness,
) -> None:
    """The shipped default (PDF, JPG, PNG): a text file is refused with that list."""
    ewa = await applicant(contest_harness, 702)
    await fill_form(ewa)
    await ewa.send("Poczęstunek: 500")
    await ewa.press("Gotowe – budżet")
    answer = await ewa.send_kind(
        Kind.FILE, file=IncomingFile("f1", "a.pdf", "application/pdf", 5, b"hello")
    )
    assert "przyjmujemy tylko pliki PDF, JPG, PNG" in texts(answer)


async def test_text_instead_of_a_file_names_the_accepted_types(
    contest_harness: ChatHarness,
) -> None:
    ewa = await applicant(contest_harness, 703)
    await fill_form(ewa)
    await ewa.send("Poczęstunek: 500")
    await ewa.press("Gotowe – budżet")
    assert "czekam na plik (PDF, JPG, PNG)" in texts(await ewa.send("plik wyślę jutro"))
