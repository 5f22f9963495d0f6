"""Fetched messages made records ready to store: parsed, with their attachments'
files written under DATA_DIR/mail/attachments."""

from __future__ import annotations

import os
from pathlib import Path

from bot.mail.imap_connection import Fetched
from bot.mail.parse import parse_mail
from handlers.mailbox.events import IncomingMail

ATTACHMENTS = "mail/attachments"


def write_attachments(mail: IncomingMail, data_dir: Path) -> None:
    """Write the attachments named by their SHA-256: writing one again (after a crash,
    or the same file in two e-mails) changes nothing. Each attachment then knows its
    path (relative to DATA_DIR) and lets go of its bytes."""
    for attachment in mail.attachments:
        if attachment.content is None or attachment.sha256 is None:
            continue
        relative = f"{ATTACHMENTS}/{attachment.sha256[:2]}/{attachment.sha256}"
        target = data_dir / relative
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            # Written aside, then renamed: a file under its final name is always whole.
            temporary = target.with_name(f".{attachment.sha256}.{os.getpid()}.tmp")
            temporary.write_bytes(attachment.content)
            os.replace(temporary, target)
        attachment.path = relative
        attachment.content = None


def read_fetched(
    item: Fetched,
    *,
    folder: str,
    uidvalidity: int,
    data_dir: Path,
    max_attachment_bytes: int,
) -> IncomingMail:
    """One fetched message as a record that says where it came from, with its
    attachments written: what is left is storing it."""
    mail = parse_mail(item.raw, max_attachment_bytes=max_attachment_bytes)
    mail.folder = folder
    mail.uidvalidity = uidvalidity
    mail.uid = item.uid
    mail.seen = "\\Seen" in item.flags
    write_attachments(mail, data_dir)
    return mail
