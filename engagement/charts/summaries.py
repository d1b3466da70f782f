"""Plain-language summaries of what a chart shows, for everyone who does not see it. Published values only."""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from engagement.charts._svg import PublishedValue, hidden_displays, shown


def _names(names: Sequence[str], limit: int = 3) -> str:
    if len(names) <= limit:
        return ", ".join(names)
    return _("%(names)s and %(count)d more") % {"names": ", ".join(names[:limit]), "count": len(names) - limit}


def _gaps(points: Sequence[PublishedValue], *, weeks: bool) -> list[str]:
    """Sentences counting the values that are not shown and those not known."""
    sentences = []
    hidden = [point.display for point in points if point.suppressed]
    if hidden:
        context = {"count": len(hidden), "display": hidden_displays(hidden)}
        if weeks and context["display"]:
            sentence = ngettext(
                "%(count)d week is not shown (%(display)s).",
                "%(count)d weeks are not shown (%(display)s).",
                len(hidden),
            )
        elif weeks:
            sentence = ngettext("%(count)d week is not shown.", "%(count)d weeks are not shown.", len(hidden))
        elif context["display"]:
            sentence = ngettext(
                "%(count)d is not shown (%(display)s).", "%(count)d are not shown (%(display)s).", len(hidden)
            )
        else:
            sentence = ngettext("%(count)d is not shown.", "%(count)d are not shown.", len(hidden))
        sentences.append(sentence % context)
    missing = sum(1 for point in points if shown(point) is None and not point.suppressed)
    if missing:
        if weeks:
            sentence = ngettext("%(count)d week is not known.", "%(count)d weeks are not known.", missing)
        else:
            sentence = ngettext("%(count)d is not known.", "%(count)d are not known.", missing)
        sentences.append(sentence % {"count": missing})
    return sentences


def line_summary(label: str, points: Sequence[PublishedValue], weeks: Sequence[str]) -> str:
    """E.g. "Members rose from 120 in the week ending 6 January 2025 to 185 in the week ending 29 December 2025. The
    highest was 190, in the week ending 3 March 2025. 2 weeks are not shown (<10)." `weeks` names each point's week."""
    if len(points) != len(weeks):
        raise ValueError("one week label per point")
    published = [(index, value) for index, point in enumerate(points) if (value := shown(point)) is not None]
    sentences: list[str] = []
    if not published:
        sentences.append(_("%(label)s: no week in this period can be shown.") % {"label": label})
    elif len(published) == 1:
        index = published[0][0]
        sentences.append(
            _("%(label)s: %(value)s in the week ending %(week)s, the only week that can be shown.")
            % {"label": label, "value": points[index].display, "week": weeks[index]}
        )
    else:
        (first, first_value), (last, last_value) = published[0], published[-1]
        context = {
            "label": label,
            "first": points[first].display,
            "first_week": weeks[first],
            "last": points[last].display,
            "last_week": weeks[last],
        }
        if last_value > first_value:
            sentence = _(
                "%(label)s rose from %(first)s in the week ending %(first_week)s "
                "to %(last)s in the week ending %(last_week)s."
            )
        elif last_value < first_value:
            sentence = _(
                "%(label)s fell from %(first)s in the week ending %(first_week)s "
                "to %(last)s in the week ending %(last_week)s."
            )
        else:
            sentence = _(
                "%(label)s was %(first)s in the week ending %(first_week)s and again in the week ending %(last_week)s."
            )
        sentences.append(sentence % context)
        best = max(published, key=lambda pair: pair[1])  # the earliest week at the highest value
        if best[0] not in (first, last) and best[1] > max(first_value, last_value):
            sentences.append(
                _("The highest was %(value)s, in the week ending %(week)s.")
                % {"value": points[best[0]].display, "week": weeks[best[0]]}
            )
    sentences += _gaps(points, weeks=True)
    return " ".join(sentences)


def ranking_summary(items: Sequence[tuple[str, PublishedValue]]) -> str:
    """E.g. "Highest: Splott (120). Lowest: Adamsdown, Cathays (5). 2 are not shown (<10)." for bars or map areas."""
    published = [(name, value, point) for name, point in items if (value := shown(point)) is not None]
    sentences: list[str] = []
    if not published:
        sentences.append(_("No value can be shown."))
    else:
        high = max(value for _name, value, _point in published)
        low = min(value for _name, value, _point in published)
        top = [name for name, value, _point in published if value == high]
        bottom = [name for name, value, _point in published if value == low]
        display = {value: point.display for _name, value, point in published}
        if high == low:
            sentences.append(_("Every value shown is %(value)s.") % {"value": display[high]})
        else:
            sentences.append(_("Highest: %(names)s (%(value)s).") % {"names": _names(top), "value": display[high]})
            sentences.append(_("Lowest: %(names)s (%(value)s).") % {"names": _names(bottom), "value": display[low]})
    sentences += _gaps([point for _name, point in items], weeks=False)
    return " ".join(sentences)
