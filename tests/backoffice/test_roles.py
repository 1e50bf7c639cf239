"""Each staff role can do its job in the admin, and nothing more (backoffice/roles.py)."""

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.urls import reverse

from backoffice.roles import ANALYST, AUDITOR, PROGRAM_MANAGER, ROLES, SUPPORT_AGENT, staff_groups_sync
from campaigns.models import Campaign
from feedback import services as feedback_services
from feedback.models import Ticket
from members import services
from members.admin.forms import LOYALTY_FIELDS
from members.models import AuditEntry, LedgerEntry, Member, Program, Tier
from tests.campaigns.conftest import CampaignFactory
from tests.conftest import MemberFactory, run_action
from tests.rewards.conftest import RewardFactory

from .conftest import actions_offered

pytestmark = pytest.mark.django_db

FORBIDDEN = 403


def url(name: str, *args) -> str:
    return reverse(f"admin:{name}", args=args)


def program_post(program: Program, **changes) -> dict:
    """The program change form as the browser posts it (no tier rows)."""
    data = {
        "name": program.name,
        "slug": program.slug,
        "currency": program.currency,
        "points_name_en": program.points_name,  # translated: one field per language, English required
        "brand_color": program.brand_color,
        "brand_accent": program.brand_accent,
        "earn_rate": program.earn_rate,
        "rounding": program.rounding,
        "welcome_bonus": program.welcome_bonus,
        "pending_days": program.pending_days,
        "expiry_policy": program.expiry_policy,
        "expiry_months": program.expiry_months,
        "expiry_notice_days": program.expiry_notice_days,
        "referral_mode": program.referral_mode,
        "referral_referrer_points": program.referral_referrer_points,
        "referral_referee_points": program.referral_referee_points,
        "referral_steps": "[]",
        "referral_min_purchase": program.referral_min_purchase,
        "burn_rate": program.burn_rate,
        "burn_min_order": program.burn_min_order,
        "tier_notice_days": program.tier_notice_days,
        "adjust_limit": "",
        "backdate_days": program.backdate_days,
        "max_purchase_amount": program.max_purchase_amount,
        "max_purchase_points": program.max_purchase_points,
        "receipt_claim_days": program.receipt_claim_days,
        "transfer_max_points": program.transfer_max_points,
        "transfer_min_points": program.transfer_min_points,
        "household_max_members": program.household_max_members,
        "household_tier_mode": program.household_tier_mode,
        "max_member_daily_points": program.max_member_daily_points,
        "time_zone": program.time_zone,
        **{name: getattr(program, name) for name in LOYALTY_FIELDS},
        "tiers-TOTAL_FORMS": 0,
        "tiers-INITIAL_FORMS": 0,
        "tiers-MIN_NUM_FORMS": 0,
        "tiers-MAX_NUM_FORMS": 1000,
    }
    return {**data, **changes}


def test_the_four_groups_exist_and_hold_only_their_permissions():
    assert set(Group.objects.values_list("name", flat=True)) >= {PROGRAM_MANAGER, SUPPORT_AGENT, ANALYST, AUDITOR}
    assert set(ROLES) == {PROGRAM_MANAGER, SUPPORT_AGENT, ANALYST, AUDITOR}
    auditor = set(Group.objects.get(name=AUDITOR).permissions.values_list("content_type__app_label", "codename"))
    assert auditor == {
        ("members", "view_ledgerentry"),
        ("members", "view_auditentry"),
        ("members", "view_reviewcase"),
        ("members", "view_reconciliationrun"),
        ("members", "view_pendingadjustment"),
        ("coalition", "view_partnerrate"),
        ("coalition", "view_settlementstatement"),
        ("coalition", "view_settlementline"),
        ("admin", "view_logentry"),
        ("axes", "view_accessattempt"),
        ("axes", "view_accesslog"),
        ("axes", "view_accessfailurelog"),
    }
    for role in ROLES:
        codenames = set(Group.objects.get(name=role).permissions.values_list("codename", flat=True))
        # Nobody but a superuser writes the audit trail, staff accounts, groups or API keys.
        assert not codenames & {"add_auditentry", "change_auditentry", "delete_auditentry"}
        assert not any(c.endswith(("_user", "_group", "_permission", "_partnerapikey")) for c in codenames), role


def test_program_manager_configures_programs_catalog_campaigns_and_surveys(client, staff_user, program):
    user = staff_user(PROGRAM_MANAGER)
    client.force_login(user)
    campaign = CampaignFactory(program=program)
    member = MemberFactory(program=program)

    for page in (
        url("members_program_change", program.pk),
        url("members_tier_add"),
        url("members_earningrule_add"),
        url("members_membershipplan_add"),
        url("rewards_reward_add"),
        url("rewards_challenge_add"),
        url("campaigns_campaign_add"),
        url("campaigns_segment_add"),
        url("feedback_survey_add"),
        url("members_member_changelist"),
    ):
        assert client.get(page).status_code == 200, page

    response = client.post(url("members_program_change", program.pk), program_post(program, name="Renamed"))
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Program.objects.get(pk=program.pk).name == "Renamed"
    response = client.post(
        url("members_tier_add"),
        {
            "program": program.pk,
            "name_en": "Gold",
            "level": 2,
            "metric": "spend",
            "window": "lifetime",
            "threshold": "1000",
            "earn_multiplier": "1.5",
            "color": "#d4af37",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Tier.objects.filter(program=program, name="Gold").exists()
    run_action(client, "campaigns_campaign", "launch", [campaign])  # leads to the confirmation page
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.DRAFT
    client.post(reverse("admin:campaigns_campaign_launch", args=[campaign.pk]))
    assert Campaign.objects.get(pk=campaign.pk).status != Campaign.Status.DRAFT
    # Past the per-user limit (the unlimited permission); past the confirm and approval thresholds
    # (issue 16) a confirmation, then a second staff member: tests/members/test_adjust_approval.py.
    run_action(
        client, "members_member", "adjust_points", [member], apply="1", points=5_000, reason="Goodwill", confirm="on"
    )
    assert Member.objects.get(pk=member.pk).points_available == 5_000
    assert client.get("/admin/").context.get("dashboard_form") is not None

    # ... but not the tickets, staff accounts, API keys, the audit trail or exports.
    for page in (
        url("feedback_ticket_changelist"),
        url("auth_user_changelist"),
        url("members_partnerapikey_changelist"),
        url("members_auditentry_changelist"),
        url("admin_logentry_changelist"),
        url("members_member_export"),
        "/admin/dashboard/members.csv",
    ):
        assert client.get(page).status_code == FORBIDDEN, page


def test_support_agent_views_members_adjusts_points_and_handles_tickets(client, staff_user, program):
    user = staff_user(SUPPORT_AGENT)
    client.force_login(user)
    member = MemberFactory(program=program)
    ticket = feedback_services.ticket_open(member=member, subject="Lost card", body="Help", channel="member_page")

    assert client.get(url("members_member_changelist")).status_code == 200
    assert client.get(url("members_member_change", member.pk)).status_code == 200
    assert client.get(url("members_ledgerentry_changelist")).status_code == 200
    assert actions_offered(client, "members_member") == {"adjust_points", "gdpr_export"}
    run_action(client, "members_member", "adjust_points", [member], apply="1", points=300, reason="Missing receipt")
    assert Member.objects.get(pk=member.pk).points_available == 300

    assert client.get(url("feedback_ticket_change", ticket.pk)).status_code == 200
    run_action(client, "feedback_ticket", "assign_to_me", [ticket])
    assert Ticket.objects.get(pk=ticket.pk).assignee == user

    # Nothing else: no profile edits, suspensions, tier moves, configuration, catalog, campaigns, dashboard.
    assert client.post(url("members_member_change", member.pk), {"email": "x@example.com"}).status_code == FORBIDDEN
    run_action(client, "members_member", "suspend", [member])
    assert Member.objects.get(pk=member.pk).status == Member.Status.ACTIVE
    for page in (
        url("members_program_change", program.pk),
        url("members_tier_add"),
        url("members_earningrule_changelist"),
        url("rewards_reward_changelist"),
        url("campaigns_campaign_changelist"),
        url("feedback_survey_changelist"),
        url("members_auditentry_changelist"),
        url("members_member_export"),
        "/admin/dashboard/members.csv",
    ):
        assert client.get(page).status_code == FORBIDDEN, page
    assert client.get(f"/admin/?program={program.pk}").context.get("dashboard_form") is None


def test_analyst_reads_the_dashboard_and_exports_and_changes_nothing(client, staff_user, program):
    user = staff_user(ANALYST)
    client.force_login(user)
    member = MemberFactory(program=program)
    campaign = CampaignFactory(program=program)
    reward = RewardFactory(program=program)
    query = f"program={program.pk}&period=custom&start=2026-03-01&end=2026-03-31"

    assert client.get(f"/admin/?{query}").context.get("dashboard") is not None
    csv = client.get(f"/admin/dashboard/members.csv?{query}")
    assert csv.status_code == 200 and csv["Content-Type"].startswith("text/csv")
    assert client.get(url("members_member_export")).status_code == 200
    for page in (
        url("members_member_change", member.pk),
        url("rewards_reward_change", reward.pk),
        url("campaigns_campaign_change", campaign.pk),
        url("members_ledgerentry_changelist"),
        url("feedback_ticket_changelist"),
    ):
        assert client.get(page).status_code == 200, page

    # Read-only: no writes, no write actions.
    assert actions_offered(client, "members_member") == {"gdpr_export"}
    assert actions_offered(client, "campaigns_campaign") == set()
    assert actions_offered(client, "feedback_ticket") == set()
    run_action(client, "members_member", "adjust_points", [member], apply="1", points=5, reason="x")
    run_action(client, "campaigns_campaign", "launch", [campaign])
    launch = client.post(reverse("admin:campaigns_campaign_launch", args=[campaign.pk]))
    assert launch.status_code == FORBIDDEN
    assert Member.objects.get(pk=member.pk).points_available == 0
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.DRAFT
    for page in (url("members_program_add"), url("rewards_reward_add"), url("members_member_import")):
        assert client.get(page).status_code == FORBIDDEN, page
    assert client.post(url("rewards_reward_change", reward.pk), {"title": "x"}).status_code == FORBIDDEN
    assert client.get(url("rewards_grant", reward.pk)).status_code == FORBIDDEN
    for page in (url("members_auditentry_changelist"), url("auth_user_changelist"), url("admin_logentry_changelist")):
        assert client.get(page).status_code == FORBIDDEN, page


def test_auditor_reads_the_ledger_the_audit_trail_and_the_admin_log_only(client, staff_user, program, admin_user):
    member = MemberFactory(program=program)
    services.points_adjust(member=member, points=20, reason="Welcome back", created_by=admin_user)
    user = staff_user(AUDITOR)
    client.force_login(user)
    entry = AuditEntry.objects.get(action="points.adjust")

    assert client.get(url("members_ledgerentry_changelist")).status_code == 200
    assert client.get(url("members_ledgerentry_change", LedgerEntry.objects.get(member=member).pk)).status_code == 200
    listing = client.get(url("members_auditentry_changelist"))
    assert listing.status_code == 200 and f"member {member.number}" in listing.content.decode()
    assert client.get(url("members_auditentry_change", entry.pk)).status_code == 200
    assert client.get(url("admin_logentry_changelist")).status_code == 200

    for page in (
        url("members_member_changelist"),
        url("members_program_changelist"),
        url("rewards_reward_changelist"),
        url("feedback_ticket_changelist"),
        url("members_auditentry_add"),
        url("members_auditentry_delete", entry.pk),
        "/admin/dashboard/members.csv",
    ):
        assert client.get(page).status_code == FORBIDDEN, page
    assert client.post(url("members_auditentry_change", entry.pk), {"reason": "edited"}).status_code == FORBIDDEN
    assert AuditEntry.objects.get(pk=entry.pk).reason == "Welcome back"


def test_groups_follow_the_roles_after_every_migrate():
    """A permission taken away by hand, or a model added later, is set right by the post_migrate sync."""
    group = Group.objects.get(name=ANALYST)
    group.permissions.clear()

    staff_groups_sync(sender=apps.get_app_config("campaigns"))

    codenames = set(group.permissions.values_list("codename", flat=True))
    assert {"view_dashboard", "export_member", "view_campaign", "view_reward", "view_member"} <= codenames
    assert {c for c in codenames if not c.startswith("view_")} == {"export_member"}
