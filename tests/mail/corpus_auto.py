"""Corpus cases of automatic mail: out-of-office replies, bulk and list mail, a mailer
daemon and a no-reply sender."""

from __future__ import annotations

from tests.mail.corpus_builders import CENTRE, Case, mime


def _auto(name: str, extra: str, sender: str, reason: str) -> Case:
    raw = mime(
        f"""
From: {sender}
To: {CENTRE}
Subject: Automatyczna odpowiedź: nieobecność
Message-ID: <{name}@example.pl>
{extra}
Content-Type: text/plain; charset=utf-8
""",
        "Jestem na urlopie do poniedziałku.\r\n".encode(),
    )
    return Case(
        name,
        raw,
        "Automatyczna odpowiedź: nieobecność",
        ("Jestem na urlopie do poniedziałku.",),
        sender.split("<")[-1].strip(">").lower(),
        automatic=reason,
    )


def auto_replies() -> list[Case]:
    return [
        _auto(
            "auto-submitted", "Auto-Submitted: auto-replied", "urlop@example.pl", "auto-submitted"
        ),
        _auto("x-autoreply", "X-Autoreply: yes", "urlop2@example.pl", "autoreply"),
        _auto("precedence-bulk", "Precedence: bulk", "news@example.pl", "precedence-bulk"),
        _auto("precedence-list", "Precedence: list", "lista@example.pl", "precedence-list"),
        _auto("precedence-junk", "Precedence: junk", "smieci@example.pl", "precedence-junk"),
        _auto("daemon", "", "MAILER-DAEMON@mx.example.pl", "mailer-daemon"),
        _auto("noreply", "", "Allegro <no-reply@allegro.example>", "no-reply"),
    ]
