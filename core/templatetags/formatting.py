"""Template filters for staff pages: {{ ticket_figures.median_resolve|duration }}, {{ spend|number:2 }}."""

from django import template

from core.formatting import duration_words, number

register = template.Library()


@register.filter
def duration(value) -> str:
    return duration_words(value) or "\u2014"


@register.filter(name="number")
def number_filter(value, places=None) -> str:
    if value is None or value == "":
        return "\u2014"
    return number(value, None if places is None else int(places))
