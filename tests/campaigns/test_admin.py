"""The operator's path in admin: build a segment and see its count and sample, freeze it, import a list,
preview a campaign per variant and language, send a test, confirm and launch an A/B campaign with a holdout,
and read the results."""

from decimal import Decimal

from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from campaigns.models import Campaign, Delivery, Offer, OfferGrant, Segment, SegmentRule
from members import services as member_services
from members.models import AuditEntry, Member
from tests.campaigns.conftest import CampaignFactory, OfferFactory, RuleFactory, SegmentFactory, VariantFactory


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
    confirm = admin_client.post(changelist, {"action": "launch", "_selected_action": [campaign.pk]})
    assert confirm.status_code == 302 and confirm.url == reverse("admin:campaigns_campaign_launch", args=[campaign.pk])
    page = admin_client.get(confirm.url).content.decode()
    assert 'data-testid="audience">12<' in page and 'data-testid="holdout">5<' in page  # 40% of 12, rounded
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DRAFT and mail.outbox == []  # nothing left before the confirmation
    with on_commit():
        admin_client.post(confirm.url, {"confirm": "1"})
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
    response = admin_client.post(reverse("admin:campaigns_campaign_launch", args=[campaign.pk]), follow=True)
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


def _translated_campaign(program, **fields):
    campaign = CampaignFactory(program=program, variant=False, **fields)
    VariantFactory(
        campaign=campaign,
        name="A",
        subject_en="Hello {{ name }}",
        subject_it="Ciao {{ name }}",
        body_en="You have {{ balance }} {{ points_name }}. {{ code }}",
        body_it="Hai {{ balance }} {{ points_name }}. {{ code }}",
        sms_body_it="Ciao {{ name }}: codice {{ code }}",
    )
    return campaign


def test_preview_shows_each_variant_in_each_language_as_sent_and_sends_nothing(admin_client, program, consenting):
    member = consenting(language="it", first_name="Giulia")
    Member.objects.filter(pk=member.pk).update(points_available=2500)
    campaign = _translated_campaign(program, offer=OfferFactory(program=program))
    url = reverse("admin:campaigns_campaign_preview", args=[campaign.pk])
    variant = campaign.variants.get()

    page = admin_client.get(url, {"variant": variant.pk, "language": "it"})
    assert page.status_code == 200
    html = page.content.decode()
    preview = page.context["preview"]
    assert preview.email.subject == "Ciao Giulia" and 'lang="it"' in preview.email.html
    assert "Hai 2.500 punti. SAMPLE-CODE" in preview.email.text  # the Italian word, Italian digits
    assert "Ciao Giulia: codice SAMPLE-CODE" in preview.sms
    assert "srcdoc=" in html and "Il tuo codice" in html  # the HTML part, escaped into the frame
    english = admin_client.get(url, {"variant": variant.pk, "language": "en"}).context["preview"]
    assert english.email.subject == "Hello Giulia" and 'lang="en"' in english.email.html
    assert not Delivery.objects.exists() and not OfferGrant.objects.exists() and mail.outbox == []


def test_a_test_send_goes_to_the_staff_address_only_marked_as_a_test(admin_client, program, consenting):
    consenting(language="it", first_name="Giulia")
    campaign = _translated_campaign(program)
    url = reverse("admin:campaigns_campaign_preview", args=[campaign.pk])
    variant = campaign.variants.get()

    response = admin_client.post(url, {"variant": variant.pk, "language": "it", "to": "ops@example.com"})
    assert response.status_code == 200
    (sent,) = mail.outbox
    assert sent.to == ["ops@example.com"] and sent.subject == "[TEST] Ciao Giulia"
    assert 'lang="it"' in sent.alternatives[0][0]
    assert not Delivery.objects.exists()
    assert AuditEntry.objects.filter(action="campaign.test_send").count() == 1

    bad = admin_client.post(url, {"variant": variant.pk, "language": "it", "to": "not an address"})
    assert bad.status_code == 200 and "Enter a valid email address." in bad.content.decode()
    missing = admin_client.post(url, {"variant": variant.pk, "language": "xx", "to": "ops@example.com"})
    assert missing.status_code == 200 and "Select a valid choice" in missing.content.decode()
    assert len(mail.outbox) == 1


def test_the_confirmation_shows_the_budget_and_warns_when_it_stops_the_campaign_early(
    admin_client, program, consenting
):
    for _ in range(6):
        consenting()
    offer = OfferFactory(program=program, kind=Offer.Kind.BONUS, points=100, discount_percent=0)
    campaign = _translated_campaign(program, offer=offer, budget_points=300)
    page = admin_client.get(reverse("admin:campaigns_campaign_launch", args=[campaign.pk])).content.decode()
    assert 'data-testid="audience">6<' in page and 'data-testid="holdout">0<' in page
    assert 'data-testid="budget-warning"' in page and "after 3 offers; about 6 members" in page
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.DRAFT
