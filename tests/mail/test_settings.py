"""Mail settings refused at start-up with one line naming the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, interface_text
from bot.mail import imap_configured, smtp_configured
from tests.conftest import make_settings


def test_settings_plain_imap_to_another_host_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as refused:
        make_settings("sqlite:///x.db", tmp_path, imap_host="imap.wp.pl", imap_security="none")
    assert str(refused.value) == interface_text("cli.config.imap_none")


def test_settings_imap_starttls_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as refused:
        make_settings("sqlite:///x.db", tmp_path, imap_host="imap.wp.pl", imap_security="starttls")
    assert str(refused.value) == interface_text("cli.config.imap_starttls")


def test_settings_mail_parts_on_only_when_configured(tmp_path: Path) -> None:
    nothing = make_settings("sqlite:///x.db", tmp_path)
    assert not imap_configured(nothing) and not smtp_configured(nothing)
    both = make_settings(
        "sqlite:///x.db",
        tmp_path,
        imap_host="127.0.0.1",
        imap_security="none",
        imap_user="bot",
        smtp_host="smtp.wp.pl",
        mail_from="Ośrodek <mediateka@example.pl>",
    )
    assert imap_configured(both) and smtp_configured(both)
