"""Wallet passes, whatever they carry: Apple Wallet `.pkpass` files signed with the program's pass
certificate, and Google Wallet "save" links (a JWT signed with a service-account key). What goes on a
pass (a member card, a voucher) is decided by the app that owns it; this module only packages and
signs. Both are off until configured (README "Member card and wallet passes").

A `.pkpass` is a zip of pass.json, its images, manifest.json (the SHA-1 of every other file) and
`signature`: a detached PKCS#7 signature of manifest.json by the pass certificate, carrying Apple's
WWDR intermediate certificate so Wallet can check the chain.
"""

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs7, pkcs12
from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpResponse
from PIL import Image, ImageDraw

GOOGLE_SAVE_URL = "https://pay.google.com/gp/v/save/"
# Wallet draws the icon in notifications and the lock screen: 29 pt at 1x, 2x and 3x.
ICON_SIZES = {"icon.png": 29, "icon@2x.png": 58, "icon@3x.png": 87}


# --- Apple Wallet ---


@dataclass(frozen=True)
class AppleSigner:
    pass_type_id: str
    team_id: str
    certificate: x509.Certificate
    key: object  # the private key of `certificate` (RSA from Apple; EC works too)
    wwdr: x509.Certificate


def apple_wallet_enabled() -> bool:
    return bool(settings.APPLE_WALLET_PASS_TYPE_ID)


def _read_certificate(path: str) -> x509.Certificate:
    data = Path(path).read_bytes()
    # Apple's portal hands out DER (.cer); openssl and most guides give PEM: take either.
    return x509.load_pem_x509_certificate(data) if b"-----BEGIN" in data else x509.load_der_x509_certificate(data)


@lru_cache(maxsize=4)
def _load_signer(pass_type_id: str, team_id: str, certificate: str, key: str, password: str, wwdr: str) -> AppleSigner:
    secret = password.encode() or None
    try:
        if key:
            cert = _read_certificate(certificate)
            private_key = serialization.load_pem_private_key(Path(key).read_bytes(), secret)
        else:  # a .p12 exported from Keychain Access holds both
            private_key, cert, _extra = pkcs12.load_key_and_certificates(Path(certificate).read_bytes(), secret)
        wwdr_cert = _read_certificate(wwdr)
    except (OSError, ValueError, TypeError) as exc:
        raise ImproperlyConfigured(f"Apple Wallet certificates cannot be read: {exc}") from exc
    if cert is None or private_key is None:
        raise ImproperlyConfigured("APPLE_WALLET_CERTIFICATE holds no certificate and key.")
    if cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ) != private_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ):
        raise ImproperlyConfigured("APPLE_WALLET_KEY is not the key of APPLE_WALLET_CERTIFICATE.")
    return AppleSigner(pass_type_id, team_id, cert, private_key, wwdr_cert)


def apple_signer() -> AppleSigner:
    return _load_signer(
        settings.APPLE_WALLET_PASS_TYPE_ID,
        settings.APPLE_WALLET_TEAM_ID,
        settings.APPLE_WALLET_CERTIFICATE,
        settings.APPLE_WALLET_KEY,
        settings.APPLE_WALLET_KEY_PASSWORD,
        settings.APPLE_WALLET_WWDR_CERTIFICATE,
    )


def pass_icon_png(size: int, color: str) -> bytes:
    """A plain round icon in the program's colour (Wallet refuses a pass without icon.png)."""
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    ImageDraw.Draw(image).ellipse((0, 0, size - 1, size - 1), fill=color)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def manifest_sign(manifest: bytes, signer: AppleSigner) -> bytes:
    """The detached PKCS#7 (DER) signature of manifest.json, with the WWDR certificate inside."""
    return (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(manifest)
        .add_signer(signer.certificate, signer.key, hashes.SHA256())
        .add_certificate(signer.wwdr)
        .sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary])
    )


def pass_barcodes(message: str, *, shown: str) -> list[dict]:
    """The QR code and the Code 128 barcode of a pass. Wallet draws the first one it can: the QR code
    (a watch cannot draw Code 128); `shown` is the text under it."""
    return [
        {"format": fmt, "message": message, "messageEncoding": "iso-8859-1", "altText": shown}
        for fmt in ("PKBarcodeFormatQR", "PKBarcodeFormatCode128")
    ]


def pkpass_build(fields: dict, *, organization: str, color: str) -> bytes:
    """A signed `.pkpass` from the pass's own fields (serialNumber, description, the style key such
    as storeCard or coupon, barcodes, ...): the identifiers come from settings, the organization
    names the pass and heads its front, white text on `color`."""
    signer = apple_signer()
    document = {"formatVersion": 1, "passTypeIdentifier": signer.pass_type_id, "teamIdentifier": signer.team_id}
    document |= {"organizationName": organization, "logoText": organization, "backgroundColor": rgb(color)}
    document |= {"foregroundColor": "rgb(255, 255, 255)", "labelColor": "rgb(255, 255, 255)"}
    files = {"pass.json": json.dumps(document | fields, ensure_ascii=False, indent=1).encode()}
    files |= {name: pass_icon_png(size, color) for name, size in ICON_SIZES.items()}
    manifest = json.dumps({name: hashlib.sha1(data).hexdigest() for name, data in files.items()}).encode()  # noqa: S324 - Apple's manifest format is SHA-1
    files |= {"manifest.json": manifest, "signature": manifest_sign(manifest, signer)}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return out.getvalue()


def pkpass_response(data: bytes, *, filename: str) -> HttpResponse:
    """The download Safari hands to Wallet (it goes by the content type)."""
    response = HttpResponse(data, content_type="application/vnd.apple.pkpass")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def rgb(color: str) -> str:
    """#4338ca as Wallet writes colours: rgb(67, 56, 202)."""
    value = color.lstrip("#")
    return "rgb({}, {}, {})".format(*(int(value[i : i + 2], 16) for i in (0, 2, 4)))


# --- Google Wallet ---


@dataclass(frozen=True)
class GoogleAccount:
    issuer_id: str
    client_email: str
    private_key: str
    key_id: str


def google_wallet_enabled() -> bool:
    return bool(settings.GOOGLE_WALLET_ISSUER_ID)


@dataclass(frozen=True)
class WalletButtons:
    """Which "add to wallet" buttons a page shows: only the configured ones."""

    apple: bool
    google: bool


def wallet_buttons() -> WalletButtons:
    return WalletButtons(apple_wallet_enabled(), google_wallet_enabled())


@lru_cache(maxsize=4)
def _load_account(issuer_id: str, path: str) -> GoogleAccount:
    try:
        key = json.loads(Path(path).read_text())
        account = GoogleAccount(issuer_id, key["client_email"], key["private_key"], key.get("private_key_id", ""))
        serialization.load_pem_private_key(account.private_key.encode(), None)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ImproperlyConfigured(f"GOOGLE_WALLET_SERVICE_ACCOUNT_FILE cannot be read: {exc}") from exc
    return account


def google_account() -> GoogleAccount:
    return _load_account(settings.GOOGLE_WALLET_ISSUER_ID, settings.GOOGLE_WALLET_SERVICE_ACCOUNT_FILE)


def google_object_id(suffix: str) -> str:
    """Class and object ids are "<issuer id>.<our id>", our id made of letters, digits, . _ -."""
    return f"{google_account().issuer_id}.{suffix}"


def google_save_url(payload: dict) -> str:
    """The "Save to Google Wallet" link for classes and objects, e.g. {"loyaltyClasses": [...],
    "loyaltyObjects": [...]}: Google creates or updates them when the member saves the pass."""
    account = google_account()
    claims = {
        "iss": account.client_email,
        "aud": "google",
        "typ": "savetowallet",
        "iat": int(datetime.now(UTC).timestamp()),
        "origins": [settings.SITE_URL],
        "payload": payload,
    }
    headers = {"kid": account.key_id} if account.key_id else None
    return GOOGLE_SAVE_URL + jwt.encode(claims, account.private_key, algorithm="RS256", headers=headers)


# --- startup check ---


def check_wallet_configuration(**kwargs) -> list[checks.CheckMessage]:
    """`manage.py check` (and every server start) reads the configured certificates and keys, so a
    wrong path or password shows at deploy time, not as a member's failed download."""
    errors = []
    for enabled, load in ((apple_wallet_enabled, apple_signer), (google_wallet_enabled, google_account)):
        if enabled():
            try:
                load()
            except ImproperlyConfigured as exc:
                errors.append(checks.Error(str(exc), id="wallet.E001"))
    return errors
