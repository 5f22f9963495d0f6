"""The printable report as a PDF: the same texts, numbers and charts as the HTML report.

Drawn with matplotlib, which the charts already need (`PdfPages`, fonts
embedded, DejaVu Sans has every Polish letter): no HTML engine and no browser
on the server. Pages are A4; the head (survey, dates, respondents, what stood
out) comes first, then a question at the top of a page, as in the HTML report
printed: its chart (the PNG of the chat's album), the table of counts, the
notes and the open answers (the first PDF_ANSWERS of a question, then how many
more the HTML report holds), flowing onto further pages when long.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from datetime import tzinfo
from io import BytesIO

from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from matplotlib.image import imread

from handlers.core.forms import Survey
from handlers.core.i18n import Translator
from handlers.surveys import results_text
from handlers.surveys.report import Chart, report_sections
from handlers.surveys.results import QuestionSummary, SurveyOverview

PDF = "application/pdf"
WIDTH, HEIGHT = 8.27, 11.69  # A4, inches
MARGIN = 0.6
TEXT = WIDTH - 2 * MARGIN
FONT = "DejaVu Sans"
INK, MUTED, ACCENT = "#1b1b1b", "#555555", "#1f6f8b"
SPACING = 1.2  # matplotlib's line spacing, of a line's own height (about 1.17 of the size)
LINE = 1.45 / 72  # inches per point of type, one line with spacing (a little to spare)
# Open answers printed per question: matplotlib sets PDF text at some 10 ms a line, and
# a printout for a meeting quotes; all of them are in the HTML report and the exports.
PDF_ANSWERS = 60
CHAR = 0.55 / 72  # inches per point: the mean width of a letter, for wrapping


class _Pages:
    """Lines and images flowing down A4 pages, a new page when one is full."""

    def __init__(self, pdf: PdfPages) -> None:
        self.pdf = pdf
        self.figure: Figure | None = None
        self.y = 0.0

    def new_page(self) -> None:
        self.close_page()
        self.figure = Figure(figsize=(WIDTH, HEIGHT), facecolor="white")
        self.y = MARGIN

    def close_page(self) -> None:
        if self.figure is not None:
            self.pdf.savefig(self.figure)
            self.figure = None

    def room(self, needed: float) -> None:
        if self.figure is None or self.y + needed > HEIGHT - MARGIN:
            self.new_page()

    def text(self, text: str, size: float = 10, *, bold: bool = False, colour: str = INK) -> None:
        self.lines(wrap(text, size), size, bold=bold, colour=colour)

    def lines(
        self, lines: list[str], size: float = 10, *, bold: bool = False, colour: str = INK
    ) -> None:
        """Wrapped lines, as many on a page as fit, each page's share drawn as one text."""
        height = size * LINE
        while lines:
            fit = int((HEIGHT - MARGIN - self.y) / height) if self.figure is not None else 0
            if fit <= 0:
                self.new_page()
                continue
            chunk, lines = lines[:fit], lines[fit:]
            assert self.figure is not None
            self.figure.text(
                MARGIN / WIDTH,
                1 - self.y / HEIGHT,
                "\n".join(chunk),
                fontsize=size,
                fontfamily=FONT,
                fontweight="bold" if bold else "normal",
                color=colour,
                va="top",
                linespacing=SPACING,
                parse_math=False,
            )
            self.y += len(chunk) * height

    def row(self, cells: Sequence[str], size: float = 10, *, bold: bool = False) -> None:
        """A table row: the label wrapped on the left, two numbers at the right."""
        label, *numbers = cells
        lines = wrap(label, size, TEXT - 2.4)
        self.room(len(lines) * size * LINE)
        assert self.figure is not None
        top = 1 - self.y / HEIGHT
        style = {
            "fontsize": size,
            "fontfamily": FONT,
            "fontweight": "bold" if bold else "normal",
            "color": INK,
            "va": "top",
            "parse_math": False,
        }
        self.figure.text(MARGIN / WIDTH, top, "\n".join(lines), linespacing=SPACING, **style)
        for index, number in enumerate(numbers):
            x = (WIDTH - MARGIN - 1.2 * (len(numbers) - 1 - index)) / WIDTH
            self.figure.text(x, top, number, ha="right", **style)
        self.y += len(lines) * size * LINE + 0.04

    def image(self, png: bytes) -> None:
        pixels = imread(BytesIO(png), format="png")
        height_px, width_px = pixels.shape[:2]
        width = TEXT
        height = width * height_px / width_px
        tallest = HEIGHT - 2 * MARGIN
        if height > tallest:
            width, height = width * tallest / height, tallest
        self.room(height + 0.1)
        assert self.figure is not None
        axes = self.figure.add_axes(
            (MARGIN / WIDTH, 1 - (self.y + height) / HEIGHT, width / WIDTH, height / HEIGHT)
        )
        axes.imshow(pixels, interpolation="antialiased")
        axes.set_axis_off()
        self.y += height + 0.15

    def gap(self, inches: float = 0.12) -> None:
        self.y += inches


def wrap(text: str, size: float, width: float = TEXT) -> list[str]:
    """Lines of `text` that fit `width` inches at `size` points (by the mean letter width)."""
    letters = max(20, int(width / (size * CHAR)))
    return [
        line for part in text.splitlines() or [""] for line in textwrap.wrap(part, letters) or [""]
    ]


def report_pdf(
    survey: Survey,
    overview: SurveyOverview,
    summaries: Sequence[QuestionSummary],
    charts: Sequence[Chart],
    translator: Translator,
    language: str,
    timezone: tzinfo,
    *,
    note: str = "",
) -> bytes:
    """The report of `summaries` (what may be shown) as PDF bytes; `note` as in the HTML."""

    def t(key: str, **values: object) -> str:
        return translator.text(language, key, **values)

    title = survey.title.get(language)
    buffer = BytesIO()
    metadata = {"Title": f"{title} – {t('report.heading')}", "Creator": None, "Producer": None}
    with PdfPages(buffer, metadata=metadata) as pdf:
        pages = _Pages(pdf)
        pages.new_page()
        pages.text(t("report.heading").upper(), 10, bold=True, colour=ACCENT)
        pages.text(title, 20, bold=True)
        if note:
            pages.text(note, 11, colour=ACCENT)
        pages.gap()
        dates = results_text.dates_text(survey, translator, language, timezone)
        if dates:
            pages.text(dates, 12)
        pages.text(results_text.respondents_text(overview, translator, language), 12)
        pages.gap()
        pages.text(t("report.method"), 9, colour=MUTED)
        found = results_text.headlines(summaries, translator, language)
        if found:
            pages.gap()
            pages.text(t("results.headlines"), 14, bold=True)
            for line in found:
                pages.text(f"• {line}", 11)
        footer = results_text.chart_footer(survey, overview, translator, language, timezone)
        images = {chart.number: chart.png for chart in charts}
        for section in report_sections(summaries, charts, translator, language):
            pages.new_page()
            pages.text(f"{section.number}. {section.title}", 15, bold=True)
            if section.text != section.title:
                pages.text(section.text, 10, colour=MUTED)
            for note in section.notes:
                pages.text(note, 10, colour=MUTED)
            pages.gap()
            png = images.get(section.number)
            if png is not None:
                pages.image(png)
            if section.rows:
                pages.row(section.columns, bold=True)
                for row in section.rows:
                    pages.row(row)
                pages.gap()
            if section.answers:
                pages.text(section.answers_title, 12, bold=True)
                shown = section.answers[:PDF_ANSWERS]
                quoted = [wrap(f"– {answer}", 10) + [""] for answer in shown]
                pages.lines([line for lines in quoted for line in lines], 10)
                more = len(section.answers) - len(shown)
                if more:
                    pages.text(t("report.pdf_more_answers", count=more), 10, colour=MUTED)
            if png is None:
                pages.text(footer, 8, colour=MUTED)
        pages.close_page()
    return buffer.getvalue()
