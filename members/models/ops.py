"""Operations records: monthly metric snapshots, the audit trail, nightly reconciliation runs."""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from members.models.program import Program


class MetricSnapshot(models.Model):
    """A program's figures for one closed calendar month (members.metrics.metric_snapshots_refresh,
    daily): the dashboard's 12-month charts read these rows instead of a year of purchases and ledger."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="+")
    month = models.DateField(help_text=_("First day of the month."))
    data = models.JSONField(default=dict)
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["program", "-month"]
        constraints = [models.UniqueConstraint(fields=["program", "month"], name="metric_snapshot_once")]

    def __str__(self) -> str:
        return f"{self.program_id} {self.month:%Y-%m}"


class AuditEntry(models.Model):
    """Who changed what, when and why: every admin add/change/delete and every staff service
    (adjustments, tier assignments, grants, cancellations, campaign launches, ticket handling).

    Append-only: written only by members.services.audit_record, no admin write permission for anyone,
    and on PostgreSQL a trigger refuses UPDATE and DELETE. It holds no personal data, so GDPR erasure
    never has to touch it: a member is named by number, and free-text values of models that describe a
    person are recorded as changed without their content (members.services.audit_changes)."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,  # staff accounts are deactivated, not deleted, once they acted
        null=True,
        blank=True,
        related_name="+",
    )
    at = models.DateTimeField(default=timezone.now, db_index=True)
    action = models.CharField(max_length=60, db_index=True, help_text=_("admin.add, points.adjust, ..."))
    target_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    target_id = models.CharField(max_length=150, blank=True)  # API keys' ids are prefix + hash
    target_repr = models.CharField(max_length=200, blank=True)
    changes = models.JSONField(default=dict, blank=True, help_text=_("{field: [before, after]}"))
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "audit entries"
        indexes = [models.Index(fields=["target_type", "target_id"])]

    def __str__(self) -> str:
        return f"{self.action} {self.target_repr}"


class ReconciliationRun(models.Model):
    """One nightly consistency check (members.reconciliation): what was checked and what did not add up."""

    started_at = models.DateTimeField(db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    ok = models.BooleanField(default=False, help_text=_("Every check ran and found nothing."))
    counts = models.JSONField(default=dict, help_text=_("Mismatches found by each check."))
    mismatches = models.JSONField(default=list, help_text=_("Each mismatch: check, object, detail."))
    alerted = models.JSONField(default=list, blank=True, help_text=_("Addresses emailed about this run."))

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M} {'ok' if self.ok else 'mismatch'}"
