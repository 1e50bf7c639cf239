"""Operator-defined events: a partner reports one (a type staff configured, with its attributes)
and the member earns by the type's rule (fixed points, plus points per unit of a number attribute,
at most the type's max_points), within its daily cap. The same (type, member, reference) earns
once; past the cap the event is recorded without points."""

import math
from decimal import ROUND_FLOOR, Decimal

from django.db import transaction
from django.utils import timezone

from core.errors import DomainError, NotFound
from members.checks import member_require_active
from members.events import CustomEventRecorded, PointsEarned
from members.locks import lock_member
from members.models import CustomEvent, CustomEventType, LedgerEntry, Member, Partner
from members.outbox import event_record
from members.services.ledger import ledger_credit
from members.texts import stored_reason
from members.zones import program_day_start

_JSON_TYPES = {"string": (str,), "number": (int, float), "boolean": (bool,)}


def custom_event_attributes_check(*, event_type: CustomEventType, attributes: dict) -> dict:
    """The attributes of an event, checked against its type's list: unknown, missing required and
    wrongly typed ones are a 400 `invalid_attributes` naming each."""
    declared = {a["name"]: a for a in event_type.attributes}
    problems = {name: ["Not an attribute of this event type."] for name in attributes if name not in declared}
    for name, spec in declared.items():
        value = attributes.get(name)
        if value is None:
            if spec.get("required"):
                problems[name] = ["Required."]
            continue
        wanted = _JSON_TYPES.get(spec.get("type", "string"), (str,))
        wrong_bool = isinstance(value, bool) and spec.get("type") == "number"
        if not isinstance(value, wanted) or wrong_bool or (isinstance(value, float) and not math.isfinite(value)):
            problems[name] = [f"Must be a {spec.get('type', 'string')}."]
    if problems:
        raise DomainError(
            "invalid_attributes", "Some attributes do not match the event type.", fields={"attributes": problems}
        )
    return {name: value for name, value in attributes.items() if value is not None}


def custom_event_points(*, event_type: CustomEventType, attributes: dict) -> int:
    """What one event earns by its type's rule, before the daily cap."""
    points = Decimal(event_type.points)
    value = attributes.get(event_type.points_attribute) if event_type.points_attribute else None
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        points += Decimal(str(value)) * event_type.points_per_unit
    return min(int(points.to_integral_value(ROUND_FLOOR)), event_type.max_points)


@transaction.atomic
def custom_event_record(
    *, member: Member, key: str, reference: str, attributes: dict | None = None, partner: Partner | None = None
) -> tuple[CustomEvent, bool]:
    """Record an operator-defined event and credit its points (kind engagement). The same reference
    for the same type and member returns the first event and False."""
    event_type = CustomEventType.objects.filter(program_id=member.program_id, key=key, is_active=True).first()
    if event_type is None:
        raise NotFound(f"There is no event type '{key}' in this program.", code="unknown_event_type")
    attributes = custom_event_attributes_check(event_type=event_type, attributes=attributes or {})
    member = lock_member(member)
    existing = CustomEvent.objects.filter(event_type=event_type, member=member, reference=reference).first()
    if existing is not None:
        return existing, False
    member_require_active(member)
    now = timezone.now()
    points = custom_event_points(event_type=event_type, attributes=attributes)
    if points and event_type.daily_cap is not None:
        start = program_day_start(member.program, now)
        earned_today = CustomEvent.objects.filter(
            event_type=event_type, member=member, created_at__gte=start, points__gt=0
        ).count()
        if earned_today >= event_type.daily_cap:
            points = 0
    entry = None
    if points:
        entry = ledger_credit(
            member,
            kind=LedgerEntry.Kind.ENGAGEMENT,
            points=points,
            now=now,
            **stored_reason(event_type, "name"),
            reference=f"event:{event_type.key}:{reference}"[:120],
            partner=partner,
            breakdown=[{"kind": "event", "label": event_type.name, "points": points, "rule": None}],
        )
        event_record(
            PointsEarned(member=member.number, points=points, kind="engagement", action=event_type.key, entry=entry.pk),
            program=member.program,
            member=member,
        )
    event = CustomEvent.objects.create(
        event_type=event_type,
        member=member,
        partner=partner,
        reference=reference,
        attributes=attributes,
        points=points,
        entry=entry,
        created_at=now,
    )
    event_record(
        CustomEventRecorded(
            member=member.number, key=event_type.key, reference=reference, points=points, attributes=attributes
        ),
        program=member.program,
        member=member,
    )
    return event, True
