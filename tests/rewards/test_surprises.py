"""Surprise and delight: staff grants with an email, and automatic rules that fire once."""

import re
from datetime import timedelta

import pytest
from django.core import mail

from core.errors import DomainError
from members import services as members_services
from members.models import Event, Member
from members.outbox import event_dispatch
from rewards import selectors, services
from rewards.models import Redemption, SurpriseRule
from tests.conftest import MemberFactory, TierFactory
from tests.rewards.conftest import RewardFactory, SurpriseRuleFactory, buy, fresh
from tests.scanner import scan


def rule_grants(rule) -> list[Redemption]:
    return list(Redemption.objects.filter(rule=rule).order_by("id"))


def test_staff_grant_is_free_and_emails_the_member(member, program, admin_user, on_commit):
    reward = RewardFactory(program=program, points_cost=900, stock=5, title="Coffee mug")
    with on_commit():
        redemption = services.surprise_grant(
            member=member, reward=reward, message="Thanks for being with us!", created_by=admin_user
        )

    assert (redemption.points, redemption.source, redemption.created_by) == (0, "surprise", admin_user)
    assert fresh(member).points_available == 0
    reward.refresh_from_db()
    assert reward.stock == 4
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == [member.email]
    assert "Coffee mug" in email.subject
    assert "Thanks for being with us!" in email.body
    assert services.voucher_code_display(redemption.voucher.code) in email.body
    # the HTML shows the voucher's QR code and barcode as inline images a till scanner reads
    html, _ = email.alternatives[0]
    images = {part["Content-ID"].strip("<>"): part.get_payload(decode=True) for part in email.attachments}
    cids = re.findall(r'src="cid:([^"]+)"', html)
    assert len(cids) == 2 and set(cids) == set(images)
    assert [scan(images[cid]) for cid in cids] == [
        [("QR-Code", redemption.voucher.code)],
        [("CODE-128", redemption.voucher.code)],
    ]
    assert email.message().get_content_type() == "multipart/related"
    assert [r.pk for r in selectors.member_redemptions(member=member)] == [redemption.pk]


def test_grant_to_a_filtered_set_stops_at_the_stock(program, admin_user):
    gold = TierFactory(program=program, level=1)
    TierFactory(program=program, level=0)
    golds = [MemberFactory(program=program) for _ in range(3)]
    for m in golds:
        Member.objects.filter(pk=m.pk).update(tier=gold)
    MemberFactory(program=program)  # not gold: not chosen
    reward = RewardFactory(program=program, stock=2)

    members = selectors.members_for_grant(program=program, tiers=[gold])
    result = services.surprise_grant_many(members=members, reward=reward, message="Hi", created_by=admin_user)

    assert (result.granted, result.refused) == (2, {"out_of_stock": 1})
    assert Redemption.objects.filter(reward=reward, member__tier=gold).count() == 2


def test_grant_by_number_or_email(program):
    a, b, _c = (MemberFactory(program=program) for _ in range(3))
    chosen = selectors.members_for_grant(program=program, identifiers=[a.number, b.email.upper()])
    assert set(chosen) == {a, b}


def test_the_nth_purchase_rule_fires_once(member, program, on_commit):
    rule = SurpriseRuleFactory(reward=RewardFactory(program=program), n=3)
    purchases = []
    for _ in range(5):
        with on_commit():
            purchases.append(buy(member, 20))

    grants = rule_grants(rule)
    assert len(grants) == 1
    assert grants[0].occasion == "" and grants[0].source == Redemption.Source.RULE
    assert grants[0].message == "Thank you!"
    # Replaying the third purchase's event, or evaluating it again, grants nothing more.
    event = Event.objects.filter(type="purchase.recorded", payload__purchase=purchases[2].pk).get()
    Event.objects.filter(pk=event.pk).update(dispatched_at=None)
    event_dispatch(event.pk)
    assert services.surprises_on_purchase(purchase=purchases[2]) == []
    assert len(rule_grants(rule)) == 1


def test_comeback_after_n_days_fires_once_unless_repeatable(clock, member, program, on_commit):
    once = SurpriseRuleFactory(reward=RewardFactory(program=program), trigger=SurpriseRule.Trigger.COMEBACK, n=90)
    every = SurpriseRuleFactory(
        reward=RewardFactory(program=program), trigger=SurpriseRule.Trigger.COMEBACK, n=90, repeatable=True
    )
    for gap in (0, 89, 90, 120):
        clock.shift(timedelta(days=gap))
        with on_commit():
            buy(member, 10)

    assert len(rule_grants(once)) == 1
    assert len(rule_grants(every)) == 2


def test_anniversary_fires_on_the_day_and_not_again_on_a_purchase(clock, member, program, on_commit):
    rule = SurpriseRuleFactory(
        reward=RewardFactory(program=program), trigger=SurpriseRule.Trigger.ANNIVERSARY, n=1, repeatable=True
    )
    clock.shift(timedelta(days=364))
    assert services.surprises_anniversaries() == 0
    clock.shift(timedelta(days=1))
    assert services.surprises_anniversaries() == 1
    assert services.surprises_anniversaries() == 0
    with on_commit():
        buy(member, 10)
    assert [g.occasion for g in rule_grants(rule)] == ["year:1"]
    clock.shift(timedelta(days=366))  # 2028 is a leap year
    with on_commit():
        buy(member, 10)  # the second anniversary passed unseen by the daily job: the purchase catches it
    assert [g.occasion for g in rule_grants(rule)] == ["year:1", "year:2"]


def test_welcome_surprise_for_the_first_n_members(program, on_commit):
    rule = SurpriseRuleFactory(reward=RewardFactory(program=program), trigger=SurpriseRule.Trigger.ENROLLMENT, n=2)
    enrolled = []
    for _ in range(3):
        with on_commit():
            enrolled.append(MemberFactory(program=program))
    assert [g.member_id for g in rule_grants(rule)] == [enrolled[0].pk, enrolled[1].pk]


def test_an_inactive_rule_and_an_empty_stock_give_nothing(member, program, on_commit):
    off = SurpriseRuleFactory(reward=RewardFactory(program=program), n=1, is_active=False)
    empty = SurpriseRuleFactory(reward=RewardFactory(program=program, stock=0), n=1)
    with on_commit():
        buy(member, 10)
    assert rule_grants(off) == [] and rule_grants(empty) == []


def test_no_surprise_for_a_suspended_member(member, program):
    members_services.member_set_status(member=member, status="suspended")
    with pytest.raises(DomainError) as exc:
        services.surprise_grant(member=fresh(member), reward=RewardFactory(program=program), message="x")
    assert exc.value.code == "member_inactive"
