"""The mailbox's buttons, as typed callback data (see `handlers/core/callbacks.py`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from handlers.core.callbacks import CallbackData, kind

MAIL = "mail"
REPLY = "mailreply"
ANSWER = "askr"


@kind(MAIL, "reply")
@dataclass(frozen=True)
class MailReply(CallbackData):
    """Answer this e-mail."""

    message: int


@kind(MAIL, "done")
@dataclass(frozen=True)
class MailDone(CallbackData):
    """Mark the thread handled."""

    thread: int


@kind(MAIL, "show")
@dataclass(frozen=True)
class MailShow(CallbackData):
    """Show the thread's latest message (from /inbox)."""

    thread: int


@kind(MAIL, "link")
@dataclass(frozen=True)
class MailLink(CallbackData):
    """Offer the contest entries this e-mail could belong to."""

    message: int


@kind(MAIL, "pick")
@dataclass(frozen=True)
class MailPick(CallbackData):
    """Link the e-mail to the contest entry `ref`."""

    message: int
    ref: str


@kind(MAIL, "make")
@dataclass(frozen=True)
class MailMake(CallbackData):
    """Turn the e-mail into a contest entry."""

    message: int


# The buttons of one incoming e-mail, in the order `on_mail` reads them.
MailButton = MailReply | MailDone | MailShow | MailLink | MailPick | MailMake
MAIL_BUTTONS = (MailReply, MailDone, MailShow, MailLink, MailPick, MailMake)


@kind(REPLY, "confirm")
@dataclass(frozen=True)
class ReplyConfirm(CallbackData):
    """Send the previewed reply, or drop it."""

    answer: Literal["send", "cancel"]


@kind(ANSWER, "q")
@dataclass(frozen=True)
class AnswerQuestion(CallbackData):
    """A coordinator answers a resident's question."""

    question: int
