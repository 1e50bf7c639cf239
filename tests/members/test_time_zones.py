"""Time zones: a program's local day drives its weekday and happy-hour rules, the expiry date of
points, birthdays and report periods; a member's own zone drives birthdays and quiet hours."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError

from backoffice.dashboard.forms import DashboardForm
from members import services
from members.earning import earn_quote
from members.models import EarningRule, PointLot, Program
from members.zones import day_start, program_day_bounds, program_zone
from tests.conftest import MemberFactory, ProgramFactory

from .conftest import buy, fresh

pytestmark = pytest.mark.django_db


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def promotion(program, **fields) -> EarningRule:
    return EarningRule.objects.create(
        program=program, name="Double", kind=EarningRule.Kind.PROMOTION, multiplier=Decimal("2"), **fields
    )


def points_at(program, moment: datetime) -> int:
    return earn_quote(program=program, amount=Decimal("10"), at=moment).points


def test_a_weekend_rule_follows_the_programs_date_far_from_utc():
    auckland = ProgramFactory(time_zone="Pacific/Auckland")
    london = ProgramFactory(time_zone="Europe/London")
    promotion(auckland, weekdays="6,7")
    promotion(london, weekdays="6,7")
    friday_afternoon_utc = utc(2026, 6, 5, 13)  # Saturday 01:00 in Auckland (NZST, +12), Friday in London
    assert points_at(auckland, friday_afternoon_utc) == 20
    assert points_at(london, friday_afternoon_utc) == 10
    sunday_noon_utc = utc(2026, 6, 7, 12)  # Monday 00:00 in Auckland: the weekend is over there
    assert points_at(auckland, sunday_noon_utc) == 10
    assert points_at(london, sunday_noon_utc) == 20


def test_happy_hours_on_the_programs_clock_across_the_spring_forward():
    bucharest = ProgramFactory(time_zone="Europe/Bucharest")
    promotion(bucharest, from_hour=17, until_hour=19)
    # Saturday 28 March 2026 is on EET (+2), Sunday 29 March on EEST (+3): the same hour moves in UTC.
    assert points_at(bucharest, utc(2026, 3, 28, 15, 30)) == 20  # 17:30 EET
    assert points_at(bucharest, utc(2026, 3, 28, 17, 0)) == 10  # 19:00 EET: over
    assert points_at(bucharest, utc(2026, 3, 29, 14, 0)) == 20  # 17:00 EEST
    assert points_at(bucharest, utc(2026, 3, 29, 16, 0)) == 10  # 19:00 EEST: over
    night = ProgramFactory(time_zone="Europe/Bucharest")
    promotion(night, from_hour=22, until_hour=2)  # runs past midnight
    assert points_at(night, utc(2026, 3, 29, 22, 30)) == 20  # 01:30 EEST
    assert points_at(night, utc(2026, 3, 29, 23, 30)) == 10  # 02:30 EEST


def test_a_happy_hour_needs_both_hours_and_hours_in_range():
    program = ProgramFactory()
    rule = EarningRule(program=program, name="Half", kind=EarningRule.Kind.PROMOTION, from_hour=17)
    with pytest.raises(ValidationError):
        rule.full_clean()
    rule.until_hour = 25
    with pytest.raises(ValidationError):
        rule.full_clean()


@pytest.mark.parametrize(
    ("zone", "earned", "expires"),
    [
        # 10 March 12:00 UTC is already 11 March 01:00 in Auckland (NZDT, +13); 12 March 2027 00:00 NZDT.
        ("Pacific/Auckland", utc(2026, 3, 10, 12), utc(2027, 3, 11, 11)),
        # Earned on 29 March 2025, the spring-forward day of 2026: runs out at 30 March 00:00 EEST (+3).
        ("Europe/Bucharest", utc(2025, 3, 29, 10), utc(2026, 3, 29, 21)),
        ("UTC", utc(2026, 3, 10, 12), utc(2027, 3, 11, 0)),
    ],
)
def test_points_expire_at_the_programs_local_midnight(zone, earned, expires):
    program = ProgramFactory(time_zone=zone, expiry_policy=Program.Expiry.FIXED, expiry_months=12)
    member = MemberFactory(program=program)
    with time_machine.travel(earned, tick=False):
        buy(member, 30)
    lot = PointLot.objects.get(member=member)
    assert lot.expires_at == expires
    assert lot.expires_at.astimezone(program_zone(program)).time().hour == 0


def test_the_spring_forward_day_has_23_hours_and_the_fall_back_day_25():
    program = ProgramFactory(time_zone="Europe/Bucharest")
    start, end = program_day_bounds(program, date(2026, 3, 29))
    assert (start, end - start) == (utc(2026, 3, 28, 22), timedelta(hours=23))
    start, end = program_day_bounds(program, date(2026, 10, 25))
    assert (start, end - start) == (utc(2026, 10, 24, 21), timedelta(hours=25))


def test_a_day_whose_midnight_is_skipped_starts_at_the_first_hour_that_exists():
    from zoneinfo import ZoneInfo

    # Santiago springs forward at midnight: 6 September 2026 starts at 01:00 (-03).
    santiago = ZoneInfo("America/Santiago")
    start = day_start(santiago, date(2026, 9, 6))
    assert start == utc(2026, 9, 6, 4)
    assert start.astimezone(santiago).hour == 1


def test_a_birthday_is_celebrated_on_the_members_local_date():
    program = ProgramFactory(time_zone="Europe/Bucharest")
    EarningRule.objects.create(
        program=program,
        name="Happy birthday",
        kind=EarningRule.Kind.ENGAGEMENT,
        action=EarningRule.Action.BIRTHDAY,
        points=100,
    )
    kiwi = MemberFactory(program=program, birth_date=date(1990, 6, 5), time_zone="Pacific/Auckland")
    local = MemberFactory(program=program, birth_date=date(1990, 6, 5))  # the program's zone
    assert services.birthdays_award(now=utc(2026, 6, 4, 13)) == 1  # 5 June 01:00 in Auckland, 4 June in Bucharest
    assert (fresh(kiwi).points_available, fresh(local).points_available) == (100, 0)
    assert services.birthdays_award(now=utc(2026, 6, 4, 21, 30)) == 1  # 5 June 00:30 EEST
    assert services.birthdays_award(now=utc(2026, 6, 5, 12)) == 0  # once a year each
    assert fresh(local).points_available == 100


def test_the_dashboard_periods_start_at_the_programs_local_midnight():
    program = ProgramFactory(time_zone="Pacific/Auckland")
    form = DashboardForm({"program": program.pk, "period": "month"})
    assert form.is_valid(), form.errors
    scope = form.scope(utc(2026, 6, 30, 13))  # 1 July 01:00 in Auckland: a new month there
    assert scope.start == utc(2026, 6, 30, 12)  # 1 July 00:00 NZST


def test_an_unknown_time_zone_is_refused():
    program = ProgramFactory.build(time_zone="Mars/Olympus_Mons")
    with pytest.raises(ValidationError) as raised:
        program.full_clean(exclude=["slug", "name"])
    assert "time_zone" in raised.value.message_dict


@pytest.mark.parametrize(("zone", "second_held"), [("Pacific/Auckland", False), ("UTC", True)])
def test_daily_earning_limits_count_from_the_programs_local_midnight(zone, second_held):
    from members.models import ReviewCase

    program = ProgramFactory(time_zone=zone, member_daily_earns=1)
    member = MemberFactory(program=program)
    with time_machine.travel(utc(2026, 6, 5, 11, 30), tick=False):  # 23:30 in Auckland (NZST)
        buy(member, 10)
    with time_machine.travel(utc(2026, 6, 5, 12, 30), tick=False):  # 00:30 on the next day there
        second = buy(member, 10)
    assert ReviewCase.objects.filter(purchase=second).exists() is second_held
