"""Texts that show a count take the form of the noun that fits it."""

from __future__ import annotations

import pytest
from babel.messages.pofile import read_po

from handlers.core.i18n import Translator
from tests.conftest import CONTENT


def plural_keys(language: str) -> set[str]:
    path = CONTENT / "locales" / language / "LC_MESSAGES" / "lokalnie.po"
    with path.open("rb") as source:
        return {str(m.id[0]) for m in read_po(source, locale=language) if isinstance(m.id, tuple)}


@pytest.fixture(scope="module")
def translator() -> Translator:
    return Translator(CONTENT / "locales")


@pytest.mark.parametrize(
    ("count", "ending"),
    [(1, "osoby zapisanej"), (2, "osób zapisanych"), (5, "osób zapisanych"), (22, "osób")],
)
def test_polish_takes_the_form_for_the_count(
    translator: Translator, count: int, ending: str
) -> None:
    text = translator.text("pl", "surveyadmin.share_question", count=count)
    assert f"do {count} {ending}" in text


@pytest.mark.parametrize(("count", "noun"), [(1, "plik."), (3, "pliki."), (5, "plików.")])
def test_three_polish_forms(translator: Translator, count: int, noun: str) -> None:
    assert translator.text("pl", "proposal.files_too_many", count=count).endswith(noun)


def test_english_takes_its_own_two_forms(translator: Translator) -> None:
    assert "1 file can" in translator.text("en", "proposal.files_too_many", count=1)
    assert "4 files can" in translator.text("en", "proposal.files_too_many", count=4)


def test_every_plural_text_is_plural_in_both_catalogues() -> None:
    """A text plural in one language only would be read in the wrong language."""
    assert plural_keys("pl")
    assert plural_keys("pl") == plural_keys("en")
