"""Building blocks shared by the charts: safe joining, numbers, scales, colours, patterns and the outer <svg>.

Every piece of markup is made with `format_html`, which escapes its arguments, and pieces are joined with
`conditional_escape`, which escapes anything that is not already safe markup. No caller's text is ever marked
safe as it is.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from django.utils.formats import number_format
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

# Colours are given as presentation attributes (fill=, stroke=), which the Content Security Policy allows, unlike
# style= attributes. The stylesheet (static/css/charts.css) only sizes the charts and sets their font.
INK = "#1b1b1b"
MUTED = "#4a4a4a"
GRID = "#d4d4d4"
PAPER = "#ffffff"

# Lines and bars: each at least 3:1 against the white background (WCAG 2.2, 1.4.11 non-text contrast), and told
# apart by their dash pattern as well as their colour. Dark shades of the Okabe-Ito colour-blind-safe set.
LINE_COLOURS = ("#0b5d3b", "#0060a0", "#b34700", "#7a3b8f")
LINE_DASHES = ("", "8 4", "2 4", "12 4 2 4")
BAR_FILL = "#0b5d3b"

# The map's five classes, light (fewest) to dark (most): ColorBrewer YlGnBu, a colour-blind-safe sequential scheme.
# Area outlines in MUTED carry the shapes; the values themselves are in each area's title and in the page's table.
MAP_PALETTE = ("#ffffcc", "#a1dab4", "#41b6c4", "#2c7fb8", "#253494")

FONT_SIZE = 13
# A generous average glyph width for the system sans-serif at FONT_SIZE, for laying out labels without a font file.
CHAR_WIDTH = 7.4

_ID = re.compile(r"^[a-z][a-z0-9-]{0,40}$")
# Characters XML 1.0 forbids: a name holding one would make the whole page's SVG unreadable.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff\ud800-\udfff]")


@runtime_checkable
class PublishedValue(Protocol):
    """What the charts accept: a value that has already been through `engagement.suppression`.

    `value` is None when the value is suppressed or unknown; `display` is what may be printed ("<10", "35",
    "40%"). The charts draw from `value` only when `suppressed` is false and print only `display`.
    """

    @property
    def value(self) -> int | None: ...

    @property
    def display(self) -> str: ...

    @property
    def suppressed(self) -> bool: ...


def shown(published: PublishedValue) -> int | None:
    """The number a chart may draw, or None for a gap: suppressed values are never drawn, whatever they carry."""
    if published.suppressed or published.value is None:
        return None
    return published.value


def clean(text: object) -> str:
    """Text fit for XML: the characters XML cannot hold are dropped (escaping happens in format_html)."""
    return _NOT_XML.sub("", str(text))


def join(parts: Iterable[object]) -> SafeString:
    """Join markup pieces; anything that is not already safe markup is escaped, so this can never inject."""
    return mark_safe("".join(conditional_escape(part) for part in parts))  # noqa: S308 - every part is escaped


def num(x: float) -> str:
    """A coordinate with at most one decimal place, no trailing zeros and never "-0"."""
    text = f"{x:.1f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def check_id(chart_id: str) -> str:
    if not _ID.match(chart_id):
        raise ValueError(f"chart_id must be lower-case letters, digits and hyphens, not {chart_id!r}")
    return chart_id


def text_width(text: str, size: float = FONT_SIZE) -> float:
    return len(text) * CHAR_WIDTH * size / FONT_SIZE


def fit(text: str, width: float, size: float = FONT_SIZE) -> str:
    """`text` cut with an ellipsis to fit `width` (the full text goes in a <title> beside it)."""
    max_chars = max(int(width / (CHAR_WIDTH * size / FONT_SIZE)), 2)
    return text if len(text) <= max_chars else text[: max_chars - 1].rstrip() + "…"


def tick_label(value: int, suffix: str = "") -> str:
    return number_format(value, force_grouping=True) + suffix


# Axis steps are never below 10, so no axis label reads like a count from 1 to 9 (which would never be published).
MIN_STEP = 10


def nice_ticks(maximum: int, count: int = 5) -> list[int]:
    """Round, evenly spaced whole-number ticks from 0 to at least `maximum`: steps of 1, 2 or 5 times a power of
    ten, and at least `MIN_STEP`."""
    raw = max(maximum, 1) / count
    power = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    step = next((m * power for m in (1, 2, 5, 10) if m * power >= raw), 10 * power)
    step = max(int(step), MIN_STEP)
    top = max(math.ceil(maximum / step), 1) * step
    return list(range(0, top + 1, step))


@dataclass(frozen=True)
class Patterns:
    """Fills for values that are not drawn: hatched for "not shown" (suppressed), dotted for "no data"."""

    hatch: str
    dots: str

    @classmethod
    def for_chart(cls, chart_id: str) -> Patterns:
        return cls(hatch=f"{chart_id}-not-shown", dots=f"{chart_id}-no-data")

    def defs(self) -> SafeString:
        return format_html(
            "<defs>"
            '<pattern id="{}" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
            '<rect width="6" height="6" fill="{}"/><path d="M0 0V6" stroke="{}" stroke-width="2"/></pattern>'
            '<pattern id="{}" width="6" height="6" patternUnits="userSpaceOnUse">'
            '<rect width="6" height="6" fill="{}"/><circle cx="3" cy="3" r="1.2" fill="{}"/></pattern>'
            "</defs>",
            self.hatch,
            PAPER,
            MUTED,
            self.dots,
            PAPER,
            MUTED,
        )

    def swatch(self, x: float, y: float, *, kind: str, size: float = 14) -> SafeString:
        pattern = self.hatch if kind == "not-shown" else self.dots
        return format_html(
            '<rect x="{}" y="{}" width="{}" height="{}" fill="url(#{})" stroke="{}" stroke-width="1"/>',
            num(x),
            num(y),
            num(size),
            num(size),
            pattern,
            MUTED,
        )


def hidden_displays(displays: Sequence[str]) -> str:
    """The published displays of hidden values worth quoting ("<10"), or "" when they are words ("not shown")."""
    return ", ".join(sorted({display for display in displays if any(c.isdigit() for c in display)}))


def standalone_swatch(swatch: SafeString, patterns: Patterns | None) -> SafeString:
    """A legend swatch as its own small SVG (with the patterns it uses), hidden from screen readers: for a key
    written as HTML beside a chart, whose words then keep the page's own size."""
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" class="swatch" width="24" height="14" viewBox="0 0 24 14" '
        'aria-hidden="true" focusable="false">{}{}</svg>',
        patterns.defs() if patterns else "",
        swatch,
    )


def not_shown_label(displays: Sequence[str]) -> str:
    """ "Not shown (<10)": the marker's words, quoting the published display of the suppressed values if it says
    more than the words do."""
    quoted = hidden_displays(displays)
    return _("Not shown (%(display)s)") % {"display": quoted} if quoted else _("Not shown")


def svg(
    *,
    chart_id: str,
    kind: str,
    width: float,
    height: float,
    title: str,
    description: str,
    body: Iterable[object],
) -> SafeString:
    """The outer element: an image with an accessible name (its <title>) and description (its <desc>)."""
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" class="chart chart--{kind}" id="{id}" role="img" '
        'aria-labelledby="{id}-title {id}-desc" viewBox="0 0 {w} {h}" width="{w}" height="{h}" '
        'font-size="{size}" fill="{ink}">'
        '<title id="{id}-title">{title}</title><desc id="{id}-desc">{description}</desc>{body}</svg>',
        kind=kind,
        id=chart_id,
        w=num(width),
        h=num(height),
        size=FONT_SIZE,
        ink=INK,
        title=clean(title),
        description=clean(description),
        body=join(body),
    )


def text(x: float, y: float, content: str, *, anchor: str = "start", extra: str = "", fill: str = INK) -> SafeString:
    """A <text> element; `extra` is a fixed attribute string from this package, never caller text."""
    return format_html(
        '<text x="{}" y="{}" text-anchor="{}" fill="{}"{}>{}</text>',
        num(x),
        num(y),
        anchor,
        fill,
        mark_safe(extra),  # noqa: S308 - only ever a constant written in this package
        clean(content),
    )


def legend_rows(
    items: Sequence[tuple[SafeString, str]], *, x0: float, width: float, y0: float, row: float = 22
) -> tuple[list[SafeString], float]:
    """Legend entries (a swatch drawn at the origin, then its words) flowed into rows; returns the marks and height.

    Each swatch is 24 wide and sits in a <g> moved to its place, so swatches are written once at (0, 0).
    """
    marks: list[SafeString] = []
    x, y = x0, y0
    for swatch, words in items:
        item_width = 24 + 6 + text_width(words) + 18
        if x > x0 and x + item_width > x0 + width:
            x, y = x0, y + row
        marks.append(
            format_html(
                '<g transform="translate({} {})">{}{}</g>',
                num(x),
                num(y),
                swatch,
                text(30, 11, words),
            )
        )
        x += item_width
    return marks, (y - y0 + row) if items else 0
