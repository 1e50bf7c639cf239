"""Vouchers in Apple Wallet and Google Wallet: offered on the voucher page only when configured, only
for the member's own usable vouchers, carrying the code the till scans; the pass signed and checked
like Wallet does, the Google link verified with the service account's public key."""

from datetime import timedelta

import jwt
import pytest
from django.urls import reverse
from django.utils import timezone

from core.wallet import GOOGLE_SAVE_URL
from rewards.models import Voucher
from rewards.services import reward_redeem, voucher_code_display
from tests.members.pages.conftest import signup
from tests.rewards.conftest import RewardFactory
from tests.wallet import PASS_TYPE_ID, pkpass_verified

pytestmark = pytest.mark.django_db


@pytest.fixture
def voucher(member, program):
    reward = RewardFactory(program=program, title="Free coffee", points_cost=100, voucher_valid_days=30)
    return reward_redeem(member=member, reward=reward).voucher


def test_no_wallet_buttons_or_passes_until_configured(member_client, voucher):
    text = member_client.get(reverse("rewards:voucher", args=[voucher.pk])).text
    assert "Add to Apple Wallet" not in text and "Save to Google Wallet" not in text
    assert member_client.get(reverse("rewards:voucher_apple", args=[voucher.pk])).status_code == 404
    assert member_client.get(reverse("rewards:voucher_google", args=[voucher.pk])).status_code == 404


def test_the_apple_wallet_coupon_is_signed_and_carries_the_voucher_code(member_client, voucher, apple_wallet, tmp_path):
    assert "Add to Apple Wallet" in member_client.get(reverse("rewards:voucher", args=[voucher.pk])).text
    response = member_client.get(reverse("rewards:voucher_apple", args=[voucher.pk]))
    assert response["Content-Type"] == "application/vnd.apple.pkpass"
    document = pkpass_verified(response.content, apple_wallet["root"], tmp_path)
    assert document["passTypeIdentifier"] == PASS_TYPE_ID and document["serialNumber"] == f"voucher-{voucher.pk}"
    assert [(b["format"], b["message"], b["altText"]) for b in document["barcodes"]] == [
        ("PKBarcodeFormatQR", voucher.code, voucher_code_display(voucher.code)),
        ("PKBarcodeFormatCode128", voucher.code, voucher_code_display(voucher.code)),
    ]
    assert document["coupon"]["primaryFields"][0]["value"] == "Free coffee"
    assert document["expirationDate"] == voucher.expires_at.isoformat()


def test_used_or_someone_elses_vouchers_get_no_pass(
    member_client, member, program, voucher, apple_wallet, google_wallet
):
    other = reward_redeem(member=signup(program, email="other@example.com"), reward=voucher.reward).voucher
    Voucher.objects.filter(pk=voucher.pk).update(status=Voucher.Status.CONSUMED, consumed_at=timezone.now())
    page = member_client.get(reverse("rewards:voucher", args=[voucher.pk]))
    assert page.status_code == 200 and "Add to Apple Wallet" not in page.text
    for pk in (voucher.pk, other.pk):
        assert member_client.get(reverse("rewards:voucher_apple", args=[pk])).status_code == 404
        assert member_client.get(reverse("rewards:voucher_google", args=[pk])).status_code == 404


def test_the_google_wallet_offer_is_a_jwt_signed_with_the_service_account(member_client, voucher, google_wallet):
    response = member_client.get(reverse("rewards:voucher_google", args=[voucher.pk]))
    assert response.status_code == 302 and response.url.startswith(GOOGLE_SAVE_URL)
    claims = jwt.decode(
        response.url.removeprefix(GOOGLE_SAVE_URL), google_wallet, algorithms=["RS256"], audience="google"
    )
    (offer_class,) = claims["payload"]["offerClasses"]
    (offer,) = claims["payload"]["offerObjects"]
    assert offer["classId"] == offer_class["id"] and offer_class["title"] == "Free coffee"
    assert offer["barcode"]["value"] == voucher.code
    assert offer["validTimeInterval"]["end"]["date"] == voucher.expires_at.isoformat()
    assert voucher.expires_at - timezone.now() > timedelta(days=29)
