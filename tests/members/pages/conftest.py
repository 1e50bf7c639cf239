"""Fixtures for the member pages: a program with tiers, a signed-in member, purchases; Chromium for
the browser tests (test_browser*.py)."""

import os
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.utils import translation

from members import auth
from members.models import Program, Tier
from tests.conftest import PartnerFactory, ProgramFactory
from tests.members.conftest import buy  # noqa: F401 - shared with the page tests
from tests.wallet import apple_wallet, google_wallet  # noqa: F401 - wallet certificates, for the card and vouchers


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Sign-in rate limits live in the cache; each test starts with none spent."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _english():
    """A request leaves its language active in the thread; translated model fields (reward titles)
    written by the next test would then land in that language's column."""
    translation.activate("en")
    yield
    translation.activate("en")


@pytest.fixture
def program(db):
    program = ProgramFactory(
        is_default=True,
        welcome_bonus=200,
        expiry_policy=Program.Expiry.FIXED,
        expiry_months=12,
        referral_mode=Program.Referral.SINGLE,
        referral_referrer_points=150,
        referral_referee_points=100,
    )
    Tier.objects.create(program=program, name="Insider", level=0, threshold=0, color="#6b7280")
    Tier.objects.create(
        program=program,
        name="Silver",
        level=1,
        threshold=Decimal("500"),
        earn_multiplier=Decimal("1.5"),
        benefits="Free shipping",
    )
    return program


@pytest.fixture
def partner(program):
    return PartnerFactory(program=program, name="Corner Shop")


def signup(program, email="ana@example.com", **kwargs):
    return auth.member_signup(program=program, email=email, first_name=kwargs.pop("first_name", "Ana"), **kwargs)


@pytest.fixture
def member(program):
    return signup(program)


@pytest.fixture
def member_client(client, member):
    client.force_login(member.user)
    return client


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"


@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"needs Chromium at {CHROMIUM} (apt-get install chromium)")
    # Playwright's sync API runs an event loop in this thread; the ORM calls the test makes between
    # page actions are still plain synchronous calls.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()
