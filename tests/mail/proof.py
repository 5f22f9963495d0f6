"""Proving an address the way a resident does: /email, the address, the code from
the e-mail the bot queued (read from its outbox row), typed back in the chat."""

from __future__ import annotations

import re

from tests.harness import ChatHarness, Person, texts
from tests.mail.conftest import outbox_rows

CODE = re.compile(r"\b(\d{6})\b")


async def code_sent_to(harness: ChatHarness, address: str) -> str:
    """The code in the latest e-mail queued to `address`."""
    rows = [r for r in await outbox_rows(harness.service, "email") if r.recipient == address]
    assert rows, f"no e-mail queued to {address}"
    match = CODE.search(rows[-1].payload["text"])
    assert match is not None
    return match.group(1)


async def prove_by_code(harness: ChatHarness, person: Person, address: str) -> None:
    await person.send("/email")
    sent = texts(await person.send(address))
    assert address.lower() in sent
    answer = texts(await person.send(await code_sent_to(harness, address.lower())))
    assert "potwierdzony" in answer, answer
