"""Velocity limits: past a daily limit a purchase is recorded, its points are held (not credited, not
dropped) in a review case; with no limit set the earn path runs no extra query."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from members import services
from members.models import EarningRule, Event, LedgerEntry, Purchase, ReviewCase
from tests.conftest import MemberFactory, PartnerFactory

from .conftest import assert_ledger_consistent, limits, open_cases, record

pytestmark = pytest.mark.django_db


def test_member_earn_count_limit_holds_the_next_purchase(program, member, clock):
    limits(program, member_daily_earns=2)
    record(member, 10, external_id="A")
    record(member, 20, external_id="B")
    held = record(member, 30, external_id="C")

    assert Purchase.objects.filter(member=member).count() == 3  # recorded, not refused
    assert held.points == 0
    case = open_cases(member=member).get()
    assert (case.kind, case.points, case.purchase, case.details["reason"]) == (
        ReviewCase.Kind.EARN_LIMIT,
        30,
        held,
        "member_daily_earns",
    )
    assert assert_ledger_consistent(member).points_available == 30  # only A and B
    assert Event.objects.filter(type="points.held", member=member).get().payload["points"] == 30


def test_the_limit_is_per_day(program, member, clock):
    limits(program, member_daily_earns=1)
    record(member, 10, external_id="A")
    record(member, 10, external_id="B")
    clock.shift(86400)
    record(member, 10, external_id="C")
    assert assert_ledger_consistent(member).points_available == 20
    assert open_cases().count() == 1


def test_member_points_limit_holds_the_purchase_that_would_pass_it(program, member, clock):
    limits(program, member_daily_points=100)
    record(member, 60, external_id="A")
    held = record(member, 50, external_id="B")  # 110 > 100: held whole, not cut
    fits = record(member, 40, external_id="C")  # 100: still fits
    assert (held.points, fits.points) == (0, 40)
    assert open_cases(member=member).get().details["reason"] == "member_daily_points"
    assert assert_ledger_consistent(member).points_available == 100


def test_partner_limits_count_every_member_of_the_partner(program, partner, clock):
    limits(program, partner_daily_earns=2)
    ana, bob, eva = (MemberFactory(program=program) for _ in range(3))
    record(ana, 10, partner=partner, external_id="A")
    record(bob, 10, partner=partner, external_id="B")
    held = record(eva, 10, partner=partner, external_id="C")
    other_shop = record(eva, 10, partner=PartnerFactory(program=program), external_id="D")
    assert held.points == 0 and other_shop.points == 10
    case = open_cases().get()
    assert (case.member, case.details["reason"], case.details["partner"]) == (eva, "partner_daily_earns", partner.pk)


def test_the_partner_count_stays_exact_across_its_cached_part(program, partner, clock):
    """The settled part of the partner's day is cached; what came after is read from the ledger."""
    limits(program, partner_daily_earns=4)
    members = [MemberFactory(program=program) for _ in range(6)]
    record(members[0], 10, partner=partner, external_id="A")
    record(members[1], 10, partner=partner, external_id="B")
    clock.shift(60)
    record(members[2], 10, partner=partner, external_id="C")  # caches A and B as settled
    clock.shift(60)
    record(members[3], 10, partner=partner, external_id="D")  # caches A to C
    assert record(members[4], 10, partner=partner, external_id="E").points == 0
    cache.clear()  # lost or another process: counted again from midnight
    assert record(members[5], 10, partner=partner, external_id="F").points == 0
    assert LedgerEntry.objects.filter(partner=partner, kind="earn").count() == 4
    assert open_cases().count() == 2


def test_partner_points_limit(program, partner, clock):
    limits(program, partner_daily_points=150)
    ana, bob = MemberFactory(program=program), MemberFactory(program=program)
    record(ana, 100, partner=partner, external_id="A")
    held = record(bob, 60, partner=partner, external_id="B")
    assert held.points == 0
    assert open_cases().get().details["reason"] == "partner_daily_points"


def test_a_zero_point_purchase_is_never_held(program, member, clock):
    limits(program, member_daily_earns=0)
    EarningRule.objects.create(program=program, name="No points on gift cards", kind="exclusion", category="gift")
    purchase = services.purchase_record(
        member=member,
        partner=None,
        external_id="G",
        amount=50,
        currency="EUR",
        items=[{"sku": "GC", "category": "gift", "quantity": 1, "unit_price": "50"}],
    )[0]
    assert purchase.points == 0 and not ReviewCase.objects.exists()


def test_a_repeat_of_a_held_purchase_returns_it_without_a_second_case(program, member, clock):
    limits(program, member_daily_earns=0)
    first = record(member, 10, external_id="A")
    again, created = services.purchase_record(
        member=member, partner=None, external_id="A", amount=first.amount, currency="EUR"
    )
    assert (again, created) == (first, False)
    assert ReviewCase.objects.count() == 1


def _queries(member, external_id, partner) -> list[str]:
    with CaptureQueriesContext(connection) as ctx:
        record(member, 10, partner=partner, external_id=external_id)
    return [q["sql"] for q in ctx.captured_queries]


def test_no_limit_costs_no_query_and_each_limit_one(program, partner, clock):
    member = MemberFactory(program=program)
    record(member, 10, partner=partner, external_id="warm-up")
    none = _queries(member, "A", partner)
    limits(program, member_daily_earns=100, member_daily_points=10_000)
    member_only = _queries(member, "B", partner)
    limits(program, partner_daily_earns=100, partner_daily_points=10_000)
    both = _queries(member, "C", partner)
    assert len(member_only) == len(none) + 1  # events and points of a dimension: one aggregate
    assert len(both) == len(none) + 2
    assert not any("COUNT(" in sql.upper() for sql in none)
    assert LedgerEntry.objects.filter(member=member, kind="earn").count() == 4
