"""A horizontal bar chart: one bar per category, its published value at its end, "not shown" markers in its place."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from engagement.charts import _svg
from engagement.charts._svg import BAR_FILL, GRID, MUTED, PublishedValue, num, shown


@dataclass(frozen=True)
class Bar:
    label: str
    value: PublishedValue


ROW = 30
BAR_HEIGHT = 18


def bar_chart(
    bars: Sequence[Bar],
    *,
    title: str,
    description: str,
    x_label: str = "",
    value_suffix: str = "",
    chart_id: str = "bar-chart",
    width: int = 720,
) -> SafeString:
    """An SVG bar chart of published values, a row per bar, each labelled with its published display.

    A suppressed bar is never drawn as a short bar: in its place is a hatched, outlined marker of fixed size with
    the words "Not shown (<10)"; a bar without data gets a dotted marker and "Not known". Bar lengths come from
    published values only.
    """
    chart_id = _svg.check_id(chart_id)
    if not bars:
        raise ValueError("a bar chart needs at least one bar")
    patterns = _svg.Patterns.for_chart(chart_id)
    values = [shown(bar.value) for bar in bars]
    ticks = _svg.nice_ticks(max((v for v in values if v is not None), default=0))
    top = ticks[-1]
    label_width = min(max(_svg.text_width(bar.label) for bar in bars), width * 0.4)
    left = 12 + label_width + 10
    # Room after the longest bar for its value ("Not shown" markers start at the axis, so need none).
    value_room = max(
        (_svg.text_width(bar.value.display) + 12 for bar, v in zip(bars, values, strict=True) if v is not None),
        default=0,
    )
    right = max(width - 12 - value_room, left + 120)
    plot_top = 8
    plot_bottom = plot_top + ROW * len(bars)

    def x_at(value: int) -> float:
        return left + value / top * (right - left)

    body: list[object] = [patterns.defs()]
    grid = "".join(f"M{num(x_at(tick))} {plot_top}V{plot_bottom}" for tick in ticks[1:])
    body.append(format_html('<path d="{}" stroke="{}" stroke-width="1" fill="none"/>', grid, GRID))
    for row, (bar, value) in enumerate(zip(bars, values, strict=True)):
        y = plot_top + row * ROW + (ROW - BAR_HEIGHT) / 2
        middle = y + BAR_HEIGHT / 2 + 4.5
        label = _svg.fit(bar.label, label_width)
        body.append(_svg.text(left - 10, middle, label, anchor="end"))
        name = _svg.clean(_("%(label)s: %(value)s") % {"label": bar.label, "value": bar.value.display})
        if value is not None:
            body.append(
                format_html(
                    '<rect class="chart__bar" x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{}</title></rect>',
                    num(left),
                    num(y),
                    num(x_at(value) - left),
                    BAR_HEIGHT,
                    BAR_FILL,
                    name,
                )
            )
            body.append(_svg.text(x_at(value) + 6, middle, bar.value.display))
            continue
        kind = "not-shown" if bar.value.suppressed else "no-data"
        words = _svg.not_shown_label([bar.value.display]) if bar.value.suppressed else _("Not known")
        body.append(
            format_html(
                '<g transform="translate({} {})">{}<title>{}</title></g>',
                num(left + 2),
                num(y + 2),
                patterns.swatch(0, 0, kind=kind),
                name,
            )
        )
        body.append(_svg.text(left + 24, middle, words, fill=MUTED))
    # The value axis under the bars.
    tick_marks = "".join(f"M{num(x_at(tick))} {plot_bottom}v5" for tick in ticks)
    body.append(
        format_html(
            '<path d="M{} {}V{}H{}{}" stroke="{}" stroke-width="1" fill="none"/>',
            num(left),
            plot_top,
            plot_bottom,
            num(right),
            tick_marks,
            MUTED,
        )
    )
    for tick in ticks:
        body.append(_svg.text(x_at(tick), plot_bottom + 20, _svg.tick_label(tick, value_suffix), anchor="middle"))
    height = plot_bottom + 30
    if x_label:
        body.append(_svg.text((left + right) / 2, height + 8, x_label, anchor="middle"))
        height += 20
    return _svg.svg(
        chart_id=chart_id,
        kind="bar",
        width=width,
        height=height,
        title=title,
        description=description,
        body=body,
    )
