"""Updates/s and reply latency of Lokalnie against a bare PTB echo bot, on the fake Bot API.

    python -m benchmarks.updates [--residents 500] [--store sqlite|postgresql|both]
                                 [--scenario onboarding|full|diagnosis] [--details] [--sql-stats]

The fake Telegram Bot API (``tests.fakes.telegram_api``) runs in a process of its own, and so
does each bot under test (``benchmarks.bots``): first a bare python-telegram-bot echo bot, then
Lokalnie on SQLite, then Lokalnie on PostgreSQL (a throw-away database). This process plays the
residents through the fake's control API.

Workload, the same for every target: N residents go through a short conversation in lock-step.
All N first messages are pushed at once (a burst), the driver waits until every resident got
every reply, then pushes all N next steps, and so on. A step is one update per resident.

The ``diagnosis`` scenario (default N=200) has every resident do ``/start``, consent and
``/survey diagnoza-2021``, then answer all 17 questions of the 2021 diagnosis "first option
everywhere" (37 answers: button presses, ticks that edit the message, typed text). Only the
answers are counted; the survey is closed by its dates, so Lokalnie is given a copy of
``content/`` without them. The echo bot gets the same updates (same kinds, same data).

Figures (all timestamps are the fake's, so the driver's own polling does not count):

* updates/s: updates / busy time, where busy time is the sum over steps of
  "first update of the step queued" -> "last reply of the step received";
* p50/p99: per update, "update queued" -> "first reply to that chat received" (the fake's
  latency record). Under a burst this is mostly queueing: the update waits for those before it;
* idle p50: the same latency with one resident at a time (no queue), from a short extra run;
* bot CPU: CPU time of the bot's process per update, and as a share of one core while the
  burst ran; fake CPU: the same share for the fake Bot API's process.

``--details`` adds per-step figures and Bot API call counts; ``--sql-stats`` counts Lokalnie's
SQL statements per update (and PostgreSQL's own transaction counters); ``--profile DIR`` writes
a cProfile (or, with ``--profiler pyinstrument``, a pyinstrument) profile of each bot.

No figure here is asserted anywhere; ``benchmarks/README.md`` records a run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import platform
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from importlib import metadata
from pathlib import Path
from typing import Any

import aiohttp
import yaml

from handlers.core.i18n import Translator

ROOT = Path(__file__).resolve().parent.parent
_TEXTS = Translator(ROOT / "content" / "locales")


def said(key: str) -> str:
    """The start of the bot's Polish text for `key`: proof the real path was taken."""
    return _TEXTS.text("pl", key).split("{")[0][:20]


DIAGNOSIS = "diagnoza-2021"
DIAGNOSIS_OUTRO = yaml.safe_load(
    (ROOT / "content" / "surveys" / "diagnoza-2021.yaml").read_text(encoding="utf-8")
)["outro"]["pl"][:30]
# What a resident types for the text questions, by question type.
TYPED = {"email": "mieszkaniec@example.pl", "phone": "600 123 456"}
TYPED_DEFAULT = "Anna"
RESIDENT_IDS = 1_000_000  # measured residents: 1_000_001 ...
WARMUP_IDS = 2_000_000
IDLE_IDS = 3_000_000
# The driver polls the fake's stats every 20 ms near the end of a step, less often while many
# replies are still missing: the fake computes stats over all its records, under the lock that
# its Bot API methods take too, so polling fast late in a long run slows the bot under test.
POLL_SECONDS = 0.02
POLL_SECONDS_MAX = 0.25
POLL_SECONDS_PER_MISSING = 0.001
PUSH_CONCURRENCY = 16


@dataclass(frozen=True)
class Step:
    """One update per resident: a text message or a button press."""

    name: str
    kind: str  # "message" or "callback"
    value: str
    replies: int  # messages Lokalnie answers with (the echo bot always sends one)
    expect: str  # a piece of Lokalnie's answer, to make sure the real path was taken
    counted: bool = True  # in the figures (the diagnosis leaves out /start, consent, /survey)
    edit: bool = False  # Lokalnie edits the pressed message (editMessageText) instead


SCENARIOS: dict[str, tuple[Step, ...]] = {
    "onboarding": (
        Step("/start", "message", "/start", 2, said("start.greeting")),
        Step("consent", "callback", "consent:pl:yes", 2, said("start.thanks")),
        Step("/help", "message", "/help", 1, said("help.intro")),
    ),
    "full": (
        Step("/start", "message", "/start", 2, said("start.greeting")),
        Step("consent", "callback", "consent:pl:yes", 2, said("start.thanks")),
        Step("news yes", "callback", "news:offer:yes", 1, said("news.on")),
        Step("/help", "message", "/help", 1, said("help.intro")),
        Step("text", "message", "When are the classes?", 1, said("input.not_understood")),
    ),
}
SCENARIO_NAMES = (*SCENARIOS, "diagnosis")
# The diagnosis has 40 steps: N=200 takes about 6 minutes for the three bots, N=500 about 15.
DEFAULT_RESIDENTS = {"diagnosis": 200}


def scenario_steps(name: str) -> tuple[Step, ...]:
    """The steps of a scenario; the diagnosis is derived from its survey file."""
    if name == "diagnosis":
        return diagnosis_steps(ROOT / "content" / "surveys" / f"{DIAGNOSIS}.yaml")
    return SCENARIOS[name]


def diagnosis_steps(path: Path) -> tuple[Step, ...]:
    """/start, consent, /survey, then the survey answered with the first option everywhere.

    The answers are derived from the survey file with the bot's own form code (the way
    ``tests/e2e/survey_driver.py`` answers: tick the first option then "done", the lowest
    point of a scale, "yes", a plausible typed text), so the callback data are exactly the
    ones Lokalnie's buttons carry. Each step expects a piece of what the bot must answer: the
    ticked option, the next matrix row, the next question, and at the end the outro.
    """
    from zoneinfo import ZoneInfo

    from handlers.core import flow
    from handlers.core import form_runner as runner
    from handlers.core.forms import Question, QuestionType
    from handlers.surveys.conversation import SurveyPress
    from handlers.surveys.files import load_survey_file

    survey = load_survey_file(path, ZoneInfo("Europe/Warsaw"))
    questions = survey.questions

    def first_text(question: Question | None) -> str:
        if question is None:
            return DIAGNOSIS_OUTRO
        return question.text.get("pl")

    first = flow.next_unanswered(questions, {})
    steps = [
        Step("/start", "message", "/start", 2, said("start.greeting"), counted=False),
        Step("consent", "callback", "consent:pl:yes", 2, said("start.thanks"), counted=False),
        Step("/survey", "message", f"/survey {survey.slug}", 2, first_text(first), counted=False),
    ]
    answers: dict[str, Any] = {}
    question = first
    while question is not None:
        step = runner.Step.start(questions, question)
        pending: dict[str, Any] = {}
        while True:
            kind = question.type
            name = step.encode()
            if kind in (QuestionType.SINGLE, QuestionType.MULTIPLE):
                value = runner.DONE if pending.get("chosen") else flow.choice_ids(question)[0]
            elif kind in (QuestionType.SCALE, QuestionType.MATRIX):
                assert question.scale is not None
                value = str(question.scale.min)
            elif kind is QuestionType.YESNO:
                value = "y"
            else:
                value = ""
            if value:
                action = runner.on_button(question, step, pending, value)
                data = SurveyPress(name, value).pack()
                press = Step(f"{name}:{value}", "callback", data, 1, "")
            else:
                text = TYPED.get(str(kind), TYPED_DEFAULT)
                action = runner.on_text(question, step, pending, text)
                press = Step(f"{name} typed", "message", text, 1, "")
            if isinstance(action, runner.Save):
                answers[question.id] = action.value
                question = flow.next_unanswered(questions, answers)
                steps.append(replace(press, expect=first_text(question)))
                break
            assert isinstance(action, runner.Show)
            if action.replace:  # a ticked option: the message is edited in place
                label = question.option_text(value, "pl")
                steps.append(replace(press, expect=f"✅ {label}", edit=True))
            else:  # the next matrix row
                item = question.items[action.step.item or 0]
                steps.append(replace(press, expect=item.text.get("pl")))
            step, pending = action.step, action.pending
    return tuple(steps)


@dataclass
class StepResult:
    """What one step of one phase measured."""

    step: Step
    updates: int
    seconds: float  # first update queued -> last reply received
    push_seconds: float  # how long the driver took to queue the updates
    latencies: list[float]
    sent: int = 0  # messages sent and edited in reply


@dataclass
class Result:
    """One target's figures."""

    target: str
    store: str
    steps: list[StepResult]
    idle_latencies: list[float] = field(default_factory=list)
    cpu: CpuMeter | None = None
    calls: dict[str, int] = field(default_factory=dict)
    sql: dict[str, Any] | None = None

    @property
    def counted(self) -> list[StepResult]:
        """The steps the figures are about (all but the diagnosis's way to the survey)."""
        return [s for s in self.steps if s.step.counted]

    @property
    def updates(self) -> int:
        return sum(s.updates for s in self.counted)

    @property
    def seconds(self) -> float:
        return sum(s.seconds for s in self.counted)

    @property
    def per_second(self) -> float:
        return self.updates / self.seconds if self.seconds else 0.0

    @property
    def latencies(self) -> list[float]:
        return [value for s in self.counted for value in s.latencies]

    @property
    def messages(self) -> int:
        """Messages sent (and edited) in reply to the counted updates."""
        return sum(s.sent for s in self.counted)


def percentile(values: Iterable[float], pct: float) -> float:
    """Nearest-rank percentile (as the fake's summary computes it); NaN when empty."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), round(pct / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


# --------------------------------------------------------------------------- processes


def process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process so far (Linux /proc), or None."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU time the bot and the fake used while the measured updates were handled."""

    def __init__(self, bot_pid: int, fake_pid: int) -> None:
        self.pids = {"bot": bot_pid, "fake": fake_pid}
        self._start: dict[str, float | None] = {}
        self._wall = 0.0
        self.wall = 0.0
        self.seconds: dict[str, float | None] = {}

    def start(self) -> None:
        """Note the CPU times now."""
        self._wall = time.monotonic()
        self._start = {name: process_cpu_seconds(pid) for name, pid in self.pids.items()}

    def stop(self) -> None:
        """CPU seconds used since start(), per process."""
        self.wall = time.monotonic() - self._wall
        for name, pid in self.pids.items():
            now, then = process_cpu_seconds(pid), self._start.get(name)
            self.seconds[name] = None if now is None or then is None else now - then

    def share(self, name: str) -> float | None:
        """CPU used as a fraction of one core over the measured wall time."""
        used = self.seconds.get(name)
        return None if used is None or not self.wall else used / self.wall


class FakeApi:
    """The fake Bot API process and its JSON control API."""

    def __init__(self, log_path: Path) -> None:
        self.log_path = log_path
        self.process: subprocess.Popen[str] | None = None
        self.base_url = ""
        self.control_url = ""
        self.http: aiohttp.ClientSession | None = None

    def start(self) -> None:
        """Start the fake (``python -m benchmarks.bots fake --port 0``), read its ready line."""
        with self.log_path.open("w") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "benchmarks.bots", "fake", "--port", "0"],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
            )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line.startswith("FAKE_TELEGRAM_READY"):
            self.stop()
            raise RuntimeError(f"fake Bot API did not start (see {self.log_path}): {line!r}")
        fields = dict(part.split("=", 1) for part in line.split()[1:])
        self.base_url = fields["base_url"]
        self.control_url = fields["control_url"]

    def stop(self) -> None:
        """SIGTERM the fake and wait for it."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    async def control(self, action: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        """POST to ``/_control/<action>``; raise on ok=false."""
        if self.http is None:
            self.http = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=PUSH_CONCURRENCY)
            )
        try:
            async with self.http.post(f"{self.control_url}/{action}", json=body or {}) as resp:
                answer = await resp.json()
        except aiohttp.ClientError as error:
            code = self.process.poll() if self.process is not None else None
            state = "running" if code is None else f"exited with {code}"
            raise RuntimeError(f"control {action}: {error} (the fake Bot API {state})") from error
        if not answer.get("ok"):
            raise RuntimeError(f"control {action}: {answer.get('description')}")
        return answer

    async def close(self) -> None:
        """Close the HTTP session."""
        if self.http is not None:
            await self.http.close()
            self.http = None


class BotProcess:
    """One bot under test (``python -m benchmarks.bots ...``) in its own process."""

    def __init__(self, args: Sequence[str], log_path: Path) -> None:
        self.log_path = log_path
        with log_path.open("w") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "benchmarks.bots", *args],
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def check_alive(self) -> None:
        """Raise with the log's tail if the bot has exited."""
        if self.process.poll() is not None:
            tail = "".join(self.log_path.read_text().splitlines(keepends=True)[-15:])
            raise RuntimeError(f"the bot exited with {self.process.returncode}:\n{tail}")

    def signal(self, signum: int) -> None:
        """Send a signal to the bot."""
        self.process.send_signal(signum)

    def stop(self) -> None:
        """SIGTERM and wait; kill if it does not stop."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


# --------------------------------------------------------------------------- workload


async def wait_ready(api: FakeApi, bot: BotProcess, timeout: float = 60.0) -> None:  # noqa: ASYNC109
    """Wait until the bot long-polls the (freshly cleared) fake."""
    deadline = time.monotonic() + timeout
    while True:
        bot.check_alive()
        stats = (await api.control("stats"))["stats"]
        # start_polling() calls deleteWebhook, then long-polls (recorded only when it ends).
        if stats["calls_by_method"].get("deleteWebhook") and stats["long_polls_waiting"]:
            return
        if time.monotonic() > deadline:
            raise TimeoutError("the bot did not start polling in time")
        await asyncio.sleep(0.05)


async def push_step(api: FakeApi, step: Step, users: Sequence[int]) -> list[int]:
    """Queue one update per user; messages in one bulk call, callbacks concurrently."""
    if step.kind == "message":
        messages = [
            {"user_id": u, "text": step.value, "first_name": "Mieszkaniec", "language_code": "pl"}
            for u in users
        ]
        return list((await api.control("push_messages", {"messages": messages}))["update_ids"])
    gate = asyncio.Semaphore(PUSH_CONCURRENCY)

    async def press(user: int) -> int:
        async with gate:
            answer = await api.control("push_callback", {"user_id": user, "data": step.value})
        return int(answer["update_id"])

    return list(await asyncio.gather(*(press(u) for u in users)))


async def wait_answered(
    api: FakeApi,
    bot: BotProcess,
    answered: int,
    sent: int,
    timeout: float,  # noqa: ASYNC109
) -> None:
    """Wait until ``answered`` updates got a reply and ``sent`` messages were sent in all."""
    deadline = time.monotonic() + timeout
    while True:
        stats = (await api.control("stats"))["stats"]
        if stats["latencies"] >= answered and stats["sent"] >= sent:
            return
        bot.check_alive()
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"waited {timeout:.0f}s: {stats['latencies']}/{answered} updates answered, "
                f"{stats['sent']}/{sent} messages sent"
            )
        missing = max(answered - stats["latencies"], sent - stats["sent"])
        pause = min(POLL_SECONDS_MAX, max(POLL_SECONDS, missing * POLL_SECONDS_PER_MISSING))
        await asyncio.sleep(pause)


async def play(
    api: FakeApi,
    bot: BotProcess,
    steps: Sequence[Step],
    users: Sequence[int],
    *,
    lokalnie: bool,
    meter: CpuMeter | None = None,
) -> list[StepResult]:
    """Run the steps for all users in lock-step on a cleared fake; returns per-step figures.

    The CPU meter runs from the first counted step on.
    """
    answered = sent = 0
    pushed: list[tuple[Step, list[int], float, int, int]] = []
    first_counted = next((s for s in steps if s.counted), None)
    for step in steps:
        if meter is not None and step is first_counted:
            meter.start()
        before = sent
        started = time.monotonic()
        update_ids = await push_step(api, step, users)
        push_seconds = time.monotonic() - started
        answered += len(users)
        sent += len(users) * (step.replies if lokalnie else 1)
        await wait_answered(api, bot, answered, sent, timeout=60 + 0.2 * len(users))
        pushed.append((step, update_ids, push_seconds, before, sent))
    if meter is not None:
        meter.stop()
    # Anything sent after the expected count would be a reply we did not account for.
    await asyncio.sleep(0.3)
    records = (await api.control("sent"))["sent"]
    if len(records) != sent:
        raise RuntimeError(f"expected {sent} messages, the bot sent {len(records)}")
    entries = {e["update_id"]: e for e in (await api.control("latencies"))["latencies"]}
    results = []
    for step, update_ids, push_seconds, first, last in pushed:
        mine = [entries[u] for u in update_ids]
        step_records = records[first:last]
        if lokalnie:
            hits = sum(step.expect in _shown(r) for r in step_records)
            if hits != len(users):
                raise RuntimeError(
                    f"step {step.name}: {hits}/{len(users)} answers contain {step.expect!r}"
                )
            edits = sum(r["method"] == "editMessageText" for r in step_records)
            if edits != (len(users) if step.edit else 0):
                raise RuntimeError(f"step {step.name}: {edits} edits for {len(users)} residents")
        start = min(e["pushed_at"] for e in mine)
        end = max(r["time"] for r in step_records)
        latencies = [e["latency"] for e in mine]
        results.append(
            StepResult(step, len(mine), end - start, push_seconds, latencies, len(step_records))
        )
    return results


def _shown(record: dict[str, Any]) -> str:
    """A sent message's text and button labels (a ticked option shows in its button)."""
    labels = [button.get("text", "") for row in record.get("buttons") or [] for button in row]
    return "\n".join([record.get("text") or "", *labels])


@dataclass(frozen=True)
class Target:
    """A bot to measure: the echo bot or Lokalnie on one store."""

    name: str
    store: str
    bot_args: tuple[str, ...]
    dsn: str | None = None  # PostgreSQL: where to read pg_stat_database from

    @property
    def lokalnie(self) -> bool:
        return self.name == "Lokalnie"


async def measure(
    api: FakeApi,
    target: Target,
    steps: Sequence[Step],
    args: argparse.Namespace,
    work: Path,
) -> Result:
    """Start the target, warm it up, measure idle latency and the burst, stop it."""
    slug = f"{target.name}-{target.store}".lower()
    bot_args = list(target.bot_args)
    if args.profile:
        suffix = ".prof" if args.profiler == "cprofile" else ".txt"
        bot_args += ["--profile", str(args.profile / f"{slug}{suffix}")]
    sql_path = work / f"{slug}.sql.json"
    if target.lokalnie and args.sql_stats:
        bot_args += ["--sql-stats", str(sql_path)]
    await api.control("clear")
    started = time.monotonic()
    xacts_before: dict[str, int] | None = None
    bot = BotProcess(bot_args, work / f"{slug}.log")
    try:
        await wait_ready(api, bot)
        _progress(
            f"{target.name} ({target.store}): polling after {time.monotonic() - started:.1f} s"
        )
        lokalnie = target.lokalnie
        if args.warmup:
            warm = range(WARMUP_IDS + 1, WARMUP_IDS + args.warmup + 1)
            await play(api, bot, steps, warm, lokalnie=lokalnie)
        idle: list[float] = []
        for index in range(args.idle):
            await api.control("clear")
            for step in await play(api, bot, steps, [IDLE_IDS + index + 1], lokalnie=lokalnie):
                if step.step.counted:
                    idle.extend(step.latencies)
        await api.control("clear")
        bot.signal(signal.SIGUSR1)  # reset profile / SQL counts after the warm-up
        await asyncio.sleep(0.2)
        if target.dsn and args.sql_stats:
            await asyncio.sleep(1.0)  # PostgreSQL flushes backend statistics about every second
            xacts_before = await _pg_transactions(target.dsn)
        _progress(f"  warmed up and idle runs done after {time.monotonic() - started:.1f} s")
        users = range(RESIDENT_IDS + 1, RESIDENT_IDS + args.residents + 1)
        assert api.process is not None
        meter = CpuMeter(bot.process.pid, api.process.pid)
        step_results = await play(api, bot, steps, users, lokalnie=lokalnie, meter=meter)
        stats = (await api.control("stats"))["stats"]
        _progress(f"  measured after {time.monotonic() - started:.1f} s")
    finally:
        bot.stop()
    result = Result(target.name, target.store, step_results, idle, meter, stats["calls_by_method"])
    if target.lokalnie and args.sql_stats and sql_path.exists():
        result.sql = json.loads(sql_path.read_text())
        if target.dsn and xacts_before is not None:
            # Backends flush their statistics when they exit; the bot has stopped by now.
            await asyncio.sleep(0.5)
            after = await _pg_transactions(target.dsn)
            result.sql["pg_transactions"] = {k: v - xacts_before[k] for k, v in after.items()}
    return result


async def _pg_transactions(dsn: str) -> dict[str, int]:
    """Committed and rolled back transactions of the database so far (pg_stat_database)."""
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        row = await conn.fetchrow(
            "SELECT xact_commit, xact_rollback FROM pg_stat_database "
            "WHERE datname = current_database()"
        )
    finally:
        await conn.close()
    assert row is not None
    return {"commit": int(row["xact_commit"]), "rollback": int(row["xact_rollback"])}


# --------------------------------------------------------------------------- report


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def table(results: Sequence[Result], unit: str = "updates") -> str:
    """The figures as a fixed-width table, then the Lokalnie/echo ratios."""
    header = (
        f"{'target':<10} {'store':<11} {unit:>7} {unit + '/s':>9} {'p50 ms':>8} "
        f"{'p99 ms':>8} {'idle p50 ms':>11} {'messages':>8} {'bot CPU':>12} {'fake CPU':>8}"
    )
    lines = [header, "-" * len(header)]
    for r in results:
        bot_cpu = fake_cpu = "?"
        if r.cpu is not None:
            used, share = r.cpu.seconds.get("bot"), r.cpu.share("bot")
            if used is not None and share is not None:
                bot_cpu = f"{used * 1000 / r.updates:.1f}ms/u {share:.0%}"
            fake_share = r.cpu.share("fake")
            if fake_share is not None:
                fake_cpu = f"{fake_share:.0%}"
        lines.append(
            f"{r.target:<10} {r.store:<11} {r.updates:>7} {r.per_second:>9.1f} "
            f"{_ms(percentile(r.latencies, 50)):>8} {_ms(percentile(r.latencies, 99)):>8} "
            f"{_ms(percentile(r.idle_latencies, 50)):>11} {r.messages:>8} {bot_cpu:>12} "
            f"{fake_cpu:>8}"
        )
    echo = next((r for r in results if r.target == "echo"), None)
    if echo is not None:
        lines.append("")
        for r in results:
            if r is echo:
                continue
            idle = percentile(r.idle_latencies, 50) / percentile(echo.idle_latencies, 50)
            lines.append(
                f"Lokalnie/echo on {r.store}: throughput x{r.per_second / echo.per_second:.2f}, "
                f"p50 x{percentile(r.latencies, 50) / percentile(echo.latencies, 50):.1f}, "
                f"p99 x{percentile(r.latencies, 99) / percentile(echo.latencies, 99):.1f}, "
                f"idle p50 x{idle:.1f}"
            )
    return "\n".join(lines)


def _kind(step: Step) -> str:
    """How a step is summed up in the details: command, typed, press, tick (Lokalnie edits)."""
    if step.kind == "message":
        return "typed" if not step.value.startswith("/") else "command"
    return "tick" if step.edit else "press"


def details(results: Sequence[Result]) -> str:
    """Per-step figures, Bot API calls and (if counted) SQL statements per update."""
    lines = []
    for r in results:
        lines.append(f"{r.target} ({r.store}):")
        width = max(9, *(len(s.step.name) for s in r.steps))
        for s in r.steps:
            mark = "" if s.step.counted else "  (not counted)"
            lines.append(
                f"  {s.step.name:<{width}} {s.updates:>5} updates {s.updates / s.seconds:>8.1f}/s "
                f"p50 {_ms(percentile(s.latencies, 50)):>7} ms "
                f"p99 {_ms(percentile(s.latencies, 99)):>7} ms  "
                f"(queued in {_ms(s.push_seconds)} ms){mark}"
            )
        kinds = sorted({_kind(s.step) for s in r.counted})
        if len(r.counted) > 5 and len(kinds) > 1:
            for kind in kinds:
                mine = [s for s in r.counted if _kind(s.step) == kind]
                count = sum(s.updates for s in mine)
                seconds = sum(s.seconds for s in mine)
                values = [v for s in mine for v in s.latencies]
                lines.append(
                    f"  all {kind + ':':<12} {count:>6} updates {count / seconds:>8.1f}/s "
                    f"p50 {_ms(percentile(values, 50)):>7} ms "
                    f"p99 {_ms(percentile(values, 99)):>7} ms"
                )
        calls = ", ".join(f"{k} {v}" for k, v in sorted(r.calls.items()))
        lines.append(f"  Bot API calls: {calls}")
        if r.sql:
            # Statements of the whole measured run, the uncounted steps' included.
            per = sum(s.updates for s in r.steps)
            pg = r.sql.get("pg_transactions")
            if pg:
                lines.append(
                    f"  PostgreSQL server side (pg_stat_database): {pg['commit'] / per:.1f} "
                    f"commits and {pg['rollback'] / per:.1f} rollbacks per update"
                )
            lines.append(
                f"  SQL: {sum(s['count'] for s in r.sql['statements']) / per:.1f} statements and "
                f"{r.sql['commits'] / per:.1f} commits per update; the most frequent:"
            )
            for s in r.sql["statements"][:12]:
                lines.append(
                    f"    {s['count'] / per:5.2f}/upd {s['seconds'] * 1000 / per:6.2f} ms/upd  "
                    f"{s['sql']}"
                )
    return "\n".join(lines)


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "?"


def machine() -> dict[str, str]:
    """Facts about this machine and the software measured."""
    cpu = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    ram = "?"
    with contextlib.suppress(OSError, ValueError, IndexError):
        kib = int(Path("/proc/meminfo").read_text().split("MemTotal:", 1)[1].split()[0])
        ram = f"{kib / 1024 / 1024:.1f} GiB"
    commit = "?"
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        commit = (
            subprocess.run(
                ["git", "describe", "--always", "--dirty"],
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=10,
            ).stdout.strip()
            or "?"
        )
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": commit,
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "ram": ram,
        "os": platform.platform(),
        "python": platform.python_version(),
        "python-telegram-bot": _version("python-telegram-bot"),
        "SQLAlchemy": _version("SQLAlchemy"),
        "aiosqlite": _version("aiosqlite"),
        "asyncpg": _version("asyncpg"),
        "SQLite": sqlite3.sqlite_version,
    }


async def _postgres_version(dsn: str) -> str:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        return str(await conn.fetchval("SHOW server_version"))
    finally:
        await conn.close()


# --------------------------------------------------------------------------- main


def parse_args(argv: Iterable[str] | None) -> argparse.Namespace:
    """Command-line options (see the module docstring)."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.updates", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--residents", type=int, help="residents (default 500; for the diagnosis 200)"
    )
    parser.add_argument(
        "--store", choices=("sqlite", "postgresql", "both"), default="both", help="default both"
    )
    parser.add_argument("--scenario", choices=SCENARIO_NAMES, default="onboarding")
    parser.add_argument("--warmup", type=int, default=20, help="warm-up residents (default 20)")
    parser.add_argument(
        "--idle", type=int, default=10, help="residents played one at a time (default 10)"
    )
    parser.add_argument("--no-echo", action="store_true", help="skip the echo bot")
    parser.add_argument(
        "--echo-request",
        choices=("httpx", "aiohttp"),
        default="httpx",
        help="the echo bot's HTTP client: PTB's default (httpx) or Lokalnie's (aiohttp)",
    )
    parser.add_argument("--details", action="store_true", help="per-step figures, API calls")
    parser.add_argument(
        "--sql-stats", action="store_true", help="count Lokalnie's SQL statements (slows it)"
    )
    parser.add_argument(
        "--profile", type=Path, help="write each bot's cProfile stats to this directory"
    )
    parser.add_argument(
        "--profiler",
        choices=("cprofile", "pyinstrument"),
        default="cprofile",
        help="pyinstrument must be pip-installed (default cprofile)",
    )
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    parser.add_argument(
        "--work", type=Path, help="keep the logs and databases in this (new) directory"
    )
    args = parser.parse_args(list(argv) if argv is not None else None)
    if args.residents is None:
        args.residents = DEFAULT_RESIDENTS.get(args.scenario, 500)
    if args.residents < 1:
        parser.error("--residents must be at least 1")
    if args.profile:
        args.profile = args.profile.resolve()
        args.profile.mkdir(parents=True, exist_ok=True)
    return args


async def run(args: argparse.Namespace, work: Path) -> tuple[list[Result], list[str]]:
    """Start the fake, measure every target in turn, clean up; returns results and failures."""
    from tests.servers import postgres

    steps = scenario_steps(args.scenario)
    content = open_diagnosis(work / "content") if args.scenario == "diagnosis" else None
    api = FakeApi(work / "fake-telegram.log")
    api.start()
    results: list[Result] = []
    failures: list[str] = []

    async def attempt(target: Target) -> None:
        # One target failing (e.g. a broken working tree) must not hide the others' figures.
        try:
            results.append(await measure(api, target, steps, args, work))
        except (RuntimeError, TimeoutError) as error:
            failures.append(f"{target.name} ({target.store}): {error}")
            _progress(f"{target.name} ({target.store}) FAILED: {error}")

    try:
        if not args.no_echo:
            echo_args = ("echo", "--base-url", api.base_url, "--request", args.echo_request)
            await attempt(Target("echo", args.echo_request, echo_args))
        if args.store in ("sqlite", "both"):
            url = f"sqlite+aiosqlite:///{work / 'bench.db'}"
            sqlite_args = _lokalnie_args(api, url, work / "data-sqlite", content)
            await attempt(Target("Lokalnie", "SQLite", sqlite_args))
        if args.store in ("postgresql", "both"):
            if not postgres.available():
                message = f"PostgreSQL skipped: {postgres.describe_target()}"
                if args.store == "postgresql":
                    failures.append(message)
                _progress(message)
            else:
                database = postgres.ThrowawayDatabase().create()
                try:
                    _progress(f"PostgreSQL {await _postgres_version(database.dsn)}")
                    pg_args = _lokalnie_args(api, database.url, work / "data-pg", content)
                    await attempt(Target("Lokalnie", "PostgreSQL", pg_args, database.dsn))
                finally:
                    database.drop()
    finally:
        await api.close()
        api.stop()
    return results, failures


def _lokalnie_args(api: FakeApi, url: str, data_dir: Path, content: Path | None) -> tuple[str, ...]:
    extra = ("--content-dir", str(content)) if content is not None else ()
    return (
        "lokalnie",
        "--base-url",
        api.base_url,
        "--database-url",
        url,
        "--data-dir",
        str(data_dir),
        *extra,
    )


def open_diagnosis(target: Path) -> Path:
    """A copy of ``content/`` in which the 2021 diagnosis has no ``opens``/``closes``."""
    from zoneinfo import ZoneInfo

    from handlers.surveys.files import load_survey_file

    shutil.copytree(ROOT / "content", target)
    path = target / "surveys" / f"{DIAGNOSIS}.yaml"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    kept = [line for line in lines if not line.startswith(("opens:", "closes:"))]
    if len(lines) - len(kept) != 2:
        raise RuntimeError(f"{path.name}: expected one opens: and one closes: line")
    path.write_text("".join(kept), encoding="utf-8")
    survey = load_survey_file(path, ZoneInfo("Europe/Warsaw"))
    assert survey.opens is None and survey.closes is None
    return target


def main(argv: Iterable[str] | None = None) -> None:
    """Run the benchmark and print the machine facts and the figures."""
    args = parse_args(argv)
    facts = machine()
    print("; ".join(f"{k}: {v}" for k, v in facts.items()), flush=True)
    steps = scenario_steps(args.scenario)
    counted = [s for s in steps if s.counted]
    names = ", ".join(s.name for s in steps) if len(steps) < 8 else f"{len(steps)} steps"
    print(
        f"scenario {args.scenario} ({names}; {len(counted)} counted), "
        f"{args.residents} residents in lock-step, {args.warmup} warm-up residents",
        flush=True,
    )
    unit = "answers" if args.scenario == "diagnosis" else "updates"
    started = time.monotonic()
    if args.work is not None:
        args.work.mkdir(parents=True)
        results, failures = asyncio.run(run(args, args.work.resolve()))
    else:
        with tempfile.TemporaryDirectory(prefix="lokalnie-bench-") as tmp:
            results, failures = asyncio.run(run(args, Path(tmp)))
    print()
    print(table(results, unit))
    if args.details or args.sql_stats:
        print()
        print(details(results))
    print(f"\n(whole run {time.monotonic() - started:.0f} s)")
    if args.json:
        data = {
            "machine": facts,
            "scenario": args.scenario,
            "residents": args.residents,
            "unit": unit,
            "results": [
                {
                    "target": r.target,
                    "store": r.store,
                    "updates": r.updates,
                    "updates_per_second": r.per_second,
                    "p50_ms": percentile(r.latencies, 50) * 1000,
                    "p99_ms": percentile(r.latencies, 99) * 1000,
                    "idle_p50_ms": percentile(r.idle_latencies, 50) * 1000,
                    "cpu_seconds": r.cpu.seconds if r.cpu else None,
                    "cpu_wall_seconds": r.cpu.wall if r.cpu else None,
                    "calls": r.calls,
                }
                for r in results
            ],
        }
        args.json.write_text(json.dumps(data, indent=1))
    if failures:
        print("\nFAILED:\n" + "\n".join(failures), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
