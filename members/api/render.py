"""Plain-dict answers for the two hot endpoints (earn, balance), byte-identical to what their DRF
output serializers produce (tests/members/api/test_render.py compares them on every shape).

The serializers stay the documented schema (the views name them in @extend_schema); walking their
fields for every request cost about a tenth of the earn request's Python time, so these two answers
are written directly. Any other endpoint keeps its serializer.
"""

from datetime import datetime
from decimal import ROUND_HALF_EVEN, Context, Decimal

from django.utils import timezone

_CENT = Decimal("0.01")
_MONEY = Context(prec=12, rounding=ROUND_HALF_EVEN)  # DecimalField(max_digits=12, decimal_places=2)
_RATE_PLACES = Decimal("0.00000001")
_RATE = Context(prec=18, rounding=ROUND_HALF_EVEN)  # DecimalField(max_digits=18, decimal_places=8)


def money(value) -> str:
    """As DRF's DecimalField(max_digits=12, decimal_places=2) writes it: '84.50'."""
    return f"{Decimal(value).quantize(_CENT, context=_MONEY):f}"


def rate(value) -> str:
    """As DRF's DecimalField(max_digits=18, decimal_places=8) writes it: '4.97250000'."""
    return f"{Decimal(value).quantize(_RATE_PLACES, context=_RATE):f}"


def moment(value: datetime) -> str:
    """As DRF's DateTimeField writes it: ISO 8601 in the current time zone, UTC as 'Z'."""
    text = timezone.localtime(value).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def rule_lines(lines: list[dict]) -> list[dict]:
    return [
        {
            "kind": str(line["kind"]),
            "label": str(line["label"]),
            "points": int(line["points"]),
            "rule": None if line.get("rule") is None else int(line["rule"]),
        }
        for line in lines
    ]


def purchase_result(data: dict) -> dict:
    """members.api.serializers.PurchaseResultSerializer(data).data, without the serializer."""
    hold, member = data["hold"], data["balance"]
    return {
        "id": int(data["id"]),
        "external_id": str(data["external_id"]),
        "member": str(data["member"]),
        "card": None if data["card"] is None else str(data["card"]),
        "amount": money(data["amount"]),
        "currency": str(data["currency"]),
        "occurred_at": moment(data["occurred_at"]),
        "points": int(data["points"]),
        "status": data["status"],
        "available_at": moment(data["available_at"]),
        "breakdown": rule_lines(data["breakdown"]),
        "refunded_amount": money(data["refunded_amount"]),
        "points_reversed": int(data["points_reversed"]),
        "original_amount": None if data["original_amount"] is None else money(data["original_amount"]),
        "original_currency": data["original_currency"] or None,
        "exchange_rate": None if data["exchange_rate"] is None else rate(data["exchange_rate"]),
        "balance": {"available": int(member.points_available), "pending": int(member.points_pending)},
        "hold": None
        if hold is None
        else {
            "reason": hold["reason"],
            "message": str(hold["message"]),
            "points": int(hold["points"]),
            "review": hold["review"],
        },
        "rule_revision": data["rule_revision"],
    }


def balance(data: dict) -> dict:
    """members.api.serializers.BalanceSerializer(data).data, without the serializer."""
    nxt = data["next_tier"]
    return {
        "member": str(data["member"]),
        "available": int(data["available"]),
        "pending": int(data["pending"]),
        "lifetime": int(data["lifetime"]),
        "debt": int(data["debt"]),
        "tier": None if data["tier"] is None else str(data["tier"]),
        "next_tier": None
        if nxt is None
        else {
            "name": str(nxt["name"]),
            "metric": str(nxt["metric"]),
            "threshold": money(nxt["threshold"]),
            "value": money(nxt["value"]),
            "needed": money(nxt["needed"]),
            "percent": int(nxt["percent"]),
        },
        "expiring": {k: int(data["expiring"][k]) for k in ("within_30_days", "within_60_days", "within_90_days")},
        "household": household(data["household"]),
    }


def household(data: dict | None) -> dict | None:
    """members.api.serializers.HouseholdPoolSerializer(data).data, without the serializer."""
    if data is None:
        return None
    return {
        "id": int(data["id"]),
        "name": str(data["name"]),
        "available": int(data["available"]),
        "members": int(data["members"]),
    }
