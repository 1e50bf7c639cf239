"""The nightly reconciliation ties closed statements to the ledger of their month."""

from datetime import date

import pytest
import time_machine

from coalition.models import SettlementLine, SettlementStatement
from coalition.services import settlement_close
from members.reconciliation import reconciliation_run
from tests.conftest import MemberFactory, at, buy, on

pytestmark = pytest.mark.django_db
JAN, FEB = date(2026, 1, 1), date(2026, 2, 1)


def _settlement_mismatches() -> list[dict]:
    with time_machine.travel(at(2026, 2, 10), tick=False):
        run = reconciliation_run()
    return [m for m in run.mismatches if m["check"] == "settlements"]


@pytest.fixture
def january(coalition):
    program, shop, _ = coalition
    member = on(at(2026, 1, 2), MemberFactory, program=program)
    buy(member, at(2026, 1, 10), "100.00", partner=shop)
    settlement_close(program=program, month=JAN, now=at(2026, 2, 1))
    return program, shop, member


def test_closed_statements_that_match_the_ledger_pass(january):
    assert _settlement_mismatches() == []


def test_a_tampered_line_is_reported(january):
    _, shop, _ = january
    SettlementLine.objects.filter(statement__partner=shop, kind="issued").update(points=90)
    details = [m["detail"] for m in _settlement_mismatches()]
    assert any("points_issued is 100 but its lines add up to 90" in d for d in details)
    assert any("differs from the closed statements by +10 points" in d for d in details)


def test_a_tampered_total_is_reported(january):
    _, shop, _ = january
    SettlementStatement.objects.filter(partner=shop).update(partner_owes="0.50")
    (found,) = _settlement_mismatches()
    assert found["detail"] == "partner_owes is 0.50 but its lines add up to 1.00"


def test_an_entry_dated_into_a_closed_month_shows_until_the_next_close_carries_it(january):
    program, shop, member = january
    buy(member, at(2026, 1, 31), "50.00", partner=shop)
    (found,) = _settlement_mismatches()
    assert found["object"] == "Shop 2026-01 (issued)" and "+50 points, +0.50 EUR" in found["detail"]
    settlement_close(program=program, month=FEB, now=at(2026, 3, 1))
    assert _settlement_mismatches() == []
