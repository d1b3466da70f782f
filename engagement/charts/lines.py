"""A weekly line chart: one <path> per series, gaps where a value is not shown, axes, ticks and a legend."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from engagement.charts import _svg
from engagement.charts._svg import GRID, LINE_COLOURS, LINE_DASHES, MUTED, PublishedValue, num, shown

LANE = 12


@dataclass(frozen=True)
class Series:
    """One line: its name and one published value per point on the x axis."""

    label: str
    points: Sequence[PublishedValue]


def _runs(values: Sequence[int | None]) -> list[list[int]]:
    """Indexes of consecutive drawable values: each run becomes one sub-path, so a gap breaks the line."""
    runs: list[list[int]] = []
    current: list[int] = []
    for index, value in enumerate(values):
        if value is None:
            if current:
                runs.append(current)
            current = []
        else:
            current.append(index)
    if current:
        runs.append(current)
    return runs


def _spans(flags: Sequence[bool]) -> list[tuple[int, int]]:
    """(first, last) index of each run of True flags, so a stretch of hidden weeks is one rectangle, not many."""
    spans: list[tuple[int, int]] = []
    start = None
    for index, flag in enumerate([*flags, False]):
        if flag and start is None:
            start = index
        elif not flag and start is not None:
            spans.append((start, index - 1))
            start = None
    return spans


def line_chart(
    series: Sequence[Series],
    *,
    title: str,
    description: str,
    y_label: str,
    x_labels: Sequence[str],
    x_ticks: Sequence[tuple[int, str]] | None = None,
    y_suffix: str = "",
    chart_id: str = "line-chart",
    width: int = 720,
    height: int = 340,
) -> SafeString:
    """An SVG line chart of published values, one line per series over the points named by `x_labels`.

    A suppressed value is a gap in its line (never a zero) over a hatched column, and a value with no data a gap
    over a dotted one; the legend says what each means. `x_ticks` are (index, label) pairs for the x axis (for
    example the first week of each month); by default about seven evenly spaced `x_labels` are used. Lines differ
    by dash pattern as well as colour, and a point standing alone between gaps is drawn as a dot.
    """
    chart_id = _svg.check_id(chart_id)
    count = len(x_labels)
    if not series or any(len(line.points) != count for line in series):
        raise ValueError("every series needs one point per x label, and there must be at least one series")
    if x_ticks is None:
        step = max(1, round(count / 7))
        x_ticks = [(index, x_labels[index]) for index in range(0, count, step)]
    patterns = _svg.Patterns.for_chart(chart_id)
    values = [[shown(point) for point in line.points] for line in series]
    hidden = [[point.suppressed for point in line.points] for line in series]
    no_data = [
        [value is None and not is_hidden for value, is_hidden in zip(row, hidden_row, strict=True)]
        for row, hidden_row in zip(values, hidden, strict=True)
    ]
    any_hidden = [any(row) for row in hidden]
    any_missing = [any(row) for row in no_data]
    drawable = [value for row in values for value in row if value is not None]
    ticks = _svg.nice_ticks(max(drawable, default=0))
    top = ticks[-1]

    # Legend entries, flowed under the plot: one per line (when there is more than one), then the gap markers.
    legend: list[tuple[SafeString, str]] = []
    if len(series) > 1:
        for index, line in enumerate(series):
            legend.append((_legend_line(index), line.label))
    if any(any_hidden):
        displays = [point.display for line in series for point in line.points if point.suppressed]
        legend.append((patterns.swatch(5, 0, kind="not-shown"), _svg.not_shown_label(displays)))
    if any(any_missing):
        legend.append((patterns.swatch(5, 0, kind="no-data"), _("Not known")))

    tick_texts = [_svg.tick_label(tick, y_suffix) for tick in ticks]
    left = 34 + max(_svg.text_width(label) for label in tick_texts) + 8
    right = width - 20
    # With one line, a stretch of hidden weeks is a hatched column behind the plot. With several, each line's gaps
    # get a strip of their own in a lane above the plot, outlined like the line, so a gap is never put on the wrong
    # line.
    lanes = len(series) > 1 and (any(any_hidden) or any(any_missing))
    plot_top = 16 + (LANE * len(series) if lanes else 0)
    legend_marks, legend_height = _svg.legend_rows(legend, x0=left, width=right - left, y0=0)
    plot_bottom = height - 34 - legend_height - (8 if legend_height else 0)
    if plot_bottom - plot_top < 120:  # a long legend makes the chart taller rather than squashing the plot
        height += int(120 - (plot_bottom - plot_top))
        plot_bottom = plot_top + 120
    plot_width = right - left

    def x_at(index: int) -> float:
        return left + plot_width / 2 if count == 1 else left + index * plot_width / (count - 1)

    def y_at(value: int) -> float:
        return plot_bottom - value / top * (plot_bottom - plot_top)

    column = plot_width / max(count - 1, 1)
    body: list[object] = [patterns.defs()]
    for number in range(len(series)):
        if lanes:
            y, strip_height = 12 + number * LANE, LANE - 4
            outline = format_html(
                ' stroke="{}" stroke-width="1.5"{}',
                LINE_COLOURS[number % len(LINE_COLOURS)],
                _dasharray(number),
            )
        else:
            # Lighter behind the plot, so the grid still reads through a long stretch of hidden weeks.
            y, strip_height, outline = plot_top, plot_bottom - plot_top, SafeString(' opacity="0.6"')
        for flags, pattern in ((hidden[number], patterns.hatch), (no_data[number], patterns.dots)):
            for first, last in _spans(flags):
                x0 = max(left, x_at(first) - column / 2)
                x1 = min(right, x_at(last) + column / 2)
                body.append(
                    format_html(
                        '<rect x="{}" y="{}" width="{}" height="{}" fill="url(#{})"{}/>',
                        num(x0),
                        num(y),
                        num(max(x1 - x0, 3)),
                        num(strip_height),
                        pattern,
                        outline,
                    )
                )
    # Grid lines and the y axis's ticks, each set one path.
    grid = "".join(f"M{num(left)} {num(y_at(tick))}H{num(right)}" for tick in ticks[1:])
    body.append(format_html('<path d="{}" stroke="{}" stroke-width="1" fill="none"/>', grid, GRID))
    for tick, label in zip(ticks, tick_texts, strict=True):
        body.append(_svg.text(left - 8, y_at(tick) + 4, label, anchor="end"))
    body.append(
        format_html(
            '<text transform="translate({} {}) rotate(-90)" text-anchor="middle">{}</text>',
            num(14),
            num((plot_top + plot_bottom) / 2),
            _svg.clean(y_label),
        )
    )
    # The x axis and its ticks.
    tick_marks = "".join(f"M{num(x_at(i))} {num(plot_bottom)}v5" for i, _label in x_ticks if 0 <= i < count)
    body.append(
        format_html(
            '<path d="M{} {}H{}{}" stroke="{}" stroke-width="1" fill="none"/>',
            num(left),
            num(plot_bottom),
            num(right),
            tick_marks,
            MUTED,
        )
    )
    for index, label in x_ticks:
        if 0 <= index < count:
            anchor = "start" if count > 1 and index == 0 else "end" if count > 1 and index == count - 1 else "middle"
            body.append(_svg.text(x_at(index), plot_bottom + 20, label, anchor=anchor))
    # The lines: one path per series (a gap starts a new sub-path), and one path of dots for lone points.
    for number, row in enumerate(values):
        colour = LINE_COLOURS[number % len(LINE_COLOURS)]
        runs = _runs(row)
        line = "".join(
            "M" + "L".join(f"{num(x_at(i))} {num(y_at(row[i]))}" for i in run) for run in runs if len(run) > 1
        )
        dots = "".join(f"M{num(x_at(run[0]))} {num(y_at(row[run[0]]))}h0" for run in runs if len(run) == 1)
        if line:
            body.append(
                format_html(
                    '<path class="chart__line" d="{}" fill="none" stroke="{}" stroke-width="2.5" '
                    'stroke-linejoin="round" stroke-linecap="round"{}><title>{}</title></path>',
                    line,
                    colour,
                    _dasharray(number),
                    _svg.clean(series[number].label),
                )
            )
        if dots:
            body.append(
                format_html(
                    '<path d="{}" fill="none" stroke="{}" stroke-width="7" stroke-linecap="round"/>', dots, colour
                )
            )
    body.append(format_html('<g transform="translate(0 {})">', num(plot_bottom + 34)))
    body.extend(legend_marks)
    body.append(SafeString("</g>"))
    return _svg.svg(
        chart_id=chart_id,
        kind="line",
        width=width,
        height=height,
        title=title,
        description=description,
        body=body,
    )


def _dasharray(index: int) -> SafeString:
    dash = LINE_DASHES[index % len(LINE_DASHES)]
    return format_html(' stroke-dasharray="{}"', dash) if dash else SafeString("")


def _legend_line(index: int) -> SafeString:
    return format_html(
        '<path d="M0 7H24" stroke="{}" stroke-width="2.5"{}/>',
        LINE_COLOURS[index % len(LINE_COLOURS)],
        _dasharray(index),
    )
