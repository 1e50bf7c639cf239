"""Staff two-factor sign-in (django-otp TOTP) with real codes computed from the device key."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

pytestmark = pytest.mark.django_db

PASSWORD = "staff-pass-123"


def code(device: TOTPDevice, drift: int = 0) -> str:
    """The code an authenticator app shows now (drift=1: the next 30-second step, which the device
    also accepts, for a second code within one step)."""
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=drift):06d}"


@pytest.fixture
def staff(db):
    return get_user_model().objects.create_user("agent", "agent@example.com", PASSWORD, is_staff=True)


@pytest.fixture
def superuser(db):
    return get_user_model().objects.create_superuser("boss", "boss@example.com", PASSWORD)


def login(client, user, token: str = ""):
    return client.post(
        "/admin/login/?next=/admin/", {"username": user.username, "password": PASSWORD, "otp_token": token}
    )


def enrol(client) -> TOTPDevice:
    page = client.get("/admin/2fa/")
    assert page.status_code == 200
    assert 'data-testid="two-factor-qr"><svg' in page.content.decode()  # the QR code, inline
    device = TOTPDevice.objects.get(user=page.wsgi_request.user, confirmed=False)
    assert device.config_url.startswith("otpauth://totp/Fidelis%3A") or "issuer=Fidelis" in device.config_url
    response = client.post("/admin/2fa/", {"token": code(device)})
    assert response.status_code == 302, response.content.decode()
    device.refresh_from_db()
    assert device.confirmed
    return device


def test_staff_enrols_from_the_admin_and_the_login_then_asks_for_the_code(client, staff):
    assert login(client, staff).status_code == 302  # no device yet: password alone
    page = client.get("/admin/2fa/")
    pending = TOTPDevice.objects.get(user=staff)
    assert pending.confirmed is False
    wrong = client.post("/admin/2fa/", {"token": "000000" if code(pending) != "000000" else "111111"})
    assert wrong.status_code == 200 and "not valid" in wrong.content.decode()
    assert 'data-testid="two-factor-qr"><svg' in page.content.decode()
    pending.refresh_from_db()
    pending.throttle_reset()  # the wrong code started django-otp's delay; the user would wait a second
    device = enrol(client)
    assert client.get("/admin/").status_code == 200  # verified by the enrolment itself

    client.logout()
    without = login(client, staff)
    assert without.status_code == 200
    assert "Enter the code from your authenticator app." in without.content.decode()
    bad = login(client, staff, "000000" if code(device, 1) != "000000" else "111111")
    assert bad.status_code == 200 and "not valid" in bad.content.decode()
    assert client.get("/admin/").status_code == 302  # still signed out
    device.refresh_from_db()
    device.throttle_reset()  # as above: the bad code started the delay a real user would wait out
    good = login(client, staff, code(device, drift=1))
    assert good.status_code == 302 and good["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_a_used_code_cannot_sign_in_again(client, staff):
    login(client, staff)
    device = enrol(client)
    client.logout()
    token = code(device, drift=1)
    assert login(client, staff, token).status_code == 302
    client.logout()
    assert login(client, staff, token).status_code == 200  # replay refused


def test_failed_codes_are_throttled(client, staff, settings):
    """After a wrong code even the right one is refused for a while (django-otp's delay doubles with
    each failure; stretched to an hour here so the test does not depend on how fast it runs)."""
    settings.OTP_TOTP_THROTTLE_FACTOR = 3600
    login(client, staff)
    device = enrol(client)
    client.logout()
    login(client, staff, "999999" if code(device, 1) != "999999" else "888888")
    refused = login(client, staff, code(device, drift=1))
    assert refused.status_code == 200
    assert "Verification temporarily disabled" in refused.content.decode()
    device.refresh_from_db()
    assert device.throttling_failure_count == 1


def test_a_session_with_a_device_but_no_code_is_not_let_in(client, staff):
    """A password-only session (e.g. started before the device was enrolled elsewhere) must log in again."""
    client.force_login(staff)
    TOTPDevice.objects.create(user=staff, name="phone", confirmed=True)
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


def test_superuser_without_a_device_can_only_enrol_when_required(client, superuser, settings):
    settings.OTP_REQUIRED_FOR_SUPERUSERS = True
    assert login(client, superuser).status_code == 302
    for path in ["/admin/", "/admin/members/member/", "/admin/auth/user/", "/admin/password_change/"]:
        response = client.get(path)
        assert response.status_code == 302 and response["Location"] == "/admin/2fa/", path
    page = client.get("/admin/2fa/")
    assert "Superusers must use two-factor sign-in" in page.content.decode()
    enrol(client)
    assert client.get("/admin/members/member/").status_code == 200
    assert client.post("/admin/logout/").status_code == 200


def test_staff_without_a_device_are_not_forced_even_when_superusers_are(client, staff, settings):
    settings.OTP_REQUIRED_FOR_SUPERUSERS = True
    login(client, staff)
    assert client.get("/admin/").status_code == 200


def test_demo_superuser_logs_in_with_a_password_when_not_required(client, superuser, settings):
    """`make run` (DEBUG): OTP_REQUIRED_FOR_SUPERUSERS defaults to off, the demo login works as before."""
    settings.OTP_REQUIRED_FOR_SUPERUSERS = False
    assert login(client, superuser).status_code == 302
    assert client.get("/admin/").status_code == 200


def test_turning_two_factor_off_needs_a_current_code(client, staff):
    login(client, staff)
    device = enrol(client)
    refused = client.post("/admin/2fa/", {"token": "000000" if code(device, 1) != "000000" else "111111"})
    assert refused.status_code == 200
    assert TOTPDevice.objects.filter(user=staff, confirmed=True).exists()
    device.refresh_from_db()
    device.throttle_reset()
    assert client.post("/admin/2fa/", {"token": code(device, drift=1)}).status_code == 302
    assert not TOTPDevice.objects.filter(user=staff).exists()


def generate_recovery_codes(client, device: TOTPDevice) -> list[str]:
    device.refresh_from_db()
    page = client.post("/admin/2fa/", {"action": "recovery_codes", "recovery-token": code(device, drift=1)})
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="recovery-codes"' in html
    codes = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", html)
    assert len(codes) == 10
    return codes


def test_a_recovery_code_signs_in_once_instead_of_the_app_code(client, staff):
    login(client, staff)
    device = enrol(client)
    codes = generate_recovery_codes(client, device)
    later = client.get("/admin/2fa/").content.decode()
    assert not any(c in later for c in codes)  # shown once
    assert "You have 10 unused recovery codes." in later
    client.logout()

    assert login(client, staff, codes[0].upper()).status_code == 302  # as typed from the printout
    assert client.get("/admin/").status_code == 200  # the session is verified by the recovery code
    assert "You have 9 unused recovery codes." in client.get("/admin/2fa/").content.decode()
    client.logout()
    reused = login(client, staff, codes[0])
    assert reused.status_code == 200 and "not valid" in reused.content.decode()
    assert client.get("/admin/").status_code == 302


def test_a_new_set_of_recovery_codes_replaces_the_old_one_and_needs_a_current_code(client, staff, time_machine):
    login(client, staff)
    device = enrol(client)
    old = generate_recovery_codes(client, device)
    refused = client.post("/admin/2fa/", {"action": "recovery_codes", "recovery-token": old[1]})
    assert refused.status_code == 200 and "not valid" in refused.content.decode()
    assert 'data-testid="recovery-codes"' not in refused.content.decode()
    time_machine.move_to(timezone.now() + timedelta(minutes=2))  # the next codes of the app
    device.refresh_from_db()
    device.throttle_reset()
    new = generate_recovery_codes(client, device)
    assert not set(new) & set(old)
    client.logout()
    assert login(client, staff, old[1]).status_code == 200  # the old set no longer works
    time_machine.move_to(timezone.now() + timedelta(seconds=5))  # past the delay that failure started
    assert login(client, staff, new[1]).status_code == 302


def test_a_lost_phone_is_replaced_with_a_recovery_code_alone(client, staff):
    login(client, staff)
    device = enrol(client)
    codes = generate_recovery_codes(client, device)
    client.logout()
    assert login(client, staff, codes[0]).status_code == 302
    assert client.post("/admin/2fa/", {"token": codes[1]}).status_code == 302  # two-factor off
    assert not TOTPDevice.objects.filter(user=staff).exists()
    assert not StaticDevice.objects.filter(user=staff).exists()  # the remaining codes went with it
    enrol(client)  # a new phone
