"""Staff set partners' rates and read closed statements in admin; nobody edits a closed one."""

from datetime import date

import pytest
from django.urls import reverse

from backoffice.roles import AUDITOR, PROGRAM_MANAGER, SUPPORT_AGENT
from coalition.services import settlement_close
from tests.conftest import MemberFactory, at, buy, on, run_action

pytestmark = pytest.mark.django_db


@pytest.fixture
def statements(coalition):
    program, shop, pharmacy = coalition
    member = on(at(2026, 1, 2), MemberFactory, program=program)
    buy(member, at(2026, 1, 10), "100.00", partner=shop)
    for month in (1, 2, 3):
        settlement_close(program=program, month=date(2026, month, 1), now=at(2026, 4, 1))
    return program, shop, pharmacy


def test_the_statement_list_and_detail_stay_cheap_and_read_only(
    admin_client, statements, django_assert_max_num_queries
):
    _, shop, _ = statements
    with django_assert_max_num_queries(12):
        page = admin_client.get(reverse("admin:coalition_settlementstatement_changelist"))
    assert page.status_code == 200 and page.context["cl"].result_count == 6
    jan = shop.settlements.get(month=date(2026, 1, 1))
    detail = admin_client.get(reverse("admin:coalition_settlementstatement_change", args=[jan.pk]))
    assert detail.status_code == 200 and b"Points issued" in detail.content
    assert not detail.context["has_change_permission"] and not detail.context["has_delete_permission"]
    posted = admin_client.post(reverse("admin:coalition_settlementstatement_change", args=[jan.pk]), {})
    assert posted.status_code == 403


def test_the_export_action_gives_the_statements_as_csv(admin_client, statements):
    _, shop, _ = statements
    chosen = shop.settlements.order_by("month")
    response = run_action(admin_client, "coalition_settlementstatement", "export_csv", chosen)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = response.content.decode().splitlines()
    assert rows[0] == "partner,month,line,corrects,period,points,amount,currency,paid_by"
    assert rows[1] == "Shop,2026-01,issued,,2026-01,100,1.00,EUR,partner"
    assert "Shop,2026-01,balance,,2026-01,,1.00,EUR,partner" in rows
    assert sum(",balance," in row for row in rows) == 3  # one per statement


def test_program_managers_set_rates_auditors_read_statements_support_sees_neither(client, staff_user, statements):
    rates = reverse("admin:coalition_partnerrate_add")
    listing = reverse("admin:coalition_settlementstatement_changelist")
    client.force_login(staff_user(PROGRAM_MANAGER))
    assert client.get(rates).status_code == 200 and client.get(listing).status_code == 200
    client.force_login(staff_user(AUDITOR))
    assert client.get(rates).status_code == 403 and client.get(listing).status_code == 200
    client.force_login(staff_user(SUPPORT_AGENT))
    assert client.get(listing).status_code == 403
