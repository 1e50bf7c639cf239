"""Fixtures for the member pages: a program with tiers, a signed-in member, purchases."""

from decimal import Decimal

import pytest
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
