"""Wallet settings from the environment: a wallet half configured stops the start, and `manage.py
check` reads the certificates and keys, so a wrong password fails the deploy, not a member's download."""

import pytest

from tests.config.test_settings import ROOT, run
from tests.wallet import apple_wallet_files, google_wallet_files

NAMES = [
    "APPLE_WALLET_PASS_TYPE_ID",
    "APPLE_WALLET_TEAM_ID",
    "APPLE_WALLET_CERTIFICATE",
    "APPLE_WALLET_KEY",
    "APPLE_WALLET_KEY_PASSWORD",
    "APPLE_WALLET_WWDR_CERTIFICATE",
    "GOOGLE_WALLET_ISSUER_ID",
    "GOOGLE_WALLET_SERVICE_ACCOUNT_FILE",
]


def check(**env: str):
    return run(["manage.py", "check"], DEBUG="true", **env)


def test_a_wallet_half_configured_names_what_is_missing():
    apple = check(APPLE_WALLET_PASS_TYPE_ID="pass.org.example.test", APPLE_WALLET_TEAM_ID="TEAM123456")
    assert apple.returncode != 0
    assert "set APPLE_WALLET_CERTIFICATE, APPLE_WALLET_WWDR_CERTIFICATE too" in apple.stderr
    google = check(GOOGLE_WALLET_ISSUER_ID="3388000000012345678")
    assert google.returncode != 0 and "GOOGLE_WALLET_SERVICE_ACCOUNT_FILE" in google.stderr


def test_check_reads_the_certificates_and_keys(tmp_path):
    apple = {k: v for k, v in apple_wallet_files(tmp_path).items() if k != "root"}
    google, _public_key = google_wallet_files(tmp_path)
    good = check(**apple, **google)
    assert good.returncode == 0, good.stdout + good.stderr
    wrong_password = check(**(apple | {"APPLE_WALLET_KEY_PASSWORD": "not it"}))
    assert wrong_password.returncode != 0 and "wallet.E001" in wrong_password.stderr
    (tmp_path / "service-account.json").write_text("{}")
    broken_key = check(**google)
    assert broken_key.returncode != 0 and "GOOGLE_WALLET_SERVICE_ACCOUNT_FILE cannot be read" in broken_key.stderr


@pytest.mark.parametrize("name", NAMES)
def test_env_example_documents_every_wallet_variable(name):
    assert f"{name}=" in (ROOT / ".env.example").read_text()
