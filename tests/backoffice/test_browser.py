"""The staff side in a real Chromium (Debian's, driven by Playwright) against pytest-django's live
server: the dashboard at 1,280 and 375 px, the member 360° page, the segment builder's live count and its
fields per rule kind (with and without JavaScript); axe-core on the pages the theme adds. Screenshots go to
a temporary folder: docs/screenshots is written by docs/screenshots/take.py only."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission, User
from playwright.sync_api import expect

from campaigns.models import Segment
from members import services as member_services
from members.models import Member
from tests.conftest import PartnerFactory, ProgramFactory, TierFactory, at, buy, enroll

# The axe-core check of the member pages serves here too (and their Chromium: tests/backoffice/conftest.py).
from tests.members.pages.test_browser import _axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def program(db):
    program = ProgramFactory(name="Corner Market", points_name="stars")
    TierFactory(program=program, name="Insider", level=0)
    TierFactory(program=program, name="Gold", level=1, threshold=Decimal("300"), color="#d4a017")
    shop = PartnerFactory(program=program, name="Main street shop")
    for month in range(1, 12):
        for n in range(month % 4 + 2):
            member = enroll(program, at(2026, month, 1 + n), consent_email=True, first_name=f"Ana{month}{n}")
            buy(member, at(2026, month, 10 + n), str(40 + 15 * n), ["coffee", "books"][: 1 + n % 2], partner=shop)
            if n % 2:
                buy(member, at(2026, month, 20), "25.50", ["coffee"])
    return program


@pytest.fixture
def staff(db):
    """Every permission without being a superuser (superusers must enrol two-factor first)."""
    user = User.objects.create_user("op", "op@example.com", "correct horse battery", is_staff=True)
    user.user_permissions.set(Permission.objects.all())
    return user


def _page(browser, live_server, staff, width: int, javascript: bool = True):
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": width, "height": 900}, java_script_enabled=javascript
    )
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.goto("/admin/login/")
    page.get_by_label("Username").fill(staff.username)
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#site-name")).to_be_visible()
    return page


def test_dashboard_at_desktop_and_phone_widths_with_screenshots(browser, live_server, program, staff, tmp_path):
    for width, name in ((1280, "admin-dashboard.png"), (375, "admin-dashboard-375.png")):
        page = _page(browser, live_server, staff, width)
        page.goto(f"/admin/?program={program.pk}&period=custom&start=2026-10-01&end=2026-10-31")
        expect(page.locator(".kpi-cards .kpi").first).to_be_visible()
        expect(page.locator(".kpi-change").first).to_contain_text("previously")
        assert page.locator("svg.chart").count() >= 3
        assert page.locator("table[data-table='members'] td", has_text="previous_active").count() == 0
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 1, f"{width}px: {overflow}px of horizontal scroll"
        page.screenshot(path=str(tmp_path / name), full_page=width != 1280)
        if width == 1280:
            assert _axe_violations(page) == []
        page.context.close()


def test_member_360_page(browser, live_server, program, staff, tmp_path):
    member = Member.objects.filter(program=program).order_by("pk").first()
    member_services.points_adjust(member=member, points=25, reason="Sorry for the wait", created_by=staff)
    page = _page(browser, live_server, staff, 1280)

    page.goto(f"/admin/members/member/{member.pk}/change/")
    page.get_by_role("link", name="360° view").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text(member.number)
    for section in ("Profile and consents", "Points ledger", "Purchases", "Survey answers", "Audit trail"):
        expect(page.get_by_role("heading", name=section)).to_be_visible()
    expect(page.get_by_role("cell", name="Sorry for the wait", exact=True)).to_be_visible()  # the ledger
    assert _axe_violations(page) == []
    page.screenshot(path=str(tmp_path / "admin-member-360.png"))
    page.get_by_role("button", name="Adjust points").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Adjust points")


def test_segment_builder_counts_while_editing(browser, live_server, program, staff):
    everyone = Member.objects.filter(status=Member.Status.ACTIVE).count()
    page = _page(browser, live_server, staff, 1440)
    page.goto("/admin/campaigns/segment/add/")
    count = page.locator("#segment-live [data-count]")
    expect(count).to_have_text(str(everyone))

    page.locator("#id_rules-0-kind").select_option("balance")
    page.locator("#id_rules-0-minimum").fill("1")
    buyers = Member.objects.filter(points_available__gte=1).count()
    assert 0 < buyers < everyone or buyers == everyone
    expect(count).to_have_text(str(buyers))
    page.locator("#id_rules-0-negate").check()
    expect(count).to_have_text(str(everyone - buyers))
    expect(page.locator("#segment-live [data-sample]")).not_to_be_empty()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 1440, f"the rule editor is {width}px wide in a 1,440 px window"
    assert Member.objects.count() and not page.url.endswith("/change/")  # nothing was saved


def _shown(block) -> set[str]:
    """The parameter fields a rule block shows."""
    names = ("values", "days", "minimum", "maximum", "date_from", "date_to", "tier", "partner", "plan", "program")
    return {name for name in names if block.locator(f".fieldBox.field-{name}").is_visible()}


@pytest.mark.parametrize("width", [1280, 375])
def test_segment_builder_shows_the_fields_of_the_chosen_rule_kind(browser, live_server, program, staff, width):
    page = _page(browser, live_server, staff, width)
    page.goto("/admin/campaigns/segment/add/")
    page.get_by_label("Name:").fill("Big balances")
    rule = page.locator(".segment-rules .inline-related:not(.empty-form)").first
    assert _shown(rule) == set()  # no kind chosen yet: only the kind, its group and negate

    kind = page.locator("#id_rules-0-kind")
    kind.select_option("balance")
    assert _shown(rule) == {"minimum", "maximum"}
    kind.select_option("monetary")
    assert _shown(rule) == {"days", "minimum", "maximum"}
    kind.select_option("enrolled")
    assert _shown(rule) == {"days", "date_from", "date_to"}
    kind.select_option("tier")
    assert _shown(rule) == {"tier"}
    kind.select_option("balance")
    page.locator("#id_rules-0-minimum").fill("100")

    page.get_by_role("button", name="Add another Segment rule").click()
    added = page.locator(".segment-rules .inline-related:not(.empty-form)").nth(1)
    page.locator("#id_rules-1-kind").select_option("language")
    assert _shown(added) == {"values"} and _shown(rule) == {"minimum", "maximum"}
    page.locator("#id_rules-1-values").fill("ro")
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 1, f"{width}px: {overflow}px of horizontal scroll"
    if width == 1280:
        assert _axe_violations(page) == []

    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    rules = Segment.objects.get(name="Big balances").rules.order_by("pk")
    assert [(r.kind, r.minimum, r.values) for r in rules] == [("balance", 100, ""), ("language", None, "ro")]
    page.context.close()


def test_segment_builder_without_javascript_shows_every_field_and_saves_what_the_kind_reads(
    browser, live_server, program, staff
):
    page = _page(browser, live_server, staff, 1280, javascript=False)
    page.goto("/admin/campaigns/segment/add/")
    expect(page.locator(".segment-rules-help")).to_contain_text("Each rule reads only the fields its kind names")
    page.get_by_label("Name:").fill("Recent buyers")
    rule = page.locator(".segment-rules .inline-related:not(.empty-form)").first
    assert {"values", "days", "minimum", "maximum", "date_from", "date_to"} <= _shown(rule)
    page.locator("#id_rules-0-kind").select_option("recency")
    page.locator("#id_rules-0-days").fill("30")
    page.locator("#id_rules-0-minimum").fill("5")  # read by other kinds, not this one
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    assert [(r.kind, r.days, r.minimum) for r in Segment.objects.get(name="Recent buyers").rules.all()] == [
        ("recency", 30, None)
    ]
    page.context.close()
