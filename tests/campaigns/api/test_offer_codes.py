"""Campaign offer codes at a partner's till: checked and used like reward vouchers, idempotent,
with a clear 4xx for unknown, used, expired, other-program and not-a-checkout codes."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from campaigns import services
from campaigns.models import Offer, OfferGrant
from tests.campaigns.conftest import CampaignFactory, OfferFactory

URL = "/api/v1/offer-codes"
ORDER = {"order_reference": "ORD-9", "order_total": "42.00"}


@pytest.fixture
def issue(program, consenting, on_commit):
    """A campaign with one offer sent to a new member; returns the member's grant."""

    def make(**offer):
        member = consenting()
        campaign = CampaignFactory(program=program, offer=OfferFactory(program=program, **offer))
        with on_commit():
            services.campaign_launch(campaign=campaign)
        return OfferGrant.objects.select_related("offer").get(member=member)

    return make


def test_a_discount_code_is_checked_then_used_once_safely(api, issue):
    grant = issue(min_amount=Decimal("20"))
    checked = api.get(f"{URL}/{grant.code.lower()}?order_total=42.00")
    assert checked.status_code == 200
    body = checked.json()
    assert (body["status"], body["percent"], body["offer"]["kind"], body["min_order_value"]) == (
        "issued",
        "25.00",
        "discount",
        "20.00",
    )
    assert api.get(f"{URL}/{grant.code}?order_total=19.99").json()["error"]["code"] == "order_below_minimum"

    used = api.post(f"{URL}/{grant.code}/consume", ORDER, format="json")
    assert used.status_code == 200
    assert (used.json()["status"], used.json()["order_reference"]) == ("consumed", "ORD-9")
    again = api.post(f"{URL}/{grant.code}/consume", ORDER, format="json")  # a retry: unchanged
    assert again.status_code == 200 and again.json() == used.json()
    other_order = api.post(f"{URL}/{grant.code}/consume", {**ORDER, "order_reference": "ORD-10"}, format="json")
    assert (other_order.status_code, other_order.json()["error"]["code"]) == (409, "already_redeemed")
    assert api.get(f"{URL}/{grant.code}").json()["error"]["code"] == "already_redeemed"
    grant.refresh_from_db()
    assert grant.status == OfferGrant.Status.REDEEMED  # the campaign's results count it


@pytest.mark.parametrize("kind", [Offer.Kind.FREE_SHIPPING, Offer.Kind.GIFT])
def test_free_shipping_and_gift_codes_are_used_the_same_way(api, issue, kind):
    grant = issue(kind=kind, discount_percent=0)
    body = api.post(f"{URL}/{grant.code}/consume", ORDER, format="json").json()
    assert (body["status"], body["offer"]["kind"], body["percent"]) == ("consumed", kind, None)


def test_another_partner_of_the_program_gets_already_redeemed(api, other_api, issue):
    grant = issue()
    assert api.post(f"{URL}/{grant.code}/consume", ORDER, format="json").status_code == 200
    response = other_api.post(f"{URL}/{grant.code}/consume", ORDER, format="json")
    assert (response.status_code, response.json()["error"]["code"]) == (409, "already_redeemed")


def test_unknown_expired_and_other_program_codes(api, foreign_api, issue):
    grant = issue(valid_days=7)
    assert api.get(f"{URL}/NOPE").status_code == 404
    assert foreign_api.get(f"{URL}/{grant.code}").status_code == 404
    assert foreign_api.post(f"{URL}/{grant.code}/consume", ORDER, format="json").status_code == 404
    with time_machine.travel(timezone.now() + timedelta(days=8)):
        response = api.post(f"{URL}/{grant.code}/consume", ORDER, format="json")
    assert (response.status_code, response.json()["error"]["code"]) == (409, "expired")
    grant.refresh_from_db()
    assert grant.status == OfferGrant.Status.ISSUED


def test_bonus_offers_are_not_checkout_codes(api, issue):
    grant = issue(kind=Offer.Kind.BONUS, points=100, discount_percent=0)
    response = api.get(f"{URL}/{grant.code}")
    assert (response.status_code, response.json()["error"]["code"]) == (409, "not_a_checkout_code")


def test_bad_input_is_a_400(api, issue):
    grant = issue()
    response = api.post(f"{URL}/{grant.code}/consume", {"order_reference": "ORD-1"}, format="json")
    assert response.status_code == 400
    assert "order_total" in response.json()["error"]["fields"]
    assert api.get(f"{URL}/{grant.code}?order_total=abc").status_code == 400
