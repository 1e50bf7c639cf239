"""Abuse-control fixtures: a program with daily limits, held purchases, and the members ledger check."""

from decimal import Decimal

import pytest
from django.core.cache import cache

from members import services
from members.models import Program, ReviewCase
from tests.conftest import PartnerFactory, ProgramFactory

# The members conftest above gives `clock` and the autouse clean-`ledger_check` at the end of each test.
from tests.members.conftest import assert_ledger_consistent, buy  # noqa: F401 - used as .conftest by the tests here


@pytest.fixture(autouse=True)
def _fresh_cache():
    """The partner's settled daily totals live in the cache; each test starts without any."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def program(db):
    # RO: the phones in these tests are typed the local way (0721...), as a Romanian shop would.
    return ProgramFactory(
        pending_days=0, referral_referrer_points=150, referral_referee_points=100, default_region="RO"
    )


@pytest.fixture
def partner(program):
    return PartnerFactory(program=program)


def limits(program: Program, **values) -> Program:
    """Set daily limits (member_daily_earns=..., partner_daily_points=...) and return the fresh program."""
    Program.objects.filter(pk=program.pk).update(**values)
    return Program.objects.get(pk=program.pk)


def record(member, amount, *, partner=None, external_id):
    purchase, _ = services.purchase_record(
        member=member, partner=partner, external_id=external_id, amount=Decimal(str(amount)), currency="EUR"
    )
    return purchase


def open_cases(**filters):
    return ReviewCase.objects.filter(status=ReviewCase.Status.OPEN, **filters)
