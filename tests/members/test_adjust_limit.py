"""Manual points adjustments: limited per program (default POINTS_ADJUST_LIMIT) for staff without
members.adjust_points_unlimited, enforced in the service and shown as a form error in the admin."""

import pytest

from backoffice.roles import PROGRAM_MANAGER, SUPPORT_AGENT
from core.errors import DomainError
from members import services
from members.models import AuditEntry, LedgerEntry, Member
from tests.conftest import run_action

pytestmark = pytest.mark.django_db


def test_the_service_refuses_over_the_settings_limit_and_stores_nothing(staff_user, member, settings):
    settings.POINTS_ADJUST_LIMIT = 500
    agent = staff_user(SUPPORT_AGENT)

    services.points_adjust(member=member, points=500, reason="Missing points", created_by=agent)
    for points in (501, -501):
        with pytest.raises(DomainError) as refused:
            services.points_adjust(member=member, points=points, reason="Too generous", created_by=agent)
        assert refused.value.code == "over_adjust_limit" and "500" in refused.value.message

    assert Member.objects.get(pk=member.pk).points_available == 500
    assert LedgerEntry.objects.filter(member=member).count() == 1
    assert AuditEntry.objects.filter(action="points.adjust").count() == 1


def test_a_programs_own_limit_wins_over_the_setting(staff_user, member, settings):
    settings.POINTS_ADJUST_LIMIT = 10_000
    member.program.adjust_limit = 50
    member.program.save(update_fields=["adjust_limit"])
    agent = staff_user(SUPPORT_AGENT)

    with pytest.raises(DomainError):
        services.points_adjust(member=Member.objects.get(pk=member.pk), points=60, reason="Refund", created_by=agent)
    services.points_adjust(member=Member.objects.get(pk=member.pk), points=50, reason="Refund", created_by=agent)

    assert Member.objects.get(pk=member.pk).points_available == 50


def test_program_managers_and_superusers_are_not_limited(staff_user, member, admin_user, settings):
    settings.POINTS_ADJUST_LIMIT = 100
    manager = staff_user(PROGRAM_MANAGER)

    services.points_adjust(member=member, points=5_000, reason="Compensation", created_by=manager)
    services.points_adjust(member=member, points=-3_000, reason="Correction", created_by=admin_user)

    assert Member.objects.get(pk=member.pk).points_available == 2_000


def test_over_the_limit_in_the_admin_is_a_form_error_and_stores_nothing(client, staff_user, member, settings):
    settings.POINTS_ADJUST_LIMIT = 1_000
    client.force_login(staff_user(SUPPORT_AGENT))

    page = run_action(client, "members_member", "adjust_points", [member], apply="1", points=1_500, reason="Big")

    assert page.status_code == 200
    assert "You may adjust at most 1000 points at once" in page.content.decode()
    assert not LedgerEntry.objects.filter(member=member).exists()
    assert not AuditEntry.objects.exists()


def test_a_reason_is_required_in_the_admin(client, staff_user, member):
    client.force_login(staff_user(SUPPORT_AGENT))

    page = run_action(client, "members_member", "adjust_points", [member], apply="1", points=10, reason="  ")

    assert page.status_code == 200 and "This field is required." in page.content.decode()
    assert not LedgerEntry.objects.filter(member=member).exists()
