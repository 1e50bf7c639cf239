"""Helpers for building dated histories: every write runs with the clock set to its date."""

import itertools
from datetime import datetime
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from members import services
from members.metrics import Scope
from tests.conftest import MemberFactory

_external_ids = itertools.count(1)


def at(year: int, month: int, day: int, hour: int = 12) -> datetime:
    return timezone.make_aware(datetime(year, month, day, hour))


def enroll(program, when: datetime, **fields):
    with time_machine.travel(when, tick=False):
        return MemberFactory(program=program, **fields)


def buy(member, when: datetime, amount: str, categories=(), partner=None):
    with time_machine.travel(when, tick=False):
        purchase, _ = services.purchase_record(
            member=member,
            partner=partner,
            external_id=f"order-{next(_external_ids)}",
            amount=Decimal(amount),
            currency=member.program.currency,
            occurred_at=when,
            items=[{"sku": f"sku-{c}", "category": c, "price": amount} for c in categories],
        )
    return purchase


def on(when: datetime, service, **kwargs):
    """Run a members service with the clock at `when`."""
    with time_machine.travel(when, tick=False):
        return service(**kwargs)


@pytest.fixture
def scope_of():
    def make(program, start, end, **filters):
        return Scope(program=program, start=start, end=end, **filters)

    return make
