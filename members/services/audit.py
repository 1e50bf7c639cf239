"""The audit trail: who changed what, when and why (members.AuditEntry), without personal data.

Written by the admin (every add, change and delete, backoffice.audit) and by every service staff
run, inside the transaction of the change.
"""

from datetime import date, datetime
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import models

from members.models import AuditEntry, Member

NOT_RECORDED = "(changed, not recorded)"
_SECRET_WORDS = ("password", "secret", "token", "key")
# Field kinds whose values say nothing about a person: kept even for models that describe one.
_NEUTRAL_FIELDS = (
    models.BooleanField,
    models.IntegerField,
    models.DecimalField,
    models.FloatField,
    models.ForeignKey,
    models.ManyToManyField,
    models.DateTimeField,
)


def _describes_person(model) -> bool:
    """A member, a user account, or a row about one (a ticket, a response, a ticket's message)."""
    if model is Member or model is get_user_model():
        return True
    parents = [f.related_model for f in model._meta.concrete_fields if f.many_to_one]
    return Member in parents or any(
        f.many_to_one and f.related_model is Member for p in parents if p is not None for f in p._meta.concrete_fields
    )


def _audit_value(value):
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, (list, tuple, set, models.QuerySet)):
        return [_audit_value(v) for v in value]
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _audit_value(v) for k, v in value.items()}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def audit_changes(model, pairs: dict) -> dict:
    """{field: [before, after]} as JSON, without personal data or secrets: for models that describe a
    person, free text and plain dates (names, email, phone, birth date, messages) and form-only fields
    are recorded as changed, never copied, so erasing a member leaves nothing of them in the
    append-only trail; passwords, keys and secrets are never copied, whatever the model."""
    person = model is None or _describes_person(model)
    result = {}
    for name, (before, after) in pairs.items():
        try:
            field = model._meta.get_field(name)
        except Exception:  # a form-only field (a password pair, a referral code): nothing says it is harmless
            field = None
        neutral = field is not None and (field.choices or isinstance(field, _NEUTRAL_FIELDS))
        secret = any(word in name for word in _SECRET_WORDS)
        if secret or (person and not neutral):
            result[name] = [NOT_RECORDED, NOT_RECORDED]
        else:
            result[name] = [_audit_value(before), _audit_value(after)]
    return result


def audit_repr(obj: models.Model) -> str:
    """How the trail names a row: a member by number, other rows about a person by number or id."""
    if isinstance(obj, Member):
        return f"member {obj.number}"
    if _describes_person(type(obj)):
        return f"{obj._meta.verbose_name} {getattr(obj, 'number', '') or obj.pk}"
    return str(obj)[:200]


def audit_record(
    *, actor, action: str, target: models.Model | None = None, changes=None, reason: str = ""
) -> AuditEntry:
    """Append one line to the audit trail. Called by the admin (every add/change/delete) and by every
    service staff run, inside their transaction: the line exists exactly when the change does.
    `changes` is stored as given: callers pass counts, ids and states, or go through audit_changes."""
    return AuditEntry.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        target_type=ContentType.objects.get_for_model(target, for_concrete_model=False) if target is not None else None,
        target_id=str(target.pk) if target is not None else "",
        target_repr=audit_repr(target) if target is not None else "",
        changes=_audit_value(changes or {}),
        reason=str(reason or ""),
    )
