"""Tickets: intake, the automatic confirmation, the SLA, the thread, and escalation of overdue tickets."""

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core import mail
from django.utils import timezone

from config.errors import DomainError
from feedback import selectors, services
from feedback.models import SlaPolicy, Ticket, TicketMessage
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
