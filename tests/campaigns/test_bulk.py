"""Bulk email through django-anymail's real Brevo backend, against a loopback server that speaks Brevo's
API (bench/brevosink.py): batches claimed in one statement, one call per (variant, language) group with
each member's variables, the batch id as the idempotency key, sends recorded in one UPDATE; a batch whose
record was lost is sent again under the same key and delivered once."""

import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bench.brevosink import BrevoSink
from campaigns import services
from campaigns.models import Delivery, OfferGrant
from members.models import Member
from tests.campaigns.conftest import CampaignFactory, OfferFactory, VariantFactory, bulk_members


@pytest.fixture
def brevo(settings):
    sink = BrevoSink().start()
    settings.EMAIL_BACKEND = "anymail.backends.brevo.EmailBackend"
    settings.ANYMAIL = {"BREVO_API_KEY": "sink-key", "BREVO_API_URL": sink.url}
    settings.CAMPAIGN_EMAIL_BATCH = 100
    yield sink
    sink.stop()


def _campaign(program, body="Hello {{ name }}, you have {{ balance }} {{ points_name }}."):
    campaign = CampaignFactory(program=program, variant=False, cap_messages=None)
    VariantFactory(
        campaign=campaign,
        subject_en="{{ name }}, news",
        subject_it="{{ name }}, novità",
        body_en=body,
        body_it="Ciao {{ name }}, hai {{ balance }} {{ points_name }}.",
    )
    return campaign


def _send(campaign, ids):
    return services.campaign_chunk(campaign=campaign, occurrence="", low=min(ids), high=max(ids) + 1)


def test_250_members_go_out_in_batches_personalised_in_their_language_each_once(program, brevo):
    ids = bulk_members(program, 250, consent_email=True)
    Member.objects.filter(pk__in=ids[::2]).update(language="it", points_available=1500)
    campaign = _campaign(program)

    with CaptureQueriesContext(connection) as queries:
        assert _send(campaign, ids) == 250
    updates = [q["sql"] for q in queries if q["sql"].startswith('UPDATE "campaigns_delivery"')]
    updates += [q["sql"] for q in queries if q["sql"].startswith("UPDATE campaigns_delivery")]
    assert len(updates) == 6  # per batch of 100: one claim and one record, whatever the batch size

    assert sorted(brevo.recipients()) == sorted(Member.objects.filter(pk__in=ids).values_list("email", flat=True))
    assert brevo.calls == 6  # three batches, each one call per language
    by_address = {m["to"]: m for m in brevo.messages}
    italian = Member.objects.filter(pk__in=ids, language="it").first()
    message = by_address[italian.email]
    assert message["subject"] == "Bulk, novità"
    assert '<html lang="it">' in message["html"] and "Ciao Bulk, hai 1.500 punti." in message["html"]
    assert message["headers"]["List-Unsubscribe"].startswith("<http")
    assert f"/unsubscribe/{message['headers']['List-Unsubscribe'].split('/unsubscribe/')[1][:-1]}" in message["text"]
    english = by_address[Member.objects.filter(pk__in=ids, language="en").first().email]
    assert '<html lang="en">' in english["html"] and "Hello Bulk, you have 0 points." in english["text"]

    deliveries = Delivery.objects.filter(campaign=campaign)
    assert set(deliveries.values_list("status", flat=True)) == {Delivery.Status.SENT}
    delivery = deliveries.get(member=italian)
    assert delivery.provider_id == message["message_id"] and delivery.batch is not None


def test_a_batch_whose_record_was_lost_is_resent_under_its_key_and_delivered_once(program, brevo):
    """The worker died after the provider accepted the batch and before recording it: the re-run finds the
    rows 'sending' with their batch and sends the same batch again; the provider answers from its key."""
    ids = bulk_members(program, 150, consent_email=True)
    campaign = _campaign(program)
    _send(campaign, ids)
    first_ids = dict(Delivery.objects.filter(campaign=campaign).values_list("member_id", "provider_id"))
    Delivery.objects.filter(campaign=campaign).update(status=Delivery.Status.SENDING, provider_id="")

    assert _send(campaign, ids) == 150  # the re-delivered chunk task

    assert brevo.delivered == 150 and len(brevo.messages) == 150
    assert brevo.replays == brevo.calls // 2 > 0
    again = dict(Delivery.objects.filter(campaign=campaign).values_list("member_id", "provider_id"))
    assert again == first_ids  # the provider's ids from the first acceptance
    assert not Delivery.objects.filter(campaign=campaign).exclude(status=Delivery.Status.SENT).exists()


def test_claimed_but_never_called_batch_is_sent_by_the_beat_and_old_ones_are_closed(program, brevo):
    """Killed between the claim and the call: the beat sends the batch (once, under its key) within the
    window; a row claimed before the window is closed as failed and never sent."""
    ids = bulk_members(program, 3, consent_email=True)
    campaign = _campaign(program)
    services.deliveries_queue(
        campaign=campaign,
        rows=[(row, "") for row in Member.objects.filter(pk__in=ids).values(*services.MEMBER_FIELDS)],
        now=timezone.now(),
    )
    rows = list(Delivery.objects.filter(campaign=campaign).order_by("pk"))
    now = timezone.now()
    services.deliveries_claim(ids=[r.pk for r in rows[:2]], now=now - timedelta(minutes=2), batch=uuid.uuid4())
    services.deliveries_claim(ids=[rows[2].pk], now=now - timedelta(hours=1), batch=uuid.uuid4())
    # claimed: the rest of the run does not take them again
    assert services.deliveries_claim(ids=[r.pk for r in rows], now=now, batch=uuid.uuid4()) == set()

    services.deliveries_send_due(now=now)

    statuses = dict(Delivery.objects.filter(campaign=campaign).values_list("pk", "status"))
    assert [statuses[r.pk] for r in rows] == [Delivery.Status.SENT, Delivery.Status.SENT, Delivery.Status.FAILED]
    assert brevo.delivered == 2


def test_a_template_that_computes_with_personal_values_is_rendered_per_member(program, brevo):
    ids = bulk_members(program, 3, consent_email=True)
    campaign = _campaign(program, body="{{ name|upper }}{% if balance %}, {{ balance }}{% endif %}!")
    assert _send(campaign, ids) == 3
    assert {m["text"].splitlines()[0] for m in brevo.messages} == {"BULK, 0!"}
    assert brevo.delivered == 3


def test_an_unknown_variable_reads_empty_as_in_a_single_send(program, brevo):
    ids = bulk_members(program, 2, consent_email=True)
    campaign = _campaign(program, body="Hello {{ name }}{{ nmae }}!")
    assert _send(campaign, ids) == 2
    assert {m["text"].splitlines()[0] for m in brevo.messages} == {"Hello Bulk!"}


def test_a_refused_call_fails_its_deliveries_with_the_providers_reason(program, brevo, settings):
    settings.ANYMAIL = {"BREVO_API_KEY": "wrong", "BREVO_API_URL": brevo.url}
    ids = bulk_members(program, 5, consent_email=True)
    campaign = _campaign(program)
    assert _send(campaign, ids) == 0
    failed = Delivery.objects.filter(campaign=campaign, status=Delivery.Status.FAILED)
    assert failed.count() == 5 and "Key not found" in failed.first().error
    assert brevo.delivered == 0


def _offer_campaign(program, **fields):
    campaign = CampaignFactory(
        program=program, variant=False, cap_messages=None, offer=OfferFactory(program=program), **fields
    )
    VariantFactory(
        campaign=campaign,
        subject_en="{{ name }}, an offer",
        subject_it="{{ name }}, un'offerta",
        body_en="Hello {{ name }}, show {{ code }} at the till.",
        body_it="Ciao {{ name }}, mostra {{ code }} alla cassa.",
    )
    return campaign


def test_offer_campaigns_go_out_in_batches_with_each_members_own_code_once(program, brevo):
    ids = bulk_members(program, 150, consent_email=True)
    Member.objects.filter(pk__in=ids[::2]).update(language="it")
    campaign = _offer_campaign(program)

    assert _send(campaign, ids) == 150

    assert brevo.calls == 4  # two batches of up to 100, each one call per language
    grants = {g.member.email: g for g in OfferGrant.objects.filter(campaign=campaign).select_related("member")}
    assert len(grants) == 150 and len({g.code for g in grants.values()}) == 150
    for message in brevo.messages:
        code = grants[message["to"]].code
        assert f"show {code} at the till" in message["text"] or f"mostra {code} alla cassa" in message["text"]
        assert f'<strong style="font-size:20px;letter-spacing:2px">{code}</strong>' in message["html"]
        assert "{{" not in message["html"] + message["text"]
    italian = Member.objects.filter(pk__in=ids, language="it").first()
    assert "25% off shoes this week" in next(m for m in brevo.messages if m["to"] == italian.email)["text"]
    assert not OfferGrant.objects.filter(campaign=campaign).exclude(delivery__status=Delivery.Status.SENT).exists()

    assert _send(campaign, ids) == 0  # the chunk task run again: nothing more
    assert brevo.delivered == 150 and OfferGrant.objects.filter(campaign=campaign).count() == 150


def test_an_offer_batch_whose_record_was_lost_is_resent_with_the_same_codes_and_delivered_once(program, brevo):
    ids = bulk_members(program, 30, consent_email=True)
    campaign = _offer_campaign(program)
    _send(campaign, ids)
    codes = {m["to"]: m["text"] for m in brevo.messages}
    Delivery.objects.filter(campaign=campaign).update(status=Delivery.Status.SENDING, provider_id="")

    assert _send(campaign, ids) == 30

    assert brevo.delivered == 30 and brevo.replays == brevo.calls // 2 > 0
    assert OfferGrant.objects.filter(campaign=campaign).count() == 30
    for grant in OfferGrant.objects.filter(campaign=campaign).select_related("member"):
        assert grant.code in codes[grant.member.email]


def test_an_offer_budget_caps_the_bulk_claim_and_skips_the_rest(program, brevo):
    ids = bulk_members(program, 150, consent_email=True)
    campaign = _offer_campaign(program, budget_offers=120)

    assert _send(campaign, ids) == 120

    assert brevo.delivered == 120 and OfferGrant.objects.filter(campaign=campaign).count() == 120
    skipped = Delivery.objects.filter(campaign=campaign, status=Delivery.Status.SKIPPED)
    assert skipped.count() == 30 and set(skipped.values_list("reason", flat=True)) == {Delivery.Reason.BUDGET}
    assert not OfferGrant.objects.filter(delivery__in=skipped).exists()
