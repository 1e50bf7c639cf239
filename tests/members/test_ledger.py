"""The points ledger: pending points, spending, FIFO expiry, reversals with debt, engagement."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from core.errors import DomainError
from members import selectors, services
from members.models import EarningRule, Event, LedgerEntry, Member, Program
from tests.conftest import MemberFactory, at

from .conftest import assert_ledger_consistent, buy, fresh

pytestmark = pytest.mark.django_db


def test_welcome_bonus_is_available_at_once(program):
    program.welcome_bonus = 200
    program.save()
    member = assert_ledger_consistent(MemberFactory(program=program))
    assert member.points_available == 200
    assert member.ledger.get().kind == LedgerEntry.Kind.WELCOME


def test_purchase_points_wait_out_the_return_window(program, clock):
    program.pending_days = 14
    program.save()
    member = MemberFactory(program=program)
    buy(member, 100)
    member = assert_ledger_consistent(member)
    assert (member.points_pending, member.points_available) == (100, 0)
    with pytest.raises(DomainError) as refused:
        services.points_spend(member=member, points=10, reason="Too early")
    assert refused.value.code == "insufficient_points"

    clock.shift(timedelta(days=13))
    assert services.points_release_pending() == 0
    clock.shift(timedelta(days=1))
    assert services.points_release_pending() == 100
    member = assert_ledger_consistent(member)
    assert (member.points_pending, member.points_available) == (0, 100)
    services.points_spend(member=member, points=10, reason="Coffee")
    assert assert_ledger_consistent(member).points_available == 90


def test_spending_never_overdraws(member):
    services.points_grant(member=member, points=50, reason="Gift")
    with pytest.raises(DomainError) as refused:
        services.points_spend(member=member, points=51, reason="Too much")
    assert refused.value.code == "insufficient_points"
    assert assert_ledger_consistent(member).points_available == 50
    assert member.ledger.count() == 1


def test_fixed_expiry_is_fifo_across_lots(program, clock):
    program.expiry_policy = Program.Expiry.FIXED
    program.expiry_months = 12
    program.save()
    member = MemberFactory(program=program)
    services.points_grant(member=member, points=100, reason="January")
    clock.shift(timedelta(days=100))
    services.points_grant(member=member, points=80, reason="April")
    # Spending takes from the lot that expires first.
    services.points_spend(member=member, points=30, reason="Mug")
    lots = list(fresh(member).lots.order_by("id").values_list("remaining", flat=True))
    assert lots == [70, 80]

    clock.shift(timedelta(days=270))  # 370 days after the first lot, 270 after the second
    assert services.points_expire_due() == 70
    member = assert_ledger_consistent(member)
    assert member.points_available == 80
    expiry = member.ledger.get(kind=LedgerEntry.Kind.EXPIRE)
    assert expiry.points == -70
    assert Event.objects.filter(type="points.expired", member=member, payload__points=70).exists()

    assert services.points_expire_due() == 0  # nothing expires twice
    clock.shift(timedelta(days=100))
    assert services.points_expire_due() == 80
    assert assert_ledger_consistent(member).points_available == 0


def test_points_expiring_within_several_windows_in_one_read(program, clock, django_assert_num_queries):
    program.expiry_policy = Program.Expiry.FIXED
    program.expiry_months = 12
    program.save()
    member = MemberFactory(program=program)
    for points, days_later in ((100, 0), (40, 35), (7, 35)):  # earned on days 0, 35 and 70
        clock.shift(timedelta(days=days_later))
        services.points_grant(member=member, points=points, reason="lot")
    clock.shift(timedelta(days=365 - 70 - 10))  # day 355: the lots expire in 10, 45 and 80 days
    member = fresh(member)
    assert member.program.expiry_policy == Program.Expiry.FIXED  # program loaded before counting
    with django_assert_num_queries(1):
        windows = selectors.points_expiring_within(member=member, days=(30, 60, 90))
    assert windows == {30: 100, 60: 140, 90: 147}
    assert selectors.points_expiring(member=member, days=60) == 140


def test_inactivity_expiry_takes_everything_after_months_without_activity(program, clock):
    program.expiry_policy = Program.Expiry.INACTIVITY
    program.expiry_months = 6
    program.save()
    member = MemberFactory(program=program)
    services.points_grant(member=member, points=100, reason="Gift")
    clock.shift(timedelta(days=150))
    services.points_spend(member=member, points=10, reason="Activity")  # resets the clock
    clock.shift(timedelta(days=150))
    assert services.points_expire_due() == 0
    clock.shift(timedelta(days=40))
    assert services.points_expire_due() == 90
    assert assert_ledger_consistent(member).points_available == 0


def test_expiring_notice_is_sent_once_per_lot(program, clock):
    program.expiry_policy = Program.Expiry.FIXED
    program.expiry_months = 12
    program.expiry_notice_days = 30
    program.save()
    member = MemberFactory(program=program)
    services.points_grant(member=member, points=100, reason="Gift")
    clock.shift(timedelta(days=300))
    assert services.points_expiry_notify() == 0  # 65 days before expiry
    clock.shift(timedelta(days=40))
    assert services.points_expiry_notify() == 1
    assert services.points_expiry_notify() == 0
    event = Event.objects.get(type="points.expiring", member=member)
    assert event.payload["points"] == 100
    services.points_grant(member=member, points=5, reason="New lot")
    clock.shift(timedelta(days=340))
    assert services.points_expiry_notify() == 1  # the new lot gets its own notice
    assert Event.objects.filter(type="points.expiring", member=member).count() == 2


def test_inactivity_notice_once_per_period_of_inactivity(program, clock):
    program.expiry_policy = Program.Expiry.INACTIVITY
    program.expiry_months = 6
    program.expiry_notice_days = 30
    program.save()
    member = MemberFactory(program=program)
    services.points_grant(member=member, points=100, reason="Gift")
    clock.shift(timedelta(days=165))
    assert services.points_expiry_notify() == 1
    assert services.points_expiry_notify() == 0
    services.points_spend(member=member, points=1, reason="Activity")
    clock.shift(timedelta(days=165))
    assert services.points_expiry_notify() == 1


def test_partial_reversal_after_partial_spending_creates_debt_repaid_first(program):
    member = MemberFactory(program=program)
    purchase = buy(member, 100)
    services.points_spend(member=member, points=80, reason="Voucher")
    # Refund 60% of the order: 60 points to take back, only 20 left, 40 become debt.
    reversal = services.purchase_reverse(purchase=purchase, amount=Decimal("60"))
    assert (reversal.points, reversal.debt, reversal.entries[0].points) == (60, 40, -20)
    member = assert_ledger_consistent(member)
    assert (member.points_available, member.points_debt) == (0, 40)
    # The rest of the order: 40 more points, all debt.
    services.purchase_reverse(purchase=purchase)
    member = assert_ledger_consistent(member)
    assert (member.points_available, member.points_debt) == (0, 80)
    with pytest.raises(DomainError):
        services.purchase_reverse(purchase=purchase, amount=Decimal("1"))
    # Future earnings repay the debt first.
    buy(member, 50)
    member = assert_ledger_consistent(member)
    assert (member.points_available, member.points_debt) == (0, 30)
    buy(member, 50)
    member = assert_ledger_consistent(member)
    assert (member.points_available, member.points_debt) == (20, 0)
    assert member.ledger.filter(kind=LedgerEntry.Kind.DEBT).count() == 2


def test_reversal_is_proportional_and_rounds_down(member):
    purchase = buy(member, "99.99")  # 99 points
    services.purchase_reverse(purchase=purchase, amount=Decimal("50"))
    assert assert_ledger_consistent(member).points_available == 99 - 49  # floor(99 * 50 / 99.99) = 49
    services.purchase_reverse(purchase=purchase)
    assert assert_ledger_consistent(member).points_available == 0


def test_reversal_of_a_pending_purchase_takes_the_pending_points(program, clock):
    program.pending_days = 14
    program.save()
    member = MemberFactory(program=program)
    purchase = buy(member, 100)
    services.purchase_reverse(purchase=purchase, amount=Decimal("25"))
    member = assert_ledger_consistent(member)
    assert (member.points_pending, member.points_debt) == (75, 0)


def test_staff_adjustment_needs_a_reason_and_cannot_overdraw(member, admin_user):
    with pytest.raises(DomainError) as refused:
        services.points_adjust(member=member, points=10, reason=" ", created_by=admin_user)
    assert refused.value.code == "reason_required"
    services.points_adjust(member=member, points=10, reason="Goodwill", created_by=admin_user)
    with pytest.raises(DomainError):
        services.points_adjust(member=member, points=-11, reason="Too much", created_by=admin_user)
    services.points_adjust(member=member, points=-4, reason="Typo", created_by=admin_user)
    member = assert_ledger_consistent(member)
    assert member.points_available == 6
    assert member.ledger.filter(created_by=admin_user).count() == 2


def test_suspended_member_cannot_spend_or_earn(member):
    services.points_grant(member=member, points=10, reason="Gift")
    services.member_set_status(member=member, status=Member.Status.SUSPENDED)
    with pytest.raises(DomainError) as refused:
        services.points_spend(member=member, points=1, reason="x")
    assert refused.value.code == "member_inactive"
    with pytest.raises(DomainError):
        buy(member, 10)


def test_engagement_caps(program, member, clock):
    EarningRule.objects.create(
        program=program,
        name="Share",
        kind=EarningRule.Kind.ENGAGEMENT,
        action=EarningRule.Action.SOCIAL_SHARE,
        points=10,
        daily_cap=2,
        lifetime_cap=3,
    )
    assert services.points_engage(member=member, action="social_share", reference="post-1")
    assert services.points_engage(member=member, action="social_share", reference="post-1").points == 10  # same
    assert services.points_engage(member=member, action="social_share", reference="post-2")
    assert services.points_engage(member=member, action="social_share", reference="post-3") is None  # daily cap
    clock.shift(timedelta(days=1))
    assert services.points_engage(member=member, action="social_share", reference="post-4")
    assert services.points_engage(member=member, action="social_share", reference="post-5") is None  # lifetime
    assert assert_ledger_consistent(member).points_available == 30
    with pytest.raises(DomainError):
        services.points_engage(member=member, action="dancing", reference="x")


def test_birthday_award_once_a_year_and_on_28_february_for_leap_day(program, clock):
    EarningRule.objects.create(
        program=program,
        name="Happy birthday",
        kind=EarningRule.Kind.ENGAGEMENT,
        action=EarningRule.Action.BIRTHDAY,
        points=100,
    )
    leap = MemberFactory(program=program, birth_date=date(2000, 2, 29))
    other = MemberFactory(program=program, birth_date=date(1990, 3, 1))
    # At noon UTC every zone within 11 hours of UTC has the same date; the test program runs on UTC.
    assert services.birthdays_award(now=at(2026, 2, 28, 12)) == 1
    assert services.birthdays_award(now=at(2026, 2, 28, 12)) == 0
    assert services.birthdays_award(now=at(2026, 3, 1, 12)) == 1
    assert fresh(leap).points_available == 100
    assert fresh(other).points_available == 100
    assert services.birthdays_award(now=at(2028, 2, 28, 12)) == 0  # leap year: the 29th is the day


def test_purchase_refusals_store_nothing(member, partner, clock):
    for kwargs, code in [
        ({"amount": 0}, "invalid_amount"),
        ({"amount": 10, "paid_with_points": Decimal("11")}, "invalid_amount"),
        ({"amount": 10, "discount_amount": Decimal("-1")}, "invalid_amount"),
        ({"amount": 10, "occurred_at": timezone.now() + timedelta(hours=1)}, "invalid_date"),
        ({"amount": 10, "currency": "USD"}, "unknown_currency"),
    ]:
        with pytest.raises(DomainError) as refused:
            services.purchase_record(
                member=member,
                partner=partner,
                external_id="R-1",
                **{"currency": "EUR", **kwargs, "amount": Decimal(str(kwargs["amount"]))},
            )
        assert refused.value.code == code
    assert not member.purchases.exists() and not member.ledger.exists()


def test_the_same_purchase_never_earns_twice(member, partner):
    first = buy(member, 10, partner=partner, external_id="SAME")
    again, created = services.purchase_record(
        member=member, partner=partner, external_id="SAME", amount=Decimal("10"), currency="EUR"
    )
    assert (again, created) == (first, False)
    assert assert_ledger_consistent(member).points_available == 10
    other = MemberFactory(program=member.program)
    with pytest.raises(DomainError) as refused:
        buy(other, 10, partner=partner, external_id="SAME")
    assert refused.value.code == "duplicate_external_id"
