"""The demo has rates for its partners and a year of closed statements that match the ledger."""

import pytest

from coalition import demo as coalition_demo
from coalition.checks import settlements_check
from coalition.models import PartnerRate, SettlementStatement
from members import demo as members_demo
from rewards import demo as rewards_demo

pytestmark = pytest.mark.django_db


def test_demo_closes_a_year_of_statements_once():
    members_demo.seed()
    rewards_demo.seed()
    coalition_demo.seed()
    program = members_demo.demo_program()
    statements = SettlementStatement.objects.filter(program=program)
    assert statements.values("month").distinct().count() == 12
    assert statements.filter(points_issued__gt=0).exists() and statements.filter(points_redeemed__gt=0).exists()
    assert statements.filter(points_redeemed_elsewhere__gt=0).exists()
    assert PartnerRate.objects.filter(partner__program=program).count() == 4
    assert settlements_check() == []
    before = statements.count()
    coalition_demo.seed()  # a second run adds nothing
    assert statements.count() == before and PartnerRate.objects.filter(partner__program=program).count() == 4
