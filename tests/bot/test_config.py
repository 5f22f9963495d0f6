"""Settings: a wrong or missing setting stops start-up with one clear line."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli_support import cli_text
from bot.config import ConfigError, load_settings
from tests.conftest import CONTENT, ROOT


def run_cli(tmp_path: Path, *args: str, stdin: str = "", **env: str) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k.isupper()
        and not k.startswith(
            ("TELEGRAM_", "DATABASE_", "COORDINATOR_", "WEBHOOK_", "TIMEZONE", "CONTENT_", "DATA_")
        )
    }
    clean.update({"PYTHONPATH": str(ROOT), "CONTENT_DIR": str(CONTENT)}, **env)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=clean,
        cwd=tmp_path,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"COORDINATOR_IDS": "12,abc"}, ("COORDINATOR_IDS", "not_an_id", {"value": "abc"})),
        ({"TIMEZONE": "Europe/Kalisz"}, ("TIMEZONE", "unknown_zone", {"value": "Europe/Kalisz"})),
        (
            {"TELEGRAM_MODE": "push"},
            ("TELEGRAM_MODE", "one_of", {"value": "push", "allowed": "polling, webhook"}),
        ),
        ({"WEBHOOK_PORT": "eighty"}, ("WEBHOOK_PORT", "number", {"value": "eighty"})),
        ({"DATABASE_URL": "mysql://db/x"}, ("DATABASE_URL", "database_url", {})),
        (
            {"DEFAULT_LANGUAGE": "de"},
            ("DEFAULT_LANGUAGE", "one_of", {"value": "de", "allowed": "pl, en"}),
        ),
        (
            {"TELEGRAM_BOT_TOKEN": "1:x", "TELEGRAM_MODE": "webhook"},
            ("", "webhook_url_required", {}),
        ),
        ({"CONTENT_DIR": "/nonexistent"}, "/nonexistent"),
    ],
)
def test_cli_bad_setting_exits_2_with_one_clear_line(
    tmp_path: Path, env: dict[str, str], expected: str | tuple[str, str, dict[str, str]]
) -> None:
    result = run_cli(tmp_path, "run", **env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    if isinstance(expected, tuple):
        # The setting's name, then what is wrong with it in the configured language.
        name, key, values = expected
        text = cli_text(f"cli.config.{key}", **values)
        assert lines[0] == (f"lokalnie: {name}: {text}" if name else f"lokalnie: {text}")
    else:
        assert expected in lines[0]
    assert "Traceback" not in result.stderr


def test_settings_env_file_is_read_and_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("COORDINATOR_IDS=1,2\nTIMEZONE=Europe/London\n")
    monkeypatch.setenv("TIMEZONE", "Europe/Warsaw")
    settings = load_settings(_env_file=env_file)
    assert settings.coordinator_ids == [1, 2]
    assert settings.timezone == "Europe/Warsaw"


def test_settings_plain_urls_get_async_drivers() -> None:
    assert load_settings(_env_file=None, database_url="sqlite:///x.db").database_url == (
        "sqlite+aiosqlite:///x.db"
    )
    pg = load_settings(_env_file=None, database_url="postgresql://u@h/db").database_url
    assert pg == "postgresql+asyncpg://u@h/db"


def test_settings_webhook_needs_https() -> None:
    with pytest.raises(ConfigError, match=re.escape(cli_text("cli.config.webhook_https"))):
        load_settings(
            _env_file=None,
            telegram_bot_token="1:x",
            telegram_mode="webhook",
            webhook_url="http://example.org/hook",
            webhook_secret="s3cret",
        )


@pytest.mark.slow
def test_run_without_token_chats_in_terminal_with_a_note(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "run", stdin="/start\na\n/mydata\n")
    assert result.returncode == 0, result.stderr
    first_line = result.stdout.splitlines()[0]
    assert "TELEGRAM_BOT_TOKEN" in first_line and ".env" in first_line
    assert "[a] ✅ Tak, zgadzam się" in result.stdout
    assert "Dziękujemy!" in result.stdout
    assert (tmp_path / "data" / "lokalnie.db").exists()
    assert (tmp_path / "data" / "downloads" / "mydata.json").exists()


@pytest.mark.slow
def test_chat_as_another_user_and_as_coordinator(tmp_path: Path) -> None:
    as_resident = run_cli(tmp_path, "chat", "--user", "42", stdin="/admin\n")
    assert "tylko dla koordynatorów" in as_resident.stdout
    as_coordinator = run_cli(tmp_path, "chat", "--user", "7", "--coordinator", stdin="/admin\n")
    assert "Panel koordynatora" in as_coordinator.stdout


def test_db_upgrade_creates_the_schema(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "db", "upgrade", DATABASE_URL=f"sqlite:///{tmp_path}/a.db")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == cli_text("cli.db_upgraded")
    assert (tmp_path / "a.db").exists()
