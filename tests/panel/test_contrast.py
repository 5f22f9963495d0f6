"""The panel's colours pass WCAG 2.1 AA: 4.5:1 for text on every background the
stylesheet pairs it with (the pairs are read from the stylesheet's variables)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

CSS = Path(__file__).resolve().parents[2] / "panel" / "static" / "panel.css"
AA_TEXT = 4.5

# (text, background) as the stylesheet combines them: body text and muted notes on the
# page and on cards, links, buttons and badges, and the three kinds of notice.
PAIRS = [
    ("text", "bg"),
    ("text", "soft"),
    ("muted", "bg"),
    ("muted", "soft"),
    ("accent", "bg"),
    ("accent", "soft"),
    ("accent-text", "accent"),
    ("accent-text", "error"),
    ("error", "error-bg"),
    ("warn", "warn-bg"),
    ("ok", "ok-bg"),
    ("text", "ok-bg"),
]


def variables() -> dict[str, str]:
    return dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-fA-F]{6})\s*;", CSS.read_text()))


def luminance(colour: str) -> float:
    def channel(hex_pair: str) -> float:
        c = int(hex_pair, 16) / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(colour[i : i + 2]) for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(one: str, other: str) -> float:
    light, dark = sorted((luminance(one), luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_contrast_formula_matches_known_values() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)  # fails AA


@pytest.mark.parametrize(("text", "background"), PAIRS)
def test_text_on_its_background_passes_aa(text: str, background: str) -> None:
    colours = variables()
    ratio = contrast(colours[text], colours[background])
    assert ratio >= AA_TEXT, f"--{text} on --{background}: {ratio:.2f}:1"
