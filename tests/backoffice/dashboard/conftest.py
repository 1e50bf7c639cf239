"""Fixtures of the dashboard tests: a small program with numbers in every table, and a superuser."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import User

from members.models import Member
from tests.conftest import PartnerFactory, TierFactory, at, buy, enroll


@pytest.fixture
def demo(program):
    """A small program with tiers, a partner and some purchases, so every table has numbers."""
    TierFactory(program=program, name="Bronze", level=0)
    TierFactory(program=program, name="Gold", level=1, threshold=Decimal("10000"))
    shop = PartnerFactory(program=program)
    members = [enroll(program, at(2026, 1, 5)) for _ in range(3)]
    buy(members[0], at(2026, 2, 10), "100", ["grocery"], partner=shop)
    buy(members[0], at(2026, 3, 10), "50", ["coffee", "books"], partner=shop)
    buy(members[1], at(2026, 3, 12), "70", ["coffee"])
    Member.objects.filter(pk=members[2].pk).update(loyalty_type=Member.LoyaltyType.ADVOCATE)
    return program


@pytest.fixture
def superuser(db):
    return User.objects.create_superuser("boss", "boss@example.com", "pw")
