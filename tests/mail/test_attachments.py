"""Attachment files of incoming mail: written once under DATA_DIR, named by content."""

from __future__ import annotations

import hashlib
from pathlib import Path

from bot.mail.attachments import write_attachments
from bot.mail.parse import parse_mail
from tests.mail import corpus


def test_write_attachments_files_named_by_hash_and_bytes_let_go(tmp_path: Path) -> None:
    mail = parse_mail(corpus.outlook_alternative_with_attachments().raw)
    contents = [a.content for a in mail.attachments]

    write_attachments(mail, tmp_path)

    for attachment, content in zip(mail.attachments, contents, strict=True):
        assert content is not None
        digest = hashlib.sha256(content).hexdigest()
        assert attachment.path == f"mail/attachments/{digest[:2]}/{digest}"
        assert (tmp_path / attachment.path).read_bytes() == content
        assert attachment.content is None
    assert not list(tmp_path.rglob("*.tmp"))


def test_write_attachments_same_file_twice_written_once(tmp_path: Path) -> None:
    first = parse_mail(corpus.apple_mail_inline().raw)
    second = parse_mail(corpus.apple_mail_inline().raw)

    write_attachments(first, tmp_path)
    written = tmp_path / str(first.attachments[0].path)
    stamp = written.stat().st_mtime_ns
    write_attachments(second, tmp_path)

    assert second.attachments[0].path == first.attachments[0].path
    assert written.stat().st_mtime_ns == stamp
    assert len([p for p in tmp_path.rglob("*") if p.is_file()]) == 1


def test_write_attachments_over_the_cap_listed_without_a_file(tmp_path: Path) -> None:
    mail = parse_mail(corpus.outlook_alternative_with_attachments().raw, max_attachment_bytes=2000)

    write_attachments(mail, tmp_path)

    pdf, docx = mail.attachments
    assert pdf.path is None and pdf.skipped == "too_large"
    assert docx.path is not None and (tmp_path / docx.path).exists()
