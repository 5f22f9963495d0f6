"""Routers: what each feature answers to, composed in one place.

Every feature module that handles events builds a `Router` with its commands,
button kinds, typed-answer flows and hooks. `handlers/routes.py` lists the
routers in order and composes them into one `Routes`; a command, button kind,
flow or /admin action registered twice is a `DuplicateRoute` at start-up, not a
silent overwrite.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from handlers.core.callbacks import CallbackData, parse
from handlers.core.events import Reply

if TYPE_CHECKING:
    from handlers.core.context import Context

CommandHandler = Callable[["Context"], Awaitable[list[Reply]]]
# Called with the pressed button, already parsed into one of the kinds it registered for.
ChoiceHandler = Callable[["Context", Any], Awaitable[list[Reply]]]
InputHandler = Callable[["Context"], Awaitable[list[Reply]]]
# An extra line of the /admin panel (e.g. questions waiting for an answer); None adds nothing.
PanelLine = Callable[["Context"], Awaitable[str | None]]
# Called by /forget, before the resident's personal fields are erased.
ForgetHook = Callable[["Context"], Awaitable[None]]
# Called when a form is finished: a survey response ("survey", its id) or a proposal
# submitted ("proposal", its id); returns replies to add to the flow's own.
FinishHook = Callable[["Context", str, int], Awaitable[list[Reply]]]
# Asked by /cancel about the conversation it leaves: a reply to say instead of the
# flow's own cancel text (e.g. how to come back to it), or None.
CancelHook = Callable[["Context", Any], Awaitable[Reply | None]]
# Whether a main-menu entry makes sense now (a survey is open, the call is open).
MenuCheck = Callable[["Context"], Awaitable[bool]]


class DuplicateRoute(RuntimeError):
    """Two registrations under one name: a programming error, found at start-up."""


@dataclass(frozen=True)
class Command:
    name: str
    handler: CommandHandler
    needs_consent: bool = False
    coordinator_only: bool = False
    in_menu: bool = True
    order: int = 100


@dataclass(frozen=True)
class Choice:
    """A kind of button (a `CallbackData` class) and who may press it."""

    kind: type[CallbackData]
    handler: ChoiceHandler
    without_consent: bool = False
    # Valid only while the resident's conversation is at the button's step.
    stateful: bool = False
    # Anyone else is refused and the attempt logged.
    coordinator_only: bool = False


@dataclass(frozen=True)
class AdminAction:
    """A button on the coordinator's /admin panel."""

    key: str
    label_key: str
    handler: ChoiceHandler


@dataclass(frozen=True)
class MenuItem:
    """An entry of the resident's main menu: a command, shown while `available`."""

    command: str
    label_key: str
    available: MenuCheck


def _add(table: dict, key: str, value: object, what: str, owner: str) -> None:
    if key in table:
        raise DuplicateRoute(f"{what} {key!r} registered twice (in {owner})")
    table[key] = value


@dataclass
class Router:
    """One module's share of the routes; its decorators only record, in this object."""

    name: str
    commands: dict[str, Command] = field(default_factory=dict)
    choices: dict[str, Choice] = field(default_factory=dict)
    flows: dict[str, InputHandler] = field(default_factory=dict)
    # Flows only a coordinator may continue: checked again at every typed step.
    coordinator_flows: set[str] = field(default_factory=set)
    admin_actions: dict[str, AdminAction] = field(default_factory=dict)
    # What /cancel says when it leaves a flow (catalogue key), if not the default.
    cancel_texts: dict[str, str] = field(default_factory=dict)
    panel_lines: list[PanelLine] = field(default_factory=list)
    forget_hooks: list[ForgetHook] = field(default_factory=list)
    finish_hooks: list[FinishHook] = field(default_factory=list)
    cancel_hooks: list[CancelHook] = field(default_factory=list)
    menu_items: dict[str, MenuItem] = field(default_factory=dict)

    def command(
        self,
        name: str,
        *,
        needs_consent: bool = False,
        coordinator_only: bool = False,
        in_menu: bool = True,
        order: int = 100,
    ) -> Callable[[CommandHandler], CommandHandler]:
        """Register a command; `order` places it in the menu and /help."""

        def register(handler: CommandHandler) -> CommandHandler:
            entry = Command(name, handler, needs_consent, coordinator_only, in_menu, order)
            _add(self.commands, name, entry, "command", self.name)
            return handler

        return register

    def choice(
        self,
        *kinds: type[CallbackData],
        without_consent: bool = False,
        stateful: bool = False,
        coordinator_only: bool = False,
    ) -> Callable[[ChoiceHandler], ChoiceHandler]:
        """Register a handler for presses of these kinds of button (it gets the typed data).

        `stateful`: valid only while the resident's conversation is at the button's
        flow (its prefix) and step (`at_step()`); otherwise the press is stale.
        """

        def register(handler: ChoiceHandler) -> ChoiceHandler:
            for one in kinds:
                entry = Choice(one, handler, without_consent, stateful, coordinator_only)
                _add(self.choices, one.key(), entry, "button kind", self.name)
            return handler

        return register

    def flow(
        self, name: str, *, cancel_text: str | None = None, coordinator_only: bool = False
    ) -> Callable[[InputHandler], InputHandler]:
        """Handles text and files while a resident is inside the flow `name`.

        `coordinator_only`: each typed step is refused (and the flow ended) once
        the sender is no longer a coordinator, not only the command that began it.
        """

        def register(handler: InputHandler) -> InputHandler:
            _add(self.flows, name, handler, "flow", self.name)
            if coordinator_only:
                self.coordinator_flows.add(name)
            if cancel_text is not None:
                self.cancel_texts[name] = cancel_text
            return handler

        return register

    def cancel_text(self, flow: str, key: str) -> None:
        """What /cancel says when it leaves `flow` (a flow driven by buttons only)."""
        _add(self.cancel_texts, flow, key, "cancel text of", self.name)

    def admin_action(self, key: str, label_key: str) -> Callable[[ChoiceHandler], ChoiceHandler]:
        def register(handler: ChoiceHandler) -> ChoiceHandler:
            _add(
                self.admin_actions,
                key,
                AdminAction(key, label_key, handler),
                "admin action",
                self.name,
            )
            return handler

        return register

    def menu_item(self, command: str, label_key: str) -> Callable[[MenuCheck], MenuCheck]:
        """Offer `command` in the main menu (handlers/core/menu.py) while the check holds."""

        def register(available: MenuCheck) -> MenuCheck:
            entry = MenuItem(command, label_key, available)
            _add(self.menu_items, command, entry, "menu item", self.name)
            return available

        return register

    def panel_line(self, line: PanelLine) -> PanelLine:
        self.panel_lines.append(line)
        return line

    def forget_hook(self, hook: ForgetHook) -> ForgetHook:
        self.forget_hooks.append(hook)
        return hook

    def finish_hook(self, hook: FinishHook) -> FinishHook:
        self.finish_hooks.append(hook)
        return hook

    def cancel_hook(self, hook: CancelHook) -> CancelHook:
        self.cancel_hooks.append(hook)
        return hook


class Routes:
    """The routers of every feature, composed in the order given."""

    def __init__(self, routers: Iterable[Router]) -> None:
        self.routers = tuple(routers)
        self.commands: dict[str, Command] = {}
        self.choices: dict[str, Choice] = {}
        self.flows: dict[str, InputHandler] = {}
        self.coordinator_flows: frozenset[str] = frozenset(
            name for router in self.routers for name in router.coordinator_flows
        )
        self.admin_actions: dict[str, AdminAction] = {}
        self.cancel_texts: dict[str, str] = {}
        self.panel_lines: list[PanelLine] = []
        self.forget_hooks: list[ForgetHook] = []
        self.finish_hooks: list[FinishHook] = []
        self.cancel_hooks: list[CancelHook] = []
        self.menu_items: dict[str, MenuItem] = {}
        names: set[str] = set()
        for router in self.routers:
            _add({n: None for n in names}, router.name, router, "router", "handlers.routes")
            names.add(router.name)
            for table, theirs, what in (
                (self.commands, router.commands, "command"),
                (self.choices, router.choices, "button kind"),
                (self.flows, router.flows, "flow"),
                (self.admin_actions, router.admin_actions, "admin action"),
                (self.cancel_texts, router.cancel_texts, "cancel text of"),
                (self.menu_items, router.menu_items, "menu item"),
            ):
                for key, value in theirs.items():
                    _add(table, key, value, what, router.name)
            self.panel_lines.extend(router.panel_lines)
            self.forget_hooks.extend(router.forget_hooks)
            self.finish_hooks.extend(router.finish_hooks)
            self.cancel_hooks.extend(router.cancel_hooks)
        self.kinds: dict[str, type[CallbackData]] = {
            key: choice.kind for key, choice in self.choices.items()
        }

    def parse(self, data: str | None) -> CallbackData | None:
        """A pressed button as the typed data of a registered kind; None when it is not one."""
        return parse(data, self.kinds)

    def main_menu(self) -> list[MenuItem]:
        """The main menu's entries, in the order of their commands."""
        items = [i for i in self.menu_items.values() if i.command in self.commands]
        return sorted(items, key=lambda i: self.commands[i.command].order)

    def menu(self, *, coordinator: bool) -> list[Command]:
        """Commands for Telegram's menu and /help, by their order."""
        shown = [
            c
            for c in self.commands.values()
            if c.in_menu and (coordinator or not c.coordinator_only)
        ]
        return sorted(shown, key=lambda c: c.order)
