"""The demo program: realistic history, a clean ledger, idempotent."""

from decimal import Decimal

import pytest
from django.db.models import F
from django.db.models.functions import TruncMonth

from members import demo
from members.models import (
    Card,
    ExchangeRate,
    Household,
    LedgerEntry,
    Member,
    PointsSale,
    Purchase,
    ReviewCase,
    Subscription,
)
from members.selectors import ledger_mismatches

pytestmark = pytest.mark.django_db


def test_demo_seed_gives_a_year_of_history_with_a_clean_ledger():
    demo.seed()
    program = demo.demo_program()
    # 60 customers, Ana's self-referral through a +tag address, two members moving from the old platform
    assert program.members.count() == 63
    case = ReviewCase.objects.get(program=program, status=ReviewCase.Status.OPEN)
    assert case.kind == ReviewCase.Kind.SELF_REFERRAL and case.member.email == "ana+friend@example.com"
    kinds = set(LedgerEntry.objects.filter(program=program).values_list("kind", flat=True))
    assert {"welcome", "earn", "reverse", "engagement", "referral"} <= kinds
    # Points are spent only on real redemptions, which the rewards demo adds (tests/rewards).
    assert not LedgerEntry.objects.filter(program=program, kind="redeem").exists()
    # A year of activity: members joined in each of twelve months, and their points are dated when
    # earned (a purchase's at the purchase, the welcome gift at enrolment), not all today.
    joined = program.members.annotate(month=TruncMonth("enrolled_at")).values("month").distinct()
    assert joined.count() >= 12
    entries = LedgerEntry.objects.filter(program=program)
    assert entries.annotate(month=TruncMonth("created_at")).values("month").distinct().count() >= 12
    assert not entries.filter(kind="earn").exclude(created_at=F("purchase__occurred_at")).exists()
    history = entries.exclude(member=case.member)  # the self-referral case enrols today, after the history
    assert not history.filter(kind="welcome").exclude(created_at=F("member__enrolled_at")).exists()
    assert Member.objects.filter(program=program).exclude(loyalty_type="").exists()
    # Paid plans: some paid at the desk, two asked for on the member page and waiting for their payment.
    statuses = list(Subscription.objects.filter(member__program=program).values_list("status", flat=True))
    assert statuses.count(Subscription.Status.PENDING) == 2 and Subscription.Status.ACTIVE in statuses
    assert ledger_mismatches() == []
    # The partner API's newer writes can be tried at once: transfers, a custom event type, Ana's card.
    program.refresh_from_db()
    assert program.transfer_max_points == 500
    assert program.custom_event_types.get().key == "store_visit"
    assert Card.objects.filter(member__email="ana@example.com", status=Card.Status.ACTIVE).count() == 1
    # Money: a purchase in dollars, a points sale, the opening balances (three lots, with their expiry).
    dollars = Purchase.objects.get(program=program, external_id="DEMO-USD-1")
    assert (dollars.original_currency, dollars.original_amount, dollars.amount) == (
        "USD",
        Decimal("64.00"),
        Decimal("59.20"),
    )
    assert ExchangeRate.objects.filter(program=program, currency="RON").exists()
    assert PointsSale.objects.get(program=program).payment_reference == "DEMO-TILL-0001"
    assert entries.filter(kind="opening").count() == 3
    assert Member.objects.get(email="mara.vlad@example.com").points_available == 1500
    # Ana's household of two, redeeming from its pool by default through the partner API.
    household = Household.objects.get(program=program)
    assert household.members.count() == 2 and household.members.filter(email="ana@example.com").exists()
    assert program.household_max_members == 4 and program.household_pool_default
    # Time: the program's zone, members abroad with their own, thresholds of its own, a plan with perks.
    assert program.time_zone == "Europe/Bucharest" and program.loyalty_price_share == 40
    assert program.members.filter(time_zone="Europe/Rome").exists()
    assert program.plans.filter(free_shipping=True, early_access=True).exists()
    demo.seed()  # a second run adds nothing
    assert Household.objects.filter(program=program).count() == 1
    assert program.members.count() == 63
    assert Card.objects.filter(member__program=program).count() == 1
