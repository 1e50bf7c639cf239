"""Member pages in Chromium on the demo: stored content reads in the member's language (checked
against the demo's own catalog of stored texts), ways to earn, the feedback list at 1280 and 375 px,
axe-core, and every shot of the README's gallery (docs/screenshots/take.py, into a temporary folder: only
the script itself writes docs/screenshots)."""

import importlib.util
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from playwright.sync_api import expect

from feedback import services as feedback_services
from feedback.models import Ticket
from members.auth import DEMO_MEMBER_EMAIL, DEMO_MEMBER_PASSWORD
from members.demo import demo_program, stored_texts
from members.models import Member
from rewards.demo import CATALOG, CHALLENGES, reward_description
from tests.members.pages.conftest import signup
from tests.members.pages.test_browser import _axe_violations, _sign_in_with_password

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TAKE = Path(settings.BASE_DIR) / "docs" / "screenshots" / "take.py"
LANGUAGES = ("en", "ro", "it", "ru")
MEMBER_PAGES = ("/", "/history/", "/rewards/", "/ways-to-earn/", "/membership/", "/referrals/")


@pytest.fixture
def seeded(db):
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115 - the command's chatter
    return demo_program()


def _english_leaks(text: str, language: str) -> list[str]:
    """The demo's stored English texts that show on a page in `language` although translated."""
    catalog = list(stored_texts().values())
    catalog += [entry[1] for entry in CATALOG] + [reward_description(entry[1]) for entry in CATALOG]
    catalog += [text for challenge in CHALLENGES for text in challenge[1:4]]
    index = LANGUAGES.index(language)
    return sorted(
        {
            texts[0]
            for texts in catalog
            # Whole words: Italian "Critico" is no leak of English "Critic".
            if texts[index] != texts[0] and re.search(rf"(?<!\w){re.escape(texts[0])}(?!\w)", text)
        }
    )


def _sign_in_as(page, language: str) -> None:
    """Sign Ana in (the form in English: no cookie yet); the pages then speak her stored language."""
    Member.objects.filter(email=DEMO_MEMBER_EMAIL).update(language=language)
    page.goto("/signin/")
    page.get_by_label("Email", exact=True).fill(DEMO_MEMBER_EMAIL)
    page.get_by_label("Password (optional)").fill(DEMO_MEMBER_PASSWORD)
    page.get_by_role("main").get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("points-available")).to_be_visible()


def _screenshot_script():
    spec = importlib.util.spec_from_file_location("take", TAKE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_demo_member_pages_in_every_language_ways_to_earn_and_screenshots(browser, live_server, seeded, tmp_path):
    """One test, one seeded demo (loading it is the slow part)."""
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    leaks = {}
    for language in ("ro", "it", "ru"):
        context.clear_cookies()
        _sign_in_as(page, language)
        for path in MEMBER_PAGES:
            page.goto(path)
            expect(page.locator("html")).to_have_attribute("lang", language)
            found = _english_leaks(page.get_by_role("main").inner_text(), language)
            if found:
                leaks[f"{language} {path}"] = found
    assert leaks == {}
    # The check can fail: the same pages in English show the English texts it looks for.
    context.clear_cookies()
    _sign_in_as(page, "en")
    page.goto("/ways-to-earn/")
    main = page.get_by_role("main")
    assert "Triple stars on coffee beans" in main.inner_text()
    expect(main.get_by_test_id("referral-steps")).to_contain_text("from friend no. 5 on")
    expect(main.get_by_test_id("referral-steps")).to_contain_text("400 stars")
    expect(main.get_by_test_id("tier-comparison")).to_contain_text("Platinum")
    assert _axe_violations(page) == []
    context.close()

    for width in (1280, 375):
        context = browser.new_context(base_url=live_server.url, viewport={"width": width, "height": 900})
        page = context.new_page()
        _sign_in_with_password(page, DEMO_MEMBER_EMAIL, DEMO_MEMBER_PASSWORD)
        expect(page.get_by_test_id("points-available")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        assert _axe_violations(page) == []
        page.goto("/ways-to-earn/")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        context.close()

    # The gallery: every shot reaches its page without an error and, on a phone, without sideways scroll.
    take = _screenshot_script()
    assert take.take(browser=browser, base_url=live_server.url, out=tmp_path) == []
    assert sorted(p.name for p in tmp_path.glob("*.png")) == sorted(
        shot.filename(width) for shot in take.SHOTS for width in shot.widths
    )


@pytest.mark.parametrize("width", [1280, 375])
def test_feedback_list_keeps_its_shape(browser, live_server, program, width):
    ana = signup(program, email="ana@example.com", password="correct horse battery")
    for subject in ("My coffee voucher was refused at the Downtown Store till", "Thanks"):
        feedback_services.ticket_open(member=ana, subject=subject, body="...", channel=Ticket.Channel.MEMBER_PAGE)
    context = browser.new_context(base_url=live_server.url, viewport={"width": width, "height": 900})
    page = context.new_page()
    _sign_in_with_password(page, "ana@example.com", "correct horse battery")
    page.goto("/feedback/")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    rows = page.locator(".ticket-list > li")
    assert rows.count() >= 2
    for i in range(rows.count()):
        row = rows.nth(i)
        card = row.locator("xpath=ancestor::section[1]").bounding_box()
        title = row.locator(".ticket-list__title").bounding_box()
        pill = row.locator(".pill").bounding_box()
        date = row.locator("time").bounding_box()
        line = float(row.locator(".ticket-list__title").evaluate("el => parseFloat(getComputedStyle(el).lineHeight)"))
        assert pill["height"] < 2 * line and pill["width"] > pill["height"], f"pill stretched: {pill}"
        assert title["width"] > card["width"] * 0.6, f"title squeezed: {title} in {card}"
        for box in (title, pill, date):  # everything inside the card
            assert card["x"] <= box["x"] and box["x"] + box["width"] <= card["x"] + card["width"] + 0.5
    assert _axe_violations(page) == []
    context.close()
