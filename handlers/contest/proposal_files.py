"""The proposal flow's attachments step: adding and removing files until the deadline.

Each file sent is checked (count, size, and the type read from its bytes by
`file_types`), stored under DATA_DIR and listed; each listed file has a button
to remove it, which asks first (step `frm`, pending: the file's id); `done`
moves on (no files is allowed). The same steps serve a submitted proposal
while the call is open (`/myproposals` → files): then only the files change,
and `done` ends the conversation. The steps return an `Outcome` for the flow
module to carry out.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Any

from handlers.contest import file_types
from handlers.contest.buttons import FILE_REMOVE, FILES, FilePick, FileRemove, FilesDone
from handlers.contest.draft import Goto, Onward, Outcome, Position, deadline, when
from handlers.contest.model import Contest
from handlers.contest.notices import tell_coordinators
from handlers.core.context import Context
from handlers.core.events import Kind, Reply
from handlers.core.flow import InvalidAnswer
from handlers.core.labels import cut_label
from storage import conversations, erasure
from storage import proposals as store
from storage.proposals import Proposal, ProposalAttachment

SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
LABEL_NAME = 32


async def files_view(
    ctx: Context, contest: Contest, proposal: Proposal, pending: dict[str, Any]
) -> Reply:
    rules = contest.attachments
    stored = await store.attachments(ctx.session, proposal.id)
    parts = [
        ctx.t(
            "proposal.files_prompt",
            max_files=rules.max_files,
            max_mb=rules.max_megabytes,
            accepted=file_types.accepted_names(rules.types),
        )
    ]
    if proposal.status != store.DRAFT:
        limit = deadline(contest, proposal)
        if limit is not None:
            parts.append(ctx.t("proposal.files_until", when=when(ctx, limit)))
    if stored:
        parts += ["", ctx.t("proposal.files_list", names=", ".join(a.name for a in stored))]
    rows = [
        [ctx.button("proposal.file_remove", FilePick(a.id), name=cut_label(a.name, LABEL_NAME))]
        for a in stored
    ]
    key = "proposal.files_done" if stored else "proposal.files_none"
    rows.append([ctx.button(key, FilesDone("done"))])
    return Reply("\n".join(parts), rows)


async def file_sent(ctx: Context, at: Position) -> Outcome:
    file = ctx.event.file
    rules = at.contest.attachments
    if ctx.event.kind is not Kind.FILE or file is None:
        raise InvalidAnswer(
            "proposal.files_send_file", accepted=file_types.accepted_names(rules.types)
        )
    stored = await store.attachments(ctx.session, at.proposal.id)
    if len(stored) >= rules.max_files:
        raise InvalidAnswer("proposal.files_too_many", count=rules.max_files)
    limit = int(rules.max_megabytes * 1024 * 1024)
    if file.content is None or len(file.content) > limit:
        raise InvalidAnswer("proposal.files_too_big", max_mb=rules.max_megabytes)
    # The type from the bytes, never the client's mime_type or the file's name.
    detected = file_types.detect(file.content, rules.types)
    if detected is None:
        raise InvalidAnswer(
            "proposal.files_wrong_type", accepted=file_types.accepted_names(rules.types)
        )
    number = _next_number(stored)
    name = file_types.stored_name(file.name, detected, number, safe=SAFE_NAME)
    relative = f"{_folder(at.proposal)}{number:02d}-{name}"
    path = ctx.services.data_dir / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(file.content)
    await store.add_attachment(
        ctx.session,
        proposal=at.proposal,
        name=name,
        mime_type=detected.mime_type,
        size=len(file.content),
        path=relative,
    )
    return Goto(FILES, said=(ctx.reply("proposal.files_saved", name=name),))


def _folder(proposal: Proposal) -> str:
    """Where the applicant's own files of this proposal are kept, under DATA_DIR."""
    return f"attachments/{proposal.id}/"


def _next_number(stored: list[ProposalAttachment]) -> int:
    """One more than the highest file number used, so a removed file's is never reused."""
    used = [len(stored)]
    for attachment in stored:
        head = PurePosixPath(attachment.path).name.split("-", 1)[0]
        if head.isdigit():
            used.append(int(head))
    return max(used) + 1


async def files_pressed(ctx: Context, at: Position, pressed: FilesDone | FilePick) -> Outcome:
    if isinstance(pressed, FilePick):
        attachment = await _own(ctx, at, pressed.attachment)
        if attachment is None:
            raise InvalidAnswer("input.stale_button")
        return Goto(FILE_REMOVE, {"file": attachment.id}, replace=True)
    if at.files_only:
        await conversations.end(ctx.session, at.conversation.resident_id)
        listed = ", ".join(a.name for a in await store.attachments(ctx.session, at.proposal.id))
        await tell_coordinators(
            ctx,
            at.contest,
            at.proposal,
            "proposal.coordinator_files_changed",
            occasion=f"files:{ctx.services.clock().isoformat()}",
            names=listed or "–",
        )
        names = listed or ctx.t("proposal.no_files")
        return [ctx.reply("proposal.files_updated", number=at.proposal.number, names=names)]
    await store.mark_done(ctx.session, at.proposal, FILES)
    return Onward()


async def remove_view(
    ctx: Context, contest: Contest, proposal: Proposal, pending: dict[str, Any]
) -> Reply:
    attachment = next(
        (a for a in await store.attachments(ctx.session, proposal.id) if a.id == pending["file"]),
        None,
    )
    back = [ctx.button("proposal.file_remove_no", FileRemove("back"))]
    if attachment is None:
        return Reply(ctx.t("input.stale_button"), [back])
    text = ctx.t("proposal.file_remove_question", name=attachment.name)
    return Reply(text, [[ctx.button("proposal.file_remove_yes", FileRemove("yes"))], back])


async def remove_pressed(ctx: Context, at: Position, pressed: FileRemove) -> Outcome:
    if pressed.choice == "back":
        return Goto(FILES, replace=True)
    attachment = await _own(ctx, at, int(at.pending.get("file", 0)))
    if attachment is None:
        return Goto(FILES, said=(ctx.reply("input.stale_button"),))
    await store.remove_attachment(ctx.session, at.proposal, attachment.id)
    if attachment.path.startswith(_folder(at.proposal)):
        # A file that came with an e-mail is the mailbox's too: only the row goes.
        erasure.delete_files_after_commit(ctx.session, ctx.services.data_dir, [attachment.path])
    return Goto(FILES, said=(ctx.reply("proposal.file_removed", name=attachment.name),))


async def _own(ctx: Context, at: Position, attachment_id: int) -> ProposalAttachment | None:
    found = await store.attachments(ctx.session, at.proposal.id)
    return next((a for a in found if a.id == attachment_id), None)
