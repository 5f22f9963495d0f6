"""The context a handler receives: the event, the resident, the session, the texts."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.core.callbacks import CallbackData
from handlers.core.events import Button, Inbound, Reply
from handlers.core.routing import Routes
from handlers.core.services import Services
from storage.models import Resident


@dataclass
class Context:
    session: AsyncSession
    event: Inbound
    services: Services
    resident: Resident | None
    language: str
    # Every feature's commands and flows (handlers.routes.ROUTES).
    routes: Routes

    @property
    def consented(self) -> bool:
        return self.resident is not None and self.resident.has_consent

    @property
    def is_coordinator(self) -> bool:
        # The channel's flag and the coordinator list of this moment: an id
        # removed from the list loses every coordinator action at once.
        return self.event.is_coordinator and self.services.is_coordinator(self.event.user_id)

    def t(self, key: str, /, **values: object) -> str:
        return self.services.translator.text(self.language, key, **values)

    def reply(
        self, key: str, /, buttons: list[list[Button]] | None = None, **values: object
    ) -> Reply:
        return Reply(text=self.t(key, **values), buttons=buttons or [])

    def button(self, label_key: str, data: CallbackData, /, **values: object) -> Button:
        return Button(label=self.t(label_key, **values), data=data.pack())

    def yes_no(
        self, yes_key: str, yes: CallbackData, no_key: str, no: CallbackData, /
    ) -> list[list[Button]]:
        """A yes and a no button, one per row, marked so a typed "tak"/"nie" presses them."""
        return [
            [Button(self.t(yes_key), yes.pack(), means="yes")],
            [Button(self.t(no_key), no.pack(), means="no")],
        ]
