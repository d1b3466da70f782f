"""A choropleth of neighbourhoods, projected on the server from their stored GeoJSON boundaries."""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from engagement.charts import _svg
from engagement.charts._svg import MAP_PALETTE, MUTED, PublishedValue, shown

Ring = list[tuple[float, float]]

MIN_SPACING = 2  # whole pixels (Manhattan distance) between the points of a drawn boundary
NUMBERS = (int, float)


@dataclass(frozen=True)
class Area:
    """One neighbourhood on the map: its name, its GeoJSON geometry (or None) and its published value."""

    name: str
    geometry: Mapping[str, Any] | None
    value: PublishedValue


@dataclass(frozen=True)
class MapClass:
    """One band of the legend: published values from `low` to `high` (inclusive) share `fill`."""

    low: int
    high: int
    fill: str
    label: str

    def holds(self, value: int) -> bool:
        return self.low <= value <= self.high


@dataclass(frozen=True)
class LegendItem:
    """One line of the map's key: a small, self-contained SVG swatch (hidden from screen readers) and its words."""

    swatch: SafeString
    label: str


@dataclass(frozen=True)
class Choropleth:
    """The map's markup, its legend classes, its key (to show as HTML beside the map, where the words keep the page's
    own size on a phone), and the areas it could not draw for want of a boundary."""

    svg: SafeString
    classes: list[MapClass] = field(default_factory=list)
    without_boundary: list[str] = field(default_factory=list)
    legend: list[LegendItem] = field(default_factory=list)

    def __html__(self) -> SafeString:
        return self.svg

    def __str__(self) -> str:
        return self.svg


def rings(geometry: Mapping[str, Any] | None) -> list[Ring] | None:
    """The outer and inner rings of a Polygon or MultiPolygon as (lon, lat) pairs, or None if it cannot be drawn.

    Boundaries are checked when they are imported; this still refuses anything odd (a wrong type, a position that is
    not two finite numbers, a ring of fewer than three points) so a bad row is listed as "no boundary", never a 500.
    """
    if not isinstance(geometry, Mapping):
        return None
    kind, coordinates = geometry.get("type"), geometry.get("coordinates")
    if kind == "Polygon":
        polygons = [coordinates]
    elif kind == "MultiPolygon" and isinstance(coordinates, list):
        polygons = coordinates
    else:
        return None
    found: list[Ring] = []
    for polygon in polygons:
        if not isinstance(polygon, list):
            return None
        for ring in polygon:
            if not isinstance(ring, list) or len(ring) < 3:
                return None
            try:
                points: Ring = [(position[0], position[1]) for position in ring]
            except (TypeError, IndexError, KeyError):
                return None
            # Plain numbers only (not True/False), and finite: x + y is NaN or infinite if either is.
            if not all(type(x) in NUMBERS and type(y) in NUMBERS and math.isfinite(x + y) for x, y in points):
                return None
            found.append(points)
    return found or None


@dataclass(frozen=True)
class Projection:
    """Equirectangular, with longitudes shrunk by the cosine of the middle latitude (true to shape at a council's
    scale), scaled and centred to fit a box of `width` by at most `max_height`."""

    min_x: float
    max_y: float
    scale: float
    offset_x: float
    offset_y: float
    shrink: float
    width: float
    height: float

    @classmethod
    def fitting(cls, all_rings: Sequence[Ring], *, width: float, max_height: float, padding: float) -> Projection:
        lons = [lon for ring in all_rings for lon, _lat in ring]
        lats = [lat for ring in all_rings for _lon, lat in ring]
        shrink = math.cos(math.radians((min(lats) + max(lats)) / 2))
        min_x, max_x = min(lons) * shrink, max(lons) * shrink
        min_y, max_y = min(lats), max(lats)
        span_x, span_y = max(max_x - min_x, 1e-9), max(max_y - min_y, 1e-9)
        scale = min((width - 2 * padding) / span_x, (max_height - 2 * padding) / span_y)
        height = span_y * scale + 2 * padding
        return cls(
            min_x=min_x,
            max_y=max_y,
            scale=scale,
            offset_x=(width - span_x * scale) / 2,
            offset_y=padding,
            shrink=shrink,
            width=width,
            height=height,
        )

    def point(self, lon: float, lat: float) -> tuple[float, float]:
        return (
            self.offset_x + (lon * self.shrink - self.min_x) * self.scale,
            self.offset_y + (self.max_y - lat) * self.scale,  # north up: latitude grows upwards, SVG's y downwards
        )

    def path(self, area_rings: Sequence[Ring]) -> str:
        """SVG path data, one closed sub-path per ring (holes cut out by fill-rule="evenodd"), on whole pixels.

        Official boundaries carry far more detail than a few hundred pixels can show, so a point closer than
        `MIN_SPACING` pixels to the last one kept is dropped, and each step is written relative to the one before
        ("l2 -1"): the map stays small however detailed the stored boundaries are."""
        # point(), unrolled: x = ax·lon + bx, y = ay·lat + by.
        ax, bx = self.scale * self.shrink, self.offset_x - self.min_x * self.scale
        ay, by = -self.scale, self.offset_y + self.max_y * self.scale
        parts = []
        for ring in area_rings:
            grid = [(round(ax * lon + bx), round(ay * lat + by)) for lon, lat in ring]
            kept = [grid[0]]
            for x, y in grid[1:]:
                last_x, last_y = kept[-1]
                if abs(x - last_x) + abs(y - last_y) >= MIN_SPACING:
                    kept.append((x, y))
            if len(kept) > 1 and kept[-1] == kept[0]:
                kept.pop()
            if len(kept) < 3:  # smaller than the spacing: its distinct pixels, so it still shows as a speck
                kept = list(dict.fromkeys(grid))
            steps = " ".join(f"{x - px} {y - py}" for (px, py), (x, y) in itertools.pairwise(kept))
            parts.append(f"M{kept[0][0]} {kept[0][1]}" + (f"l{steps}" if steps else "") + "Z")
        return "".join(parts)


def classes(values: Sequence[int], *, count: int = 5, suffix: str = "") -> list[MapClass]:
    """Up to `count` quantile classes over the published values, each a range of values that actually occur.

    Equal values always share a class, so there are fewer classes when there are few distinct values. Every value
    falls in exactly one class.
    """
    ordered = sorted(values)
    if not ordered:
        return []
    count = min(count, len(set(ordered)))
    breaks: list[int] = []
    for number in range(1, count + 1):
        cut = ordered[math.ceil(number * len(ordered) / count) - 1]
        if not breaks or cut > breaks[-1]:
            breaks.append(cut)
    found = []
    previous = None
    for index, high in enumerate(breaks):
        low = min(v for v in ordered if (previous is None or v > previous) and v <= high)
        shade = MAP_PALETTE[2] if len(breaks) == 1 else MAP_PALETTE[round(index * 4 / (len(breaks) - 1))]
        low_text, high_text = _svg.tick_label(low, suffix), _svg.tick_label(high, suffix)
        label = low_text if low == high else _("%(low)s to %(high)s") % {"low": low_text, "high": high_text}
        found.append(MapClass(low=low, high=high, fill=shade, label=label))
        previous = high
    return found


def choropleth(
    areas: Sequence[Area],
    *,
    title: str,
    description: str,
    legend_title: str,
    value_suffix: str = "",
    chart_id: str = "map",
    width: int = 640,
    max_height: int = 520,
    legend_in_svg: bool = True,
) -> Choropleth:
    """A map of `areas` shaded by published value in up to five classes, with a legend, or no SVG when no area has a
    boundary. Suppressed areas are hatched and titled "Not shown (<10)", areas without a value dotted ("Not known").

    Each area is a <path> whose <title> gives its name and published display; the same values belong in a table
    beside the map, since colour alone must not carry them. With `legend_in_svg=False` the key is left out of the
    SVG for the page to show from `Choropleth.legend`.
    """
    chart_id = _svg.check_id(chart_id)
    areas = [area if isinstance(area, Area) else Area(*area) for area in areas]
    shapes = [(area, rings(area.geometry)) for area in areas]
    drawn = [(area, found) for area, found in shapes if found is not None]
    without_boundary = [area.name for area, found in shapes if found is None]
    shading = classes([v for area, _r in drawn if (v := shown(area.value)) is not None], suffix=value_suffix)
    if not drawn:
        return Choropleth(svg=SafeString(""), classes=shading, without_boundary=without_boundary)
    patterns = _svg.Patterns.for_chart(chart_id)
    projection = Projection.fitting(
        [ring for _area, found in drawn for ring in found], width=width, max_height=max_height, padding=12
    )
    body: list[object] = [patterns.defs()]
    for area, found in drawn:
        value = shown(area.value)
        if value is not None:
            fill = next(band.fill for band in shading if band.holds(value))
        else:
            fill = f"url(#{patterns.hatch if area.value.suppressed else patterns.dots})"
        if area.value.suppressed:
            words = _svg.not_shown_label([area.value.display])
        else:
            words = _("Not known") if value is None else area.value.display
        body.append(
            format_html(
                '<path class="chart__area" d="{}" fill="{}" fill-rule="evenodd" stroke="{}" stroke-width="1" '
                'stroke-linejoin="round"><title>{}</title></path>',
                projection.path(found),
                fill,
                MUTED,
                _svg.clean(_("%(name)s: %(value)s") % {"name": area.name, "value": words}),
            )
        )
    # The key: each class's colour and range, then the two patterns, in the SVG under the map or for the page.
    keys: list[tuple[str, str]] = [(band.fill, band.label) for band in shading]
    suppressed = [area.value.display for area, _r in drawn if area.value.suppressed]
    if suppressed:
        keys.append(("not-shown", _svg.not_shown_label(suppressed)))
    if any(shown(area.value) is None and not area.value.suppressed for area, _r in drawn):
        keys.append(("no-data", _("Not known")))
    items = [(_swatch(fill, patterns), label) for fill, label in keys]
    legend = []
    for number, (fill, label) in enumerate(keys):
        own = _svg.Patterns.for_chart(f"{chart_id}-key{number}")  # ids of its own: the swatch stands anywhere
        swatch = _svg.standalone_swatch(_swatch(fill, own), own if fill in PATTERNED else None)
        legend.append(LegendItem(swatch=swatch, label=label))
    height = projection.height
    if legend_in_svg:
        top = projection.height + 8
        body.append(_svg.text(12, top + 14, legend_title, extra=' font-weight="bold"'))
        marks, legend_height = _svg.legend_rows(items, x0=12, width=width - 24, y0=top + 26)
        body.extend(marks)
        height = top + 26 + legend_height + 8
    svg = _svg.svg(
        chart_id=chart_id,
        kind="map",
        width=width,
        height=height,
        title=title,
        description=description,
        body=body,
    )
    return Choropleth(svg=svg, classes=shading, without_boundary=without_boundary, legend=legend)


PATTERNED = ("not-shown", "no-data")


def _swatch(fill: str, patterns: _svg.Patterns) -> SafeString:
    """A legend swatch at the origin: a colour, or the hatching or dots of a value that is not drawn."""
    if fill in PATTERNED:
        return patterns.swatch(5, 0, kind=fill)
    return format_html('<rect x="2" y="0" width="20" height="14" fill="{}" stroke="{}" stroke-width="1"/>', fill, MUTED)
