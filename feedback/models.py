"""Surveys (NPS, CSAT, CES, CLI), invitations through signed links, responses, and tickets with SLAs."""

from datetime import datetime

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from feedback.scoring import CLI_QUESTIONS
from members.models import Member, Partner, Program, Tier


class Survey(models.Model):
    class Kind(models.TextChoices):
        NPS = "nps", _("NPS: how likely to recommend (0-10)")
        CSAT = "csat", _("CSAT: satisfaction (1-5)")
        CES = "ces", _("CES: it was easy (1-7)")
        CLI = "cli", _("CLI: recommend, buy again, try other products (1 = definitely yes ... 6 = definitely no)")

    class Trigger(models.TextChoices):
        PURCHASE = "purchase", _("After a purchase")
        TICKET = "ticket_resolved", _("After a ticket is resolved")
        RELATIONSHIP = "relationship", _("Periodically, to high-value members")
        MANUAL = "manual", _("Only when staff send it")

    class Channel(models.TextChoices):
        EMAIL = "email", _("Email")
        SMS = "sms", _("SMS")

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="surveys")
    name = models.CharField(max_length=120, help_text=_("Internal name."))
    kind = models.CharField(max_length=4, choices=Kind.choices)
    trigger = models.CharField(max_length=16, choices=Trigger.choices, default=Trigger.MANUAL)
    channel = models.CharField(max_length=5, choices=Channel.choices, default=Channel.EMAIL)
    title = models.CharField(max_length=160, help_text=_("Shown to the member (translatable)."))
    intro = models.TextField(blank=True, help_text=_("Shown above the questions and in the invitation."))
    thanks = models.TextField(blank=True, help_text=_("Shown after the last answer."))
    delay_hours = models.PositiveIntegerField(
        default=24, help_text=_("After a purchase or a resolved ticket, wait this long before inviting.")
    )
    every_months = models.PositiveSmallIntegerField(
        default=6, validators=[MinValueValidator(1)], help_text=_("Relationship surveys: invite again after N months.")
    )
    min_tier = models.ForeignKey(
        Tier,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Relationship surveys: members in this tier or a higher one."),
    )
    min_spend = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("Relationship surveys: or members who spent at least this much in the last 12 months."),
    )
    quarantine_days = models.PositiveIntegerField(
        default=30, help_text=_("Skip members invited to any survey in the last N days.")
    )
    reminder_days = models.PositiveIntegerField(
        default=3, help_text=_("One reminder to non-responders after N days (0: no reminder).")
    )
    expiry_days = models.PositiveIntegerField(
        default=14, validators=[MinValueValidator(1)], help_text=_("The link stops working after N days.")
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["program", "name"]
        indexes = [models.Index(fields=["program", "trigger", "is_active"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(every_months__gte=1) & Q(expiry_days__gte=1),
                name="survey_periods_positive",
                violation_error_message=_("The repeat period and the link's validity are at least 1."),
            ),
            models.CheckConstraint(
                condition=Q(min_spend__isnull=True) | Q(min_spend__gte=0),
                name="survey_min_spend_not_negative",
                violation_error_message=_("The minimum spend cannot be negative."),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.trigger == self.Trigger.RELATIONSHIP and self.min_tier_id is None and self.min_spend is None:
            raise ValidationError(
                _("A relationship survey needs a minimum tier or a minimum spend (who is high-value).")
            )
        if self.min_tier_id and self.program_id and self.min_tier.program_id != self.program_id:
            raise ValidationError({"min_tier": _("This tier belongs to another program.")})

    @staticmethod
    def questions_problem(kind: str, score_questions: int) -> str | None:
        """Why a survey of `kind` with this many score questions cannot be answered, or None.
        (The score step asks every score question; CLI's score is the mean of exactly three.)"""
        if kind == Survey.Kind.CLI and score_questions != CLI_QUESTIONS:
            return _("A CLI survey needs exactly %(n)d score questions.") % {"n": CLI_QUESTIONS}
        if score_questions < 1:
            return _("Add a score question first: members could not answer a survey without one.")
        return None

    def answerable_problem(self) -> str | None:
        """What stops members from completing this survey as stored, or None."""
        return self.questions_problem(self.kind, self.questions.filter(kind=Question.Kind.SCORE).count())


class Question(models.Model):
    """A score question (its scale comes from the survey kind) or a follow-up shown for some scores."""

    class Kind(models.TextChoices):
        SCORE = "score", _("Score")
        TEXT = "text", _("Open text")
        CHOICE = "choice", _("Choice")

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveSmallIntegerField(default=0)
    kind = models.CharField(max_length=6, choices=Kind.choices)
    text = models.CharField(max_length=255)
    choices = models.TextField(blank=True, help_text=_("Choice questions: one option per line."))
    required = models.BooleanField(default=False)
    min_score = models.DecimalField(
        max_digits=4,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("Follow-ups: ask only when the score is at least this."),
    )
    max_score = models.DecimalField(
        max_digits=4,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("Follow-ups: ask only when the score is at most this (e.g. 6 to ask NPS detractors)."),
    )

    class Meta:
        ordering = ["survey", "position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(min_score__isnull=True) | Q(max_score__isnull=True) | Q(min_score__lte=F("max_score")),
                name="question_score_range_valid",
                violation_error_message=_("The lowest score cannot be above the highest score."),
            ),
            models.CheckConstraint(
                condition=(Q(min_score__isnull=True) | Q(min_score__gte=0))
                & (Q(max_score__isnull=True) | Q(max_score__gte=0)),
                name="question_scores_not_negative",
                violation_error_message=_("Scores cannot be negative."),
            ),
            models.CheckConstraint(
                condition=~Q(kind="choice") | ~Q(choices=""),
                name="question_choice_has_options",
                violation_error_message=_("A choice question needs its options, one per line."),
            ),
        ]

    def __str__(self) -> str:
        return self.text

    def clean(self) -> None:
        if self.kind == self.Kind.CHOICE and len(self.options) < 2:
            raise ValidationError({"choices": _("A choice question needs at least two options, one per line.")})

    @property
    def options(self) -> list[str]:
        return [line.strip() for line in self.choices.splitlines() if line.strip()]


class Invitation(models.Model):
    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        SENT = "sent", _("Sent")
        ANSWERED = "answered", _("Answered")
        SKIPPED = "skipped", _("Skipped")

    class Skip(models.TextChoices):
        QUARANTINE = "quarantine", _("Invited to a survey recently")
        NO_CONSENT = "no_consent", _("No consent for the channel")
        NO_CONTACT = "no_contact", _("No email address or phone number")
        INACTIVE = "inactive", _("Member not active")
        SURVEY_OFF = "survey_off", _("Survey switched off")

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="invitations")
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="survey_invitations")
    trigger = models.CharField(max_length=16, choices=Survey.Trigger.choices)
    reference = models.CharField(max_length=120, help_text=_("What caused it: 'purchase:42', 'ticket:7', ..."))
    partner = models.ForeignKey(Partner, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    channel = models.CharField(max_length=5, choices=Survey.Channel.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SCHEDULED)
    skip_reason = models.CharField(max_length=12, choices=Skip.choices, blank=True)
    language = models.CharField(max_length=8, choices=settings.LANGUAGES, default="en")
    nonce = models.CharField(max_length=16, help_text=_("Part of the signed link; a new nonce voids old links."))
    send_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-send_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["survey", "member", "reference"], name="invitation_once_per_reference"),
        ]
        indexes = [
            models.Index(fields=["send_at"], condition=Q(status="scheduled"), name="invitation_due"),
            models.Index(fields=["sent_at"], condition=Q(status="sent"), name="invitation_unanswered"),
            models.Index(fields=["member", "sent_at"]),
            models.Index(fields=["survey", "sent_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.survey} -> {self.member_id} ({self.status})"


class Response(models.Model):
    """One member's answers to one invitation. Partial until completed; the score is fixed at completion."""

    class Category(models.TextChoices):
        PROMOTER = "promoter", _("Promoter")
        PASSIVE = "passive", _("Passive")
        DETRACTOR = "detractor", _("Detractor")

    invitation = models.OneToOneField(Invitation, on_delete=models.CASCADE, related_name="response")
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="responses")
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="survey_responses")
    language = models.CharField(max_length=8, choices=settings.LANGUAGES, help_text=_("Language the member used."))
    score = models.DecimalField(
        max_digits=4,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("NPS 0-10, CSAT 1-5, CES 1-7, CLI the mean of its three answers (1 best ... 6 worst)."),
    )
    category = models.CharField(max_length=10, choices=Category.choices, blank=True, help_text=_("NPS only."))
    started_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)
    ticket = models.OneToOneField("Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="response")

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(fields=["survey", "completed_at"]),
            models.Index(fields=["completed_at"], condition=Q(category="detractor"), name="response_detractors"),
        ]

    def __str__(self) -> str:
        return f"{self.survey}: {self.score}"


class Answer(models.Model):
    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="answers")
    score = models.PositiveSmallIntegerField(null=True, blank=True, validators=[MaxValueValidator(10)])
    text = models.TextField(blank=True)

    class Meta:
        ordering = ["response", "question__position", "question_id"]
        constraints = [models.UniqueConstraint(fields=["response", "question"], name="answer_once_per_question")]

    def __str__(self) -> str:
        return f"{self.question_id}: {self.score if self.score is not None else self.text[:40]}"


class Ticket(models.Model):
    class Status(models.TextChoices):
        NEW = "new", _("New")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        IN_PROGRESS = "in_progress", _("In progress")
        RESOLVED = "resolved", _("Resolved")
        CLOSED = "closed", _("Closed")
        REOPENED = "reopened", _("Reopened")

    class Priority(models.TextChoices):
        LOW = "low", _("Low")
        NORMAL = "normal", _("Normal")
        HIGH = "high", _("High")
        URGENT = "urgent", _("Urgent")

    class Category(models.TextChoices):
        COMPLAINT = "complaint", _("Complaint")
        PRODUCT = "product", _("Product")
        SERVICE = "service", _("Service in store")
        DELIVERY = "delivery", _("Delivery")
        POINTS = "points", _("Points and rewards")
        SUGGESTION = "suggestion", _("Suggestion")
        PRAISE = "praise", _("Praise")
        SURVEY = "survey", _("Survey follow-up")
        OTHER = "other", _("Other")

    class Channel(models.TextChoices):
        MEMBER_PAGE = "member_page", _("Member page")
        SURVEY = "survey", _("Survey answer")
        STAFF = "staff", _("Entered by staff")
        API = "api", _("Partner API")

    OPEN_STATUSES = (Status.NEW, Status.ACKNOWLEDGED, Status.IN_PROGRESS, Status.REOPENED)

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="tickets")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="tickets")
    partner = models.ForeignKey(Partner, null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets")
    subject = models.CharField(max_length=200)
    category = models.CharField(max_length=12, choices=Category.choices, default=Category.COMPLAINT)
    priority = models.CharField(max_length=8, choices=Priority.choices, default=Priority.NORMAL)
    channel = models.CharField(max_length=12, choices=Channel.choices)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.NEW)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="feedback_tickets"
    )
    language = models.CharField(max_length=8, choices=settings.LANGUAGES, default="en")
    external_id = models.CharField(max_length=64, blank=True, help_text=_("The partner's reference (API)."))
    created_at = models.DateTimeField()
    acknowledge_due_at = models.DateTimeField()
    due_at = models.DateTimeField(help_text=_("Target resolution date; moved when an overdue ticket is escalated."))
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    first_contact_at = models.DateTimeField(
        null=True, blank=True, help_text=_("First reply to the customer written by staff.")
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    escalations = models.PositiveSmallIntegerField(default=0)
    overdue_since = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_(
            "Set when the ticket is escalated (a missed target); cleared when staff act on it (a reply to the "
            "customer, a status change, an assignment). Until then it stays overdue, whatever its new target."
        ),
    )
    confirmed_at = models.DateTimeField(null=True, blank=True, help_text=_("When the confirmation email went out."))

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "external_id"], condition=~Q(external_id=""), name="ticket_external_id_per_partner"
            ),
        ]
        indexes = [
            models.Index(fields=["program", "status", "due_at"]),
            models.Index(
                fields=["due_at"],
                condition=Q(status__in=["new", "acknowledged", "in_progress", "reopened"]),
                name="ticket_open_due",
            ),
            models.Index(fields=["member", "-created_at"]),
            models.Index(fields=["assignee", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.subject}"

    @property
    def member_subject(self) -> str:
        """The subject members read. A survey follow-up's subject is written for staff (with the
        survey's internal name): the member reads the survey's title in their language instead.
        Load with select_related("response__survey")."""
        if self.channel == self.Channel.SURVEY:
            try:
                response = self.response
            except ObjectDoesNotExist:
                return self.subject
            return _("Your answer to “%(survey)s” (%(kind)s %(score)s)") % {
                "survey": response.survey.title,
                "kind": response.survey.kind.upper(),
                "score": f"{response.score:g}" if response.score is not None else "",
            }
        return self.subject

    @property
    def number(self) -> str:
        return f"T-{self.pk:06d}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    def is_overdue(self, now: datetime) -> bool:
        """The row-level twin of feedback.selectors.overdue_q (same rule, for one loaded ticket)."""
        return self.is_open and (
            self.due_at < now
            or self.overdue_since is not None
            or (self.acknowledged_at is None and self.acknowledge_due_at < now)
        )


class SlaPolicy(models.Model):
    """Target times per priority; without a row the defaults in feedback.services.tickets.SLA_DEFAULT_HOURS apply."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="sla_policies")
    priority = models.CharField(max_length=8, choices=Ticket.Priority.choices)
    acknowledge_hours = models.PositiveIntegerField(default=1)
    resolve_hours = models.PositiveIntegerField(validators=[MinValueValidator(1)])

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        ordering = ["program", "resolve_hours"]
        constraints = [
            models.UniqueConstraint(fields=["program", "priority"], name="sla_once_per_priority"),
            models.CheckConstraint(
                condition=Q(resolve_hours__gte=1) & Q(acknowledge_hours__lte=F("resolve_hours")),
                name="sla_hours_valid",
                violation_error_message=_("Resolving takes at least 1 hour, and no less than acknowledging."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.program}: {self.priority} in {self.resolve_hours} h"


class TicketMessage(models.Model):
    class Kind(models.TextChoices):
        CUSTOMER = "customer", _("From the customer")
        REPLY = "reply", _("Reply to the customer")
        NOTE = "note", _("Internal note")
        SYSTEM = "system", _("Log")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = models.TextField()
    created_at = models.DateTimeField()
    emailed_at = models.DateTimeField(null=True, blank=True, help_text=_("Replies: when the email went out."))

    PUBLIC_KINDS = (Kind.CUSTOMER, Kind.REPLY)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["ticket", "created_at"])]

    def __str__(self) -> str:
        return f"{self.kind} on {self.ticket_id}"
