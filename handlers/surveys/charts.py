"""Result charts as PNG images the coordinator reads on a phone in Telegram.

The images are 1080 px wide (7.2 in at 150 dpi) with big type, and every
label sits on its own line above its bar, so long Polish answer texts wrap
instead of squeezing the bars. Drawing uses `matplotlib.figure.Figure` and the
Agg canvas directly: no pyplot, so no global figure registry or backend switch,
and charts can be drawn from worker threads. Shapes are placed in inches on
the figure (no axes, no layout engine), which keeps a chart well under 0.3 s.
"""

from __future__ import annotations

import math
from functools import lru_cache
from io import BytesIO

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.patches import Rectangle
from matplotlib.textpath import TextToPath

from handlers.core.forms import Question, QuestionType
from handlers.core.i18n import Translator
from handlers.surveys.results import OTHER, QuestionSummary
from handlers.surveys.results_text import count_label, format_number, percent_text

DPI = 150
WIDTH = 7.2  # inches: 1080 px at DPI
MARGIN = 0.35
FONT = "DejaVu Sans"  # ships with matplotlib and has every Polish letter
TITLE_SIZE = 17
SUBTITLE_SIZE = 13
LABEL_SIZE = 15
VALUE_SIZE = 15
SMALL_SIZE = 12
TEXT_WIDTH = WIDTH - 2 * MARGIN
SCALE_END_WIDTH = 2.9  # inches for each end label of a scale
LINE = 1.3 / 72  # inches per point of font size, one line with spacing
BAR_HEIGHT = 0.34
VALUE_WIDTH = 1.55
COLOUR = "#1f6f8b"
OTHER_COLOUR = "#7f8c8d"
TRACK = "#e3ecf0"
INK = "#1b1b1b"
MUTED = "#555555"
BAR_TYPES = (QuestionType.SINGLE, QuestionType.MULTIPLE, QuestionType.YESNO)


def chart_png(
    question: Question,
    summary: QuestionSummary,
    *,
    language: str,
    translator: Translator,
    number: int | None = None,
    footer: str = "",
) -> bytes | None:
    """A PNG chart of one question's results, or None when there is nothing to draw.

    Bars for single/multiple/yes-no (count and % of those who answered), a
    distribution for a scale (mean in the subtitle), one bar of the mean per
    row for a matrix. Text-like and number questions have no chart: their
    answers are read as text. The title is the question's short title (numbered
    as in the summary); `footer` says where the numbers come from (the survey,
    its dates, how many answered: see `results_text.chart_footer`), so a chart
    shown on its own still says it.
    """
    if summary.answered == 0:
        return None
    title = question.short_text(language)
    if number is not None:
        title = f"{number}. {title}"
    image = _chart(question, summary, title, language, translator)
    return None if image is None else image.png(footer)


def _chart(
    question: Question,
    summary: QuestionSummary,
    title: str,
    language: str,
    translator: Translator,
) -> _Canvas | None:
    kind = question.type
    answered = translator.text(
        language, "results.answered", answered=summary.answered, skipped=summary.skipped
    )
    if kind in BAR_TYPES:
        rows = [
            _Row(
                count_label(c, translator, language),
                c.percent / 100,
                f"{c.count} ({percent_text(c.percent)})",
                OTHER_COLOUR if c.id == OTHER else COLOUR,
            )
            for c in summary.counts
        ]
        subtitle = [answered]
        if kind is QuestionType.MULTIPLE:
            subtitle.append(translator.text(language, "results.multiple_note"))
        return _bars(title, subtitle, rows)
    if kind is QuestionType.SCALE and summary.stats is not None:
        stats = translator.text(
            language,
            "results.scale_stats",
            mean=format_number(summary.stats.mean, language),
            median=format_number(summary.stats.median, language),
        )
        return _columns(question, summary, title, [answered, stats], language)
    if kind is QuestionType.MATRIX and question.scale is not None:
        low, high = question.scale.min, question.scale.max
        rows = [
            _Row(
                item.text,
                (item.mean - low) / (high - low) if item.mean is not None else 0.0,
                format_number(item.mean, language) if item.mean is not None else "–",
                COLOUR,
            )
            for item in summary.items
        ]
        subtitle = [answered, translator.text(language, "results.matrix_scale", min=low, max=high)]
        return _bars(title, subtitle, rows)
    return None


class _Row:
    """One labelled bar: `fraction` of the full track, `value` printed at the right."""

    def __init__(self, label: str, fraction: float, value: str, colour: str) -> None:
        self.label = _wrap(label, LABEL_SIZE, TEXT_WIDTH)
        self.fraction = max(0.0, min(fraction, 1.0))
        self.value = value
        self.colour = colour


class _Canvas:
    """A figure addressed in inches from the top-left corner."""

    def __init__(self, height: float) -> None:
        # Whole pixels: what is placed from the top keeps its place (to a pixel of
        # rounding) however tall the image grows below it (see `png`).
        self.height = _whole_pixels(height)
        self.figure = Figure(figsize=(WIDTH, height), dpi=DPI, facecolor="white")
        FigureCanvasAgg(self.figure)

    def text(self, x: float, y: float, lines: list[str], size: float, **style: object) -> None:
        style.setdefault("va", "top")
        style.setdefault("color", INK)
        self.figure.text(
            x,
            self.height - y,
            "\n".join(lines),
            transform=self.figure.dpi_scale_trans,
            fontsize=size,
            fontfamily=FONT,
            linespacing=1.2,
            parse_math=False,  # a "$" in an answer must stay a dollar sign
            **style,
        )

    def box(self, x: float, y: float, width: float, height: float, colour: str) -> None:
        self.figure.add_artist(
            Rectangle(
                (x, self.height - y - height),
                width,
                height,
                transform=self.figure.dpi_scale_trans,
                facecolor=colour,
                edgecolor="none",
            )
        )

    def png(self, footer: str = "") -> bytes:
        """The image, with `footer` in small type under a rule at the bottom."""
        if footer:
            lines = _wrap(footer, SMALL_SIZE, TEXT_WIDTH)
            room = _whole_pixels(0.15 + len(lines) * SMALL_SIZE * LINE + 0.2)
            grown = self.height + room
            self.figure.set_size_inches(WIDTH, grown)
            # Everything drawn so far is placed from the bottom: lift it by the room.
            for artist in [*self.figure.texts, *self.figure.artists]:
                if isinstance(artist, Rectangle):
                    x, y = artist.get_xy()
                    artist.set_xy((x, y + room))
                else:
                    x, y = artist.get_position()
                    artist.set_position((x, y + room))
            self.height = grown
            top = grown - room
            self.box(MARGIN, top, WIDTH - 2 * MARGIN, 0.01, TRACK)
            self.text(MARGIN, top + 0.1, lines, SMALL_SIZE, color=MUTED)
        buffer = BytesIO()
        self.figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
        return buffer.getvalue()


def _whole_pixels(inches: float) -> float:
    return math.ceil(round(inches * DPI, 6)) / DPI


def _header_height(title: list[str], subtitle: list[str]) -> float:
    return 0.3 + len(title) * TITLE_SIZE * LINE + 0.1 + len(subtitle) * SUBTITLE_SIZE * LINE + 0.3


def _draw_header(canvas: _Canvas, title: list[str], subtitle: list[str]) -> None:
    canvas.text(MARGIN, 0.3, title, TITLE_SIZE, fontweight="bold")
    y = 0.3 + len(title) * TITLE_SIZE * LINE + 0.1
    canvas.text(MARGIN, y, subtitle, SUBTITLE_SIZE, color=MUTED)


def _bars(title_text: str, subtitle_texts: list[str], rows: list[_Row]) -> _Canvas:
    title = _wrap(title_text, TITLE_SIZE, TEXT_WIDTH, bold=True)
    subtitle = [line for text in subtitle_texts for line in _wrap(text, SUBTITLE_SIZE, TEXT_WIDTH)]
    row_heights = [len(r.label) * LABEL_SIZE * LINE + 0.06 + BAR_HEIGHT + 0.24 for r in rows]
    top = _header_height(title, subtitle)
    canvas = _Canvas(top + sum(row_heights) + 0.1)
    _draw_header(canvas, title, subtitle)
    track = WIDTH - 2 * MARGIN - VALUE_WIDTH
    y = top
    for row, height in zip(rows, row_heights, strict=True):
        canvas.text(MARGIN, y, row.label, LABEL_SIZE)
        bar_y = y + len(row.label) * LABEL_SIZE * LINE + 0.06
        canvas.box(MARGIN, bar_y, track, BAR_HEIGHT, TRACK)
        if row.fraction > 0:
            canvas.box(MARGIN, bar_y, max(track * row.fraction, 0.03), BAR_HEIGHT, row.colour)
        canvas.text(
            WIDTH - MARGIN,
            bar_y + BAR_HEIGHT / 2,
            [row.value],
            VALUE_SIZE,
            ha="right",
            va="center",
            fontweight="bold",
        )
        y += height
    return canvas


def _columns(
    question: Question,
    summary: QuestionSummary,
    title_text: str,
    subtitle_texts: list[str],
    language: str,
) -> _Canvas:
    """A scale: one column per point, count and % above it, end labels below."""
    title = _wrap(title_text, TITLE_SIZE, TEXT_WIDTH, bold=True)
    subtitle = [line for text in subtitle_texts for line in _wrap(text, SUBTITLE_SIZE, TEXT_WIDTH)]
    scale = question.scale
    ends = [
        _wrap(label.get(language), SMALL_SIZE, SCALE_END_WIDTH) if label else []
        for label in ((scale.min_label, scale.max_label) if scale else (None, None))
    ]
    top = _header_height(title, subtitle)
    values_room = (VALUE_SIZE + SMALL_SIZE) * LINE + 0.1
    plot = 2.4
    points_room = LABEL_SIZE * LINE + 0.12
    ends_room = max(len(ends[0]), len(ends[1])) * SMALL_SIZE * LINE + 0.15
    canvas = _Canvas(top + values_room + plot + points_room + ends_room)
    _draw_header(canvas, title, subtitle)
    counts = summary.counts
    column = (WIDTH - 2 * MARGIN) / len(counts)
    tallest = max(c.count for c in counts) or 1
    base = top + values_room + plot
    for index, count in enumerate(counts):
        centre = MARGIN + column * (index + 0.5)
        height = plot * count.count / tallest
        width = column * 0.64
        if count.count:
            canvas.box(centre - width / 2, base - height, width, height, COLOUR)
        top_of_values = base - height - values_room + 0.05
        canvas.text(
            centre, top_of_values, [str(count.count)], VALUE_SIZE, ha="center", fontweight="bold"
        )
        canvas.text(
            centre,
            top_of_values + VALUE_SIZE * LINE,
            [percent_text(count.percent)],
            SMALL_SIZE,
            ha="center",
            color=MUTED,
        )
        canvas.text(centre, base + 0.1, [count.id], LABEL_SIZE, ha="center")
    canvas.box(MARGIN, base, WIDTH - 2 * MARGIN, 0.02, INK)
    ends_y = base + points_room
    canvas.text(MARGIN, ends_y, ends[0], SMALL_SIZE, color=MUTED)
    canvas.text(
        WIDTH - MARGIN, ends_y, ends[1], SMALL_SIZE, color=MUTED, ha="right", multialignment="right"
    )
    return canvas


def _wrap(text: str, size: float, width: float, *, bold: bool = False) -> list[str]:
    """Greedy word wrap by the real width of the words in the font, in inches."""
    space = _width(" ", size, bold)
    lines: list[str] = []
    current: list[str] = []
    used = 0.0
    for word in text.split():
        for piece in _split_word(word, size, width, bold):
            needed = _width(piece, size, bold) + (space if current else 0.0)
            if current and used + needed > width:
                lines.append(" ".join(current))
                current, used = [], 0.0
                needed = _width(piece, size, bold)
            current.append(piece)
            used += needed
    if current:
        lines.append(" ".join(current))
    return lines or [""]


def _split_word(word: str, size: float, width: float, bold: bool) -> list[str]:
    """A word wider than a line (a long link) is cut into line-sized pieces."""
    pieces: list[str] = []
    while _width(word, size, bold) > width and len(word) > 1:
        cut = len(word) - 1
        while cut > 1 and _width(word[:cut], size, bold) > width:
            cut = max(1, cut * 3 // 4)
        pieces.append(word[:cut])
        word = word[cut:]
    return [*pieces, word]


_MEASURE = TextToPath()


@lru_cache(maxsize=8192)
def _width(text: str, size: float, bold: bool) -> float:
    """Width of a text in inches (words are cached: answers repeat the same words)."""
    if text == " ":
        # A lone space measures as nothing; take it from between two letters.
        return _width("a a", size, bold) - _width("aa", size, bold)
    font = FontProperties(family=FONT, size=size, weight="bold" if bold else "normal")
    width, _, _ = _MEASURE.get_text_width_height_descent(text, font, ismath=False)
    return width / 72
