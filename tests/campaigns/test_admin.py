"""The operator's path in admin: build a segment and see its count and sample, freeze it, import a list,
launch an A/B campaign with a holdout and read the results."""

from decimal import Decimal

from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from campaigns.models import Campaign, Delivery, Segment, SegmentRule
from members import services as member_services
from tests.campaigns.conftest import CampaignFactory, RuleFactory, SegmentFactory, VariantFactory


def test_segment_page_shows_live_count_and_sample(admin_client, program, consenting):
    italian = consenting(language="it", first_name="Giulia")
    consenting(language="en", first_name="John")
    segment = SegmentFactory(program=program)
    RuleFactory(segment=segment, kind=SegmentRule.Kind.LANGUAGE, values="it")

    page = admin_client.get(reverse("admin:campaigns_segment_change", args=[segment.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "<label>Members now:</label>" in html
    assert '<div class="readonly">1</div>' in html
    assert italian.number in html and "John" not in html


def test_operator_builds_a_segment_with_rules_in_the_form(admin_client, program, consenting):
    consenting(language="ro")
    url = reverse("admin:campaigns_segment_add")
    data = {
        "name": "Romanian speakers",
        "program": program.pk,
        "kind": "dynamic",
        "combine": "any",
        "description": "",
        "rules-TOTAL_FORMS": "1",
        "rules-INITIAL_FORMS": "0",
        "rules-0-group": "1",
        "rules-0-kind": "language",
        "rules-0-values": "ro",
    }
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    segment = Segment.objects.get(name="Romanian speakers")
    assert segment.rules.get().kind == SegmentRule.Kind.LANGUAGE


def test_freeze_action_and_csv_import(admin_client, program, consenting):
    ana, bob = consenting(), consenting()
    segment = SegmentFactory(program=program)
    RuleFactory(segment=segment, kind=SegmentRule.Kind.CONSENT, values="email")
    changelist = reverse("admin:campaigns_segment_changelist")
    admin_client.post(changelist, {"action": "freeze", "_selected_action": [segment.pk]})
    frozen = Segment.objects.get(frozen_from=segment)
    assert set(frozen.entries.values_list("member_id", flat=True)) == {ana.pk, bob.pk}

    static = SegmentFactory(program=program, kind=Segment.Kind.STATIC)
    url = reverse("admin:campaigns_segment_import", args=[static.pk])
    assert admin_client.get(url).status_code == 200
    upload = SimpleUploadedFile("list.csv", f"email\n{ana.email}\nnobody@example.com\n".encode())
    response = admin_client.post(url, {"file": upload, "mode": "valid"}, follow=True)
    assert list(static.entries.values_list("member_id", flat=True)) == [ana.pk]
    assert "Line 3: &#x27;nobody@example.com&#x27; is no active member" in response.content.decode()


def test_launch_an_ab_test_with_holdout_and_read_results(admin_client, program, partner, consenting, on_commit):
    for _ in range(12):
        consenting()
    campaign = CampaignFactory(program=program, holdout_percent=40, variant=False)
    VariantFactory(campaign=campaign, name="A")
    VariantFactory(campaign=campaign, name="B", subject="Psst {{ name }}")
    changelist = reverse("admin:campaigns_campaign_changelist")
    with on_commit():
        admin_client.post(changelist, {"action": "launch", "_selected_action": [campaign.pk]})
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENT
    treated = Delivery.objects.filter(campaign=campaign, holdout=False)
    assert len(mail.outbox) == treated.count() > 0
    buyer = treated.first().member
    member_services.purchase_record(
        member=buyer, partner=partner, external_id="x1", amount=Decimal("42"), currency="EUR"
    )

    page = admin_client.get(reverse("admin:campaigns_campaign_change", args=[campaign.pk])).content.decode()
    assert "Holdout" in page and "Lift vs holdout" in page
    assert "42.00 EUR" in page
    assert "Skipped, holdout (control group):" in page

    listing = admin_client.get(changelist).content.decode()
    assert campaign.name in listing
    deliveries = admin_client.get(reverse("admin:campaigns_delivery_changelist"))
    assert deliveries.status_code == 200


def test_launch_refusal_is_shown_not_raised(admin_client, program):
    campaign = CampaignFactory(program=program, variant=False)
    response = admin_client.post(
        reverse("admin:campaigns_campaign_changelist"),
        {"action": "launch", "_selected_action": [campaign.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert "Add at least one message variant." in response.content.decode()
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DRAFT


def test_offer_and_campaign_add_pages_render(admin_client):
    for name in ("offer", "campaign", "delivery", "offergrant"):
        url = reverse(f"admin:campaigns_{name}_changelist")
        assert admin_client.get(url).status_code == 200
    for name in ("offer", "campaign", "segment"):
        assert admin_client.get(reverse(f"admin:campaigns_{name}_add")).status_code == 200


def test_a_rule_without_its_value_is_a_form_error_and_nothing_is_stored(admin_client, program):
    data = {
        "name": "Broken",
        "program": program.pk,
        "kind": "dynamic",
        "combine": "any",
        "rules-TOTAL_FORMS": "2",
        "rules-INITIAL_FORMS": "0",
        "rules-0-group": "1",
        "rules-0-kind": "tier",
        "rules-1-group": "1",
        "rules-1-kind": "nps",
        "rules-1-values": "promoter, fans",
    }
    response = admin_client.post(reverse("admin:campaigns_segment_add"), data)
    assert response.status_code == 200
    html = response.content.decode()
    assert "This rule needs a value here." in html
    assert "promoter, passive, detractor" in html
    assert not Segment.objects.filter(name="Broken").exists()


def test_a_broken_message_template_is_a_form_error(admin_client, program):
    campaign = CampaignFactory(program=program, variant=False)
    url = reverse("admin:campaigns_campaign_change", args=[campaign.pk])
    page = admin_client.get(url)
    form = page.context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and not isinstance(v, list | dict)}
    data.update(
        {
            "program": program.pk,
            "variants-TOTAL_FORMS": "1",
            "variants-INITIAL_FORMS": "0",
            "variants-0-name": "A",
            "variants-0-weight": "1",
            "variants-0-subject_en": "Hi {% if name %}{{ name }}",
            "variants-0-body_en": "Hello",
        }
    )
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert "Unclosed tag" in response.content.decode()
    assert not campaign.variants.exists()
