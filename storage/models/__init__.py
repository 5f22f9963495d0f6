"""Every model of the store, by feature; query modules import from here, never back.

The mailbox's models are still defined in `storage.mail`; `storage.registry` puts
them and these in one metadata for Alembic.
"""

from storage.models.base import NAMING, Base
from storage.models.contest import (
    ContestOutcome,
    Proposal,
    ProposalAttachment,
    ProposalHistory,
    ProposalScore,
    ProposalSnapshot,
    ResidentQuestion,
)
from storage.models.core import (
    Conversation,
    Event,
    InboundReceipt,
    InboundUpdate,
    OutboxMessage,
    Resident,
    SurveyAnswer,
    SurveyContact,
    SurveyParticipation,
    SurveyResponse,
)
from storage.models.on_behalf import EntryOnBehalf
from storage.models.panel import PanelAudit, PanelKey, PanelLinkUse, PanelSession
from storage.models.schedule import Announcement, Broadcast, JobRun

__all__ = [
    "NAMING",
    "Announcement",
    "Base",
    "Broadcast",
    "ContestOutcome",
    "Conversation",
    "EntryOnBehalf",
    "Event",
    "InboundReceipt",
    "InboundUpdate",
    "JobRun",
    "OutboxMessage",
    "PanelAudit",
    "PanelKey",
    "PanelLinkUse",
    "PanelSession",
    "Proposal",
    "ProposalAttachment",
    "ProposalHistory",
    "ProposalScore",
    "ProposalSnapshot",
    "Resident",
    "ResidentQuestion",
    "SurveyAnswer",
    "SurveyContact",
    "SurveyParticipation",
    "SurveyResponse",
]
