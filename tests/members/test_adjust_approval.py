"""Large manual adjustments: the admin asks to confirm above POINTS_ADJUST_CONFIRM_ABOVE; above the
program's approval threshold a second staff member approves (never the requester); all audited.
Lifetime points count adjustments net, so a corrected slip leaves no trace in them."""

import pytest
from django.urls import reverse

from backoffice.roles import PROGRAM_MANAGER
from core.errors import DomainError
from members import services
from members.models import AuditEntry, LedgerEntry, Member, PendingAdjustment
from tests.conftest import run_action

pytestmark = pytest.mark.django_db


def fresh(member) -> Member:
    return Member.objects.get(pk=member.pk)


def test_a_large_adjustment_asks_for_confirmation_showing_the_amount(admin_client, member, settings):
    settings.POINTS_ADJUST_CONFIRM_ABOVE = 1_000
    settings.POINTS_ADJUST_APPROVAL_ABOVE = 10**8

    page = run_action(
        admin_client, "members_member", "adjust_points", [member], apply="1", points=2_000_000, reason="Goodwill"
    )

    assert page.status_code == 200
    assert "+2,000,000 points for each of 1 members (+2,000,000 in all): tick to confirm." in page.content.decode()
    assert not LedgerEntry.objects.filter(member=member).exists()

    run_action(
        admin_client,
        "members_member",
        "adjust_points",
        [member],
        apply="1",
        points=2_000_000,
        reason="Goodwill",
        confirm="on",
    )
    assert fresh(member).points_available == 2_000_000


def test_above_the_program_threshold_a_second_staff_member_approves(client, staff_user, admin_user, member):
    member.program.adjust_approval_above = 5_000
    member.program.save(update_fields=["adjust_approval_above"])
    first, second = staff_user(PROGRAM_MANAGER, "first"), staff_user(PROGRAM_MANAGER, "second")
    client.force_login(first)

    page = run_action(
        client,
        "members_member",
        "adjust_points",
        [member],
        apply="1",
        points=20_000,
        reason="Migration fix",
        confirm="on",
    )

    assert page.status_code == 302
    pending = PendingAdjustment.objects.get()
    assert (pending.points, pending.status, pending.requested_by) == (20_000, "pending", first)
    assert fresh(member).points_available == 0
    with pytest.raises(DomainError) as refused:  # nor can the service be called around the admin
        services.points_adjust(member=member, points=20_000, reason="Migration fix", created_by=first)
    assert refused.value.code == "approval_required"

    # The requester cannot approve their own adjustment.
    client.post(
        reverse("admin:members_pendingadjustment_changelist"), {"action": "approve", "_selected_action": [pending.pk]}
    )
    assert fresh(member).points_available == 0
    assert PendingAdjustment.objects.get().status == "pending"

    client.force_login(second)
    client.post(
        reverse("admin:members_pendingadjustment_changelist"), {"action": "approve", "_selected_action": [pending.pk]}
    )

    pending.refresh_from_db()
    assert (pending.status, pending.decided_by) == ("approved", second)
    assert fresh(member).points_available == 20_000
    assert list(AuditEntry.objects.order_by("id").values_list("action", "actor__username")) == [
        ("points.adjust_requested", "first"),
        ("points.adjust_approved", "second"),
    ]


def test_a_rejected_adjustment_moves_nothing(staff_user, member):
    member.program.adjust_approval_above = 100
    member.program.save(update_fields=["adjust_approval_above"])
    first, second = staff_user(PROGRAM_MANAGER, "first"), staff_user(PROGRAM_MANAGER, "second")
    pending = services.points_adjust_request(member=member, points=500, reason="Typo?", created_by=first)

    with pytest.raises(DomainError) as refused:
        services.points_adjust_reject(adjustment=pending, rejected_by=first)
    assert refused.value.code == "own_adjustment"
    services.points_adjust_reject(adjustment=pending, rejected_by=second, note="Wrong member")

    assert PendingAdjustment.objects.get().status == "rejected"
    assert fresh(member).points_available == 0 and not LedgerEntry.objects.exists()
    with pytest.raises(DomainError):
        services.points_adjust_approve(adjustment=pending, approved_by=second)


def test_a_corrected_adjustment_is_netted_out_of_lifetime_points(admin_user, member):
    services.points_grant(member=member, points=300, reason="Challenge")
    services.points_adjust(member=member, points=5_000, reason="Slip", created_by=admin_user)
    assert fresh(member).points_lifetime == 5_300

    services.points_adjust(member=fresh(member), points=-5_000, reason="Correcting the slip", created_by=admin_user)

    assert fresh(member).points_lifetime == 300
    assert fresh(member).points_available == 300
