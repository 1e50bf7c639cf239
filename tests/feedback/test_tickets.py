"""Tickets: intake, the automatic confirmation, the SLA, the thread, and escalation of overdue tickets."""

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core import mail
from django.utils import timezone

from core.errors import DomainError
from feedback import selectors, services, tasks
from feedback.models import SlaPolicy, Ticket, TicketMessage
from members import services as member_services
from tests.conftest import PartnerFactory


def _open(member, **kwargs):
    defaults = {"subject": "Broken zip", "body": "The bag broke on day two.", "channel": Ticket.Channel.MEMBER_PAGE}
    return services.ticket_open(member=member, **{**defaults, **kwargs})


def test_a_new_ticket_gets_an_sla_and_the_member_a_confirmation_with_the_target_date(member, on_commit):
    with time_machine.travel("2026-03-02 09:00Z", tick=False), on_commit():
        ticket = _open(member, priority=Ticket.Priority.HIGH)
    assert ticket.status == Ticket.Status.NEW
    assert ticket.acknowledge_due_at == ticket.created_at + timedelta(hours=1)
    assert ticket.due_at == ticket.created_at + timedelta(hours=24)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [member.email]
    assert ticket.number in mail.outbox[0].subject
    assert "2026" in mail.outbox[0].body and "Mar" in mail.outbox[0].body


def test_the_programs_sla_policy_sets_the_target_date(member):
    SlaPolicy.objects.create(program=member.program, priority="normal", acknowledge_hours=2, resolve_hours=10)
    ticket = _open(member)
    assert ticket.acknowledge_due_at == ticket.created_at + timedelta(hours=2)
    assert ticket.due_at == ticket.created_at + timedelta(hours=10)


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("subject", "  ", "invalid_ticket"),
        ("priority", "asap", "invalid_priority"),
        ("category", "x", "invalid_category"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_stored(member, field, value, code):
    with pytest.raises(DomainError) as exc:
        _open(member, **{field: value})
    assert exc.value.code == code
    assert not Ticket.objects.exists()


def test_a_partner_repeating_its_external_id_gets_the_first_ticket(member):
    partner = PartnerFactory(program=member.program)
    first = _open(member, channel=Ticket.Channel.API, partner=partner, external_id="CRM-1")
    again = _open(member, channel=Ticket.Channel.API, partner=partner, external_id="CRM-1")
    assert again.pk == first.pk
    assert Ticket.objects.count() == 1


def test_replies_are_emailed_and_shown_to_the_member_internal_notes_are_not(member, staff, on_commit):
    ticket = _open(member)
    mail.outbox.clear()
    with on_commit():
        services.ticket_reply(ticket=ticket, author=staff, body="Internal: check the supplier batch.", internal=True)
        services.ticket_reply(ticket=ticket, author=staff, body="We are sending a new bag today.")
    assert [m.body for m in mail.outbox if "new bag" in m.body]
    assert not [m for m in mail.outbox if "supplier batch" in m.body]
    public = [m.body for m in selectors.ticket_public_messages(ticket=ticket)]
    assert public == ["The bag broke on day two.", "We are sending a new bag today."]
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.ACKNOWLEDGED
    assert ticket.first_contact_at is not None
    assert ticket.messages.filter(kind=TicketMessage.Kind.NOTE).count() == 1


def test_status_follows_the_allowed_path_and_is_logged(member, staff):
    ticket = _open(member)
    ticket = services.ticket_transition(ticket=ticket, status=Ticket.Status.IN_PROGRESS, by=staff)
    assert ticket.acknowledged_at is not None
    ticket = services.ticket_transition(ticket=ticket, status=Ticket.Status.RESOLVED, by=staff)
    ticket = services.ticket_transition(ticket=ticket, status=Ticket.Status.CLOSED, by=staff)
    with pytest.raises(DomainError) as exc:
        services.ticket_transition(ticket=ticket, status=Ticket.Status.IN_PROGRESS, by=staff)
    assert exc.value.code == "invalid_transition"
    log = list(ticket.messages.filter(kind=TicketMessage.Kind.SYSTEM).values_list("body", flat=True))
    assert log == ["Status: New -> In progress", "Status: In progress -> Resolved", "Status: Resolved -> Closed"]


def test_a_member_writing_on_a_closed_ticket_reopens_it_with_a_new_target_date(member, staff):
    with time_machine.travel("2026-03-02 09:00Z", tick=False):
        ticket = _open(member)
        services.ticket_transition(ticket=ticket, status=Ticket.Status.CLOSED, by=staff)
    with time_machine.travel("2026-03-20 09:00Z", tick=False):
        services.ticket_customer_message(ticket=ticket, member=member, body="It broke again.")
        ticket.refresh_from_db()
        assert ticket.status == Ticket.Status.REOPENED
        assert ticket.due_at == timezone.now() + timedelta(hours=72)


def test_overdue_tickets_are_escalated_once_per_missed_date(member, staff, on_commit):
    lead = staff.__class__.objects.create_user("lead", "lead@example.com", "pw", is_staff=True)
    lead.groups.add(Group.objects.create(name=services.TEAM_LEADS_GROUP))
    with time_machine.travel("2026-03-02 09:00Z", tick=False), on_commit():
        ticket = _open(member, priority=Ticket.Priority.HIGH)
        services.ticket_update(ticket=ticket, assignee=staff, by=lead)
        services.ticket_transition(ticket=ticket, status=Ticket.Status.ACKNOWLEDGED, by=staff)
    mail.outbox.clear()
    with time_machine.travel("2026-03-03 08:59Z", tick=False):
        assert services.tickets_escalate_overdue() == 0
        assert selectors.tickets_overdue().count() == 0
    with time_machine.travel("2026-03-03 09:01Z", tick=False):
        assert selectors.tickets_overdue().count() == 1
        assert services.tickets_escalate_overdue() == 1
        assert services.tickets_escalate_overdue() == 0
        # The new target lies a day ahead, but the ticket was late and nobody acted: still overdue.
        assert selectors.tickets_overdue().count() == 1
    ticket.refresh_from_db()
    assert ticket.escalations == 1
    assert ticket.due_at.isoformat().startswith("2026-03-04T09:01")
    staff_mail = [m for m in mail.outbox if m.to != [member.email]]
    customer_mail = [m for m in mail.outbox if m.to == [member.email]]
    assert len(staff_mail) == 1 and sorted(staff_mail[0].to) == ["agent@example.com", "lead@example.com"]
    assert len(customer_mail) == 1 and "Mar" in customer_mail[0].body and "4" in customer_mail[0].body
    with time_machine.travel("2026-03-04 09:02Z", tick=False):
        assert services.tickets_escalate_overdue() == 1
    ticket.refresh_from_db()
    assert ticket.escalations == 2


def test_resolved_tickets_are_not_escalated(member, staff):
    with time_machine.travel("2026-03-02 09:00Z", tick=False):
        ticket = _open(member)
        services.ticket_transition(ticket=ticket, status=Ticket.Status.RESOLVED, by=staff)
    with time_machine.travel("2026-04-02 09:00Z", tick=False):
        assert services.tickets_escalate_overdue() == 0


def test_ticket_figures_give_open_overdue_and_median_times(member, staff):
    for hours_to_ack in (1, 3, 8):
        with time_machine.travel("2026-03-02 09:00Z", tick=False):
            ticket = _open(member)
        with time_machine.travel(f"2026-03-02 {9 + hours_to_ack:02d}:00Z", tick=False):
            services.ticket_transition(ticket=ticket, status=Ticket.Status.ACKNOWLEDGED, by=staff)
        if hours_to_ack == 1:
            with time_machine.travel("2026-03-04 09:00Z", tick=False):
                services.ticket_transition(ticket=ticket, status=Ticket.Status.RESOLVED, by=staff)
    with time_machine.travel("2026-03-10 09:00Z", tick=False):
        figures = selectors.ticket_figures(program=member.program)
    assert figures["open"] == 2
    assert figures["overdue"] == 2
    assert figures["median_acknowledge"] == timedelta(hours=3)
    assert figures["median_resolve"] == timedelta(days=2)


def test_no_tickets_give_no_medians(program):
    assert selectors.ticket_figures(program=program)["median_acknowledge"] is None


def test_the_assignee_hears_when_the_customer_writes(member, staff, on_commit):
    ticket = _open(member)
    services.ticket_update(ticket=ticket, assignee=staff, by=staff)
    mail.outbox.clear()
    with on_commit():
        services.ticket_customer_message(ticket=ticket, member=member, body="Any news?")
    [notice] = mail.outbox
    assert notice.to == [staff.email]
    assert "Any news?" in notice.body and ticket.number in notice.subject


def test_with_the_mail_server_down_the_ticket_is_kept_and_its_emails_go_out_later(member, staff, mail_down, on_commit):
    with time_machine.travel("2026-03-02 09:00Z", tick=False), on_commit():
        ticket = _open(member)
        services.ticket_reply(ticket=ticket, author=staff, body="We are on it.")
    ticket.refresh_from_db()
    assert ticket.confirmed_at is None
    assert not mail.outbox
    mail_down()  # the server is back
    with time_machine.travel("2026-03-02 09:05Z", tick=False):
        assert services.ticket_emails_retry() == 0  # too early: the task may still be retrying
    with time_machine.travel("2026-03-02 09:11Z", tick=False):
        assert tasks.ticket_emails_retry.delay().get() == 2
        assert services.ticket_emails_retry() == 0
    assert sorted(m.subject.split(" (")[0] for m in mail.outbox) == ["Re: Broken zip", "We received your message"]
    ticket.refresh_from_db()
    assert ticket.confirmed_at is not None


def test_tickets_are_refused_for_erased_members_and_partners_of_other_programs(member):
    with pytest.raises(DomainError) as exc:
        _open(member, channel=Ticket.Channel.API, partner=PartnerFactory(), external_id="X-1")
    assert exc.value.code == "invalid_partner"
    erased = member_services.member_anonymize(member=member)
    with pytest.raises(DomainError) as exc:
        _open(erased)
    assert exc.value.code == "member_inactive"
    assert not Ticket.objects.exists()


def test_an_escalated_ticket_stays_overdue_until_staff_act(member, staff):
    with time_machine.travel("2026-03-02 09:00Z", tick=False):
        ticket = _open(member)
        services.ticket_transition(ticket=ticket, status=Ticket.Status.ACKNOWLEDGED, by=staff)
    with time_machine.travel("2026-03-20 09:00Z", tick=False):
        assert services.tickets_escalate_overdue() == 1
    with time_machine.travel("2026-03-20 10:00Z", tick=False):
        ticket.refresh_from_db()
        assert ticket.due_at > timezone.now() and ticket.is_overdue(timezone.now())
        assert selectors.ticket_figures(program=member.program)["overdue"] == 1
        services.ticket_reply(ticket=ticket, author=staff, body="We are on it.", internal=True)
        assert selectors.tickets_overdue().count() == 1  # an internal note is no answer to the customer
        services.ticket_reply(ticket=ticket, author=staff, body="Your refund left today.")
        assert selectors.tickets_overdue().count() == 0
    ticket.refresh_from_db()
    assert ticket.overdue_since is None and ticket.escalations == 1


@pytest.mark.parametrize("act", ["status", "assign"])
def test_a_status_change_or_an_assignment_also_ends_the_escalation(member, staff, act):
    with time_machine.travel("2026-03-02 09:00Z", tick=False):
        ticket = _open(member)
    with time_machine.travel("2026-03-20 09:00Z", tick=False):
        assert services.tickets_escalate_overdue() == 1
        if act == "status":
            services.ticket_transition(ticket=ticket, status=Ticket.Status.IN_PROGRESS, by=staff)
        else:
            services.ticket_update(ticket=ticket, assignee=staff, by=staff)
            # Assigned, but still not acknowledged: the missed acknowledgement keeps it overdue.
            assert selectors.tickets_overdue().count() == 1
            services.ticket_transition(ticket=ticket, status=Ticket.Status.ACKNOWLEDGED, by=staff)
        assert selectors.tickets_overdue().count() == 0


def test_a_missed_acknowledgement_is_escalated_once_to_the_team(member, staff, on_commit):
    lead = staff.__class__.objects.create_user("lead", "lead@example.com", "pw", is_staff=True)
    lead.groups.add(Group.objects.create(name=services.TEAM_LEADS_GROUP))
    with time_machine.travel("2026-03-02 09:00Z", tick=False), on_commit():
        ticket = _open(member)
    mail.outbox.clear()
    with time_machine.travel("2026-03-02 09:59Z", tick=False):
        assert services.tickets_escalate_overdue() == 0
        assert selectors.tickets_overdue().count() == 0
    with time_machine.travel("2026-03-02 10:01Z", tick=False):
        assert selectors.tickets_overdue().count() == 1
        assert services.tickets_escalate_overdue() == 1
    with time_machine.travel("2026-03-02 11:00Z", tick=False):
        assert services.tickets_escalate_overdue() == 0  # once per missed acknowledgement
    ticket.refresh_from_db()
    assert ticket.escalations == 1 and ticket.overdue_since == ticket.acknowledge_due_at
    assert ticket.due_at.isoformat().startswith("2026-03-05T09:00")  # the customer's date did not move
    assert [m.to for m in mail.outbox] == [["lead@example.com"]]  # the team only
    assert "not acknowledged" in mail.outbox[0].body and "Unacknowledged" in mail.outbox[0].subject
