"""Texts from the gettext catalogues in `content/locales/<lang>/LC_MESSAGES/`.

Message ids are symbolic keys (`start.first_screen`), so every sentence a person
reads lives in a catalogue, Polish first. Catalogues are read from the `.po`
files at start-up (no compile step to forget).

A text that shows a count with a noun (in Polish one form for 1, another for
2-4, another for 5) is a plural entry: `msgid_plural` with the same key, one
`msgstr[n]` per form of the language's Plural-Forms; `text()` picks the form by
the `count` value it is given.
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
        self._plurals: dict[str, set[str]] = {}
        for language in LANGUAGES:
            self._catalogues[language], self._plurals[language] = _load(locales_dir, language)
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
        """The text of `key`; a plural entry takes the form that fits `values["count"]`."""
        chosen = self.language_or_default(language)
        catalogue = self._catalogues[chosen]
        count = values.get("count")
        if (
            isinstance(count, int)
            and key in self._plurals[chosen] | self._plurals[self.default_language]
        ):
            template = catalogue.ngettext(key, key, count)
        else:
            template = catalogue.gettext(key)
        return template.format(**values) if values else template


def _load(locales_dir: Path, language: str) -> tuple[gettext.GNUTranslations, set[str]]:
    path = locales_dir / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    try:
        with path.open("rb") as source:
            # abort_invalid: a broken entry is an error to fix, not a warning on stdout.
            catalogue = read_po(source, locale=language, abort_invalid=True)
    except OSError as error:
        raise CatalogueError(f"cannot read {path}: {error.strerror}") from None
    except Exception as error:  # babel raises plain errors for malformed files
        raise CatalogueError(f"{path}: {error}") from None
    plurals = {str(m.id[0]) for m in catalogue if m.id and isinstance(m.id, (tuple, list))}
    buffer = BytesIO()
    write_mo(buffer, catalogue, use_fuzzy=False)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer), plurals
