"""The codes as a member's phone shows them, in Debian's Chromium: screenshots of the member card on
the dashboard and of a voucher page, at desktop and phone widths, read back by zbar (a real decoder),
QR code and Code 128 barcode each. The screenshots are saved in test-artifacts/."""

import pytest
from playwright.sync_api import expect

from rewards.services import reward_redeem
from tests.members.pages.conftest import ARTIFACTS, buy, signup
from tests.members.pages.test_browser import _sign_in_with_password, demo  # noqa: F401 - the demo fixture
from tests.scanner import scan

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


# A phone's screen has 2 to 3 device pixels per CSS pixel; a desktop's often 1.
@pytest.mark.parametrize(("width", "scale"), [(1280, 1), (375, 2)])
def test_card_and_voucher_on_screen_scan_to_their_numbers(browser, live_server, demo, width, scale):  # noqa: F811
    member = signup(demo, email="ion@example.com", password="correct horse battery")
    buy(member, 60)
    voucher = reward_redeem(member=member, reward=demo.rewards.get(title="Free coffee")).voucher
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": width, "height": 900}, device_scale_factor=scale
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        _sign_in_with_password(page, "ion@example.com", "correct horse battery")
        page.wait_for_load_state("networkidle")  # the program's stylesheet too: no layout shift mid-shot
        shown = {
            "qr": page.get_by_test_id("card-qr").screenshot(),
            "barcode": page.get_by_test_id("card-barcode").screenshot(),
        }
        assert scan(shown["qr"]) == [("QR-Code", member.number)]
        assert scan(shown["barcode"]) == [("CODE-128", member.number)]
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"member-card-{width}.png"), full_page=True)

        page.goto(f"/rewards/vouchers/{voucher.pk}/")
        page.wait_for_load_state("networkidle")
        expect(page.get_by_test_id("voucher-code")).to_be_visible()
        assert scan(page.locator(".voucher__qr").screenshot()) == [("QR-Code", voucher.code)]
        assert scan(page.get_by_test_id("voucher-barcode").screenshot()) == [("CODE-128", voucher.code)]
        page.screenshot(path=str(ARTIFACTS / f"voucher-{width}.png"), full_page=True)
    finally:
        context.close()
