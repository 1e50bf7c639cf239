"""Journeys run by themselves (events and the daily beat job) and fire once per member and occurrence."""

from datetime import date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.core import mail

from campaigns import handlers, services
from campaigns.models import Campaign, Delivery, SegmentRule
from members import services as member_services
from members.events import PointsExpiring, TierExpiring
from members.models import Event
from members.outbox import event_record
from rewards.events import RewardViewed
from tests.campaigns.conftest import CampaignFactory, RuleFactory, SegmentFactory
from tests.conftest import MemberFactory, TierFactory

T = Campaign.Trigger


def at(moment: str):
    return time_machine.travel(datetime.fromisoformat(moment), tick=False)


@pytest.fixture
def journey(program, on_commit):
    def make(trigger, **kwargs):
        campaign = CampaignFactory(program=program, trigger=trigger, **kwargs)
        with on_commit():
            services.campaign_launch(campaign=campaign)
        campaign.refresh_from_db()
        assert campaign.status == Campaign.Status.ACTIVE
        return campaign

    return make


def sent_to(member) -> int:
    return Delivery.objects.filter(member=member, status=Delivery.Status.SENT).count()


def test_welcome_fires_once_on_enrollment(program, journey, on_commit):
    welcome = journey(T.ENROLLED)
    with on_commit():
        member = MemberFactory(program=program, consent_email=True)
    assert sent_to(member) == 1
    assert mail.outbox[0].to == [member.email]

    event = Event.objects.get(member=member, type="member.enrolled")
    with on_commit():
        handlers.welcome(event)  # the same occurrence delivered again (e.g. a replayed event)
    assert Delivery.objects.filter(campaign=welcome, member=member).count() == 1
    assert len(mail.outbox) == 1


def test_journey_segment_narrows_who_gets_it(program, journey, on_commit):
    italians = SegmentFactory(program=program)
    RuleFactory(segment=italians, kind=SegmentRule.Kind.LANGUAGE, values="it")
    journey(T.ENROLLED, segment=italians)
    with on_commit():
        english = MemberFactory(program=program, consent_email=True)
        italian = MemberFactory(program=program, consent_email=True, language="it")
    assert (sent_to(english), sent_to(italian)) == (0, 1)


def test_paused_journey_does_not_fire(program, journey, on_commit):
    services.campaign_pause(campaign=journey(T.ENROLLED))
    with on_commit():
        member = MemberFactory(program=program, consent_email=True)
    assert not Delivery.objects.filter(member=member).exists()


def test_birthday_fires_once_a_year(program, journey, on_commit):
    member = MemberFactory(program=program, consent_email=True, birth_date=date(1990, 5, 10))
    MemberFactory(program=program, consent_email=True, birth_date=date(1990, 8, 1))
    journey(T.BIRTHDAY, trigger_days=3)
    for day in ("2026-05-06", "2026-05-07", "2026-05-07", "2026-05-10"):
        with at(f"{day}T06:00:00+00:00"), on_commit():
            services.journeys_periodic_start()
    assert list(Delivery.objects.values_list("member", "occurrence")) == [(member.pk, "birthday:2026")]
    with at("2027-05-08T06:00:00+00:00"), on_commit():
        services.journeys_periodic_start()
    assert sorted(Delivery.objects.values_list("occurrence", flat=True)) == ["birthday:2026", "birthday:2027"]
    assert len(mail.outbox) == 2


def test_win_back_fires_once_per_lapse(program, partner, journey, on_commit):
    with at("2026-01-01T10:00:00+00:00"):
        member = MemberFactory(program=program, consent_email=True)
        member_services.purchase_record(
            member=member, partner=partner, external_id="p1", amount=Decimal("10"), currency="EUR"
        )
    journey(T.WIN_BACK, trigger_days=90)
    with at("2026-03-01T06:00:00+00:00"), on_commit():
        services.journeys_periodic_start()
    assert sent_to(member) == 0
    for day in ("2026-04-05", "2026-04-06"):
        with at(f"{day}T06:00:00+00:00"), on_commit():
            services.journeys_periodic_start()
    assert sent_to(member) == 1
    with at("2026-04-10T10:00:00+00:00"):
        member_services.purchase_record(
            member=member, partner=partner, external_id="p2", amount=Decimal("10"), currency="EUR"
        )
    with at("2026-07-15T06:00:00+00:00"), on_commit():
        services.journeys_periodic_start()
    assert sorted(Delivery.objects.filter(member=member).values_list("occurrence", flat=True)) == [
        "win_back:2026-01-01",
        "win_back:2026-04-10",
    ]


def test_points_expiring_fires_once_per_expiry_date(program, journey, on_commit):
    member = MemberFactory(program=program, consent_email=True)
    journey(T.POINTS_EXPIRING)
    for _ in range(2):  # a repeated notice for the same lots
        with on_commit():
            event_record(
                PointsExpiring(member=member.number, points=40, expires_at="2026-09-01T00:00:00+00:00"),
                program=program,
                member=member,
            )
    with on_commit():
        event_record(
            PointsExpiring(member=member.number, points=10, expires_at="2026-12-01T00:00:00+00:00"),
            program=program,
            member=member,
        )
    assert sorted(Delivery.objects.values_list("occurrence", flat=True)) == [
        "expiring:2026-09-01",
        "expiring:2026-12-01",
    ]


def test_tier_reached_on_upgrade_and_tier_about_to_be_lost(program, partner, journey, on_commit):
    TierFactory(program=program, name="Silver", level=0)
    TierFactory(program=program, name="Gold", level=1, threshold=Decimal("100"))
    reached, losing = journey(T.TIER_REACHED), journey(T.TIER_EXPIRING)
    with on_commit():
        member = MemberFactory(program=program, consent_email=True)
    with on_commit():
        member_services.purchase_record(
            member=member, partner=partner, external_id="big", amount=Decimal("150"), currency="EUR"
        )
    member.refresh_from_db()
    assert member.tier.name == "Gold"
    assert Delivery.objects.filter(campaign=reached, member=member).count() == 1
    with on_commit():
        event_record(
            TierExpiring(member=member.number, tier="Gold", downgrade_after="2026-12-31"),
            program=program,
            member=member,
        )
    assert Delivery.objects.filter(campaign=losing, member=member).count() == 1


def test_post_purchase_follow_up_waits_its_days_and_goes_once(program, partner, journey, on_commit):
    journey(T.POST_PURCHASE, trigger_days=3)
    member = MemberFactory(program=program, consent_email=True)
    with at("2026-05-01T10:00:00+00:00"), on_commit():
        member_services.purchase_record(
            member=member, partner=partner, external_id="p1", amount=Decimal("10"), currency="EUR"
        )
    delivery = Delivery.objects.get(member=member)
    assert delivery.status == Delivery.Status.QUEUED
    assert delivery.occurrence.startswith("purchase:")
    with at("2026-05-03T10:00:00+00:00"):
        assert services.deliveries_send_due() == 0
    with at("2026-05-04T10:01:00+00:00"):
        assert services.deliveries_send_due() == 1
        assert services.deliveries_send_due() == 0
    assert len(mail.outbox) == 1


def test_abandoned_redemption_fires_when_the_member_can_afford_the_reward(program, journey, on_commit):
    journey(T.ABANDONED_REDEMPTION)
    member = MemberFactory(program=program, consent_email=True)
    member_services.points_grant(member=member, points=100, reason="test")
    with on_commit():
        event_record(RewardViewed(reward=7, points=500), program=program, member=member)
        event_record(RewardViewed(reward=7, points=500), program=program, member=member)
    with on_commit():
        member_services.points_grant(member=member, points=300, reason="test")
    assert sent_to(member) == 0  # 400 < 500
    with on_commit():
        member_services.points_grant(member=member, points=150, reason="test")
    with on_commit():
        member_services.points_grant(member=member, points=50, reason="test")
    assert sent_to(member) == 1
    assert len(mail.outbox) == 1
