"""Texts come from the catalogues, in both languages, and nowhere else.

That every key the code uses is in both catalogues: `test_catalogue_keys.py`.
"""

from __future__ import annotations

import re
from pathlib import Path

from handlers.core.callbacks import CallbackTooLong
from handlers.core.i18n import Translator
from handlers.routes import ROUTES
from handlers.surveys.conversation import SurveyPress
from tests.conftest import CONTENT, ROOT
from tests.handlers.core.test_catalogue_keys import catalogue

CODE = [p for d in ("bot", "handlers", "storage", "scheduler") for p in (ROOT / d).rglob("*.py")]


def test_catalogues_have_the_same_keys_in_polish_and_english() -> None:
    assert catalogue("pl") == catalogue("en")


def test_no_polish_sentences_in_python_code() -> None:
    polish = re.compile("[ąćęłńóśźżĄĆĘŁŃÓŚŹŻ]")
    offenders = [str(p.relative_to(ROOT)) for p in CODE if polish.search(p.read_text())]
    assert offenders == []


def test_callback_round_trip_and_size_limit() -> None:
    callback = SurveyPress("q3", "other:yes")
    assert ROUTES.parse(callback.pack()) == callback
    assert ROUTES.parse("not ours") is None
    try:
        SurveyPress("q3", "z" * 80).pack()
    except CallbackTooLong:
        pass
    else:
        raise AssertionError("a callback over 64 bytes must be refused")


def test_unknown_language_falls_back_to_polish(tmp_path: Path) -> None:
    texts = Translator(CONTENT / "locales")
    assert texts.language_or_default("de") == "pl"
    assert texts.text("de", "cancel.nothing") == texts.text("pl", "cancel.nothing")
