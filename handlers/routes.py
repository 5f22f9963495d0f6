"""Every feature's router, in one place and in order.

Order matters only for the menu's ties and for the hooks (/admin panel lines,
/forget), which run in the order listed here. A name registered twice raises
`DuplicateRoute` when this module is imported, i.e. at start-up.
"""

from __future__ import annotations

from handlers.broadcasts import commands as broadcasts
from handlers.contest import (
    from_mail,
    proposal,
    proposal_mine,
    review,
    review_change,
    review_scores,
)
from handlers.core import admin, cancel, menu, panel_access, start
from handlers.core.routing import Routes
from handlers.mailbox import addresses, inbox, questions, reply
from handlers.mailbox import rights as mail_rights
from handlers.onbehalf import person as onbehalf_person
from handlers.onbehalf import receipt as onbehalf_receipt
from handlers.onbehalf import steps as onbehalf
from handlers.privacy import rights
from handlers.surveys import admin as survey_admin
from handlers.surveys import conversation as survey
from handlers.surveys import next_steps as survey_next
from handlers.surveys import share as survey_share

ROUTES = Routes(
    [
        # Residents' commands, in the order of the menu.
        start.router,
        menu.router,
        survey.router,
        survey_next.router,
        proposal.router,
        proposal_mine.router,
        questions.router,
        addresses.router,
        rights.router,
        cancel.router,
        # Coordinators' tools.
        admin.router,
        panel_access.router,
        survey_admin.router,
        survey_share.router,
        review.router,
        review_change.router,
        review_scores.router,
        inbox.router,
        reply.router,
        mail_rights.router,
        broadcasts.router,
        onbehalf.router,
        onbehalf_receipt.router,
        onbehalf_person.router,
    ]
)

# The contest's side of the mailbox: link an e-mail to a proposal, or make one of it.
from_mail.install()
