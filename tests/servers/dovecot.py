"""A real Dovecot IMAP server on a free loopback port, for the bot's e-mail channel tests.

Why a real server: IMAP quirks (literals, UIDs, UIDVALIDITY, IDLE) are where mail bots break,
and a fake server only repeats our own assumptions. Dovecot 2.3 (Debian 12) starts in about
0.3 s from a config in a temp dir; it is started once per test session.

Layout of the temp dir (kept short: Dovecot's unix sockets live in ``base/`` and socket paths
are limited to 108 bytes)::

    /tmp/lokalnie-dovecot-XXXX/   0755 (login and mail processes must traverse it)
        dovecot.conf, passwd (0644: the auth process runs as the ``dovecot`` user)
        base/, state/, dovecot.log, dovecot.stderr
        home/<user>/Maildir       owned by the mail uid (nobody when we are root)

Works as root (mail processes run as nobody/nogroup, uid 0 is refused by Dovecot) and as an
ordinary user (every Dovecot process then runs as that user). The generated dovecot.conf and
those users are in `tests.servers.dovecot_config`.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager, suppress
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import BinaryIO

import aioimaplib

from bot.mail.imap_connection import encode_mailbox  # noqa: F401 - one encoder, the product's
from tests.servers.dovecot_config import mail_ids, render_config
from tests.servers.ports import LOOPBACK, free_port

DEFAULT_USER = "bot@lokalnie.test"
DEFAULT_PASSWORD = "bot-password"

_SEARCH_PATH = os.pathsep.join(
    [os.environ.get("PATH", ""), "/usr/sbin", "/usr/local/sbin", "/usr/bin", "/usr/local/bin"]
)
_START_TIMEOUT = 15.0
_START_ATTEMPTS = 3
_STOP_TIMEOUT = 15.0
_APPENDUID = re.compile(rb"APPENDUID (\d+) (\d+)")
_BAD_NAME = re.compile(r"[\s:/\\%]")


class DovecotError(RuntimeError):
    """Dovecot failed to start or to do what a test asked; the message carries the log tail."""


def _which(name: str) -> str | None:
    # /usr/sbin is often not on an ordinary user's PATH.
    return shutil.which(name, path=_SEARCH_PATH)


def _text(line: bytes | bytearray | str) -> bytes:
    return line.encode() if isinstance(line, str) else bytes(line)


@asynccontextmanager
async def imap_session(
    host: str,
    port: int,
    user: str,
    password: str,
    timeout: float = 10.0,  # noqa: ASYNC109 - aioimaplib's per-command timeout
) -> AsyncIterator[aioimaplib.IMAP4]:
    """A logged-in plain IMAP4 client (loopback only: aioimaplib has no STARTTLS).

    Must be entered inside a running event loop (aioimaplib binds to it on construction).
    Logs out on exit, even when the body raised.
    """
    client = aioimaplib.IMAP4(host=host, port=port, timeout=timeout)
    try:
        await client.wait_hello_from_server()
        response = await client.login(user, password)
        if response.result != "OK":
            raise DovecotError(f"IMAP login as {user!r} failed: {response.lines!r}")
        yield client
    finally:
        with suppress(Exception):
            if client.get_state() in ("AUTH", "SELECTED", "NONAUTH"):
                await client.logout()
        transport = getattr(client.protocol, "transport", None)
        if transport is not None:
            transport.close()


@dataclass(frozen=True)
class ImapAccount:
    """Connection details of one mailbox on the test server (what the bot's config needs)."""

    host: str
    port: int
    user: str
    password: str
    server: DovecotServer = field(repr=False, compare=False)

    async def append(
        self, raw: bytes | EmailMessage, folder: str = "INBOX", flags: str | None = None
    ) -> int | None:
        """Drop a message into this mailbox; returns its UID."""
        return await self.server.append(self.user, self.password, raw, folder, flags=flags)

    def session(self) -> AbstractAsyncContextManager[aioimaplib.IMAP4]:
        """``async with account.session() as client``: a logged-in aioimaplib client."""
        return imap_session(self.host, self.port, self.user, self.password)


class DovecotServer:
    """Runs ``dovecot -F`` from a private config; one instance per test session."""

    def __init__(self, users: Mapping[str, str] | None = None) -> None:
        self.host = LOOPBACK
        self.port = 0
        self.users: dict[str, str] = {}
        self._initial_users = dict(users) if users is not None else {DEFAULT_USER: DEFAULT_PASSWORD}
        self._proc: subprocess.Popen[bytes] | None = None
        self._dir: Path | None = None
        self._stderr: BinaryIO | None = None
        self._binary = _which("dovecot")
        self._doveadm = _which("doveadm")

    # -- discovery -------------------------------------------------------------------------

    @staticmethod
    def available() -> bool:
        """Is a Dovecot with the IMAP service installed (Debian: ``dovecot-imapd``)?"""
        if _which("dovecot") is None:
            return False
        libexec_dirs = [Path("/usr/lib/dovecot"), Path("/usr/libexec/dovecot")]
        known = [d for d in libexec_dirs if d.is_dir()]
        # Unknown layout (e.g. built from source elsewhere): trust the binary.
        return not known or any((d / "imap").exists() for d in known)

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def conf_path(self) -> Path:
        return self._require_dir() / "dovecot.conf"

    @property
    def log_path(self) -> Path:
        return self._require_dir() / "dovecot.log"

    def start(self) -> DovecotServer:
        """Write the config, start Dovecot and wait until it sends the IMAP greeting.

        Retries with another port if the free one was taken in the meantime; any other
        failure raises DovecotError with the log tail and keeps the temp dir for a look.
        """
        if self._proc is not None:
            return self
        if self._binary is None:
            raise DovecotError("dovecot is not installed (apt-get install dovecot-imapd)")
        for attempt in range(1, _START_ATTEMPTS + 1):
            try:
                self._start_once(self._binary)
                return self
            except DovecotError as exc:
                port_taken = "Address already in use" in str(exc)
                self.stop(keep_dir=not port_taken or attempt == _START_ATTEMPTS)
                if not port_taken or attempt == _START_ATTEMPTS:
                    raise
            except BaseException:
                self.stop(keep_dir=True)
                raise
        raise AssertionError("unreachable")

    def _start_once(self, binary: str) -> None:
        # Short path on purpose: unix socket paths are limited to 108 bytes.
        tmp_root = "/tmp" if Path("/tmp").is_dir() else None
        self._dir = Path(tempfile.mkdtemp(prefix="lokalnie-dovecot-", dir=tmp_root))
        self._dir.chmod(0o755)
        (self._dir / "home").mkdir(mode=0o755)
        self.port = free_port()
        self.users = {}
        for name, password in self._initial_users.items():
            self.add_user(name, password)
        self.conf_path.write_text(render_config(self._require_dir(), self.host, self.port))
        self._stderr = (self._dir / "dovecot.stderr").open("wb")
        self._proc = subprocess.Popen(
            [binary, "-F", "-c", str(self.conf_path)],
            stdin=subprocess.DEVNULL,
            stdout=self._stderr,
            stderr=self._stderr,
            start_new_session=True,  # a Ctrl-C in pytest must not kill it before teardown
        )
        atexit.register(self.stop)
        self._wait_for_greeting()

    def stop(self, keep_dir: bool = False) -> None:
        """Stop Dovecot, wait for the master to exit, remove the temp dir (idempotent).

        ``dovecot -c CONF stop`` only sends SIGTERM to the pid in master.pid and then polls
        for about 2 s longer than the master needs; the master is our child, so we send the
        SIGTERM ourselves and wait for it (the master still sleeps 1 s before exiting).
        The CLI is the fallback if the signal does not work.
        """
        atexit.unregister(self.stop)
        proc, self._proc = self._proc, None
        if proc is not None:
            if proc.poll() is None:
                proc.terminate()
            try:
                proc.wait(timeout=_STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                with suppress(subprocess.TimeoutExpired, OSError):
                    subprocess.run(
                        [self._binary or "dovecot", "-c", str(self.conf_path), "stop"],
                        stdin=subprocess.DEVNULL,
                        capture_output=True,
                        timeout=_STOP_TIMEOUT,
                        check=False,
                    )
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=5)
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None
        if self._dir is not None and not keep_dir:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def __enter__(self) -> DovecotServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- users and mailboxes ---------------------------------------------------------------

    def add_user(self, name: str, password: str) -> ImapAccount:
        """Add (or re-password) a user; Dovecot re-reads the passwd-file on change."""
        if not name or _BAD_NAME.search(name) or not password or re.search(r"[:\r\n]", password):
            raise ValueError(f"unusable IMAP test credentials: {name!r}")
        name = name.lower()  # Dovecot's default auth_username_format is %Lu
        self.users[name] = password
        directory = self._require_dir()
        passwd = directory / "passwd"
        tmp = directory / "passwd.tmp"
        tmp.write_text("".join(f"{u}:{{PLAIN}}{p}\n" for u, p in self.users.items()))
        tmp.chmod(0o644)
        os.replace(tmp, passwd)
        self._make_home(name)
        return self.account(name)

    def account(self, user: str = DEFAULT_USER) -> ImapAccount:
        """Connection details for a configured user."""
        user = user.lower()
        if user not in self.users:
            raise KeyError(f"no IMAP test user {user!r}; configured: {sorted(self.users)}")
        return ImapAccount(self.host, self.port, user, self.users[user], self)

    def reset_mailbox(self, user: str = DEFAULT_USER) -> None:
        """Empty all folders of ``user`` so each test starts from a fresh mailbox.

        Kicks leftover sessions first: an imap process still holding the old index could
        otherwise write it into the fresh Maildir. UIDVALIDITY changes after a reset.
        """
        user = user.lower()
        self._kick(user)
        home = self._require_dir() / "home" / user
        shutil.rmtree(home, ignore_errors=True)
        self._make_home(user)

    async def append(
        self,
        user: str,
        password: str,
        raw_bytes: bytes | EmailMessage,
        folder: str = "INBOX",
        flags: str | None = None,
    ) -> int | None:
        """APPEND a message over IMAP (creating ``folder`` if needed); returns its UID.

        Goes through the server like a real delivery, so the bot sees it via IDLE/SEARCH.
        Pass ``flags="\\\\Seen"`` for an already read message. Call from async tests only.
        """
        if isinstance(raw_bytes, EmailMessage):
            raw_bytes = raw_bytes.as_bytes(policy=policy.SMTP)
        mailbox = encode_mailbox(folder)
        async with imap_session(self.host, self.port, user, password) as client:
            if folder.upper() != "INBOX":
                await client.create(mailbox)  # NO [ALREADYEXISTS] is fine
            response = await client.append(bytes(raw_bytes), mailbox=mailbox, flags=flags)
            if response.result != "OK":
                raise DovecotError(f"APPEND to {folder!r} failed: {response.lines!r}")
        for line in response.lines:
            match = _APPENDUID.search(_text(line))
            if match:
                return int(match.group(2))
        return None

    # -- internals -------------------------------------------------------------------------

    def _require_dir(self) -> Path:
        if self._dir is None:
            raise DovecotError("Dovecot is not started")
        return self._dir

    def _make_home(self, user: str) -> None:
        home = self._require_dir() / "home" / user
        home.mkdir(mode=0o700, exist_ok=True)
        if os.geteuid() == 0:
            uid, gid = mail_ids()
            os.chown(home, uid, gid)

    def _kick(self, user: str) -> None:
        if self._doveadm is None or self._proc is None:
            return
        result = subprocess.run(
            [self._doveadm, "-c", str(self.conf_path), "kick", user],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=10,
            check=False,
        )
        if result.returncode == 0:  # someone was kicked (68 = nobody connected)
            time.sleep(0.2)

    def _wait_for_greeting(self) -> None:
        deadline = time.monotonic() + _START_TIMEOUT
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            assert self._proc is not None
            if self._proc.poll() is not None:
                raise DovecotError(
                    f"dovecot exited with code {self._proc.returncode}\n{self.log_tail()}"
                )
            try:
                with socket.create_connection((self.host, self.port), timeout=1) as sock:
                    greeting = sock.recv(512)
                if greeting.startswith(b"* OK"):
                    return
                last_error = DovecotError(f"unexpected greeting {greeting!r}")
            except OSError as exc:
                last_error = exc
            time.sleep(0.05)
        raise DovecotError(
            f"dovecot did not answer on {self.host}:{self.port} within {_START_TIMEOUT}s "
            f"({last_error!r})\n{self.log_tail()}"
        )

    def log_tail(self, lines: int = 30) -> str:
        """Last lines of Dovecot's log and stderr, for error messages."""
        if self._dir is None:
            return "(no log: not started)"
        parts = []
        for name in ("dovecot.stderr", "dovecot.log"):
            path = self._dir / name
            if path.exists():
                tail = path.read_text(errors="replace").splitlines()[-lines:]
                parts.append(f"--- {path} ---\n" + "\n".join(tail))
        return "\n".join(parts) or "(dovecot wrote no log)"
