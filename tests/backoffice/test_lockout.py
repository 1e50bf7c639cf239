"""Staff password lockout on the admin login (django-axes): by user name and by client address, a
page in the admin's look, visible and liftable in the admin by program managers."""

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model

from backoffice.roles import PROGRAM_MANAGER, SUPPORT_AGENT

pytestmark = pytest.mark.django_db

PASSWORD = "staff-pass-123"


@pytest.fixture
def staff(db):
    return get_user_model().objects.create_user("agent", "agent@example.com", PASSWORD, is_staff=True)


def login(client, username: str, password: str, address: str = "203.0.113.7"):
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": username, "password": password, "otp_token": ""},
        REMOTE_ADDR=address,
    )


def fail(client, username: str, times: int, address: str = "203.0.113.7") -> None:
    for _ in range(times):
        response = login(client, username, "wrong-password", address)
        # The login form again, with its error; the failure that reaches the limit gets the lockout page.
        assert response.status_code in (200, 429)


def test_the_right_password_is_refused_after_too_many_wrong_ones(client, staff, settings):
    fail(client, staff.username, settings.AXES_FAILURE_LIMIT - 1)
    assert login(client, staff.username, "wrong-password").status_code == 429
    locked = login(client, staff.username, PASSWORD)
    assert locked.status_code == 429
    page = locked.content.decode()
    assert 'data-testid="admin-lockout"' in page
    assert "Fidelis loyalty back-office" in page  # the admin's header: its look, not a bare string
    assert "Try again in 15 minutes." in page
    assert "script-src 'self'" in locked["Content-Security-Policy"]  # the strict CSP stays
    assert client.get("/admin/").status_code == 302  # not signed in


def test_the_user_name_is_locked_from_any_address(client, staff, settings):
    for i in range(settings.AXES_FAILURE_LIMIT):
        fail(client, staff.username, 1, address=f"198.51.100.{i + 1}")
    assert login(client, staff.username, PASSWORD, address="192.0.2.50").status_code == 429


def test_an_address_guessing_many_user_names_is_locked_for_all(client, staff, settings):
    for i in range(settings.AXES_FAILURE_LIMIT):
        fail(client, f"nobody{i}", 1, address="198.51.100.9")
    assert login(client, staff.username, PASSWORD, address="198.51.100.9").status_code == 429
    assert login(client, staff.username, PASSWORD, address="192.0.2.50").status_code == 302  # elsewhere: fine


def test_a_success_below_the_limit_clears_the_count(client, staff, settings):
    fail(client, staff.username, settings.AXES_FAILURE_LIMIT - 1)
    assert login(client, staff.username, PASSWORD).status_code == 302
    client.logout()
    fail(client, staff.username, settings.AXES_FAILURE_LIMIT - 1)
    assert login(client, staff.username, PASSWORD).status_code == 302


def test_the_lockout_ends_after_the_cool_off(client, staff, settings, time_machine):
    time_machine.move_to("2026-03-02 10:00:00+00:00", tick=False)
    fail(client, staff.username, settings.AXES_FAILURE_LIMIT)
    assert login(client, staff.username, PASSWORD).status_code == 429
    time_machine.move_to("2026-03-02 10:16:00+00:00", tick=False)
    assert login(client, staff.username, PASSWORD).status_code == 302


def test_a_program_manager_sees_and_lifts_a_lockout_in_the_admin(client, staff, staff_user, settings):
    fail(client, staff.username, settings.AXES_FAILURE_LIMIT)
    assert login(client, staff.username, PASSWORD).status_code == 429

    manager = staff_user(PROGRAM_MANAGER)
    client.force_login(manager)
    listing = client.get("/admin/axes/accessattempt/?locked_out=yes")
    assert listing.status_code == 200
    assert staff.username in listing.content.decode()
    attempts = list(AccessAttempt.objects.filter(username=staff.username))
    response = client.post(
        "/admin/axes/accessattempt/",
        {"action": "delete_selected", "_selected_action": [a.pk for a in attempts], "post": "yes"},
    )
    assert response.status_code == 302
    assert not AccessAttempt.objects.filter(username=staff.username).exists()

    client.logout()
    assert login(client, staff.username, PASSWORD).status_code == 302


def test_support_agents_do_not_see_lockouts(client, staff_user):
    client.force_login(staff_user(SUPPORT_AGENT))
    assert client.get("/admin/axes/accessattempt/").status_code == 403
