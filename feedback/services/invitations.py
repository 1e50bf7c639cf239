"""Invitations: scheduled as rows first (with the reason that caused them), sent by a periodic job
that applies the fatigue rules, reminded once, and opened through signed links.

A purchase trigger's delay survives worker restarts, and every invitation that was not sent says why
(skip_reason).
"""

import logging
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Q, Sum
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from core.errors import Conflict, DomainError, NotFound
from core.sms import send_sms
from feedback import scoring
from feedback.models import Invitation, Question, Survey
from members.links import unsubscribe_headers
from members.models import Member, Partner, Purchase
from members.selectors import add_months
from members.services import lock_members

logger = logging.getLogger(__name__)

CHUNK = 1000
TOKEN_SALT = "feedback.invitation"  # noqa: S105 - a signing salt, not a secret


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
    if problem := survey.answerable_problem():
        raise DomainError("survey_unanswerable", str(problem))
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
    # A survey members could not finish (no score question) is not sent (the admin refuses to switch it on).
    surveys = [s for s in surveys if not s.answerable_problem()]
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
        if survey.answerable_problem():
            continue
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


# --- opening a link ---------------------------------------------------------------------------


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
