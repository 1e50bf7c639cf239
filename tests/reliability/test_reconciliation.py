"""The nightly reconciliation: ledger, vouchers and stock checked, each run recorded, staff emailed on a mismatch."""

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import F

from members import services
from members.models import Member, ReconciliationRun
from members.tasks import reconciliation_run
from rewards import services as rewards_services
from rewards.models import Voucher
from tests.rewards.conftest import RewardFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(db):
    """Who is told: superusers and auditors with an address; not other staff, not users without one."""
    User.objects.create_superuser("root", "root@example.com", "x")
    User.objects.create_superuser("nomail", "", "x")
    auditor = User.objects.create_user("audrey", "audrey@example.com", "x", is_staff=True)
    auditor.groups.add(Group.objects.get_or_create(name="auditor")[0])
    User.objects.create_user("agent", "agent@example.com", "x", is_staff=True)


@pytest.fixture
def redeemed(member):
    services.points_grant(member=member, points=300, reason="Welcome gift")
    reward = RewardFactory(program=member.program, points_cost=100, stock=5)
    return rewards_services.reward_redeem(member=member, reward=reward)


def test_a_clean_run_is_recorded_as_ok_and_emails_nobody(staff, redeemed, mailoutbox):
    assert reconciliation_run.delay().get() is True  # the task beat calls nightly

    run = ReconciliationRun.objects.get()
    assert run.ok and run.finished_at >= run.started_at
    assert run.counts == {"ledger": 0, "settlements": 0, "stock": 0, "vouchers": 0}
    assert run.mismatches == [] and run.alerted == []
    assert mailoutbox == []


def test_a_corrupted_balance_and_voucher_send_one_email_listing_both(staff, redeemed, mailoutbox, settings):
    settings.RECONCILIATION_EMAILS = ["ops@example.com", "ROOT@example.com"]
    member = redeemed.member
    Member.objects.filter(pk=member.pk).update(points_available=F("points_available") + 7)
    Voucher.objects.filter(redemption=redeemed).update(status=Voucher.Status.CANCELLED)

    with pytest.raises(CommandError) as failed:
        call_command("reconcile")  # by hand: same run, non-zero exit
    assert failed.value.returncode == 1

    run = ReconciliationRun.objects.get()
    assert not run.ok
    assert run.counts == {"ledger": 1, "settlements": 0, "stock": 0, "vouchers": 1}
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert sorted(mail.to) == ["audrey@example.com", "ops@example.com", "root@example.com"]
    assert sorted(run.alerted) == sorted(mail.to)
    assert "2 mismatch" in mail.subject
    assert f"[ledger] member {member.number}: cached balance 207, ledger sum 200" in mail.body
    voucher = Voucher.objects.get(redemption=redeemed)
    assert f"[vouchers] voucher {voucher.code} (id {voucher.pk}): cancelled although its redemption stands" in mail.body


def test_each_voucher_and_stock_problem_is_named(redeemed, mailoutbox, settings):
    settings.RECONCILIATION_EMAILS = ["ops@example.com"]
    other = services.member_enroll(program=redeemed.member.program, email="other@example.com")
    voucher = Voucher.objects.get(redemption=redeemed)
    Voucher.objects.filter(pk=voucher.pk).update(member=other, status=Voucher.Status.CONSUMED)

    reconciliation_run.delay()

    run = ReconciliationRun.objects.get()
    details = {m["detail"] for m in run.mismatches}
    assert details == {"held by another member than the one who redeemed it", "used, but with no time of use"}
    assert len(mailoutbox) == 1


def test_runs_are_read_only_in_admin(admin_client, redeemed):
    call_command("reconcile")
    run = ReconciliationRun.objects.get()
    page = admin_client.get(f"/admin/members/reconciliationrun/{run.pk}/change/")
    assert page.status_code == 200
    assert b"Save" not in page.content
    assert admin_client.get("/admin/members/reconciliationrun/add/").status_code == 403
    assert admin_client.get("/admin/members/reconciliationrun/").status_code == 200
