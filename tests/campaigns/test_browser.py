"""The campaign's confirmation step in a real Chromium (Debian's, driven by Playwright) against the live
server: preview per language, a test send to a staff address, then the confirmation page with the audience,
holdout, variants and budget; nothing reaches a member until "Launch now" is pressed. axe-core on both pages."""

import re

import pytest
from django.contrib.auth.models import Permission, User
from django.core import mail
from playwright.sync_api import expect

from campaigns.models import Campaign, Delivery, Offer
from tests.campaigns.conftest import CampaignFactory, OfferFactory, VariantFactory
from tests.members.pages.conftest import browser  # noqa: F401 - Debian's Chromium
from tests.members.pages.test_browser import _axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def staff(db):
    user = User.objects.create_user("op", "op@example.com", "correct horse battery", is_staff=True)
    user.user_permissions.set(Permission.objects.all())
    return user


@pytest.fixture
def campaign(program, consenting):
    for n in range(12):
        consenting(first_name=f"Ana{n}", language="it" if n % 3 == 0 else "en")
    offer = OfferFactory(program=program, kind=Offer.Kind.BONUS, points=100, discount_percent=0, title="100 bonus")
    campaign = CampaignFactory(
        program=program, name="Spring bonus", variant=False, holdout_percent=25, offer=offer, budget_points=500
    )
    VariantFactory(
        campaign=campaign,
        name="A",
        subject_en="Hello {{ name }}",
        subject_it="Ciao {{ name }}",
        body_en="You have {{ balance }} {{ points_name }}. {{ code }}",
        body_it="Hai {{ balance }} {{ points_name }}. {{ code }}",
    )
    VariantFactory(campaign=campaign, name="B", weight=1, subject_en="Psst {{ name }}")
    return campaign


def _signed_in(browser, live_server, staff, width=1280):  # noqa: F811
    context = browser.new_context(base_url=live_server.url, viewport={"width": width, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.goto("/admin/login/")
    page.get_by_label("Username").fill(staff.username)
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#site-name")).to_be_visible()
    return page


def test_preview_test_send_and_confirm_before_anything_goes_out(browser, live_server, staff, campaign, tmp_path):  # noqa: F811
    page = _signed_in(browser, live_server, staff)
    page.goto(f"/admin/campaigns/campaign/{campaign.pk}/change/")
    page.get_by_role("link", name="Preview and test send").click()

    page.get_by_label("Language").select_option("it")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_test_id("preview-subject")).to_have_text(re.compile(r"^Ciao Ana\d+$"))
    expect(page.get_by_test_id("preview-text")).to_contain_text("SAMPLE-CODE")
    assert _axe_violations(page) == []
    page.screenshot(path=str(tmp_path / "campaign-preview.png"), full_page=True)

    page.get_by_label("Send a test to").fill("ops@example.com")
    page.get_by_role("button", name="Send the test email").click()
    expect(page.locator(".messagelist")).to_contain_text("Test email sent to ops@example.com.")
    assert [m.to for m in mail.outbox] == [["ops@example.com"]]
    assert re.fullmatch(r"\[TEST\] Ciao Ana\d+", mail.outbox[0].subject)  # the Italian text, marked as a test

    page.get_by_role("link", name="Review and launch").click()
    summary = page.get_by_test_id("launch-summary")
    expect(page.get_by_test_id("audience")).to_have_text("12")
    expect(page.get_by_test_id("holdout")).to_have_text("3")  # 25% of 12
    expect(summary).to_contain_text("Variant A (weight")
    expect(summary).to_contain_text("Variant B (weight")
    expect(summary).to_contain_text(campaign.offer.name)
    expect(page.get_by_test_id("budget-warning")).to_contain_text("after 5 offers; about 9 members")
    assert _axe_violations(page) == []
    page.screenshot(path=str(tmp_path / "campaign-confirm.png"), full_page=True)
    # The confirmation page changed nothing: still a draft, no delivery, only the test email.
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.DRAFT
    assert not Delivery.objects.filter(campaign=campaign).exists() and len(mail.outbox) == 1

    page.get_by_role("button", name="Launch now").click()
    expect(page.locator(".messagelist")).to_contain_text("'Spring bonus' launched.")
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.SENT
    deliveries = Delivery.objects.filter(campaign=campaign)
    treated = deliveries.filter(holdout=False).count()
    assert deliveries.count() == 12 and treated > 5
    assert deliveries.filter(status=Delivery.Status.SENT).count() == 5  # the budget's 5 offers, the rest skipped
    assert deliveries.filter(reason=Delivery.Reason.BUDGET).count() == treated - 5 and len(mail.outbox) == 1 + 5
    page.context.close()


def test_the_launch_action_leads_to_the_confirmation_not_to_a_send(browser, live_server, staff, campaign):  # noqa: F811
    page = _signed_in(browser, live_server, staff, width=375)
    page.goto("/admin/campaigns/campaign/")
    page.locator(f"input[name='_selected_action'][value='{campaign.pk}']").check()
    page.locator("select[name='action']").select_option("launch")
    page.get_by_role("button", name="Go").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Review and launch")
    expect(page.get_by_test_id("audience")).to_have_text("12")
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 1, f"{overflow}px of horizontal scroll at 375 px"
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.DRAFT and mail.outbox == []
    page.context.close()
