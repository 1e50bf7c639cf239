"""Tickets: opening (member page, survey follow-up, staff, partner API), their SLAs, status changes,
replies and notes, the emails to the customer and the team, and escalation when overdue."""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from core.enqueue import enqueue_on_commit
from core.errors import Conflict, DomainError, NotFound
from feedback.events import TicketOpened, TicketResolved
from feedback.models import SlaPolicy, Ticket, TicketMessage
from members.models import Member, Partner
from members.outbox import event_record
from members.services import audit_record

logger = logging.getLogger(__name__)

CHUNK = 1000
# Resolution targets when the program has no SlaPolicy row for the priority.
SLA_DEFAULT_HOURS = {"urgent": 8, "high": 24, "normal": 72, "low": 168}
ACKNOWLEDGE_DEFAULT_HOURS = 1
# Escalations go to the assignee and to every active user in this group.
TEAM_LEADS_GROUP = "Feedback team leads"


def sla_hours(program_id: int, priority: str) -> tuple[int, int]:
    """(acknowledge, resolve) hours for the priority."""
    policy = SlaPolicy.objects.filter(program_id=program_id, priority=priority).first()
    if policy is not None:
        return policy.acknowledge_hours, policy.resolve_hours
    return ACKNOWLEDGE_DEFAULT_HOURS, SLA_DEFAULT_HOURS[priority]


def _choice(value: str, choices, field: str) -> str:
    if value not in choices.values:
        raise DomainError("invalid_" + field, f"Unknown {field} '{value}'.", fields={field: ["Unknown value."]})
    return value


def _log(ticket: Ticket, body: str, now: datetime, author=None) -> None:
    TicketMessage.objects.create(
        ticket=ticket, kind=TicketMessage.Kind.SYSTEM, body=body, author=author, created_at=now
    )


@transaction.atomic
def ticket_open(
    *,
    member: Member,
    subject: str,
    body: str,
    channel: str,
    category: str = Ticket.Category.COMPLAINT,
    priority: str = Ticket.Priority.NORMAL,
    partner: Partner | None = None,
    external_id: str = "",
    language: str = "",
    created_by=None,
) -> Ticket:
    """Open a ticket (member page, survey follow-up, staff, partner API). Its SLA starts now and the member
    gets a confirmation with the target resolution date. A partner's repeated external_id returns the first
    ticket."""
    subject, body = (subject or "").strip(), (body or "").strip()
    errors = {}
    if not subject:
        errors["subject"] = ["This field is required."]
    if not body:
        errors["body"] = ["This field is required."]
    if errors:
        raise DomainError("invalid_ticket", "Subject and message are required.", fields=errors)
    _choice(channel, Ticket.Channel, "channel")
    _choice(category, Ticket.Category, "category")
    _choice(priority, Ticket.Priority, "priority")
    if member.status == Member.Status.ANONYMIZED:
        raise DomainError("member_inactive", "This member was anonymized.", status=409)
    if partner is not None and partner.program_id != member.program_id:
        raise DomainError("invalid_partner", "The partner belongs to another program.")
    if partner is not None and external_id:
        existing = Ticket.objects.filter(partner=partner, external_id=external_id).first()
        if existing is not None:
            if existing.member_id != member.pk:
                raise Conflict(
                    "duplicate_external_id",
                    "This external id was already used for another ticket.",
                    fields={"external_id": ["Already used."]},
                )
            return existing
    now = timezone.now()
    ack_hours, resolve_hours = sla_hours(member.program_id, priority)
    ticket = Ticket.objects.create(
        program_id=member.program_id,
        member=member,
        partner=partner,
        external_id=external_id if partner else "",
        subject=subject[:200],
        category=category,
        priority=priority,
        channel=channel,
        language=language or member.language,
        created_at=now,
        acknowledge_due_at=now + timedelta(hours=ack_hours),
        due_at=now + timedelta(hours=resolve_hours),
    )
    TicketMessage.objects.create(
        ticket=ticket, kind=TicketMessage.Kind.CUSTOMER, body=body, author=created_by, created_at=now
    )
    event_record(
        TicketOpened(member=member.number, ticket=ticket.pk, category=category, priority=priority),
        program=member.program,
        member=member,
    )

    enqueue_on_commit("feedback.tasks.ticket_confirmation_send", ticket.pk)
    return ticket


def _email_customer(ticket: Ticket, template: str, context: dict) -> None:
    member = ticket.member
    with translation.override(ticket.language):
        context = {"ticket": ticket, "member": member, **context}
        subject = render_to_string(f"feedback/email/{template}_subject.txt", context).strip()
        body = render_to_string(f"feedback/email/{template}.txt", context)
    EmailMessage(subject, body, to=[member.email]).send()


def ticket_confirmation_email(*, ticket: Ticket) -> None:
    """The automatic acknowledgement: sent at once, with the target resolution date; once."""
    if ticket.confirmed_at is not None:
        return
    _email_customer(ticket, "ticket_confirmation", {"url": settings.SITE_URL + reverse("feedback:tickets")})
    Ticket.objects.filter(pk=ticket.pk).update(confirmed_at=timezone.now())


# Which statuses a ticket may move to from each status.
TRANSITIONS: dict[str, set[str]] = {
    "new": {"acknowledged", "in_progress", "resolved", "closed"},
    "acknowledged": {"in_progress", "resolved", "closed"},
    "in_progress": {"resolved", "closed"},
    "reopened": {"acknowledged", "in_progress", "resolved", "closed"},
    "resolved": {"closed", "reopened"},
    "closed": {"reopened"},
}


@transaction.atomic
def ticket_transition(*, ticket: Ticket, status: str, by=None) -> Ticket:
    ticket = Ticket.objects.select_for_update(of=("self",)).select_related("member__program").get(pk=ticket.pk)
    if status == ticket.status:
        return ticket
    if status not in TRANSITIONS.get(ticket.status, set()):
        raise DomainError(
            "invalid_transition",
            f"A {ticket.get_status_display().lower()} ticket cannot become {status}.",
            fields={"status": ["Not allowed from the current status."]},
            status=409,
        )
    now = timezone.now()
    previous, before = ticket.get_status_display(), ticket.status
    ticket.status = status
    fields = ["status"]
    _acted_on(ticket, fields)
    if ticket.acknowledged_at is None and status != Ticket.Status.REOPENED:
        ticket.acknowledged_at = now
        fields.append("acknowledged_at")
    if status == Ticket.Status.RESOLVED:
        ticket.resolved_at = now
        fields.append("resolved_at")
    elif status == Ticket.Status.CLOSED:
        ticket.closed_at = now
        ticket.resolved_at = ticket.resolved_at or now
        fields += ["closed_at", "resolved_at"]
    elif status == Ticket.Status.REOPENED:
        ticket.resolved_at = ticket.closed_at = None
        ticket.due_at = now + timedelta(hours=sla_hours(ticket.program_id, ticket.priority)[1])
        fields += ["resolved_at", "closed_at", "due_at"]
    ticket.save(update_fields=fields)
    _log(ticket, f"Status: {previous} -> {ticket.get_status_display()}", now, author=by)
    if by is not None:
        audit_record(actor=by, action="ticket.transition", target=ticket, changes={"status": [before, status]})
    if status == Ticket.Status.RESOLVED:
        event_record(
            TicketResolved(member=ticket.member.number, ticket=ticket.pk, category=ticket.category),
            program=ticket.member.program,
            member=ticket.member,
        )
    return ticket


@transaction.atomic
def ticket_update(*, ticket: Ticket, by=None, **fields) -> Ticket:
    """Assignee, priority and category. A new priority moves the target date to match its SLA."""
    unknown = set(fields) - {"assignee", "priority", "category"}
    if unknown:
        raise DomainError("not_writable", f"These fields cannot be changed: {', '.join(sorted(unknown))}.")
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    before = {"category": ticket.category, "priority": ticket.priority, "assignee": ticket.assignee_id}
    now = timezone.now()
    changed = []
    if "category" in fields and fields["category"] != ticket.category:
        ticket.category = _choice(fields["category"], Ticket.Category, "category")
        changed.append("category")
    if "priority" in fields and fields["priority"] != ticket.priority:
        ticket.priority = _choice(fields["priority"], Ticket.Priority, "priority")
        ticket.due_at = ticket.created_at + timedelta(hours=sla_hours(ticket.program_id, ticket.priority)[1])
        changed += ["priority", "due_at"]
    if "assignee" in fields and fields["assignee"] != ticket.assignee:
        ticket.assignee = fields["assignee"]
        changed.append("assignee")
        if ticket.assignee is not None:
            _acted_on(ticket, changed)
        _log(ticket, f"Assigned to {ticket.assignee or 'nobody'}", now, author=by)
    if changed:
        ticket.save(update_fields=changed)
        if by is not None:
            after = {"category": ticket.category, "priority": ticket.priority, "assignee": ticket.assignee_id}
            audit_record(
                actor=by,
                action="ticket.update",
                target=ticket,
                changes={k: [before[k], after[k]] for k in before if before[k] != after[k]},
            )
    return ticket


@transaction.atomic
def ticket_reply(*, ticket: Ticket, author, body: str, internal: bool = False) -> TicketMessage:
    """A reply to the customer (emailed, shown on the member page) or an internal note for the team."""
    body = (body or "").strip()
    if not body:
        raise DomainError("invalid_message", "The message is empty.", fields={"body": ["This field is required."]})
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    now = timezone.now()
    kind = TicketMessage.Kind.NOTE if internal else TicketMessage.Kind.REPLY
    message = TicketMessage.objects.create(ticket=ticket, kind=kind, author=author, body=body, created_at=now)
    # The text stays with the ticket (erased with the member); the trail only says a reply was written.
    audit_record(actor=author, action=f"ticket.{kind}", target=ticket, changes={"message": [None, message.pk]})
    if not internal:
        fields = []
        _acted_on(ticket, fields)
        if ticket.first_contact_at is None:
            ticket.first_contact_at = now
            fields.append("first_contact_at")
        if ticket.acknowledged_at is None:
            ticket.acknowledged_at = now
            fields.append("acknowledged_at")
        if ticket.status == Ticket.Status.NEW:
            ticket.status = Ticket.Status.ACKNOWLEDGED
            fields.append("status")
        if fields:
            ticket.save(update_fields=fields)

        enqueue_on_commit("feedback.tasks.ticket_reply_send", message.pk)
    return message


def ticket_reply_email(*, message: TicketMessage) -> None:
    if message.emailed_at is not None:
        return
    _email_customer(
        message.ticket,
        "ticket_reply",
        {"message": message, "url": settings.SITE_URL + reverse("feedback:ticket", args=[message.ticket_id])},
    )
    TicketMessage.objects.filter(pk=message.pk).update(emailed_at=timezone.now())


# Confirmations and replies whose email failed (mail server down) are sent again by a periodic job,
# from this age on, and given up after the second: a week-old "we received your message" helps nobody.
EMAIL_RETRY_AFTER = timedelta(minutes=10)
EMAIL_GIVE_UP_AFTER = timedelta(days=2)


def ticket_emails_retry(*, now: datetime | None = None) -> int:
    now = now or timezone.now()
    window = (now - EMAIL_GIVE_UP_AFTER, now - EMAIL_RETRY_AFTER)
    pending = [
        (ticket_confirmation_email, {"ticket": t})
        for t in Ticket.objects.filter(confirmed_at__isnull=True, created_at__range=window).select_related("member")
    ] + [
        (ticket_reply_email, {"message": m})
        for m in TicketMessage.objects.filter(
            kind=TicketMessage.Kind.REPLY, emailed_at__isnull=True, created_at__range=window
        ).select_related("ticket__member", "author")
    ]
    sent = 0
    for send, kwargs in pending:
        try:
            send(**kwargs)
            sent += 1
        except OSError:
            logger.warning("ticket email still not sent; next run retries", exc_info=True)
    return sent


@transaction.atomic
def ticket_customer_message(*, ticket: Ticket, member: Member, body: str) -> TicketMessage:
    """The member writes on their ticket; on a resolved or closed ticket that reopens it."""
    body = (body or "").strip()
    if not body:
        raise DomainError("invalid_message", "The message is empty.", fields={"body": ["This field is required."]})
    if ticket.member_id != member.pk:
        raise NotFound("Ticket not found.")
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if not ticket.is_open:
        ticket = ticket_transition(ticket=ticket, status=Ticket.Status.REOPENED)
    message = TicketMessage.objects.create(
        ticket=ticket, kind=TicketMessage.Kind.CUSTOMER, body=body, created_at=timezone.now()
    )
    if ticket.assignee_id:
        enqueue_on_commit("feedback.tasks.ticket_assignee_notify", message.pk)
    return message


def ticket_assignee_email(*, message: TicketMessage) -> None:
    """Tell the assignee the customer wrote, so the answer does not wait for someone to look."""
    ticket = message.ticket
    if ticket.assignee is None or not ticket.assignee.email:
        return
    context = {"ticket": ticket, "message": message, "url": _admin_url(ticket)}
    EmailMessage(
        render_to_string("feedback/email/ticket_customer_wrote_subject.txt", context).strip(),
        render_to_string("feedback/email/ticket_customer_wrote.txt", context),
        to=[ticket.assignee.email],
    ).send()


def _team_leads() -> list[str]:
    User = get_user_model()
    return list(
        User.objects.filter(groups__name=TEAM_LEADS_GROUP, is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
    )


@transaction.atomic
def ticket_escalate(*, ticket: Ticket, now: datetime | None = None) -> bool:
    """An open ticket that missed a target: tell the assignee and team leads. Past its resolution date
    the customer gets a new date too; a missed acknowledgement (nobody took the ticket up within its
    acknowledge hours) is escalated once, to the team only. Either way the ticket stays overdue
    (overdue_since) until staff act on it, even though its new date lies ahead."""
    now = now or timezone.now()
    ticket = Ticket.objects.select_for_update(of=("self",)).select_related("member", "assignee").get(pk=ticket.pk)
    late = ticket.due_at <= now
    unacknowledged = ticket.acknowledged_at is None and ticket.acknowledge_due_at <= now and ticket.escalated_at is None
    if not ticket.is_open or not (late or unacknowledged):
        return False
    missed = ticket.due_at if late else ticket.acknowledge_due_at
    ticket.overdue_since = ticket.overdue_since or missed
    ticket.escalated_at = now
    ticket.escalations += 1
    fields = ["overdue_since", "escalated_at", "escalations"]
    if late:
        ticket.due_at = now + timedelta(hours=sla_hours(ticket.program_id, ticket.priority)[1])
        fields.append("due_at")
        _log(
            ticket, f"Overdue since {missed:%Y-%m-%d %H:%M}; escalated, new target {ticket.due_at:%Y-%m-%d %H:%M}", now
        )
    else:
        _log(ticket, f"Not acknowledged by {missed:%Y-%m-%d %H:%M}; escalated", now)
    ticket.save(update_fields=fields)
    staff = sorted({*_team_leads(), *([ticket.assignee.email] if ticket.assignee and ticket.assignee.email else [])})
    if staff:
        context = {"ticket": ticket, "overdue_since": missed, "unacknowledged": not late, "url": _admin_url(ticket)}
        EmailMessage(
            render_to_string("feedback/email/ticket_escalation_subject.txt", context).strip(),
            render_to_string("feedback/email/ticket_escalation.txt", context),
            to=staff,
        ).send()
    if late:
        _email_customer(
            ticket, "ticket_followup", {"url": settings.SITE_URL + reverse("feedback:ticket", args=[ticket.pk])}
        )
    return True


def _acted_on(ticket: Ticket, fields: list[str]) -> None:
    """Staff acted on the ticket: an escalated one is no longer overdue for that reason (its target
    date still counts). Adds the field to `fields` for the caller's save."""
    if ticket.overdue_since is not None:
        ticket.overdue_since = None
        fields.append("overdue_since")


def _admin_url(ticket: Ticket) -> str:
    return settings.SITE_URL + reverse("admin:feedback_ticket_change", args=[ticket.pk])


def tickets_escalate_overdue(*, now: datetime | None = None) -> int:
    now = now or timezone.now()
    escalated = 0
    overdue = Ticket.objects.filter(
        Q(due_at__lte=now) | Q(acknowledged_at__isnull=True, acknowledge_due_at__lte=now, escalated_at__isnull=True),
        status__in=Ticket.OPEN_STATUSES,
    ).order_by("pk")
    for ticket in overdue.only("pk").iterator(chunk_size=CHUNK):
        try:
            escalated += ticket_escalate(ticket=ticket, now=now)
        except Exception:
            logger.exception("ticket %s not escalated; retried on the next run", ticket.pk)
    return escalated
