"""Writes for feedback: invitations and their fatigue rules, answers, tickets and their SLAs.

Invitations are rows first (scheduled, with the reason that caused them) and messages second: a periodic
task sends the due ones, so a purchase trigger's delay survives worker restarts, and every invitation that
was not sent says why (skip_reason).
"""

import logging
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.db import transaction
from django.db.models import Q, Sum
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from core.enqueue import enqueue_on_commit
from core.errors import Conflict, DomainError, NotFound
from core.sms import send_sms
from feedback import scoring, selectors
from feedback.events import SurveyAnswered, TicketOpened, TicketResolved
from feedback.models import Answer, Invitation, Question, Response, SlaPolicy, Survey, Ticket, TicketMessage
from members.links import unsubscribe_headers
from members.models import Member, Partner, Purchase
from members.outbox import event_record
from members.selectors import add_months
from members.services import audit_record, lock_members, member_nps_set, points_engage

logger = logging.getLogger(__name__)

CHUNK = 1000
TOKEN_SALT = "feedback.invitation"  # noqa: S105 - a signing salt, not a secret
# Resolution targets when the program has no SlaPolicy row for the priority.
SLA_DEFAULT_HOURS = {"urgent": 8, "high": 24, "normal": 72, "low": 168}
ACKNOWLEDGE_DEFAULT_HOURS = 1
# Escalations go to the assignee and to every active user in this group.
TEAM_LEADS_GROUP = "Feedback team leads"


# --- invitations: scheduling ------------------------------------------------------------------


def _new_nonce() -> str:
    return secrets.token_urlsafe(9)


@transaction.atomic
def invitation_schedule(
    *,
    survey: Survey,
    member: Member,
    trigger: str,
    reference: str,
    send_at: datetime | None = None,
    partner: Partner | None = None,
) -> Invitation:
    """Schedule one invitation; the same (survey, member, reference) is scheduled once."""
    invitation, _ = Invitation.objects.get_or_create(
        survey=survey,
        member=member,
        reference=reference,
        defaults={
            "trigger": trigger,
            "partner": partner,
            "channel": survey.channel,
            "language": member.language,
            "nonce": _new_nonce(),
            "send_at": send_at or timezone.now(),
        },
    )
    return invitation


def invitations_schedule_many(
    *, survey: Survey, member_ids: Iterable[int], trigger: str, reference: str, send_at: datetime
) -> int:
    """Schedule the survey for many members at once (manual sends, relationship waves); repeats are ignored."""
    member_ids = sorted(set(member_ids))
    created = 0
    for start in range(0, len(member_ids), CHUNK):
        languages = dict(
            Member.objects.filter(pk__in=member_ids[start : start + CHUNK], program_id=survey.program_id).values_list(
                "pk", "language"
            )
        )
        rows = [
            Invitation(
                survey=survey,
                member_id=member_id,
                trigger=trigger,
                reference=reference,
                channel=survey.channel,
                language=language,
                nonce=_new_nonce(),
                send_at=send_at,
            )
            for member_id, language in languages.items()
        ]
        before = Invitation.objects.filter(survey=survey, reference=reference).count()
        Invitation.objects.bulk_create(rows, ignore_conflicts=True)
        created += Invitation.objects.filter(survey=survey, reference=reference).count() - before
    return created


def survey_send_manual(*, survey: Survey, member_ids: Iterable[int], reference: str = "") -> int:
    """Staff (or a campaign, for a segment) send the survey now; fatigue rules still apply at sending."""
    if not survey.is_active:
        raise DomainError("survey_inactive", "Switch the survey on before sending it.")
    now = timezone.now()
    return invitations_schedule_many(
        survey=survey,
        member_ids=member_ids,
        trigger=Survey.Trigger.MANUAL,
        reference=reference or f"manual:{now:%Y%m%d%H%M%S}",
        send_at=now,
    )


def surveys_schedule_after(*, trigger: str, member: Member, reference: str, partner: Partner | None = None) -> int:
    """Purchase and resolved-ticket triggers: schedule every active survey of that trigger after its delay."""
    surveys = Survey.objects.filter(program_id=member.program_id, trigger=trigger, is_active=True)
    now = timezone.now()
    for survey in surveys:
        invitation_schedule(
            survey=survey,
            member=member,
            trigger=trigger,
            reference=reference,
            send_at=now + timedelta(hours=survey.delay_hours),
            partner=partner,
        )
    return len(surveys)


def surveys_relationship_schedule(*, now: datetime | None = None) -> int:
    """Relationship NPS: invite high-value members whose last invitation to the survey is N months old."""
    now = now or timezone.now()
    scheduled = 0
    for survey in Survey.objects.filter(trigger=Survey.Trigger.RELATIONSHIP, is_active=True).select_related("min_tier"):
        high_value = Q(pk__in=[])
        if survey.min_tier is not None:
            high_value |= Q(tier__level__gte=survey.min_tier.level)
        if survey.min_spend is not None:
            spenders = (
                Purchase.objects.filter(program_id=survey.program_id, occurred_at__gte=add_months(now, -12))
                .values("member_id")
                .annotate(spent=Sum("amount"))
                .filter(spent__gte=survey.min_spend)
                .values("member_id")
            )
            high_value |= Q(pk__in=spenders)
        recently = Invitation.objects.filter(survey=survey, send_at__gte=add_months(now, -survey.every_months))
        # Members this survey could not reach today wait for a later run instead of collecting a skipped
        # invitation every day: those in quarantine, and those without consent for the channel.
        quarantined = Invitation.objects.filter(sent_at__gte=now - timedelta(days=survey.quarantine_days))
        consent = {"consent_sms": True} if survey.channel == Survey.Channel.SMS else {"consent_email": True}
        member_ids = (
            Member.objects.filter(high_value, program_id=survey.program_id, status=Member.Status.ACTIVE, **consent)
            .exclude(pk__in=recently.values("member_id"))
            .exclude(pk__in=quarantined.values("member_id"))
            .values_list("pk", flat=True)
        )
        scheduled += invitations_schedule_many(
            survey=survey,
            member_ids=member_ids,
            trigger=Survey.Trigger.RELATIONSHIP,
            reference=f"relationship:{now:%Y-%m}",
            send_at=now,
        )
    return scheduled


# --- invitations: sending, reminders ----------------------------------------------------------


class _SentAtSigner(signing.TimestampSigner):
    """Stamps the time the invitation was sent rather than now: the link is then the same in the
    invitation, the reminder and the member's page, and its age counts from the first email."""

    def __init__(self, *, at: datetime, **kwargs):
        super().__init__(**kwargs)
        self._at = at

    def timestamp(self) -> str:
        return signing.b62_encode(int(self._at.timestamp()))


def invitation_token(invitation: Invitation) -> str:
    """Signed for this purpose (salt), this invitation (id and its random nonce, so only the member it
    was sent to holds it) and its sending time: SURVEY_LINK_MAX_AGE bounds every link, and the
    invitation's own expires_at (the survey's expiry_days, visible to staff) usually ends it sooner."""
    signer = _SentAtSigner(at=invitation.sent_at or timezone.now(), salt=TOKEN_SALT)
    return signer.sign_object({"i": invitation.pk, "n": invitation.nonce}, compress=True)


def invitation_url(invitation: Invitation) -> str:
    return settings.SITE_URL + reverse("feedback:answer", args=[invitation_token(invitation)])


def _skip_reason(invitation: Invitation, member: Member, now: datetime) -> str:
    if not invitation.survey.is_active:
        return Invitation.Skip.SURVEY_OFF
    if member.status != Member.Status.ACTIVE:
        return Invitation.Skip.INACTIVE
    if invitation.channel == Survey.Channel.SMS and not member.phone:
        return Invitation.Skip.NO_CONTACT
    if not (member.consent_sms if invitation.channel == Survey.Channel.SMS else member.consent_email):
        return Invitation.Skip.NO_CONSENT
    quarantine_from = now - timedelta(days=invitation.survey.quarantine_days)
    if Invitation.objects.filter(member=member, sent_at__gte=quarantine_from).exclude(pk=invitation.pk).exists():
        return Invitation.Skip.QUARANTINE
    return ""


def _deliver_invitation(invitation: Invitation, member: Member, *, reminder: bool) -> None:
    survey = invitation.survey
    with translation.override(invitation.language):
        context = {
            "member": member,
            "survey": survey,
            "url": invitation_url(invitation),
            "expires_at": invitation.expires_at,
            "reminder": reminder,
        }
        if invitation.channel == Survey.Channel.SMS:
            send_sms(to=member.phone, body=render_to_string("feedback/sms/invitation.txt", context).strip())
            return
        # Single-question surveys put the scale in the email: one click opens the page with that score chosen.
        score_questions = list(survey.questions.filter(kind=Question.Kind.SCORE)[:2])
        low, high = scoring.SCALES[survey.kind]
        context.update(question=score_questions[0] if len(score_questions) == 1 else None, scale=range(low, high + 1))
        subject = render_to_string("feedback/email/invitation_subject.txt", context).strip()
        body = render_to_string("feedback/email/invitation.txt", context)
        html = render_to_string("feedback/email/invitation.html", context)
    message = EmailMultiAlternatives(subject, body, to=[member.email], headers=unsubscribe_headers(member))
    message.attach_alternative(html, "text/html")
    message.send()


@transaction.atomic
def invitation_send(*, invitation: Invitation, now: datetime | None = None) -> bool:
    """Send one due invitation, or record why it was skipped. True when a message went out."""
    now = now or timezone.now()
    # The member row lock serialises sends to one member, so two surveys cannot both pass the quarantine.
    member = lock_members(invitation.member_id)[invitation.member_id]
    invitation = Invitation.objects.select_for_update(of=("self",)).select_related("survey").get(pk=invitation.pk)
    if invitation.status != Invitation.Status.SCHEDULED:
        return False
    reason = _skip_reason(invitation, member, now)
    if reason:
        invitation.status, invitation.skip_reason = Invitation.Status.SKIPPED, reason
        invitation.save(update_fields=["status", "skip_reason"])
        return False
    invitation.status = Invitation.Status.SENT
    invitation.sent_at = now
    invitation.expires_at = now + timedelta(days=invitation.survey.expiry_days)
    invitation.save(update_fields=["status", "sent_at", "expires_at"])
    # Sending inside the transaction: if the mail server refuses, the row stays scheduled for the next run.
    _deliver_invitation(invitation, member, reminder=False)
    return True


def invitations_send_due(*, now: datetime | None = None) -> dict[str, int]:
    """Send (or skip, with the reason) every invitation whose time has come, in id chunks."""
    now = now or timezone.now()
    counts = {"sent": 0, "skipped": 0}
    last = 0
    while True:
        chunk = list(
            Invitation.objects.filter(status=Invitation.Status.SCHEDULED, send_at__lte=now, pk__gt=last).order_by("pk")[
                :CHUNK
            ]
        )
        if not chunk:
            return counts
        for invitation in chunk:
            try:
                sent = invitation_send(invitation=invitation, now=now)
            except Exception:
                logger.exception("invitation %s not sent; retried on the next run", invitation.pk)
                continue
            counts["sent" if sent else "skipped"] += 1
        last = chunk[-1].pk


def invitations_remind_due(*, now: datetime | None = None) -> int:
    """One reminder to members who have not finished answering, reminder_days after the invitation."""
    now = now or timezone.now()
    reminded = 0
    for survey in Survey.objects.filter(reminder_days__gt=0, is_active=True):
        due = Invitation.objects.filter(
            survey=survey,
            status=Invitation.Status.SENT,
            reminded_at__isnull=True,
            sent_at__lte=now - timedelta(days=survey.reminder_days),
            expires_at__gt=now,
        ).select_related("survey", "member")
        for invitation in due.iterator(chunk_size=CHUNK):
            member = invitation.member
            with transaction.atomic():
                # The guarded update is the claim: a reminder goes out once even if two runs overlap.
                claimed = Invitation.objects.filter(
                    pk=invitation.pk, reminded_at__isnull=True, status=Invitation.Status.SENT
                ).update(reminded_at=now)
                consent = member.consent_sms if invitation.channel == Survey.Channel.SMS else member.consent_email
                if claimed and consent and member.status == Member.Status.ACTIVE:
                    _deliver_invitation(invitation, member, reminder=True)
                    reminded += 1
    return reminded


# --- answering -----------------------------------------------------------------------------------


def invitation_open(*, token: str, now: datetime | None = None) -> Invitation:
    """The invitation behind a link; refuses tampered, expired and already answered links."""
    now = now or timezone.now()
    try:
        data = signing.TimestampSigner(salt=TOKEN_SALT).unsign_object(token, max_age=settings.SURVEY_LINK_MAX_AGE)
    except signing.SignatureExpired as exc:
        raise DomainError("link_expired", "This survey link has expired.", status=410) from exc
    except signing.BadSignature as exc:  # tampered, or signed for another purpose
        raise NotFound("This survey link is not valid.", code="invalid_link") from exc
    except ValueError:
        # A correctly signed link from before links carried a time (emails already in inboxes):
        # still honoured, and still ended by the invitation's expires_at below.
        data = signing.Signer(salt=TOKEN_SALT).unsign_object(token)
    if not isinstance(data, dict):
        raise NotFound("This survey link is not valid.", code="invalid_link")
    invitation = (
        Invitation.objects.select_related("survey", "member")
        .filter(pk=data.get("i"), nonce=data.get("n"), status__in=[Invitation.Status.SENT, Invitation.Status.ANSWERED])
        .first()
    )
    if invitation is None:
        raise NotFound("This survey link is not valid.", code="invalid_link")
    if invitation.status == Invitation.Status.ANSWERED:
        raise Conflict("already_answered", "This survey was already answered. Thank you!")
    if invitation.expires_at is not None and invitation.expires_at <= now:
        raise DomainError("link_expired", "This survey link has expired.", status=410)
    if invitation.opened_at is None:
        Invitation.objects.filter(pk=invitation.pk).update(opened_at=now)
    return invitation


def _response_for(invitation: Invitation, language: str, now: datetime) -> Response:
    response, _ = Response.objects.select_for_update().get_or_create(
        invitation=invitation,
        defaults={
            "survey": invitation.survey,
            "member": invitation.member,
            "language": language,
            "started_at": now,
        },
    )
    if response.completed_at is not None:
        raise Conflict("already_answered", "This survey was already answered. Thank you!")
    return response


@transaction.atomic
def response_score(*, invitation: Invitation, scores: dict[int, int], language: str) -> Response:
    """Store the score answers (a partial response the member can come back to). Completes the response
    at once when no follow-up question applies to the score."""
    survey = invitation.survey
    low, high = scoring.SCALES[survey.kind]
    questions = list(survey.questions.filter(kind=Question.Kind.SCORE))
    errors = {}
    for question in questions:
        value = scores.get(question.pk)
        if value is None or not low <= value <= high:
            errors[f"q{question.pk}"] = [f"Choose a value from {low} to {high}."]
    if errors or not questions:
        raise DomainError("invalid_answer", "Please answer every question.", fields=errors)
    now = timezone.now()
    response = _response_for(invitation, language, now)
    for question in questions:
        Answer.objects.update_or_create(response=response, question=question, defaults={"score": scores[question.pk]})
    response.score = scoring.response_score([scores[q.pk] for q in questions])
    response.category = scoring.nps_category(int(response.score)) if survey.kind == Survey.Kind.NPS else ""
    response.language = language
    response.save(update_fields=["score", "category", "language"])
    if not selectors.follow_ups_for(survey=survey, score=response.score):
        _complete(response, now)
    return response


@transaction.atomic
def response_finish(*, invitation: Invitation, answers: dict[int, str], language: str) -> Response:
    """Store the follow-up answers and complete the response."""
    now = timezone.now()
    response = _response_for(invitation, language, now)
    if response.score is None:
        raise DomainError("score_missing", "Please give a score first.")
    errors = {}
    for question in selectors.follow_ups_for(survey=invitation.survey, score=response.score):
        value = (answers.get(question.pk) or "").strip()
        if question.kind == Question.Kind.CHOICE and value and value not in question.options:
            errors[f"q{question.pk}"] = ["Choose one of the options."]
        elif question.required and not value:
            errors[f"q{question.pk}"] = ["This answer is required."]
        elif value:
            Answer.objects.update_or_create(response=response, question=question, defaults={"text": value})
    if errors:
        raise DomainError("invalid_answer", "Please check your answers.", fields=errors)
    response.language = language
    response.save(update_fields=["language"])
    _complete(response, now)
    return response


def follow_up_subject(survey: Survey, score: Decimal) -> str:
    return f"{survey.kind.upper()} {score:g}: {survey.name}"


def _complete(response: Response, now: datetime) -> None:
    survey, member = response.survey, response.member
    response.completed_at = now
    response.save(update_fields=["completed_at"])
    Invitation.objects.filter(pk=response.invitation_id).update(status=Invitation.Status.ANSWERED)
    if survey.kind == Survey.Kind.NPS:
        member_nps_set(member=member, score=int(response.score))
    if member.status == Member.Status.ACTIVE:
        points_engage(member=member, action="survey_completed", reference=f"feedback.response:{response.pk}")
    if scoring.needs_follow_up(survey.kind, response.score):
        comments = "\n".join(
            f"{a.question.text}: {a.text}" for a in response.answers.select_related("question") if a.text
        )
        response.ticket = ticket_open(
            member=member,
            subject=follow_up_subject(survey, response.score),
            body=comments or "(no comment)",
            category=Ticket.Category.SURVEY,
            priority=Ticket.Priority.HIGH,
            channel=Ticket.Channel.SURVEY,
            language=response.language,
        )
        response.save(update_fields=["ticket"])
    event_record(
        SurveyAnswered(
            member=member.number,
            survey=survey.pk,
            kind=survey.kind,
            score=str(response.score),
            category=response.category,
            response=response.pk,
        ),
        program=member.program,
        member=member,
    )


# --- tickets -------------------------------------------------------------------------------------


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
    """An overdue open ticket: tell the assignee and team leads, give the customer a new date."""
    now = now or timezone.now()
    ticket = Ticket.objects.select_for_update(of=("self",)).select_related("member", "assignee").get(pk=ticket.pk)
    if not ticket.is_open or ticket.due_at > now:
        return False
    overdue_since = ticket.due_at
    ticket.due_at = now + timedelta(hours=sla_hours(ticket.program_id, ticket.priority)[1])
    ticket.escalated_at = now
    ticket.escalations += 1
    ticket.save(update_fields=["due_at", "escalated_at", "escalations"])
    _log(
        ticket,
        f"Overdue since {overdue_since:%Y-%m-%d %H:%M}; escalated, new target {ticket.due_at:%Y-%m-%d %H:%M}",
        now,
    )
    staff = sorted({*_team_leads(), *([ticket.assignee.email] if ticket.assignee and ticket.assignee.email else [])})
    if staff:
        context = {"ticket": ticket, "overdue_since": overdue_since, "url": _admin_url(ticket)}
        EmailMessage(
            render_to_string("feedback/email/ticket_escalation_subject.txt", context).strip(),
            render_to_string("feedback/email/ticket_escalation.txt", context),
            to=staff,
        ).send()
    _email_customer(
        ticket, "ticket_followup", {"url": settings.SITE_URL + reverse("feedback:ticket", args=[ticket.pk])}
    )
    return True


def _admin_url(ticket: Ticket) -> str:
    return settings.SITE_URL + reverse("admin:feedback_ticket_change", args=[ticket.pk])


def tickets_escalate_overdue(*, now: datetime | None = None) -> int:
    now = now or timezone.now()
    escalated = 0
    overdue = Ticket.objects.filter(status__in=Ticket.OPEN_STATUSES, due_at__lte=now).order_by("pk")
    for ticket in overdue.only("pk").iterator(chunk_size=CHUNK):
        try:
            escalated += ticket_escalate(ticket=ticket, now=now)
        except Exception:
            logger.exception("ticket %s not escalated; retried on the next run", ticket.pk)
    return escalated


# --- erasure -------------------------------------------------------------------------------------

ERASED_TEXT = "[erased]"


@transaction.atomic
def member_feedback_erase(*, member: Member) -> dict[str, int]:
    """GDPR erasure: the member's own words go (comments, ticket messages and subjects); scores stay for the
    metrics, as ledger amounts do. Scheduled invitations are cancelled."""
    answers = Answer.objects.filter(response__member=member).exclude(text="").update(text=ERASED_TEXT)
    messages = TicketMessage.objects.filter(ticket__member=member, kind=TicketMessage.Kind.CUSTOMER).update(
        body=ERASED_TEXT
    )
    Ticket.objects.filter(member=member).update(subject=ERASED_TEXT)
    cancelled = Invitation.objects.filter(member=member, status=Invitation.Status.SCHEDULED).update(
        status=Invitation.Status.SKIPPED, skip_reason=Invitation.Skip.INACTIVE
    )
    return {"answers": answers, "messages": messages, "invitations": cancelled}
