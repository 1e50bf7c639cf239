"""Checkout burn: a partner quotes (points held), then confirms; unconfirmed holds lapse and give points back."""

from datetime import timedelta
from decimal import Decimal

import pytest

from core.errors import DomainError
from members.models import LedgerEntry
from rewards import services
from rewards.models import BurnHold
from tests.conftest import PartnerFactory
from tests.rewards.conftest import assert_ledger_consistent, fresh, give


@pytest.fixture
def shopper(program, member):
    program.burn_rate = Decimal("0.05")  # 20 points pay 1 EUR
    program.burn_min_order = Decimal("30")
    program.save()
    return give(fresh(member), 1000)


def test_quote_holds_the_points_and_confirm_spends_them(clock, shopper, partner):
    hold = services.burn_quote(member=shopper, partner=partner, order_total=Decimal("80"), points=400)

    assert (hold.points, hold.amount, hold.status) == (400, Decimal("20.00"), BurnHold.Status.HELD)
    assert fresh(shopper).points_available == 600
    clock.shift(timedelta(minutes=4))
    services.burn_confirm(token=hold.token, partner=partner, order_reference="WEB-1")
    services.burn_confirm(token=hold.token, partner=partner)  # a retry changes nothing

    hold.refresh_from_db()
    assert (hold.status, hold.order_reference) == (BurnHold.Status.CONFIRMED, "WEB-1")
    clock.shift(timedelta(hours=1))
    assert services.burn_holds_lapse() == 0
    assert fresh(shopper).points_available == 600
    assert_ledger_consistent()


def test_without_points_asked_the_quote_uses_as_many_as_the_order_allows(shopper, partner):
    small = services.burn_quote(member=shopper, partner=partner, order_total=Decimal("31.50"))
    assert (small.points, small.amount) == (630, Decimal("31.50"))
    big = services.burn_quote(member=shopper, partner=partner, order_total=Decimal("500"))
    assert (big.points, big.amount) == (370, Decimal("18.50"))
    assert fresh(shopper).points_available == 0


def test_unconfirmed_holds_lapse_and_give_the_points_back(clock, shopper, partner):
    hold = services.burn_quote(member=shopper, partner=partner, order_total=Decimal("100"), points=300)
    clock.shift(timedelta(minutes=4, seconds=59))
    assert services.burn_holds_lapse() == 0
    clock.shift(timedelta(seconds=1))

    assert services.burn_holds_lapse() == 1

    assert fresh(shopper).points_available == 1000
    hold.refresh_from_db()
    assert hold.status == BurnHold.Status.LAPSED
    refund = LedgerEntry.objects.get(member=shopper, kind=LedgerEntry.Kind.REFUND)
    assert (refund.points, refund.reference) == (300, f"rewards.burnhold:{hold.pk}")
    with pytest.raises(DomainError) as exc:
        services.burn_confirm(token=hold.token, partner=partner)
    assert exc.value.code == "hold_lapsed"
    assert_ledger_consistent()


def test_a_late_confirm_is_refused_even_before_the_sweep(clock, shopper, partner):
    hold = services.burn_quote(member=shopper, partner=partner, order_total=Decimal("100"), points=300)
    clock.shift(timedelta(minutes=6))
    with pytest.raises(DomainError) as exc:
        services.burn_confirm(token=hold.token, partner=partner)
    assert exc.value.code == "hold_lapsed"
    assert services.burn_holds_lapse() == 1
    assert fresh(shopper).points_available == 1000


def test_cancel_gives_the_points_back_at_once(shopper, partner):
    hold = services.burn_quote(member=shopper, partner=partner, order_total=Decimal("100"), points=300)
    services.burn_cancel(token=hold.token, partner=partner)
    assert fresh(shopper).points_available == 1000
    with pytest.raises(DomainError) as exc:
        services.burn_cancel(token=hold.token, partner=partner)
    assert exc.value.code == "hold_settled"
    assert fresh(shopper).points_available == 1000


@pytest.mark.parametrize(
    ("order_total", "points", "code"),
    [
        (Decimal("29.99"), 100, "order_below_minimum"),
        (Decimal("40"), 801, "exceeds_order_total"),
        (Decimal("100"), 1001, "insufficient_points"),
        (Decimal("0"), 10, "invalid_amount"),
    ],
)
def test_quote_refusals_hold_nothing(shopper, partner, order_total, points, code):
    with pytest.raises(DomainError) as exc:
        services.burn_quote(member=shopper, partner=partner, order_total=order_total, points=points)
    assert exc.value.code == code
    assert fresh(shopper).points_available == 1000
    assert not BurnHold.objects.exists()


def test_another_partner_cannot_confirm_or_cancel_a_hold(shopper, partner, program):
    hold = services.burn_quote(member=shopper, partner=partner, order_total=Decimal("100"), points=100)
    other = PartnerFactory(program=program)
    for action in (services.burn_confirm, services.burn_cancel):
        with pytest.raises(DomainError) as exc:
            action(token=hold.token, partner=other)
        assert exc.value.code == "hold_not_found"
    assert BurnHold.objects.get(pk=hold.pk).status == BurnHold.Status.HELD
