"""Server-rendered SVG charts and the choropleth map for the council dashboards.

Pure functions: no database, no request. They take values that have already been published by
`engagement.suppression` (anything with `.value`, `.display` and `.suppressed`) and return SVG markup as a
SafeString. A suppressed value is never drawn from or printed as a number: it becomes a gap in a line, a "not shown"
marker in place of a bar, or a hatched area on the map, labelled with its published display ("<10"). Every piece of
text is escaped. Each chart is an image with an accessible name and description; pages put a table of the same
values and a text summary (see `summaries`) beside it.
"""

from engagement.charts._svg import BAR_FILL, LINE_COLOURS, MAP_PALETTE, PAPER, PublishedValue
from engagement.charts.bars import Bar, bar_chart
from engagement.charts.lines import Series, line_chart
from engagement.charts.maps import Area, Choropleth, MapClass, Projection, choropleth, classes, rings
from engagement.charts.summaries import line_summary, ranking_summary

__all__ = [
    "BAR_FILL",
    "LINE_COLOURS",
    "MAP_PALETTE",
    "PAPER",
    "Area",
    "Bar",
    "Choropleth",
    "MapClass",
    "Projection",
    "PublishedValue",
    "Series",
    "bar_chart",
    "choropleth",
    "classes",
    "line_chart",
    "line_summary",
    "ranking_summary",
    "rings",
]
