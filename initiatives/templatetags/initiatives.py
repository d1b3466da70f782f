from django import template

from .. import timeline

register = template.Library()


@register.filter
def timeline_text(entry) -> str:
    return timeline.render(entry)
