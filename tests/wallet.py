"""Throw-away certificates and keys for the wallet tests, made with `cryptography`: a root CA standing
in for Apple's, a WWDR-like intermediate, and a pass certificate with its password-protected key;
and a Google service-account key file. Plus the checks every pass gets: structure, manifest hashes,
and a signature that openssl verifies against the root."""

import hashlib
import io
import json
import shutil
import subprocess
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID

PASS_TYPE_ID = "pass.org.example.fidelis-test"
TEAM_ID = "TEAM123456"
KEY_PASSWORD = "pass-key-password"
OPENSSL = shutil.which("openssl")


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _certificate(subject: str, key, issuer: x509.Certificate | None, issuer_key, *, ca: bool, uid: str = ""):
    names = [x509.NameAttribute(NameOID.COMMON_NAME, subject)]
    if uid:
        names.insert(0, x509.NameAttribute(NameOID.USER_ID, uid))
    name = x509.Name(names)
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer.subject if issuer else name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .sign(issuer_key or key, hashes.SHA256())
    )


def apple_wallet_files(folder: Path) -> dict:
    """Writes root.pem, wwdr.cer (DER, as Apple hands it out), pass.pem and pass.key (encrypted);
    returns the settings that point at them, and the root's path under "root"."""
    root_key, wwdr_key, pass_key = _key(), _key(), _key()
    root = _certificate("Test Root CA", root_key, None, None, ca=True)
    wwdr = _certificate("Test WWDR Intermediate", wwdr_key, root, root_key, ca=True)
    cert = _certificate(f"Pass Type ID: {PASS_TYPE_ID}", pass_key, wwdr, wwdr_key, ca=False, uid=PASS_TYPE_ID)
    (folder / "root.pem").write_bytes(root.public_bytes(serialization.Encoding.PEM))
    (folder / "wwdr.cer").write_bytes(wwdr.public_bytes(serialization.Encoding.DER))
    (folder / "pass.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "pass.key").write_bytes(
        pass_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(KEY_PASSWORD.encode()),
        )
    )
    return {
        "APPLE_WALLET_PASS_TYPE_ID": PASS_TYPE_ID,
        "APPLE_WALLET_TEAM_ID": TEAM_ID,
        "APPLE_WALLET_CERTIFICATE": str(folder / "pass.pem"),
        "APPLE_WALLET_KEY": str(folder / "pass.key"),
        "APPLE_WALLET_KEY_PASSWORD": KEY_PASSWORD,
        "APPLE_WALLET_WWDR_CERTIFICATE": str(folder / "wwdr.cer"),
        "root": str(folder / "root.pem"),
    }


def google_wallet_files(folder: Path) -> tuple[dict, object]:
    """A service-account JSON key like the one Google Cloud gives; returns settings and the public key."""
    key = _key()
    account = {
        "type": "service_account",
        "client_email": "wallet@fidelis-test.iam.gserviceaccount.com",
        "private_key_id": "key-1",
        "private_key": key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode(),
    }
    (folder / "service-account.json").write_text(json.dumps(account))
    config = {
        "GOOGLE_WALLET_ISSUER_ID": "3388000000012345678",
        "GOOGLE_WALLET_SERVICE_ACCOUNT_FILE": str(folder / "service-account.json"),
    }
    return config, key.public_key()


@pytest.fixture
def apple_wallet(settings, tmp_path):
    files = apple_wallet_files(tmp_path)
    for name, value in files.items():
        if name != "root":
            setattr(settings, name, value)
    return files


@pytest.fixture
def google_wallet(settings, tmp_path):
    config, public_key = google_wallet_files(tmp_path)
    for name, value in config.items():
        setattr(settings, name, value)
    return public_key


def pkpass_open(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def pkpass_verified(data: bytes, root: str, folder: Path) -> dict:
    """Checks what Wallet checks and returns pass.json: the files, the manifest's SHA-1 of each of
    them, and the detached signature of the manifest (openssl, against the test root CA)."""
    files = pkpass_open(data)
    assert {"pass.json", "manifest.json", "signature", "icon.png", "icon@2x.png"} <= set(files)
    manifest = json.loads(files["manifest.json"])
    assert set(manifest) == set(files) - {"manifest.json", "signature"}
    assert all(manifest[name] == hashlib.sha1(files[name]).hexdigest() for name in manifest)  # noqa: S324
    signed_by = pkcs7.load_der_pkcs7_certificates(files["signature"])
    assert {c.subject.rfc4514_string() for c in signed_by} == {
        f"CN=Pass Type ID: {PASS_TYPE_ID},UID={PASS_TYPE_ID}",
        "CN=Test WWDR Intermediate",
    }
    assert signature_verifies(files["signature"], files["manifest.json"], root, folder)
    return json.loads(files["pass.json"])


def signature_verifies(signature: bytes, content: bytes, root: str, folder: Path) -> bool:
    if OPENSSL is None:
        pytest.skip("needs openssl to verify the PKCS#7 signature")
    (folder / "signature").write_bytes(signature)
    (folder / "manifest.json").write_bytes(content)
    command = [OPENSSL, "smime", "-verify", "-binary", "-inform", "DER", "-in", str(folder / "signature")]
    command += ["-content", str(folder / "manifest.json"), "-CAfile", root, "-purpose", "any", "-out", "/dev/null"]
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=30,
    )
    return done.returncode == 0
