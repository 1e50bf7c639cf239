"""The member's data export (GDPR access, `/profile/my-data.json` and the admin's GDPR export):
members' own part (members.selectors.member_export) plus one section per registered contributor.

Each app that holds data about a member registers what it holds, in a module its AppConfig.ready()
imports (like the outbox's handlers), so members never imports upward:

    @export_section("rewards")
    def rewards_export(member: Member) -> dict: ...

A contributor returns plain JSON types (`export_rows` turns a queryset's values into them) and
reads only the member it is given. Internal staff notes stay out (a ticket's internal notes, a
staff adjustment's reason): the member sees what their pages show them.
"""

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal

from django.core.exceptions import ImproperlyConfigured
from django.db.models import QuerySet

from members.models import Member

Contributor = Callable[[Member], dict | list]
_SECTIONS: dict[str, Contributor] = {}


def export_section(name: str) -> Callable[[Contributor], Contributor]:
    """Register `fn(member)` as the export's section `name` (one app, one name)."""

    def register(fn: Contributor) -> Contributor:
        known = _SECTIONS.get(name)
        if known is not None and known.__qualname__ != fn.__qualname__:
            raise ImproperlyConfigured(f"Two export sections named {name!r}.")
        _SECTIONS[name] = fn
        return fn

    return register


def export_sections(*, member: Member) -> dict:
    """Every registered section for `member`, by name."""
    return {name: fn(member) for name, fn in sorted(_SECTIONS.items())}


def export_value(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def export_rows(queryset: QuerySet, *fields: str) -> list[dict]:
    """The queryset's `fields` as a list of plain dicts (dates as ISO text, decimals as strings)."""
    return [{k: export_value(v) for k, v in row.items()} for row in queryset.values(*fields)]
