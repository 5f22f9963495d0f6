"""Where commands, button flows and conversation flows are registered.

Later capabilities (surveys, proposals, the mailbox ...) add their entries
here instead of growing the router.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from handlers.callbacks import Callback
from handlers.context import Context
from handlers.events import Reply

CommandHandler = Callable[[Context], Awaitable[list[Reply]]]
ChoiceHandler = Callable[[Context, Callback], Awaitable[list[Reply]]]
InputHandler = Callable[[Context], Awaitable[list[Reply]]]


@dataclass(frozen=True)
class Command:
    name: str
    handler: CommandHandler
    needs_consent: bool = False
    coordinator_only: bool = False
    in_menu: bool = True
    order: int = 100


@dataclass(frozen=True)
class AdminAction:
    """A button on the coordinator's /admin panel."""

    key: str
    label_key: str
    handler: ChoiceHandler


COMMANDS: dict[str, Command] = {}
CHOICES: dict[str, ChoiceHandler] = {}
CHOICES_WITHOUT_CONSENT: set[str] = set()
# Flows whose buttons are valid only while the conversation is at their step.
STATEFUL_CHOICES: set[str] = set()
# Flows whose buttons only coordinators may press (anyone else is refused and logged).
COORDINATOR_CHOICES: set[str] = set()
FLOWS: dict[str, InputHandler] = {}
ADMIN_ACTIONS: dict[str, AdminAction] = {}
# What /cancel says when it leaves a flow (catalogue key), if not the default.
CANCEL_TEXTS: dict[str, str] = {}
# Extra lines of the /admin panel (e.g. questions waiting for an answer); None adds nothing.
PanelLine = Callable[[Context], Awaitable[str | None]]
PANEL_LINES: list[PanelLine] = []
# Called by /forget, before the resident's personal fields are erased.
ForgetHook = Callable[[Context], Awaitable[None]]
FORGET_HOOKS: list[ForgetHook] = []


def command(
    name: str,
    *,
    needs_consent: bool = False,
    coordinator_only: bool = False,
    in_menu: bool = True,
    order: int = 100,
) -> Callable[[CommandHandler], CommandHandler]:
    """Register a command; `order` places it in the menu and /help."""

    def register(handler: CommandHandler) -> CommandHandler:
        COMMANDS[name] = Command(name, handler, needs_consent, coordinator_only, in_menu, order)
        return handler

    return register


def choice(
    flow: str,
    *,
    without_consent: bool = False,
    stateful: bool = False,
    coordinator_only: bool = False,
) -> Callable[[ChoiceHandler], ChoiceHandler]:
    def register(handler: ChoiceHandler) -> ChoiceHandler:
        CHOICES[flow] = handler
        if coordinator_only:
            COORDINATOR_CHOICES.add(flow)
        if without_consent:
            CHOICES_WITHOUT_CONSENT.add(flow)
        if stateful:
            STATEFUL_CHOICES.add(flow)
        return handler

    return register


def flow(name: str) -> Callable[[InputHandler], InputHandler]:
    """Handles text and files while a resident is inside the flow `name`."""

    def register(handler: InputHandler) -> InputHandler:
        FLOWS[name] = handler
        return handler

    return register


def admin_action(key: str, label_key: str) -> Callable[[ChoiceHandler], ChoiceHandler]:
    def register(handler: ChoiceHandler) -> ChoiceHandler:
        ADMIN_ACTIONS[key] = AdminAction(key, label_key, handler)
        return handler

    return register


def menu(*, coordinator: bool) -> list[Command]:
    """Commands for Telegram's menu and /help, in registration order."""
    return [c for c in COMMANDS.values() if c.in_menu and (coordinator or not c.coordinator_only)]
