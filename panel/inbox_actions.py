"""What a coordinator does with a mail thread: reply, mark it handled, link it to a
proposal, turn it into one.

Each calls the chat's own code (`handlers/mailbox/reply.py`, `inbox.py`,
`bridge.py`), so the reply is stored in the thread and queued in the outbox as
one from the chat, and is shown "sent" only once the outbox delivered it. Each
action is audited in its own transaction; the thread is then shown again with
what the chat would have answered.
"""

from __future__ import annotations

from handlers.core import flow
from handlers.core.context import Context
from handlers.core.events import Reply
from handlers.core.flow import InvalidAnswer
from handlers.mailbox.bridge import mail_for_proposal, proposal_action, proposal_bridge
from handlers.mailbox.buttons import MailMake, MailPick
from handlers.mailbox.inbox import mark_thread_handled
from handlers.mailbox.reply import ReplyRefused, send_reply
from panel import audit
from panel.base import PanelHandler
from panel.feature import coordinator_context
from panel.inbox_view import reply_message, thread_view
from storage import mail as store

MAX_REPLY = 10_000


class _ThreadAction(PanelHandler):
    """Runs `act` on the thread in one transaction, then shows the thread again."""

    action = ""

    async def post(self, thread_id: str) -> None:
        notice: list[str] = []
        error: str | None = None
        form: dict[str, str] = {}
        async with self.transaction() as session:
            thread = await store.get_thread(session, int(thread_id))
            if thread is None:
                self.refuse(404, "mail.gone")
                return
            ctx = await coordinator_context(session, self)
            try:
                replies, target = await self.act(ctx, thread)
                notice = [line for reply in replies for line in reply.text.split("\n")]
                if target is not None:
                    await audit.record(session, self, self.action, f"#{thread.id}", **target)
            except (InvalidAnswer, ReplyRefused) as problem:
                error = ctx.t(problem.key, **problem.values)
                # A draft is never lost to a refusal.
                form = {"text": self.get_body_argument("text", "")}
        values = await thread_view(self, int(thread_id), notice=notice, error=error, form=form)
        if values is None:
            self.refuse(404, "mail.gone")
            return
        self.set_status(400 if error else 200)
        self.render_page("inbox_thread.html", **values)

    async def act(
        self, ctx: Context, thread: store.MailThread
    ) -> tuple[list[Reply], dict[str, str] | None]:
        """What the chat answered, and the audit detail (None: nothing was changed)."""
        raise NotImplementedError


class ReplyAction(_ThreadAction):
    action = "mail_reply"

    async def act(
        self, ctx: Context, thread: store.MailThread
    ) -> tuple[list[Reply], dict[str, str] | None]:
        text = flow.free_text(
            self.get_body_argument("text", ""), min_length=None, max_length=MAX_REPLY
        )
        messages = await store.thread_messages(ctx.session, thread.id)
        if not messages or self.get_body_argument("after", "") != str(messages[-1].id):
            # Someone wrote in the thread since the form was shown (a new e-mail, another
            # coordinator's reply, or this very reply posted again by reloading the page).
            raise InvalidAnswer("panel.inbox.thread_changed")
        outgoing = await send_reply(ctx, reply_message(messages), text)
        recipient = outgoing.to[0][1]
        return [ctx.reply("mail.reply_queued", recipient=recipient)], {"to": recipient}


class HandledAction(_ThreadAction):
    action = "mail_handled"

    async def act(
        self, ctx: Context, thread: store.MailThread
    ) -> tuple[list[Reply], dict[str, str] | None]:
        was_open = thread.status == store.OPEN
        replies = await mark_thread_handled(ctx, thread.id)
        return replies, ({} if was_open else None)


class LinkAction(_ThreadAction):
    action = "mail_linked"

    async def act(
        self, ctx: Context, thread: store.MailThread
    ) -> tuple[list[Reply], dict[str, str] | None]:
        message = await self._message(ctx, thread)
        ref = self.get_body_argument("proposal", "")
        bridge = proposal_bridge(ctx.services)
        assert bridge is not None
        offered = await bridge.candidates(ctx, await mail_for_proposal(ctx.session, message))
        if ref not in {value for value, _label in offered}:
            raise InvalidAnswer("panel.inbox.no_such_proposal")
        replies = await proposal_action(ctx, MailPick(message.id, ref), message.id)
        return replies, {"proposal": ref}

    async def _message(self, ctx: Context, thread: store.MailThread) -> store.MailMessage:
        if proposal_bridge(ctx.services) is None:
            raise InvalidAnswer("review.no_contest")
        message = reply_message(await store.thread_messages(ctx.session, thread.id))
        if message is None:
            raise InvalidAnswer("mail.gone")
        return message


class ProposalAction(LinkAction):
    action = "mail_proposal"

    async def act(
        self, ctx: Context, thread: store.MailThread
    ) -> tuple[list[Reply], dict[str, str] | None]:
        message = await self._message(ctx, thread)
        before = thread.proposal_ref
        replies = await proposal_action(ctx, MailMake(message.id), message.id)
        made = thread.proposal_ref
        return replies, ({"proposal": made} if made and made != before else None)


ROUTES = [
    (r"/inbox/([0-9]+)/reply", ReplyAction),
    (r"/inbox/([0-9]+)/handled", HandledAction),
    (r"/inbox/([0-9]+)/link", LinkAction),
    (r"/inbox/([0-9]+)/proposal", ProposalAction),
]
