"""The member card on the dashboard: the number a till scans, as a QR code and a Code 128 barcode
that a real decoder reads and that the partner API finds the member by."""

import pytest

from core import barcodes
from members import card
from tests.conftest import client_for
from tests.scanner import scan

pytestmark = pytest.mark.django_db


def test_dashboard_shows_the_card_number_as_a_qr_code_and_a_barcode(member_client, member):
    page = member_client.get("/")
    codes = page.context["card"]["codes"]
    assert codes.value == member.number
    text = page.text
    assert f'aria-label="QR code of your card {member.number}"' in text
    assert f'aria-label="Barcode of your card {member.number}"' in text
    assert "Your member card" in text


def test_what_the_till_scans_finds_the_member_through_the_partner_api(member, partner):
    number = card.card_number(member)
    scanned = [text for image in (barcodes.qr_png(number), barcodes.code128_png(number)) for _, text in scan(image)]
    assert scanned == [member.number, member.number]
    response = client_for(partner).get(f"/api/v1/members/{scanned[1]}/balance")
    assert response.status_code == 200, response.content
