"""An applicant's attachment, served only to a signed-in coordinator.

PDFs and images are shown inline (the detail page frames them); anything else
is a download. The type is the one recorded when the file was checked on
arrival (`handlers/contest/file_types.py`), and the browser is told not to
guess another; the file is sandboxed so a PDF or image cannot run our origin's
scripts.
"""

from __future__ import annotations

from urllib.parse import quote

from panel.base import PanelHandler
from panel.proposals import INLINE_TYPES
from storage import proposals as store


class Attachment(PanelHandler):
    async def get(self, proposal_id: str, attachment_id: str) -> None:
        contest = self.panel.services.contest
        async with self.transaction() as session:
            proposal = await store.get(session, int(proposal_id))
            if contest is None or proposal is None or proposal.contest != contest.slug:
                found = []
            else:
                found = await store.attachments(session, proposal.id)
        attachment = next((a for a in found if a.id == int(attachment_id)), None)
        if attachment is None:
            self.refuse(404, "panel.not_found")
            return
        data_dir = self.panel.services.data_dir.resolve()
        path = (data_dir / attachment.path).resolve()
        if not path.is_relative_to(data_dir) or not path.is_file():
            self.refuse(404, "panel.not_found")
            return
        inline = attachment.mime_type in INLINE_TYPES
        self.set_header(
            "Content-Type", attachment.mime_type if inline else "application/octet-stream"
        )
        disposition = "inline" if inline else "attachment"
        self.set_header(
            "Content-Disposition", f"{disposition}; filename*=UTF-8''{quote(attachment.name)}"
        )
        if attachment.mime_type != "application/pdf":
            # A PDF needs the browser's own viewer, which a sandbox would block.
            self.set_header("Content-Security-Policy", "sandbox; default-src 'none'")
        self.finish(path.read_bytes())


ROUTES = [(r"/proposals/([0-9]+)/files/([0-9]+)", Attachment)]
