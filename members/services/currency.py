"""Purchases in other currencies: the program's exchange rates, and a purchase's amounts converted
into the program's currency at the rate in force on its date (its points are then computed as for
any purchase). The purchase keeps what the partner sent and the rate used, so a refund is converted
at that same rate, whatever the rate is on the day of the refund."""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.utils import timezone

from core.errors import DomainError
from members.models import ExchangeRate, Program, Purchase

CENT = Decimal("0.01")


def money_convert(amount: Decimal, rate: Decimal) -> Decimal:
    """An amount in the program's currency, to the cent (half up, as tills round)."""
    return (amount * rate).quantize(CENT, rounding=ROUND_HALF_UP)


def currency_code(currency: str, *, field: str = "currency") -> str:
    code = (currency or "").upper()
    if len(code) != 3 or not code.isascii() or not code.isalpha():
        message = "A currency is three letters (ISO 4217), e.g. USD."
        raise DomainError("unknown_currency", message, fields={field: [message]})
    return code


def rate_on(*, program: Program, currency: str, on: date) -> Decimal:
    """The rate of `currency` in force on `on`: the latest one from that day or before. One indexed
    query; refused with a 400 when the program has no rate for the currency (`unknown_currency`) or
    none yet on that date (`no_rate`)."""
    rate = (
        ExchangeRate.objects.filter(program=program, currency=currency, valid_from__lte=on)
        .order_by("-valid_from")
        .values_list("rate", flat=True)
        .first()
    )
    if rate is not None:
        return rate
    if ExchangeRate.objects.filter(program=program, currency=currency).exists():
        message = f"This program has no {currency} exchange rate on {on.isoformat()} or before."
        raise DomainError("no_rate", message, fields={"currency": [message]})
    message = f"This program works in {program.currency} and takes no {currency}: it has no rate for it."
    raise DomainError("unknown_currency", message, fields={"currency": [message]})


@dataclass(frozen=True)
class Conversion:
    """A purchase's amounts in the program's currency, and what the partner sent."""

    amount: Decimal
    paid_with_points: Decimal
    discount_amount: Decimal
    items: list[dict]
    original_amount: Decimal
    original_currency: str
    rate: Decimal


def purchase_convert(
    *,
    program: Program,
    amount: Decimal,
    currency: str,
    at: datetime,
    items: list[dict],
    paid_with_points: Decimal = Decimal("0"),
    discount_amount: Decimal = Decimal("0"),
) -> Conversion | None:
    """None when the purchase is in the program's currency (the hot path: no query). Otherwise its
    amounts and item prices at the rate in force on its date (the program's local date); each item
    keeps its price as sent as `original_unit_price`."""
    code = currency.upper()
    if code == program.currency:
        return None
    code = currency_code(code)
    rate = rate_on(program=program, currency=code, on=timezone.localdate(at))
    converted_items = [
        {
            **item,
            "unit_price": str(money_convert(Decimal(item["unit_price"]), rate)),
            "original_unit_price": item["unit_price"],
        }
        for item in items
    ]
    return Conversion(
        amount=money_convert(amount, rate),
        paid_with_points=money_convert(paid_with_points, rate),
        discount_amount=money_convert(discount_amount, rate),
        items=converted_items,
        original_amount=amount,
        original_currency=code,
        rate=rate,
    )


def refund_convert(*, purchase: Purchase, amount: Decimal, currency: str) -> Decimal:
    """A refund's amount in the program's currency. In the purchase's original currency it is
    converted at the purchase's own rate; refunding all that is left in that currency refunds all
    that is left (no cent lost to rounding)."""
    code = currency_code(currency)
    if code == purchase.currency:
        return amount
    if code != purchase.original_currency:
        sent = purchase.original_currency or purchase.currency
        message = f"This purchase was paid in {sent}: refund it in {sent} or {purchase.currency}."
        raise DomainError("currency_mismatch", message, fields={"currency": [message]})
    refundable = purchase.amount - purchase.refunded_amount
    left_original = (purchase.original_amount * refundable / purchase.amount).quantize(CENT, rounding=ROUND_HALF_UP)
    if amount == left_original:
        return refundable
    return money_convert(amount, purchase.exchange_rate)


def exchange_rate_check(*, program: Program, currency: str) -> str:
    """The currency of a rate, refused when it is the program's own (it needs none)."""
    code = currency_code(currency)
    if code == program.currency:
        message = f"{code} is the program's own currency: it needs no rate."
        raise DomainError("invalid_currency", message, fields={"currency": [message]})
    return code


@transaction.atomic
def exchange_rate_set(*, program: Program, currency: str, valid_from: date, rate: Decimal) -> ExchangeRate:
    """Set a currency's rate from a date on (staff in the admin, its CSV import, the demo)."""
    if rate <= 0:
        raise DomainError("invalid_rate", "A rate is a positive number.", fields={"rate": ["Must be positive."]})
    code = exchange_rate_check(program=program, currency=currency)
    rate_row, _ = ExchangeRate.objects.update_or_create(
        program=program, currency=code, valid_from=valid_from, defaults={"rate": rate}
    )
    return rate_row
