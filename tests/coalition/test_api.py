"""GET /api/v1/settlements: a partner reads its own closed statements, as JSON or CSV."""

import csv
import io
from datetime import date

import pytest

from coalition.services import settlement_close
from tests.conftest import MemberFactory, at, buy, client_for, on

pytestmark = pytest.mark.django_db


@pytest.fixture
def closed(coalition):
    program, shop, pharmacy = coalition
    member = on(at(2026, 1, 2), MemberFactory, program=program)
    buy(member, at(2026, 1, 10), "100.00", partner=shop)
    settlement_close(program=program, month=date(2026, 1, 1), now=at(2026, 2, 1))
    settlement_close(program=program, month=date(2026, 2, 1), now=at(2026, 3, 1))
    return shop, pharmacy


def test_a_partner_lists_only_its_own_statements_newest_first(closed):
    shop, pharmacy = closed
    body = client_for(shop).get("/api/v1/settlements", {"page_size": 1}).json()
    assert [r["month"] for r in body["results"]] == ["2026-02-01"] and body["next"]
    second = client_for(shop).get(body["next"]).json()
    first = second["results"][0]
    assert (first["month"], first["points_issued"], first["partner_owes"], first["balance"]) == (
        "2026-01-01",
        100,
        "1.00",
        "1.00",
    )
    theirs = client_for(pharmacy).get("/api/v1/settlements").json()["results"]
    assert {r["id"] for r in theirs}.isdisjoint({first["id"]})


def test_a_statement_with_its_lines_and_no_one_elses(closed):
    shop, pharmacy = closed
    (jan,) = shop.settlements.filter(month=date(2026, 1, 1))
    response = client_for(shop).get(f"/api/v1/settlements/{jan.pk}")
    assert response.status_code == 200
    assert response.json()["lines"] == [
        {"kind": "issued", "adjusts": "", "period": "2026-01-01", "points": 100, "amount": "1.00", "paid_by": "partner"}
    ]
    refused = client_for(pharmacy).get(f"/api/v1/settlements/{jan.pk}")
    assert refused.status_code == 404 and refused.json()["error"]["code"] == "not_found"


def test_a_statement_as_csv_by_accept_header_or_format(closed):
    shop, _ = closed
    (jan,) = shop.settlements.filter(month=date(2026, 1, 1))
    api = client_for(shop)
    by_header = api.get(f"/api/v1/settlements/{jan.pk}", HTTP_ACCEPT="text/csv")
    by_format = api.get(f"/api/v1/settlements/{jan.pk}", {"format": "csv"})
    assert by_header["Content-Type"].startswith("text/csv") and by_header.content == by_format.content
    rows = list(csv.DictReader(io.StringIO(by_header.content.decode())))
    assert [(r["line"], r["points"], r["amount"], r["paid_by"]) for r in rows] == [
        ("issued", "100", "1.00", "partner"),
        ("total_partner_owes", "", "1.00", "partner"),
        ("total_program_owes", "", "0.00", "program"),
        ("balance", "", "1.00", "partner"),
    ]
    assert {r["partner"] for r in rows} == {"Shop"} and {r["month"] for r in rows} == {"2026-01"}
    missing = api.get("/api/v1/settlements/999999", {"format": "csv"})
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


def test_the_list_takes_a_fixed_number_of_queries(closed, django_assert_max_num_queries):
    shop, _ = closed
    api = client_for(shop)
    # The key's lookup and throttle, then one page query: no query per statement.
    with django_assert_max_num_queries(6):
        assert len(api.get("/api/v1/settlements").json()["results"]) == 2
