"""Start-up failures: one line on stderr naming the cause and the fix, exit status 2, no
traceback unless `--debug`; a Bot API that does not answer at start is retried with a
log line per attempt instead of a crash."""

from __future__ import annotations

import errno
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url
from telegram.error import InvalidToken, NetworkError

from bot.cli_support import cli_text
from bot.startup import explain, retry_with_backoff
from tests.bot.test_config import run_cli
from tests.conftest import CONTENT, ROOT
from tests.servers.ports import free_port

TOKEN = {"TELEGRAM_BOT_TOKEN": "123:abc"}


def broken_content(tmp_path: Path, name: str, addition: str) -> str:
    content = tmp_path / f"content-{Path(name).stem}"
    shutil.copytree(CONTENT, content)
    with (content / name).open("a", encoding="utf-8") as target:
        target.write(addition)
    return str(content)


def one_line(result: subprocess.CompletedProcess) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def cases(tmp_path: Path) -> dict[str, tuple[dict[str, str], str]]:
    """Each start-up failure: its environment, and what the one line must say."""
    not_a_folder = tmp_path / "a-file"
    not_a_folder.write_text("")
    port = free_port()
    refused = f"postgresql://postgres@127.0.0.1:{port}/lokalnie"
    centre = broken_content(tmp_path, "centre.yaml", "name: [broken\n")
    # The parser stops at the end of the file, the line after the one appended.
    end = len((Path(centre) / "centre.yaml").read_text(encoding="utf-8").splitlines()) + 1
    return {
        "postgres refused": (
            {"DATABASE_URL": refused},
            cli_text("cli.startup.refused", server=f"127.0.0.1:{port}"),
        ),
        "sqlite unwritable": (
            {"DATABASE_URL": f"sqlite:///{not_a_folder}/lokalnie.db"},
            cli_text("cli.startup.sqlite", database=f"{not_a_folder}/lokalnie.db"),
        ),
        "bad setting": ({"COORDINATOR_IDS": "12,abc"}, "COORDINATOR_IDS"),
        "broken centre file": (
            {"CONTENT_DIR": centre},
            "centre.yaml: "
            + cli_text(
                "content.error.syntax_at",
                line=end,
                column=1,
                problem="expected ',' or ']', but got '<stream end>'",
            ),
        ),
        "broken catalogue": (
            {
                "CONTENT_DIR": broken_content(
                    tmp_path, "locales/pl/LC_MESSAGES/lokalnie.po", 'msgid "x\n'
                )
            },
            "lokalnie.po",
        ),
    }


CASES = ["postgres refused", "sqlite unwritable", "bad setting", "broken centre file"]
CASES += ["broken catalogue"]
COMMANDS = [["run"], ["chat"], ["broadcast", "status"]]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_start_up_failure_is_one_line_and_exit_2(
    tmp_path: Path, case: str, command: list[str]
) -> None:
    env, expected = cases(tmp_path)[case]
    env = {"DATABASE_URL": f"sqlite:///{tmp_path}/ok.db", **env}
    if command == ["run"]:
        # With a token `run` logs at INFO: still nothing but the one line.
        env = {**TOKEN, "TELEGRAM_API_BASE_URL": f"http://127.0.0.1:{free_port()}/bot", **env}
    result = run_cli(tmp_path, *command, **env)
    assert expected in one_line(result)
    assert result.returncode == 2


@pytest.mark.slow
def test_missing_postgres_database_is_one_line(tmp_path: Path, postgres_url: str) -> None:
    missing = make_url(postgres_url).set(database="lokalnie_no_such_db").render_as_string(False)
    result = run_cli(tmp_path, "run", DATABASE_URL=missing, **TOKEN)
    server = make_url(postgres_url)
    assert one_line(result) == "lokalnie: " + cli_text(
        "cli.startup.no_database",
        database="lokalnie_no_such_db",
        server=f"{server.host or 'localhost'}:{server.port or 5432}",
    )
    assert result.returncode == 2


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    refused = f"postgresql://postgres@127.0.0.1:{free_port()}/lokalnie"
    result = run_cli(tmp_path, "--debug", "broadcast", "status", DATABASE_URL=refused)
    assert result.returncode != 0
    assert "Traceback" in result.stderr or "ConnectionRefusedError" in result.stderr


def test_unreachable_bot_api_is_retried_with_a_line_per_attempt(tmp_path: Path) -> None:
    env = dict(
        {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DATABASE_"))},
        PYTHONPATH=str(ROOT),
        CONTENT_DIR=str(CONTENT),
        DATABASE_URL=f"sqlite:///{tmp_path}/ok.db",
        TELEGRAM_API_BASE_URL=f"http://127.0.0.1:{free_port()}/bot",
        **TOKEN,
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    lines: list[str] = []
    try:
        assert process.stderr is not None
        deadline = time.monotonic() + 30  # a failure bound, not a measurement
        while sum("trying again" in line for line in lines) < 2:
            assert time.monotonic() < deadline, lines
            line = process.stderr.readline()
            assert line, f"the bot ended instead of retrying: {lines}"
            lines.append(line)
        process.send_signal(signal.SIGTERM)
        _, rest = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    lines += rest.splitlines()
    assert process.returncode == 0, lines
    assert "Traceback" not in "".join(lines)
    assert "reaching the Telegram Bot API failed (attempt 1" in lines[0]
    assert "attempt 2" in "".join(lines)


async def test_retry_with_backoff_doubles_the_wait_and_logs_each_attempt(
    caplog: pytest.LogCaptureFixture,
) -> None:
    failures = [NetworkError("down")] * 4
    waits: list[float] = []

    async def action() -> str:
        if failures:
            raise failures.pop()
        return "up"

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    with caplog.at_level(logging.WARNING, logger="bot.startup"):
        result = await retry_with_backoff(
            action, what="reaching X", retry_on=(NetworkError,), most=5, sleep=sleep
        )
    assert result == "up"
    assert waits == [1, 2, 4, 5]
    messages = [record.getMessage() for record in caplog.records]
    assert len(messages) == 4
    for attempt, (message, wait) in enumerate(zip(messages, waits, strict=True), start=1):
        assert message.startswith(f"reaching X failed (attempt {attempt}: down)")
        assert message.endswith(f"trying again in {wait:.0f} s")


async def test_retry_with_backoff_does_not_retry_other_errors() -> None:
    async def action() -> None:
        raise ValueError("refused")

    with pytest.raises(ValueError, match="refused"):
        await retry_with_backoff(action, what="x", retry_on=(NetworkError,))


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (
            OSError(errno.EADDRINUSE, "Address already in use"),
            cli_text("cli.startup.address_in_use", detail="Address already in use"),
        ),
        (InvalidToken(), cli_text("cli.startup.bad_token")),
        (ValueError("ours"), None),
    ],
)
def test_explain_names_the_cause(error: BaseException, expected: str | None) -> None:
    line = explain(error, "postgresql://u@127.0.0.1:5432/x")
    assert line == expected


def test_explain_keeps_a_bot_api_failure_apart_from_the_store() -> None:
    """A refused connection under a Telegram error is the Bot API's, not PostgreSQL's."""
    try:
        try:
            raise ConnectionRefusedError(errno.ECONNREFUSED, "refused")
        except ConnectionRefusedError as refused:
            raise NetworkError("cannot connect") from refused
    except NetworkError as error:
        line = explain(error, "postgresql://u@127.0.0.1:5432/x")
    assert line == cli_text("cli.startup.bot_api", detail="cannot connect")
