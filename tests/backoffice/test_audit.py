"""The audit trail: every staff change (admin and staff services) is recorded, nobody can edit it,
and it holds no personal data, so GDPR erasure keeps working."""

import json
from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from backoffice.roles import SUPPORT_AGENT
from campaigns.models import Campaign
from feedback import services as feedback_services
from members import services
from members.models import AuditEntry, EarningRule, Member, Program, Tier
from rewards import services as reward_services
from tests.campaigns.conftest import CampaignFactory
from tests.conftest import MemberFactory, TierFactory, run_action
from tests.rewards.conftest import RewardFactory

from .test_roles import program_post

pytestmark = pytest.mark.django_db


def trail(action: str, target=None) -> AuditEntry:
    entries = AuditEntry.objects.filter(action=action)
    if target is not None:
        entries = entries.filter(target_type=ContentType.objects.get_for_model(target), target_id=str(target.pk))
    return entries.get()


def test_admin_change_records_who_what_and_before_after(admin_client, admin_user, program):
    old_name = program.name
    response = admin_client.post(
        reverse("admin:members_program_change", args=[program.pk]),
        program_post(program, name="Gold Club", welcome_bonus=50),
    )
    assert response.status_code == 302

    entry = trail("admin.change", program)
    assert entry.actor == admin_user and entry.target_repr == "Gold Club"
    assert entry.changes["name"] == [old_name, "Gold Club"]
    assert entry.changes["welcome_bonus"] == [0, 50]
    assert timezone.now() - entry.at < timedelta(minutes=1)


def test_admin_add_and_delete_are_recorded_for_every_model(admin_client, admin_user, program):
    response = admin_client.post(
        reverse("admin:members_tier_add"),
        {"program": program.pk, "name_en": "Silver", "level": 1, "metric": "spend", "window": "lifetime",
         "threshold": "500", "earn_multiplier": "1.25", "color": "#c0c0c0"},
    )  # fmt: skip
    assert response.status_code == 302
    tier = Tier.objects.get(name="Silver")
    added = trail("admin.add", tier)
    assert added.changes["threshold"] == [None, "500"] and added.changes["name_en"] == [None, "Silver"]

    rule = EarningRule.objects.create(program=program, name="Double Tuesdays", kind="promotion", multiplier=2)
    response = admin_client.post(reverse("admin:members_earningrule_delete", args=[rule.pk]), {"post": "yes"})
    assert response.status_code == 302 and not EarningRule.objects.filter(pk=rule.pk).exists()
    deleted = trail("admin.delete", rule)
    assert deleted.actor == admin_user and deleted.target_repr == "Double Tuesdays"
    assert deleted.changes["name"] == ["Double Tuesdays", None]


def test_staff_services_record_points_tiers_rewards_and_reason(admin_user, program):
    member = MemberFactory(program=program)
    gold = TierFactory(program=program, level=2, name="Gold")

    services.points_adjust(member=member, points=120, reason="Lost receipt #4411", created_by=admin_user)
    services.tier_assign(member=member, tier=gold, until=None, created_by=admin_user, note="VIP customer")
    reward = RewardFactory(program=program)
    redemption = reward_services.surprise_grant(member=member, reward=reward, message="Sorry!", created_by=admin_user)
    reward_services.redemption_cancel(redemption=redemption, reason="Wrong reward", created_by=admin_user)

    adjust = trail("points.adjust", member)
    assert (adjust.actor, adjust.reason, adjust.target_repr) == (
        admin_user,
        "Lost receipt #4411",
        f"member {member.number}",
    )
    assert adjust.changes["points_available"] == [0, 120]
    assign = trail("tier.assign", member)
    assert assign.changes["tier"][1] == gold.pk and assign.reason == "VIP customer"
    grant = trail("reward.grant.surprise", redemption)
    assert grant.changes["reward"] == [None, reward.pk] and grant.changes["member"] == [None, member.number]
    cancel = trail("redemption.cancel", redemption)
    assert cancel.changes["status"] == ["completed", "cancelled"] and cancel.reason == "Wrong reward"


def test_campaign_launch_and_pause_from_the_admin_are_recorded(admin_client, admin_user, program):
    campaign = CampaignFactory(program=program, trigger="member.enrolled")
    run_action(admin_client, "campaigns_campaign", "launch", [campaign])  # leads to the confirmation page
    admin_client.post(reverse("admin:campaigns_campaign_launch", args=[campaign.pk]))
    run_action(admin_client, "campaigns_campaign", "pause", [campaign])

    launch, pause = trail("campaign.launch", campaign), trail("campaign.pause", campaign)
    assert launch.actor == admin_user and launch.changes["status"] == ["draft", Campaign.Status.ACTIVE]
    assert pause.changes["status"] == [Campaign.Status.ACTIVE, Campaign.Status.PAUSED]


def test_ticket_handling_by_staff_is_recorded_without_the_texts(admin_user, member):
    ticket = feedback_services.ticket_open(
        member=member, subject="My card 4929 is lost", body="Please call me", channel="member_page"
    )
    feedback_services.ticket_update(ticket=ticket, assignee=admin_user, by=admin_user)
    feedback_services.ticket_transition(ticket=ticket, status="in_progress", by=admin_user)
    feedback_services.ticket_reply(ticket=ticket, author=admin_user, body="A new card is on its way, Ana.")

    assert trail("ticket.update", ticket).changes["assignee"] == [None, admin_user.pk]
    assert trail("ticket.transition", ticket).changes["status"] == ["new", "in_progress"]
    assert trail("ticket.reply", ticket).target_repr == f"ticket {ticket.number}"
    dump = json.dumps(list(AuditEntry.objects.values("target_repr", "changes", "reason")))
    assert "4929" not in dump and "Ana" not in dump and "call me" not in dump


def test_the_trail_holds_no_personal_data_and_erasure_still_works(admin_client, admin_user, program):
    member = MemberFactory(program=program, email="maria.ionescu@example.com", first_name="Maria", phone="+40721111222")
    response = admin_client.post(
        reverse("admin:members_member_change", args=[member.pk]),
        {"email": "maria.new@example.com", "first_name": "Maria", "last_name": "Ionescu", "phone": "+40721111222",
         "birth_date": "1990-04-01", "language": "en", "external_id": "", "consent_email": "on",
         **inline_management()},
    )  # fmt: skip
    assert response.status_code == 302, response.context["adminform"].form.errors
    services.points_adjust(member=member, points=10, reason="Goodwill", created_by=admin_user)

    change = trail("admin.change", member)
    assert change.target_repr == f"member {member.number}"
    assert change.changes["email"] == [services.NOT_RECORDED, services.NOT_RECORDED]
    assert change.changes["consent_email"] == [False, True]  # a flag says nothing about who the person is
    dump = json.dumps(list(AuditEntry.objects.values("target_repr", "changes", "reason")))
    for personal in ("maria", "Maria", "Ionescu", "40721111222", "1990"):
        assert personal not in dump

    services.member_anonymize(member=member)  # nothing in the trail blocks or needs erasure

    assert Member.objects.get(pk=member.pk).status == Member.Status.ANONYMIZED
    assert AuditEntry.objects.filter(target_id=str(member.pk)).count() == 2
    # Django's own admin log named the member by full name; erasure leaves the number only.
    assert LogEntry.objects.get(object_id=str(member.pk)).object_repr == f"member {member.number}"


def inline_management() -> dict:
    """The member page's read-only inlines still post their management forms."""
    data = {}
    for prefix in ("ledger", "cards", "tier_changes", "subscriptions"):
        data.update({f"{prefix}-TOTAL_FORMS": 0, f"{prefix}-INITIAL_FORMS": 0, f"{prefix}-MAX_NUM_FORMS": 1000})
    return data


def test_nobody_edits_the_trail_in_the_admin_not_even_a_superuser(admin_client, admin_user, member):
    services.points_adjust(member=member, points=5, reason="Typo fix", created_by=admin_user)
    entry = AuditEntry.objects.get()
    change_url = reverse("admin:members_auditentry_change", args=[entry.pk])

    assert admin_client.get(reverse("admin:members_auditentry_changelist")).status_code == 200
    page = admin_client.get(change_url)
    assert page.status_code == 200 and b'name="_save"' not in page.content
    assert admin_client.get(reverse("admin:members_auditentry_add")).status_code == 403
    assert admin_client.post(change_url, {"reason": "nothing to see"}).status_code == 403
    assert (
        admin_client.post(reverse("admin:members_auditentry_delete", args=[entry.pk]), {"post": "yes"}).status_code
        == 403
    )
    run_action(admin_client, "members_auditentry", "delete_selected", [entry], post="yes")
    assert AuditEntry.objects.get().reason == "Typo fix"


def test_a_support_agent_action_is_recorded_under_their_name(client, staff_user, member):
    agent = staff_user(SUPPORT_AGENT)
    client.force_login(agent)
    run_action(client, "members_member", "adjust_points", [member], apply="1", points=40, reason="Till was offline")

    entry = trail("points.adjust", member)
    assert entry.actor == agent and entry.reason == "Till was offline"


@pytest.mark.postgres
def test_postgresql_refuses_to_update_or_delete_the_trail(admin_user, member):
    services.points_adjust(member=member, points=5, reason="Original reason", created_by=admin_user)
    entry = AuditEntry.objects.get()

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).update(reason="rewritten")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).delete()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM members_auditentry")

    assert AuditEntry.objects.get().reason == "Original reason"


def test_program_admin_shows_the_adjust_limit(admin_client, program):
    page = admin_client.get(reverse("admin:members_program_change", args=[program.pk]))
    assert b'name="adjust_limit"' in page.content
    Program.objects.filter(pk=program.pk).update(adjust_limit=250)
    assert Program.objects.get(pk=program.pk).adjust_limit == 250


def test_passwords_and_secrets_never_enter_the_trail(admin_client, staff_user):
    agent = staff_user(SUPPORT_AGENT)
    response = admin_client.post(
        reverse("admin:auth_user_password_change", args=[agent.pk]),
        {"password1": "Tr0ub4dor&3-horse", "password2": "Tr0ub4dor&3-horse", "usable_password": "true"},
    )
    assert response.status_code == 302

    entry = trail("admin.change", agent)
    assert entry.target_repr == f"user {agent.pk}"
    assert entry.changes == {"password": [services.NOT_RECORDED, services.NOT_RECORDED]}
    assert "Tr0ub4dor" not in json.dumps(entry.changes)
