"""Texts from the gettext catalogues in `content/locales/<lang>/LC_MESSAGES/`.

Message ids are symbolic keys (`start.first_screen`), so every sentence a person
reads lives in a catalogue, Polish first. Catalogues are read from the `.po`
files at start-up (no compile step to forget).
"""

from __future__ import annotations

import gettext
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

DOMAIN = "lokalnie"
LANGUAGES = ("pl", "en")


class CatalogueError(Exception):
    """A catalogue is missing or cannot be read."""


class Translator:
    """One `gettext` catalogue per language, with the default as a fallback."""

    def __init__(self, locales_dir: Path, default_language: str = "pl") -> None:
        self.default_language = default_language
        self._catalogues: dict[str, gettext.GNUTranslations] = {}
        for language in LANGUAGES:
            self._catalogues[language] = _load(locales_dir, language)
        for language, catalogue in self._catalogues.items():
            if language != default_language:
                catalogue.add_fallback(self._catalogues[default_language])

    def language_or_default(self, language: str | None) -> str:
        if language:
            short = language.split("-")[0].split("_")[0].lower()
            if short in self._catalogues:
                return short
        return self.default_language

    def text(self, language: str, key: str, /, **values: object) -> str:
        catalogue = self._catalogues[self.language_or_default(language)]
        template = catalogue.gettext(key)
        return template.format(**values) if values else template


def _load(locales_dir: Path, language: str) -> gettext.GNUTranslations:
    path = locales_dir / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    try:
        with path.open("rb") as source:
            # abort_invalid: a broken entry is an error to fix, not a warning on stdout.
            catalogue = read_po(source, locale=language, abort_invalid=True)
    except OSError as error:
        raise CatalogueError(f"cannot read {path}: {error.strerror}") from None
    except Exception as error:  # babel raises plain errors for malformed files
        raise CatalogueError(f"{path}: {error}") from None
    buffer = BytesIO()
    write_mo(buffer, catalogue, use_fuzzy=False)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)
