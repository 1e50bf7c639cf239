"""Launching and sending: exactly one delivery per member, consent, caps, quiet hours, budget,
personalized emails and SMS, schedules and pauses."""

import smtplib
from datetime import datetime

import pytest
import time_machine
from django.core import mail
from django.core.mail.backends import locmem
from django.utils import timezone

from campaigns import services, tasks
from campaigns.models import Campaign, Delivery, OfferGrant, Segment, SegmentRule
from core.errors import DomainError
from core.sms import ConsoleSmsBackend
from members import services as member_services
from tests.campaigns.conftest import (
    CampaignFactory,
    OfferFactory,
    RuleFactory,
    SegmentFactory,
    VariantFactory,
    bulk_members,
)
from tests.conftest import MemberFactory, TierFactory


def at(moment: str):
    return time_machine.travel(datetime.fromisoformat(moment), tick=False)


def launch(campaign, on_commit):
    with on_commit():
        return services.campaign_launch(campaign=campaign)


@pytest.fixture(autouse=True)
def _sms_outbox():
    ConsoleSmsBackend.sent.clear()
    yield
    ConsoleSmsBackend.sent.clear()


def test_fan_out_to_10k_members_sends_exactly_once_even_when_the_task_runs_twice(program):
    ids = bulk_members(program, 10_000, consent_email=True)
    campaign = CampaignFactory(program=program, holdout_percent=10)

    tasks.campaign_fan_out.delay(campaign.pk, "")
    tasks.campaign_fan_out.delay(campaign.pk, "")  # a retried or duplicated task
    tasks.campaign_chunk.delay(campaign.pk, "", min(ids), min(ids) + 1000)  # and one chunk a third time

    deliveries = Delivery.objects.filter(campaign=campaign)
    assert deliveries.count() == 10_000
    assert deliveries.values("member").distinct().count() == 10_000
    sent = deliveries.filter(status=Delivery.Status.SENT).count()
    held_out = deliveries.filter(status=Delivery.Status.SKIPPED, reason=Delivery.Reason.HOLDOUT).count()
    assert sent + held_out == 10_000
    assert 900 < held_out < 1100
    assert len(mail.outbox) == sent
    assert len({m.to[0] for m in mail.outbox}) == sent


def test_a_claimed_message_is_never_sent_again(program, consenting):
    """A worker that died after claiming leaves the row 'sending': later runs must not resend it."""
    member = consenting()
    campaign = CampaignFactory(program=program)
    services.deliveries_queue(campaign=campaign, rows=[({"pk": member.pk, **_row(member)}, "")], now=timezone.now())
    Delivery.objects.filter(campaign=campaign).update(status=Delivery.Status.SENDING)

    services.campaign_chunk(campaign=campaign, occurrence="", low=member.pk, high=member.pk + 1)
    with at("2030-01-01T00:00:00+00:00"):
        services.deliveries_send_due()
    assert mail.outbox == []


def _row(member):
    return {"consent_email": member.consent_email, "consent_sms": member.consent_sms, "phone": member.phone}


def test_email_is_personalized_in_the_members_language_with_both_parts_and_unsubscribe_headers(
    program, consenting, on_commit
):
    gold = TierFactory(program=program, name="Gold", level=0)
    TierFactory(program=program, name="Platinum", level=1, threshold=500)
    member = consenting(first_name="Ioana", language="ro")
    assert member.tier == gold
    member_services.points_grant(member=member, points=120, reason="test")
    campaign = CampaignFactory(
        program=program, offer=OfferFactory(program=program, title_ro="25% la pantofi"), variant=False
    )
    VariantFactory(
        campaign=campaign,
        subject="Hello {{ name }}",
        subject_ro="Salut {{ name }}",
        body_ro="Ai {{ balance }} puncte, nivel {{ tier }}; mai ai {{ points_to_next_tier }} pana la {{ next_tier }}.",
    )
    launch(campaign, on_commit)

    [email] = mail.outbox
    grant = OfferGrant.objects.get(member=member)
    assert email.subject == "Salut Ioana"
    assert "Ai 120 puncte, nivel Gold; mai ai 500 pana la Platinum." in email.body
    assert "25% la pantofi" in email.body and grant.code in email.body
    html, mimetype = email.alternatives[0]
    assert mimetype == "text/html" and grant.code in html and "Ioana" in html
    assert email.extra_headers["List-Unsubscribe"].startswith("<http")
    assert email.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    delivery = Delivery.objects.get(member=member)
    assert delivery.channel == Delivery.Channel.EMAIL
    assert delivery.provider_id == email.extra_headers["Message-ID"]
    assert delivery.sent_at is not None


def test_consent_decides_the_channel_and_no_consent_is_skipped(program, consenting, on_commit):
    by_email = consenting()
    by_sms = consenting(consent_email=False, consent_sms=True, phone="+40700000001")
    nothing = consenting(consent_email=False)
    campaign = CampaignFactory(program=program, channel_sms=True)
    launch(campaign, on_commit)

    assert Delivery.objects.get(member=by_email).channel == Delivery.Channel.EMAIL
    sms = Delivery.objects.get(member=by_sms)
    assert (sms.channel, sms.status) == (Delivery.Channel.SMS, Delivery.Status.SENT)
    assert sms.provider_id.startswith("console-")
    [(to, body)] = ConsoleSmsBackend.sent
    assert to == "+40700000001"
    assert body.startswith("Hi Ana:  code\nStop: http")
    assert "/unsubscribe/" in body
    skipped = Delivery.objects.get(member=nothing)
    assert (skipped.status, skipped.reason) == (Delivery.Status.SKIPPED, Delivery.Reason.NO_CONSENT)
    assert [m.to for m in mail.outbox] == [[by_email.email]]


def test_sms_only_campaign_skips_members_without_sms_consent(program, consenting, on_commit):
    member = consenting()  # email only
    launch(CampaignFactory(program=program, channel_email=False, channel_sms=True), on_commit)
    assert Delivery.objects.get(member=member).reason == Delivery.Reason.NO_CONSENT
    assert mail.outbox == []


def test_frequency_cap_counts_messages_of_every_campaign(program, consenting, on_commit):
    busy, fresh = consenting(), consenting()
    with at("2026-05-01T10:00:00+00:00"):
        launch(CampaignFactory(program=program, segment=_only(program, busy)), on_commit)
    with at("2026-05-03T10:00:00+00:00"):
        launch(CampaignFactory(program=program, cap_messages=1, cap_days=7), on_commit)
    capped = Delivery.objects.filter(member=busy).latest("pk")
    assert (capped.status, capped.reason) == (Delivery.Status.SKIPPED, Delivery.Reason.CAPPED)
    assert Delivery.objects.filter(member=fresh).get().status == Delivery.Status.SENT

    with at("2026-05-20T10:00:00+00:00"):  # outside the 7-day window
        launch(CampaignFactory(program=program, cap_messages=1, cap_days=7), on_commit)
    assert Delivery.objects.filter(member=busy).latest("pk").status == Delivery.Status.SENT


def _only(program, member) -> Segment:
    segment = SegmentFactory(program=program, kind=Segment.Kind.STATIC)
    services.segment_import_csv(segment=segment, data=member.number)
    return segment


def test_quiet_hours_hold_sms_until_morning_in_the_members_time_zone(program, consenting, on_commit):
    bucharest = consenting(consent_email=False, consent_sms=True, phone="+40 700 000 001")
    new_york = consenting(consent_email=False, consent_sms=True, phone="+12125550100", time_zone="America/New_York")
    program.time_zone = "Europe/Bucharest"  # the member without a zone of their own lives on the program's
    program.save(update_fields=["time_zone"])
    emailed = consenting()
    campaign = CampaignFactory(program=program, channel_sms=True, quiet_start=21, quiet_end=9)
    with at("2026-05-01T21:30:00+00:00"):  # 00:30 in Bucharest, 17:30 in New York
        launch(campaign, on_commit)

    held = Delivery.objects.get(member=bucharest)
    assert (held.status, held.reason) == (Delivery.Status.QUEUED, Delivery.Reason.QUIET_HOURS)
    assert held.send_after == datetime.fromisoformat("2026-05-02T06:00:00+00:00")  # 09:00 EEST
    assert Delivery.objects.get(member=new_york).status == Delivery.Status.SENT
    assert Delivery.objects.get(member=emailed).status == Delivery.Status.SENT  # email has no quiet hours
    assert [to for to, _ in ConsoleSmsBackend.sent] == ["+12125550100"]

    with at("2026-05-02T05:59:00+00:00"):
        assert services.deliveries_send_due() == 0
    with at("2026-05-02T06:01:00+00:00"):
        assert services.deliveries_send_due() == 1
        assert services.deliveries_send_due() == 0
    assert Delivery.objects.get(member=bucharest).status == Delivery.Status.SENT
    assert [to for to, _ in ConsoleSmsBackend.sent] == ["+12125550100", "+40700000001"]  # stored, and sent, in E.164


def test_budget_stops_issuing_offers(program, consenting, on_commit):
    members = [consenting() for _ in range(5)]
    campaign = CampaignFactory(program=program, offer=OfferFactory(program=program), budget_offers=2)
    launch(campaign, on_commit)

    statuses = list(Delivery.objects.filter(member__in=members).order_by("pk").values_list("status", "reason"))
    assert statuses.count((Delivery.Status.SENT, "")) == 2
    assert statuses.count((Delivery.Status.SKIPPED, Delivery.Reason.BUDGET)) == 3
    assert OfferGrant.objects.filter(campaign=campaign).count() == 2
    assert len(mail.outbox) == 2


def test_points_budget_limits_bonus_offers(program, consenting, on_commit):
    for _ in range(4):
        consenting()
    offer = OfferFactory(program=program, kind="bonus", points=100, min_amount=50)
    launch(CampaignFactory(program=program, offer=offer, budget_points=250), on_commit)
    assert OfferGrant.objects.count() == 2
    assert Delivery.objects.filter(reason=Delivery.Reason.BUDGET).count() == 2


def test_segment_decides_the_audience(program, consenting, on_commit):
    italian, other = consenting(language="it"), consenting()
    segment = SegmentFactory(program=program)
    RuleFactory(segment=segment, kind=SegmentRule.Kind.LANGUAGE, values="it")
    launch(CampaignFactory(program=program, segment=segment), on_commit)
    assert list(Delivery.objects.values_list("member", flat=True)) == [italian.pk]
    assert other.pk not in [d.member_id for d in Delivery.objects.all()]


def test_a_campaign_without_variants_cannot_launch(program):
    campaign = CampaignFactory(program=program, variant=False)
    with pytest.raises(DomainError) as err:
        services.campaign_launch(campaign=campaign)
    assert "variants" in err.value.fields
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DRAFT


def test_scheduled_campaign_waits_for_its_time(program, consenting, on_commit):
    consenting()
    campaign = CampaignFactory(program=program, send_at=datetime.fromisoformat("2026-05-10T08:00:00+00:00"))
    with at("2026-05-01T08:00:00+00:00"):
        launch(campaign, on_commit)
        assert services.campaigns_run_due() == 0
    assert mail.outbox == []
    with at("2026-05-10T08:05:00+00:00"), on_commit():
        assert services.campaigns_run_due() == 1
    assert len(mail.outbox) == 1
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENT


def test_recurring_campaign_sends_once_per_run(program, consenting, on_commit):
    consenting()
    campaign = CampaignFactory(program=program, recurrence=Campaign.Recurrence.WEEKLY)
    with at("2026-05-01T08:00:00+00:00"):
        launch(campaign, on_commit)
    with at("2026-05-03T08:00:00+00:00"), on_commit():
        assert services.campaigns_run_due() == 0
    with at("2026-05-08T08:00:00+00:00"), on_commit():
        assert services.campaigns_run_due() == 1
        assert services.campaigns_run_due() == 0
    assert sorted(Delivery.objects.values_list("occurrence", flat=True)) == ["run:2026-05-01", "run:2026-05-08"]
    assert len(mail.outbox) == 2
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SCHEDULED
    assert campaign.next_run_at == datetime.fromisoformat("2026-05-15T08:00:00+00:00")


def test_paused_campaign_sends_nothing_more(program, consenting, on_commit):
    consenting()
    campaign = CampaignFactory(program=program, send_at=datetime.fromisoformat("2026-05-10T08:00:00+00:00"))
    with at("2026-05-01T08:00:00+00:00"):
        launch(campaign, on_commit)
        services.campaign_pause(campaign=campaign)
    with at("2026-05-11T08:00:00+00:00"), on_commit():
        assert services.campaigns_run_due() == 0
    assert mail.outbox == []
    with pytest.raises(DomainError):
        services.campaign_pause(campaign=campaign)


def test_suspended_members_are_not_sent_to(program, consenting, on_commit):
    member = consenting()
    campaign = CampaignFactory(program=program)
    services.deliveries_queue(campaign=campaign, rows=[({"pk": member.pk, **_row(member)}, "")], now=timezone.now())
    member_services.member_set_status(member=member, status="suspended")
    services.deliveries_send_batch(deliveries=Delivery.objects.all())
    assert Delivery.objects.get().reason == Delivery.Reason.INACTIVE
    assert mail.outbox == []


def test_a_member_of_another_program_is_never_reached(program, consenting, on_commit):
    consenting()
    stranger = MemberFactory(consent_email=True)
    launch(CampaignFactory(program=program), on_commit)
    assert not Delivery.objects.filter(member=stranger).exists()


class RefusingBackend(locmem.EmailBackend):
    """Refuses one recipient, the way an SMTP server answers 550 for one address in a session."""

    def send_messages(self, messages):
        if any("refused" in address for message in messages for address in message.to):
            raise smtplib.SMTPRecipientsRefused({"refused@example.com": (550, b"no such user")})
        return super().send_messages(messages)


def test_one_refused_email_fails_alone_and_the_rest_of_the_batch_goes_out(program, consenting, on_commit, settings):
    settings.EMAIL_BACKEND = "tests.campaigns.test_sending.RefusingBackend"
    members = [consenting(email=f"m{i}@example.com") for i in range(3)]
    refused = consenting(email="refused@example.com")
    members += [consenting(email=f"n{i}@example.com") for i in range(3)]
    campaign = CampaignFactory(program=program)
    launch(campaign, on_commit)

    deliveries = Delivery.objects.filter(campaign=campaign)
    assert deliveries.filter(status=Delivery.Status.SENT).count() == 6
    failed = deliveries.get(status=Delivery.Status.FAILED)
    assert failed.member == refused and "no such user" in failed.error
    assert sorted(m.to[0] for m in mail.outbox) == sorted(m.email for m in members)
    assert all(d.provider_id for d in deliveries.filter(status=Delivery.Status.SENT))
