"""Every catalogue key the code uses has a text in Polish AND in English.

The keys are found by reading the code (`ast`), not by running it, so a text
shown only on a rare path (an error, a reminder, a coordinator's export) is
checked as well as the greeting:

- string constants shaped like a key (`section.name`) passed to the functions
  that take a key (`ctx.t`, `ctx.reply`, `ctx.button`, `translator.text`,
  `InvalidAnswer`, `cancel_text`, `admin_action`, ...), in any argument
  position or as `key=` / `label_key=`, also inside `a if x else b`;
- every other key-shaped constant of a section the catalogues have (the keys
  kept in tables: column headers, question types, audiences, hints), except
  file names and router names;
- keys built at run time (`f"proposal.status.{status}"`, `"command." + name`):
  each prefix must be listed in `DYNAMIC` with the values it is built from,
  and every registered command has `command.<name>`.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from babel.messages.pofile import read_po

from handlers.broadcasts import plan
from handlers.contest import records
from handlers.onbehalf import steps as onbehalf_steps
from handlers.routes import ROUTES
from handlers.surveys import filters as survey_filters
from panel import proposals as panel_proposals
from panel import surveys as panel_surveys
from storage import on_behalf, proposals, schedule
from tests.conftest import CONTENT, ROOT

KEY = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")
PREFIX = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*\.$")
# Functions whose arguments are catalogue keys, by the name they are called by.
KEY_FUNCTIONS = {
    "t",
    "reply",
    "button",
    "text",
    "translated",
    "InvalidAnswer",
    "cancel_text",
    "admin_action",
    "_button",
    "yes_no",
    "_survey_list",
    "_remind",
    "cli_text",
    "interface_text",
    "SettingProblem",
    "BackupError",
    # Content-file problems: `note(key, ...)`, and `rule(key, ...)` in the models.
    "note",
    "rule",
}
KEY_KEYWORDS = {"key", "label_key"}
# Key-shaped strings that are not keys: file names, and router names.
FILE_SUFFIXES = {"yaml", "yml", "json", "csv", "xlsx", "png", "po", "txt", "eml", "db", "html"}
NOT_KEY_FUNCTIONS = {"Router"}
# Keys built at run time: the prefix, and every value the rest can take.
DYNAMIC: dict[str, Iterable[str]] = {
    "proposal.status.": proposals.STATUSES,
    "review.to.": records.TARGETS,
    "review.history.": (*records.HISTORY_KINDS, "other"),
    "survey.state.": ("open", "closed"),
    "onbehalf.channel.": on_behalf.CHANNELS,
    "onbehalf.via.": on_behalf.CHANNELS,
    "onbehalf.consent.": (*on_behalf.CONSENTS, onbehalf_steps.NO),
    "onbehalf.consent_note.": on_behalf.CONSENTS,
    "panel.sort.": panel_proposals.SORTS,
    "panel.surveys.channel.": survey_filters.CHANNELS,
    "panel.surveys.state.": panel_surveys.STATES,
    "schedule.kind.": (
        plan.SURVEY_REMINDER,
        plan.CONTEST_REMINDER,
        plan.ANNOUNCEMENT,
        plan.BROADCAST,
    ),
    "command.": list(ROUTES.commands),
    "cli.schedule_kind.": (
        plan.SURVEY_REMINDER,
        plan.CONTEST_REMINDER,
        plan.ANNOUNCEMENT,
        plan.BROADCAST,
    ),
    "cli.broadcast_state.": (
        schedule.DRAFT,
        schedule.SCHEDULED,
        schedule.SENDING,
        schedule.DONE,
        schedule.CANCELLED,
    ),
}
CODE = sorted(
    p
    for d in ("bot", "handlers", "storage", "scheduler", "panel")
    for p in (ROOT / d).rglob("*.py")
)
# The panel's templates ask for their texts as t("key", ...).
TEMPLATES = sorted((ROOT / "panel" / "templates").rglob("*.html"))
TEMPLATE_KEY = re.compile(r"""\bt\(\s*["']([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+)["']""")


def catalogue(language: str, content: Path = CONTENT) -> set[str]:
    path = content / "locales" / language / "LC_MESSAGES" / "lokalnie.po"
    with path.open("rb") as source:
        # A plural entry's id is (msgid, msgid_plural), both the key.
        return {
            str(message.id[0] if isinstance(message.id, tuple) else message.id)
            for message in read_po(source, locale=language)
            if message.id
        }


def _name(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def _strings(node: ast.expr) -> Iterator[ast.Constant]:
    """The string constants an argument can evaluate to (through `a if x else b`, `or`)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node
    elif isinstance(node, ast.IfExp):
        yield from _strings(node.body)
        yield from _strings(node.orelse)
    elif isinstance(node, ast.BoolOp):
        for value in node.values:
            yield from _strings(value)
    elif isinstance(node, ast.Call) and _name(node) == "get":
        # `TEXTS.get(flow, "cancel.done")`: the default is a key.
        for arg in node.args[1:]:
            yield from _strings(arg)


def _is_file_name(text: str) -> bool:
    return text.rsplit(".", 1)[-1] in FILE_SUFFIXES


def keys_in_calls(tree: ast.AST) -> set[str]:
    """Key-shaped constants given to a function that takes a key."""
    found: set[str] = set()
    for call in ast.walk(tree):
        if not isinstance(call, ast.Call) or _name(call) not in KEY_FUNCTIONS:
            continue
        arguments = [*call.args, *(k.value for k in call.keywords if k.arg in KEY_KEYWORDS)]
        for argument in arguments:
            found |= {c.value for c in _strings(argument) if KEY.match(c.value)}
    return found


def keys_in_tables(tree: ast.AST, sections: set[str]) -> set[str]:
    """Key-shaped constants of a known section anywhere else (tables of keys)."""
    skipped = {
        id(arg)
        for call in ast.walk(tree)
        if isinstance(call, ast.Call) and _name(call) in NOT_KEY_FUNCTIONS
        for arg in call.args
    }
    return {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and KEY.match(node.value)
        and node.value.split(".")[0] in sections
        and not _is_file_name(node.value)
        and id(node) not in skipped
    }


def built_prefixes(tree: ast.AST) -> set[str]:
    """The constant start of keys built at run time: f"a.b.{x}" and "a.b." + x."""
    found: set[str] = set()
    for node in ast.walk(tree):
        head: object = None
        if isinstance(node, ast.JoinedStr) and node.values:
            first = node.values[0]
            head = first.value if isinstance(first, ast.Constant) else None
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            head = node.left.value if isinstance(node.left, ast.Constant) else None
        if isinstance(head, str) and PREFIX.match(head) and not head.startswith("aiohttp."):
            found.add(head)
    return found


def used_keys(paths: Iterable[Path], sections: set[str]) -> dict[str, set[str]]:
    """Every key the code uses, with the files that use it."""
    used: dict[str, set[str]] = {}
    for path in paths:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        keys = keys_in_calls(tree) | keys_in_tables(tree, sections)
        for key in keys:
            used.setdefault(key, set()).add(str(path.relative_to(ROOT)))
    for template in TEMPLATES:
        for key in TEMPLATE_KEY.findall(template.read_text(encoding="utf-8")):
            used.setdefault(key, set()).add(str(template.relative_to(ROOT)))
    return used


def dynamic_keys() -> set[str]:
    return {prefix + value for prefix, values in DYNAMIC.items() for value in values}


def registered_keys() -> set[str]:
    """What the routers register at start-up: cancel texts and /admin panel labels."""
    labels = {action.label_key for action in ROUTES.admin_actions.values()}
    return labels | set(ROUTES.cancel_texts.values())


def missing(language: str) -> dict[str, set[str]]:
    known = catalogue(language)
    sections = {key.split(".")[0] for key in catalogue("pl") | catalogue("en")}
    used = used_keys(CODE, sections)
    for key in dynamic_keys() | registered_keys():
        used.setdefault(key, set()).add("(built at run time)")
    return {key: where for key, where in used.items() if key not in known}


def test_the_scan_finds_the_keys_the_code_uses() -> None:
    sections = {key.split(".")[0] for key in catalogue("pl")}
    used = used_keys(CODE, sections)
    # One of each way a key is given: a reply, an exception, a table, a conditional,
    # a content file's problem and a content model's rule.
    for key in (
        "start.first_screen",
        "review.date_past",
        "export.type_single",
        "news.off",
        "content.error.duplicate_key",
        "content.error.options_min",
    ):
        assert key in used, key
    assert len(used) > 300


def test_every_key_used_in_code_has_a_polish_text() -> None:
    assert missing("pl") == {}


def test_every_key_used_in_code_has_an_english_text() -> None:
    assert missing("en") == {}


def test_every_text_in_the_catalogues_is_used() -> None:
    """A text no code asks for is dead: a translator would keep it up to date for nothing."""
    known = catalogue("pl")
    sections = {key.split(".")[0] for key in known}
    used = set(used_keys(CODE, sections)) | dynamic_keys() | registered_keys()
    assert known - used == set()


def test_every_key_built_at_run_time_has_its_values_listed() -> None:
    prefixes = set().union(*(built_prefixes(ast.parse(p.read_text())) for p in CODE))
    assert prefixes - set(DYNAMIC) == set()


def test_every_registered_command_has_a_description() -> None:
    names = set(ROUTES.commands)
    assert {"start", "help", "survey", "propose", "admin"} <= names
    for language in ("pl", "en"):
        assert {"command." + name for name in names} - catalogue(language) == set()


def test_a_key_missing_from_the_catalogue_is_reported(tmp_path: Path) -> None:
    """The scan would catch a key with no text: a made-up one written the usual ways."""
    source = tmp_path / "feature.py"
    source.write_text(
        "async def handle(ctx):\n"
        '    if ctx.event.text == "x":\n'
        '        raise InvalidAnswer("input.not_in_catalogue")\n'
        '    LABELS = {"a": "results.not_in_catalogue"}\n'
        '    problem = note("content.not_in_catalogue", line=3)\n'
        '    return [ctx.reply("start.not_in_catalogue" if ctx.consented else "start.thanks")]\n',
        encoding="utf-8",
    )
    tree = ast.parse(source.read_text())
    found = keys_in_calls(tree) | keys_in_tables(tree, {"results"})
    absent = found - catalogue("pl")
    assert absent == {
        "content.not_in_catalogue",
        "input.not_in_catalogue",
        "results.not_in_catalogue",
        "start.not_in_catalogue",
    }
