"""Import jobs: a large CSV a partner uploads (purchases or members) or staff upload (opening
balances of a program moving from another platform), processed in the background
line by line; its status and a per-line error report stay readable afterwards."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from members.models.program import Partner, Program


class ImportJob(models.Model):
    class Kind(models.TextChoices):
        TRANSACTIONS = "transactions", _("Purchases")
        MEMBERS = "members", _("Members")
        OPENING_BALANCES = "opening_balances", _("Opening balances")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="import_jobs")
    # None: uploaded by staff in the admin (opening balances), who is then `created_by`.
    partner = models.ForeignKey(Partner, null=True, blank=True, on_delete=models.PROTECT, related_name="import_jobs")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    dry_run = models.BooleanField(
        default=False, help_text=_("Check every line and report what it would do, writing nothing.")
    )
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    content = models.TextField(help_text=_("The uploaded CSV; cleared when the job is done."))
    total = models.PositiveIntegerField(default=0, help_text=_("Data lines in the file."))
    processed = models.PositiveIntegerField(default=0, help_text=_("Lines done so far (the next one to do)."))
    succeeded = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    errors = models.JSONField(
        default=list, blank=True, help_text=_("[{line, code, message, fields}] per refused line.")
    )
    report = models.JSONField(
        default=list, blank=True, help_text=_("[{line, status, member, points, message}] per line (opening balances).")
    )
    created_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(processed__lte=models.F("total")), name="import_processed_not_above_total"
            ),
        ]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"{self.kind} import {self.pk} ({self.status})"


class OpeningBalanceImport(ImportJob):
    """Opening-balance imports as the admin shows them: upload, dry run, report, confirm."""

    class Meta:
        proxy = True
        verbose_name = _("opening balances import")
        verbose_name_plural = _("opening balances imports")
