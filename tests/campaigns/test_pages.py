"""The member's "My offers" page shows their own open offers and codes, nobody else's."""

from datetime import datetime

import pytest
import time_machine
from django.urls import reverse

from campaigns import services
from campaigns.models import Offer
from members import auth
from tests.campaigns.conftest import CampaignFactory, OfferFactory


@pytest.fixture
def signed_in(client, program):
    member = auth.member_signup(program=program, email="ana@example.com", first_name="Ana", consent_email=True)
    client.force_login(member.user)
    return member


def test_my_offers_lists_open_codes_and_hides_others(client, program, signed_in, consenting, on_commit):
    other = consenting()
    voucher = OfferFactory(program=program, title="25% off shoes", valid_days=7)
    bonus = OfferFactory(program=program, kind=Offer.Kind.BONUS, title="150 bonus points", points=150)
    with time_machine.travel(datetime.fromisoformat("2026-05-01T10:00:00+00:00"), tick=False), on_commit():
        services.campaign_launch(campaign=CampaignFactory(program=program, offer=voucher))
        services.campaign_launch(campaign=CampaignFactory(program=program, offer=bonus))
    mine = signed_in.offer_grants.get(offer=voucher)
    theirs = other.offer_grants.get(offer=voucher)

    with time_machine.travel(datetime.fromisoformat("2026-05-03T10:00:00+00:00"), tick=False):
        html = client.get(reverse("campaigns:offers")).content.decode()
    assert "25% off shoes" in html and mine.code in html and theirs.code not in html
    assert "150 bonus points" in html and "Applied automatically" in html
    # the till scans the offer's code from the QR code or the barcode; a bonus has no code to scan
    assert f'aria-label="QR code of offer {mine.code}"' in html and f'aria-label="Barcode of offer {mine.code}"' in html
    assert html.count('data-testid="offer-barcode"') == 1

    with time_machine.travel(datetime.fromisoformat("2026-05-09T10:00:00+00:00"), tick=False):
        html = client.get(reverse("campaigns:offers")).content.decode()
    assert mine.code not in html  # expired after 7 days


def test_my_offers_needs_a_signed_in_member(client):
    response = client.get(reverse("campaigns:offers"))
    assert response.status_code == 302 and "signin" in response.url
