"""The member's data export (GDPR access, `/profile/my-data.json` and the admin's GDPR export):
members' own part (member_export, below) plus one section per registered contributor.

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


def member_export(*, member: Member) -> dict:
    """Everything held about a member (GDPR access request), as plain JSON types: members' own data,
    then one section per app that registered one (members.exports)."""
    fields = (
        "number",
        "email",
        "phone",
        "first_name",
        "last_name",
        "birth_date",
        "language",
        "external_id",
        "consent_email",
        "consent_email_at",
        "consent_sms",
        "consent_sms_at",
        "referral_code",
        "status",
        "loyalty_type",
        "enrolled_at",
        "last_activity_at",
        "points_available",
        "points_pending",
        "points_lifetime",
        "points_debt",
    )
    data = {f: _plain(getattr(member, f)) for f in fields}
    data["program"] = member.program.name
    data["tier"] = member.tier.name if member.tier else None
    # The ledger as the member's history page shows it: a staff member's reason is internal.
    data["ledger"] = [
        {
            "created_at": _plain(e.created_at),
            "kind": e.kind,
            "title": e.member_title,
            "points": e.points,
            "amount": _plain(e.amount),
            "currency": e.currency,
            "reason": e.member_reason,
            "reference": e.reference,
            "partner__name": e.partner.name if e.partner else None,
        }
        for e in member.ledger.select_related("partner").order_by("created_at", "id")
    ]
    data["purchases"] = [
        {k: _plain(v) for k, v in row.items()}
        for row in member.purchases.order_by("occurred_at").values(
            "occurred_at", "external_id", "amount", "currency", "refunded_amount", "points", "partner__name", "items"
        )
    ]
    data["tier_history"] = [
        {k: _plain(v) for k, v in row.items()}
        for row in member.tier_changes.order_by("created_at").values(
            "created_at", "from_tier__name", "to_tier__name", "reason"
        )
    ]
    data["subscriptions"] = [
        {k: _plain(v) for k, v in row.items()}
        for row in member.subscriptions.order_by("started_at").values(
            "plan__name", "status", "started_at", "expires_at", "cancelled_at"
        )
    ]
    data["engagements"] = [
        {k: _plain(v) for k, v in row.items()}
        for row in member.engagements.order_by("created_at").values("created_at", "action", "reference")
    ]
    data["cards"] = [
        {k: _plain(v) for k, v in row.items()}
        for row in member.cards.order_by("issued_at", "id").values(
            "number", "kind", "status", "issued_at", "blocked_at"
        )
    ]
    data["referrals"] = list(member.referrals.values_list("number", flat=True))
    data["pending_adjustments"] = [
        {k: _plain(v) for k, v in row.items()}
        for row in member.pending_adjustments.filter(status="pending").values("requested_at", "points")
    ]
    # Every other app's part (rewards, feedback, campaigns), registered in members.exports.
    data.update(export_sections(member=member))
    return data


def _plain(value):
    if isinstance(value, datetime | Decimal) or hasattr(value, "isoformat"):
        return value.isoformat() if hasattr(value, "isoformat") else str(value)
    return value
