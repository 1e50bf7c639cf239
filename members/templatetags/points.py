"""Points as members read them: the program's own name, the language's plural form, local digits.

{% load points %}
{{ member.points_available|points:member.program }}   -> "1,200 stars" / "1.200 de stele" / "1 200 звёзд"
{{ member.program|points_name }}                      -> "stars"
"""

from decimal import Decimal, InvalidOperation

from django import template
from django.contrib.humanize.templatetags.humanize import intcomma
from django.utils.formats import number_format

from members.texts import points_label

register = template.Library()


@register.filter
def points(value, program) -> str:
    """A count of points with the name its number asks for; a rate (1.5 per EUR) takes the plural name."""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        return ""
    if amount == amount.to_integral_value():
        count = int(amount)
        return f"{intcomma(count)}\u00a0{points_label(program, count)}"
    return f"{number_format(amount.normalize(), force_grouping=True)}\u00a0{points_label(program)}"


@register.filter
def points_name(program) -> str:
    return points_label(program)
