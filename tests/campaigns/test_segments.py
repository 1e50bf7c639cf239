"""Segment rules against hand-built members: each rule, negation, AND/OR groups, one SQL query,
freezing into a static list and CSV import."""

from datetime import date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from campaigns import services
from campaigns.models import Segment, SegmentRule
from campaigns.selectors import segment_members
from core.csvfiles import ImportMode
from core.errors import DomainError
from members import services as member_services
from members.models import Member, MembershipPlan, Program
from tests.campaigns.conftest import RuleFactory, SegmentFactory
from tests.conftest import MemberFactory, PartnerFactory, ProgramFactory, TierFactory


def at(day: str):
    return time_machine.travel(datetime.fromisoformat(f"{day}T12:00:00+00:00"), tick=False)


@pytest.fixture
def world(db):
    """Six members of one program, each standing out in a few ways; 'other' is in another program."""
    with at("2025-01-10"):
        program = ProgramFactory(expiry_policy=Program.Expiry.FIXED, expiry_months=18)
        bronze = TierFactory(program=program, name="Bronze", level=0)
        gold = TierFactory(program=program, name="Gold", level=1, threshold=Decimal("100000"))
        shop, eshop = PartnerFactory(program=program), PartnerFactory(program=program)
        plan = MembershipPlan.objects.create(program=program, name="Plus", fee=Decimal("49"))
        old = MemberFactory(program=program, first_name="Old", consent_email=True, birth_date=date(1980, 6, 20))
        member_services.points_grant(member=old, points=300, reason="test")  # expires 2026-07-10
    with at("2026-03-01"):
        ana = MemberFactory(program=program, first_name="Ana", consent_sms=True, phone="+40700000001", language="ro")
        bob = MemberFactory(program=program, first_name="Bob", consent_email=True, birth_date=date(1990, 7, 30))
        member_services.purchase_record(
            member=bob, partner=shop, external_id="b1", amount=Decimal("80"), currency="EUR"
        )
    with at("2026-06-01"):
        cid = MemberFactory(program=program, first_name="Cid", language="it")
        for n in range(3):
            member_services.purchase_record(
                member=cid, partner=eshop, external_id=f"c{n}", amount=Decimal("50"), currency="EUR"
            )
        member_services.tier_assign(member=cid, tier=gold, until=None, created_by=None)
        member_services.points_grant(member=cid, points=500, reason="test")
        member_services.points_spend(member=cid, points=100, reason="a reward")
        member_services.plan_subscribe(member=cid, plan=plan, paid_by="test", payment_reference="PAY-1")
        member_services.member_nps_set(member=cid, score=10)
        member_services.member_nps_set(member=ana, score=3)
        member_services.member_nps_set(member=bob, score=8)
        Member.objects.filter(pk=bob.pk).update(loyalty_type=Member.LoyaltyType.PRICE)
        other = MemberFactory(program=ProgramFactory(), first_name="Other", consent_email=True)
    return {
        "program": program,
        "bronze": bronze,
        "gold": gold,
        "shop": shop,
        "eshop": eshop,
        "plan": plan,
        "old": old,
        "ana": ana,
        "bob": bob,
        "cid": cid,
        "other": other,
    }


def names(segment: Segment) -> set[str]:
    with at("2026-06-15"):
        return set(segment_members(segment=segment).values_list("first_name", flat=True))


def segment(world, *rules: dict, combine=Segment.Combine.ANY_GROUP) -> Segment:
    seg = SegmentFactory(program=world["program"], combine=combine)
    for rule in rules:
        RuleFactory(segment=seg, **rule)
    return seg


K = SegmentRule.Kind


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ({"kind": K.LOYALTY_TYPE, "values": "price, satisfied"}, {"Bob"}),
        ({"kind": K.ENROLLED, "date_from": date(2026, 2, 1), "date_to": date(2026, 3, 31)}, {"Ana", "Bob"}),
        ({"kind": K.ENROLLED, "days": 30}, {"Cid"}),
        ({"kind": K.RECENCY, "days": 30}, {"Cid"}),
        ({"kind": K.RECENCY, "days": 30, "negate": True}, {"Old", "Ana", "Bob"}),
        ({"kind": K.FREQUENCY, "days": 365, "minimum": 2}, {"Cid"}),
        ({"kind": K.FREQUENCY, "days": 365, "minimum": 1, "maximum": 1}, {"Bob"}),
        ({"kind": K.FREQUENCY, "days": 30, "maximum": 0}, {"Old", "Ana", "Bob"}),
        ({"kind": K.MONETARY, "days": 365, "minimum": 100}, {"Cid"}),
        ({"kind": K.MONETARY, "days": 365, "minimum": 60, "maximum": 90}, {"Bob"}),
        ({"kind": K.BALANCE, "minimum": 250}, {"Old", "Cid"}),
        ({"kind": K.BALANCE, "minimum": 250, "maximum": 400}, {"Old"}),
        ({"kind": K.EXPIRING, "days": 30}, {"Old"}),
        ({"kind": K.EXPIRING, "days": 30, "minimum": 301}, set()),
        ({"kind": K.NPS, "values": "promoter"}, {"Cid"}),
        ({"kind": K.NPS, "values": "detractor,passive"}, {"Ana", "Bob"}),
        ({"kind": K.CONSENT, "values": "email"}, {"Old", "Bob"}),
        ({"kind": K.CONSENT, "values": "sms"}, {"Ana"}),
        ({"kind": K.BIRTHDAY, "days": 7}, {"Old"}),
        ({"kind": K.BIRTHDAY, "days": 45}, {"Old", "Bob"}),
        ({"kind": K.LANGUAGE, "values": "ro,it"}, {"Ana", "Cid"}),
        ({"kind": K.REDEEMED}, {"Cid"}),
        ({"kind": K.REDEEMED, "negate": True}, {"Old", "Ana", "Bob"}),
        ({"kind": K.PAID_PLAN}, {"Cid"}),
    ],
)
def test_each_rule_selects_exactly_the_matching_members(world, rule, expected):
    assert names(segment(world, rule)) == expected


def test_rules_that_name_a_tier_program_partner_or_plan(world):
    assert names(segment(world, {"kind": K.TIER, "tier": world["gold"]})) == {"Cid"}
    assert names(segment(world, {"kind": K.TIER, "tier": world["bronze"]})) == {"Old", "Ana", "Bob"}
    assert names(segment(world, {"kind": K.PARTNER, "partner": world["shop"]})) == {"Bob"}
    assert names(segment(world, {"kind": K.PARTNER, "partner": world["shop"], "days": 30})) == set()
    assert names(segment(world, {"kind": K.PAID_PLAN, "plan": world["plan"]})) == {"Cid"}
    everywhere = SegmentFactory(program=None)
    RuleFactory(segment=everywhere, kind=K.PROGRAM, program=world["other"].program)
    assert names(everywhere) == {"Other"}


def test_and_inside_groups_or_between_groups(world):
    seg = segment(
        world,
        {"kind": K.CONSENT, "values": "email", "group": 1},
        {"kind": K.BALANCE, "minimum": 100, "group": 1},
        {"kind": K.LANGUAGE, "values": "it", "group": 2},
    )
    # (email consent AND 100+ points) OR speaks Italian
    assert names(seg) == {"Old", "Cid"}


def test_or_inside_groups_and_between_groups(world):
    seg = segment(
        world,
        {"kind": K.LANGUAGE, "values": "ro", "group": 1},
        {"kind": K.LANGUAGE, "values": "it", "group": 1},
        {"kind": K.NPS, "values": "detractor", "group": 2},
        combine=Segment.Combine.ALL_GROUPS,
    )
    # (Romanian OR Italian) AND detractor
    assert names(seg) == {"Ana"}


def test_two_aggregate_rules_in_one_segment_do_not_collide(world):
    seg = segment(
        world,
        {"kind": K.FREQUENCY, "days": 365, "minimum": 1},
        {"kind": K.MONETARY, "days": 365, "maximum": 90},
    )
    assert names(seg) == {"Bob"}


def test_a_segment_is_evaluated_in_one_query(world):
    seg = segment(
        world,
        {"kind": K.FREQUENCY, "days": 365, "minimum": 1},
        {"kind": K.MONETARY, "days": 365, "minimum": 1},
        {"kind": K.EXPIRING, "days": 400, "group": 2},
        {"kind": K.PAID_PLAN, "group": 2},
    )
    seg = Segment.objects.prefetch_related("rules").get(pk=seg.pk)
    with at("2026-06-15"), CaptureQueriesContext(connection) as queries:
        found = set(segment_members(segment=seg).values_list("first_name", flat=True))
    assert found == {"Bob", "Cid"}
    assert len(queries) == 1


def test_suspended_members_are_never_in_a_segment(world):
    member_services.member_set_status(member=world["bob"], status=Member.Status.SUSPENDED)
    assert names(segment(world, {"kind": K.CONSENT, "values": "email"})) == {"Old"}


def test_freezing_keeps_todays_members_even_when_they_change(world):
    seg = segment(world, {"kind": K.CONSENT, "values": "email"})
    with at("2026-06-15"):
        frozen = services.segment_freeze(segment=seg)
    member_services.member_consent_set(member=world["bob"], channel="email", granted=False)
    assert frozen.kind == Segment.Kind.STATIC
    assert frozen.frozen_from == seg
    assert names(frozen) == {"Old", "Bob"}
    assert names(seg) == {"Old"}


def test_csv_import_adds_known_members_and_reports_the_rest(world):
    static = SegmentFactory(program=world["program"], kind=Segment.Kind.STATIC)
    data = f"number,name\n{world['ana'].number},Ana\n{world['other'].number},x\nNOPE,y\n"
    report = services.segment_import_csv(segment=static, data=data, mode=ImportMode.VALID_ONLY)
    assert report.added == 1
    assert report.skipped_lines == [3, 4]  # other program: not a member here
    assert world["other"].number in str(report.skipped[0])

    report = services.segment_import_csv(segment=static, data=f"{world['bob'].email.upper()}\n")
    assert (report.added, report.skipped) == (1, [])
    assert names(static) == {"Ana", "Bob"}
    report = services.segment_import_csv(segment=static, data=f"{world['ana'].number}\n")
    assert (report.added, report.unchanged) == (0, 1)


def test_csv_import_refuses_a_dynamic_segment(world):
    with pytest.raises(DomainError) as err:
        services.segment_import_csv(segment=segment(world), data="x\n")
    assert err.value.code == "not_static"


@pytest.mark.parametrize(
    ("today", "days", "birthday", "included"),
    [
        ("2026-12-28", 7, date(1990, 1, 2), True),  # across the new year
        ("2027-02-27", 1, date(1992, 2, 29), True),  # 28 Feb closes February in a common year
        ("2026-06-15", 0, date(1990, 6, 15), True),
        ("2026-06-15", 0, date(1990, 6, 16), False),
    ],
)
def test_birthday_window(db, today, days, birthday, included):
    program = ProgramFactory()
    MemberFactory(program=program, first_name="B", birth_date=birthday)
    seg = SegmentFactory(program=program)
    RuleFactory(segment=seg, kind=K.BIRTHDAY, days=days)
    with at(today):
        assert segment_members(segment=seg).exists() is included
