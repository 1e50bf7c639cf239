"""Journeys in a real Chromium (Debian's, driven by Playwright) against pytest-django's live server:
sign up with a referral link, see the welcome gift, a purchase, points and tier progress, redeem a
reward, see the voucher; Romanian pages; a phone-sized screen; keyboard use; axe-core on the main pages."""

from decimal import Decimal

import pytest
from django.conf import settings
from playwright.sync_api import expect

from members.models import Member, Program, Tier
from rewards.models import Reward
from tests.members.pages.conftest import ARTIFACTS, buy, signup

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo(db):
    program = Program.objects.create(
        name="Corner Market",
        slug="corner",
        is_default=True,
        welcome_bonus=200,
        referral_referrer_points=150,
        referral_referee_points=100,
    )
    Tier.objects.create(program=program, name="Insider", level=0, threshold=0)
    Tier.objects.create(program=program, name="Silver", level=1, threshold=Decimal("500"), color="#94a3b8")
    Reward.objects.create(
        program=program, kind=Reward.Kind.FREE_PRODUCT, title="Free coffee", points_cost=250, is_featured=True
    )
    Reward.objects.create(
        program=program, kind=Reward.Kind.FIXED_DISCOUNT, title="10 EUR off", points_cost=2000, value=10
    )
    return program


def _sign_in_with_password(page, email: str, password: str) -> None:
    page.goto("/signin/")
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password (optional)").fill(password)
    page.get_by_role("main").get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hello")


def test_journey_referral_signup_purchase_tier_progress_redeem_voucher(page, demo):
    referrer = signup(demo, email="rita@example.com", first_name="Rita")

    page.goto(f"/signup/corner/?ref={referrer.referral_code}")
    assert page.get_by_label("Referral code (optional)").input_value() == referrer.referral_code
    page.get_by_label("First name").fill("Ion")
    page.get_by_label("Email", exact=True).fill("ion@example.com")
    page.get_by_label("Send me offers and news by email").check()
    page.get_by_label("I accept the program terms and the privacy notice").check()
    page.get_by_role("button", name="Create my account").click()

    expect(page.get_by_test_id("points-available")).to_have_text("200")  # the welcome gift
    assert "Welcome gift" in page.get_by_role("main").inner_text()
    ion = Member.objects.get(email="ion@example.com")
    assert ion.referred_by == referrer

    buy(ion, 120)  # at the till, through the partner's system
    page.reload()
    expect(page.get_by_test_id("points-available")).to_have_text("420")  # 200 + 120 + 100 referral gift
    assert "Spend 380.00 EUR more to reach Silver." in page.get_by_test_id("tier-progress").inner_text()
    assert page.locator("progress[value='24']").count() == 1

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)

    page.get_by_role("link", name="Rewards", exact=True).click()
    page.get_by_role("link", name="Redeem Free coffee").click()
    page.get_by_role("button", name="Spend 250 points").click()
    expect(page.get_by_role("main")).to_contain_text("Here is your voucher")
    code = ion.vouchers.get().code
    expect(page.get_by_test_id("voucher-code")).to_have_text(f"{code[:4]}-{code[4:8]}-{code[8:]}")
    expect(page.locator(".voucher__qr svg[role='img']")).to_have_count(1)
    page.get_by_role("link", name="Dashboard").click()
    expect(page.get_by_test_id("points-available")).to_have_text("170")


def test_sign_in_by_one_time_link(page, demo, mailoutbox):
    signup(demo, email="link@example.com", first_name="Lia")
    page.goto("/signin/")
    page.get_by_label("Email", exact=True).fill("link@example.com")
    page.get_by_role("main").get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    link = next(line for line in mailoutbox[0].body.splitlines() if "/signin/link/" in line)
    page.goto(link.replace(settings.SITE_URL, ""))
    page.get_by_role("button", name="Sign me in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Lia")


def test_romanian_pages_after_switching_language(page, demo):
    signup(demo, email="ro@example.com", password="correct horse battery")
    _sign_in_with_password(page, "ro@example.com", "correct horse battery")
    page.get_by_label("Language").select_option("ro")  # submits on change
    expect(page.locator("html")).to_have_attribute("lang", "ro")
    expect(page.get_by_role("main")).to_contain_text("Disponibile: puncte")
    page.get_by_role("link", name="Recompense", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Recompense")
    assert Member.objects.get(email="ro@example.com").language == "ro"


def test_phone_screen_has_no_horizontal_scroll_and_a_menu(browser, live_server, demo):
    signup(demo, email="phone@example.com", password="correct horse battery")
    context = browser.new_context(base_url=live_server.url, viewport={"width": 375, "height": 800}, is_mobile=True)
    page = context.new_page()
    _sign_in_with_password(page, "phone@example.com", "correct horse battery")
    for path in ("/", "/history/", "/rewards/", "/referrals/", "/membership/", "/profile/"):
        page.goto(path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, f"{path} is {width}px wide"
    menu = page.get_by_role("button", name="Menu")
    assert page.get_by_role("link", name="History").is_hidden()
    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(page.get_by_role("link", name="History")).to_be_visible()
    context.close()


def test_keyboard_first_tab_reaches_the_skip_link(page, demo):
    page.goto("/signin/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Skip to content"
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "id_email"  # straight into the form


def _axe_violations(page) -> list[str]:
    # From our own origin: the Content Security Policy refuses inline scripts, injected ones included.
    page.add_script_tag(url="/static/vendor/axe.min.js")
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_main_pages_pass_axe_core(page, demo):
    member = signup(demo, email="axe@example.com", password="correct horse battery")
    buy(member, 60)
    problems = {}
    for path in ("/", "/signin/", "/signup/"):
        page.goto(path)
        problems[path] = _axe_violations(page)
    _sign_in_with_password(page, "axe@example.com", "correct horse battery")
    page.goto("/rewards/")
    page.get_by_role("link", name="Redeem Free coffee").click()
    page.get_by_role("button", name="Spend 250 points").click()
    expect(page.get_by_role("main")).to_contain_text("Here is your voucher")
    for path in ("/", "/history/", "/rewards/", "/rewards/vouchers/", "/referrals/", "/membership/", "/profile/"):
        page.goto(path)
        problems[path] = _axe_violations(page)
    assert {path: found for path, found in problems.items() if found} == {}


def test_landing_call_to_action_is_legible(page, demo):
    """axe cannot judge text on the hero's gradient, so check the button's own colours."""
    page.goto("/")
    join = page.get_by_role("link", name="Join now")
    colors = join.evaluate("el => [getComputedStyle(el).color, getComputedStyle(el).backgroundColor]")
    assert colors[0] != colors[1]
