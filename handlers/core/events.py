"""The shapes that cross the boundary between channels and handlers."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from handlers.core.text import clean_optional, clean_text


class Kind(StrEnum):
    COMMAND = "command"
    TEXT = "text"
    CHOICE = "choice"
    FILE = "file"
    UNSUPPORTED = "unsupported"


@dataclass(frozen=True)
class IncomingFile:
    """A file a resident sent; `ref` is the channel's handle to it.

    `content` holds the bytes when the adapter could fetch them (within its size
    limit); None means the file is too big to take.
    """

    ref: str
    name: str | None = None
    mime_type: str | None = None
    size: int | None = None
    content: bytes | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        # The name is stored and shown to coordinators; cleaned like any text.
        object.__setattr__(self, "name", clean_optional(self.name))


@dataclass(frozen=True)
class Inbound:
    """One thing a person did in a channel, translated by its adapter."""

    channel: str
    chat_id: str
    kind: Kind
    user_id: int | None = None
    external_id: str | None = None
    text: str | None = None
    command: str | None = None
    args: str = ""
    choice: str | None = None
    # The channel's id of the message whose button was pressed (to edit it).
    message_id: str | None = None
    file: IncomingFile | None = None
    display_name: str | None = None
    language_hint: str | None = None
    is_coordinator: bool = False

    def __post_init__(self) -> None:
        # The one place where a resident's text is normalised (handlers/core/text.py):
        # every adapter builds its events through this constructor.
        for name in ("text", "command", "choice", "display_name", "language_hint"):
            object.__setattr__(self, name, clean_optional(getattr(self, name)))
        object.__setattr__(self, "args", clean_text(self.args))
        # A name made only of invisible characters is no name.
        if self.display_name == "":
            object.__setattr__(self, "display_name", None)


@dataclass(frozen=True)
class Button:
    label: str
    data: str
    # "yes" or "no" when the button answers a yes/no question: a typed "tak" or
    # "nie" then counts as pressing it (handlers/core/typed_yesno.py).
    means: str | None = None


@dataclass(frozen=True)
class OutgoingFile:
    name: str
    mime_type: str
    content: bytes


@dataclass
class Reply:
    """What a handler answers; the adapter decides how it looks in its channel."""

    text: str
    buttons: list[list[Button]] = field(default_factory=list)
    file: OutgoingFile | None = None
    # Pictures shown together as one album (charts); `text` is its caption. The
    # adapter splits an album its channel cannot show at once into several.
    album: list[OutgoingFile] = field(default_factory=list)
    # Replace the message whose button was pressed instead of sending a new one
    # (e.g. ticking options of a multiple choice).
    replace: bool = False
