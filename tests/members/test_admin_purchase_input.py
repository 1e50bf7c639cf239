"""Staff side of issue 16's partner-input rules: the program's ceilings in admin, and the rule
simulator checking its basket against the order total like the API does."""

from decimal import Decimal

import pytest
from django.urls import reverse

from members.models import Program

pytestmark = pytest.mark.django_db

SIMULATE = "admin:members_earningrule_simulate"


def test_program_admin_edits_the_back_dating_window_and_the_ceilings(admin_client, program):
    url = reverse("admin:members_program_change", args=[program.pk])
    page = admin_client.get(url)
    assert "Ceilings on purchases" in page.content.decode()
    initial = page.context["adminform"].form.initial
    data = {k: v for k, v in initial.items() if v is not None and k != "logo"}  # no file: nothing to post
    data.update({"tiers-TOTAL_FORMS": "0", "tiers-INITIAL_FORMS": "0"})
    assert (data["backdate_days"], data["max_purchase_points"]) == (30, 1_000_000)
    data.update(
        {
            "backdate_days": "7",
            "max_purchase_amount": "5000.00",
            "max_purchase_points": "800",
            "max_member_daily_points": "0",
        }
    )
    refused = admin_client.post(url, data)
    assert refused.status_code == 200
    assert "max_member_daily_points" in refused.context["adminform"].form.errors
    data["max_member_daily_points"] = "3000"
    assert admin_client.post(url, data).status_code == 302
    program.refresh_from_db()
    assert (program.backdate_days, program.max_purchase_amount) == (7, Decimal("5000.00"))
    assert (program.max_purchase_points, program.max_member_daily_points) == (800, 3000)


def test_simulator_refuses_a_basket_that_does_not_add_up_to_the_total(admin_client, program):
    response = admin_client.post(
        reverse(SIMULATE), {"program": program.pk, "amount": "1.00", "basket": "C-1, coffee, 50, 100.00"}
    )
    assert response.status_code == 200
    assert response.context["result"] is None
    assert "The items add up to 5000.00 but the amount is 1.00" in response.content.decode()


def test_simulator_takes_shipping_tax_and_discount_lines(admin_client, program):
    basket = "C-1, coffee, 1, 90\nSHIP, , 1, 5, shipping\nVAT, , 1, 15, tax\nPROMO, , 1, -10, discount"
    response = admin_client.post(reverse(SIMULATE), {"program": program.pk, "amount": "100", "basket": basket})
    assert response.context["result"].points == 80  # products 90 less the 10 discount
    assert Program.objects.get(pk=program.pk).max_purchase_points == 1_000_000
