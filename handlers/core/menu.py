"""The resident's main menu: buttons for what can be done now.

Each feature offers its entries with `Router.menu_item` (a command and when it
makes sense); this module only builds the buttons. The menu follows consent,
/start, /menu, a message that was not understood, and the end of any
resident's flow (`handlers/core/entry.py`: `route`), so no conversation ends in a
dead end.
"""

from __future__ import annotations

from dataclasses import dataclass

from handlers.core.callbacks import CallbackData, kind
from handlers.core.context import Context
from handlers.core.events import Button, Reply
from handlers.core.routing import Router

router = Router("core.menu")


@kind("menu")
@dataclass(frozen=True)
class MenuPick(CallbackData):
    """A main-menu button: runs the command it names."""

    command: str


async def main_menu(ctx: Context) -> list[list[Button]]:
    """One row per entry available to this resident now (none before consent)."""
    if not ctx.consented:
        return []
    rows = []
    for item in ctx.routes.main_menu():
        if await item.available(ctx):
            rows.append([ctx.button(item.label_key, MenuPick(item.command))])
    return rows


async def with_menu(ctx: Context, replies: list[Reply]) -> list[Reply]:
    """`replies` with the main menu under the last one, or after it in its own message.

    The menu joins the last reply when that has no file and no yes/no buttons;
    an entry whose button is already there is not repeated.
    """
    rows = await main_menu(ctx)
    if not rows:
        return replies
    last = replies[-1] if replies else None
    if last is None or last.file is not None or any(b.means for r in last.buttons for b in r):
        return [*replies, ctx.reply("menu.prompt", buttons=rows)]
    present = {b.data for row in last.buttons for b in row}
    extra = [row for row in rows if row[0].data not in present]
    joined = Reply(last.text, [*last.buttons, *extra], last.file, last.replace)
    return [*replies[:-1], joined]


@router.command("menu", needs_consent=True, order=25)
async def menu_command(ctx: Context) -> list[Reply]:
    return await with_menu(ctx, [])


@router.choice(MenuPick)
async def on_pick(ctx: Context, pressed: MenuPick) -> list[Reply]:
    # The command itself says when its entry is no longer available (a call closed).
    command = ctx.routes.commands.get(pressed.command)
    if pressed.command not in ctx.routes.menu_items or command is None:
        return [ctx.reply("input.stale_button")]
    return await command.handler(ctx)
