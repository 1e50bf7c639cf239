"""The member card on the dashboard: the number a till scans, as a QR code and a Code 128 barcode
that a real decoder reads and that the partner API finds the member by; its Apple Wallet pass
(signed with throw-away certificates, checked like Wallet does) and its Google Wallet link (a JWT
verified with the service account's public key)."""

import io
from pathlib import Path

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from django.urls import reverse
from PIL import Image

from core import barcodes
from core.wallet import GOOGLE_SAVE_URL, check_wallet_configuration
from members import card
from members.models import Member
from tests.conftest import client_for
from tests.scanner import scan
from tests.wallet import (
    KEY_PASSWORD,
    PASS_TYPE_ID,
    TEAM_ID,
    pkpass_open,
    pkpass_verified,
    signature_verifies,
)

pytestmark = pytest.mark.django_db


def test_dashboard_shows_the_card_number_as_a_qr_code_and_a_barcode(member_client, member):
    page = member_client.get("/")
    codes = page.context["card"].codes
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


# --- wallet passes ---


def test_no_wallet_buttons_or_passes_until_configured(member_client):
    text = member_client.get("/").text
    assert "Add to Apple Wallet" not in text and "Save to Google Wallet" not in text
    assert member_client.get(reverse("members:card_apple")).status_code == 404
    assert member_client.get(reverse("members:card_google")).status_code == 404


def test_the_apple_wallet_card_is_signed_and_carries_the_card_number(member_client, member, apple_wallet, tmp_path):
    assert "Add to Apple Wallet" in member_client.get("/").text
    response = member_client.get(reverse("members:card_apple"))
    assert response.status_code == 200 and response["Content-Type"] == "application/vnd.apple.pkpass"
    document = pkpass_verified(response.content, apple_wallet["root"], tmp_path)
    assert (document["passTypeIdentifier"], document["teamIdentifier"]) == (PASS_TYPE_ID, TEAM_ID)
    assert document["serialNumber"] == f"member-{member.number}" and document["organizationName"] == member.program.name
    assert [(b["format"], b["message"]) for b in document["barcodes"]] == [
        ("PKBarcodeFormatQR", member.number),
        ("PKBarcodeFormatCode128", member.number),
    ]
    assert document["storeCard"]["primaryFields"] == [{"key": "points", "label": "Points", "value": 200}]
    # a pass changed after signing no longer verifies
    files = pkpass_open(response.content)
    forged = files["manifest.json"].replace(b'"pass.json": "', b'"pass.json": "0')
    assert not signature_verifies(files["signature"], forged, apple_wallet["root"], tmp_path)


def test_a_keychain_p12_works_as_the_certificate_and_key(member_client, member, apple_wallet, settings, tmp_path):
    key = serialization.load_pem_private_key(Path(apple_wallet["APPLE_WALLET_KEY"]).read_bytes(), KEY_PASSWORD.encode())
    cert = x509.load_pem_x509_certificate(Path(apple_wallet["APPLE_WALLET_CERTIFICATE"]).read_bytes())
    p12 = tmp_path / "pass.p12"
    p12.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"pass", key, cert, None, serialization.BestAvailableEncryption(KEY_PASSWORD.encode())
        )
    )
    settings.APPLE_WALLET_CERTIFICATE, settings.APPLE_WALLET_KEY = str(p12), ""
    response = member_client.get(reverse("members:card_apple"))
    assert (
        pkpass_verified(response.content, apple_wallet["root"], tmp_path)["serialNumber"] == f"member-{member.number}"
    )


def test_a_wrong_key_password_fails_the_startup_check(apple_wallet, settings):
    assert check_wallet_configuration() == []
    settings.APPLE_WALLET_KEY_PASSWORD = "not it"
    errors = check_wallet_configuration()
    assert [e.id for e in errors] == ["wallet.E001"] and "cannot be read" in errors[0].msg


def test_the_google_wallet_link_is_a_jwt_signed_with_the_service_account(
    member_client, member, google_wallet, settings
):
    assert "Save to Google Wallet" in member_client.get("/").text
    response = member_client.get(reverse("members:card_google"))
    assert response.status_code == 302 and response.url.startswith(GOOGLE_SAVE_URL)
    token = response.url.removeprefix(GOOGLE_SAVE_URL)
    assert jwt.get_unverified_header(token)["kid"] == "key-1"
    claims = jwt.decode(token, google_wallet, algorithms=["RS256"], audience="google")
    assert claims["iss"] == "wallet@fidelis-test.iam.gserviceaccount.com" and claims["typ"] == "savetowallet"
    assert claims["origins"] == [settings.SITE_URL]
    (loyalty_class,) = claims["payload"]["loyaltyClasses"]
    (loyalty_object,) = claims["payload"]["loyaltyObjects"]
    assert loyalty_object["classId"] == loyalty_class["id"] == f"3388000000012345678.{member.program.slug}-card"
    assert loyalty_object["barcode"] == {"type": "QR_CODE", "value": member.number, "alternateText": member.number}
    assert loyalty_object["loyaltyPoints"]["balance"] == {"int": 200}
    assert loyalty_class["programLogo"]["sourceUri"]["uri"] == settings.SITE_URL + reverse("members:card_logo")
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, other_key, algorithms=["RS256"], audience="google")


def test_the_card_logo_is_public(client):
    response = client.get(reverse("members:card_logo"))
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert Image.open(io.BytesIO(response.content)).size == (660, 660)


def test_the_card_pass_speaks_the_members_language(member_client, member, apple_wallet, tmp_path):
    Member.objects.filter(pk=member.pk).update(language="ro")
    document = pkpass_verified(member_client.get(reverse("members:card_apple")).content, apple_wallet["root"], tmp_path)
    assert document["description"] == f"Cardul de membru {member.program.name}"
    assert document["storeCard"]["auxiliaryFields"][0]["label"] == "Numărul cardului"
    assert document["storeCard"]["primaryFields"][0]["label"] == "Puncte"
