"""Versions of a program's rules (members.services.revisions): its earning rules, tier thresholds and
catalog prices as one immutable JSON snapshot, prepared as a draft, scheduled, then published."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from members.models.program import Program


class RuleRevision(models.Model):
    """One version of a program's rules. `snapshot` is {part: {row id: {field: value}}} (the parts:
    members.services.revisions.revision_parts). A published revision is what was live from its
    `published_at`, and never changes again; ledger entries name the one they were earned under."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SCHEDULED = "scheduled", _("Scheduled")
        PUBLISHED = "published", _("Published")

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="rule_revisions")
    number = models.PositiveIntegerField(_("revision"), editable=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT, editable=False)
    snapshot = models.JSONField(default=dict, editable=False)
    # What the draft was copied from: publishing applies only what the draft changed relative to it,
    # so a live edit made meanwhile is kept unless the draft changed the same field.
    based_on = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+", editable=False
    )
    note = models.CharField(_("note"), max_length=255, blank=True, help_text=_("What this version changes, and why."))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    effective_at = models.DateTimeField(
        _("takes effect at"), null=True, blank=True, help_text=_("When a scheduled revision is published.")
    )
    published_at = models.DateTimeField(null=True, blank=True, editable=False)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )

    class Meta:
        ordering = ["program", "-number"]
        verbose_name = _("rule revision")
        verbose_name_plural = _("rule revisions")
        constraints = [
            models.UniqueConstraint(fields=["program", "number"], name="rule_revision_number_unique"),
            models.CheckConstraint(
                condition=~Q(status="scheduled") | Q(effective_at__isnull=False),
                name="rule_revision_scheduled_has_date",
                violation_error_message=_("A scheduled revision needs the date it takes effect."),
            ),
            models.CheckConstraint(
                condition=~Q(status="published") | Q(published_at__isnull=False),
                name="rule_revision_published_has_date",
            ),
        ]
        indexes = [
            # The beat job's query (scheduled, due) and the current revision of a program.
            models.Index(fields=["status", "effective_at"], name="rule_revision_due"),
            models.Index(fields=["program", "status", "-published_at"], name="rule_revision_current"),
        ]

    def __str__(self) -> str:
        return f"{self.program} r{self.number}"
