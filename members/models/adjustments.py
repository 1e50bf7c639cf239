"""A large manual points adjustment waiting for a second staff member (members.services.ledger)."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from members.models.ledger import LedgerEntry
from members.models.member import Member
from members.models.program import Program


class PendingAdjustment(models.Model):
    """Asked by one staff member, applied only when another approves it (four eyes)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for approval")
        APPROVED = "approved", _("Approved and applied")
        REJECTED = "rejected", _("Rejected")

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="pending_adjustments")
    points = models.IntegerField(help_text=_("Positive to add, negative to remove."))
    reason = models.CharField(max_length=255)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=255, blank=True, help_text=_("Why it was rejected."))
    entry = models.OneToOneField(  # db_constraint=False: the ledger is partitioned (LedgerEntry's docstring)
        LedgerEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_constraint=False
    )

    class Meta:
        ordering = ["-requested_at", "-id"]
        indexes = [models.Index(fields=["status", "-requested_at"])]
        constraints = [
            models.CheckConstraint(condition=~Q(points=0), name="pending_adjustment_changes_points"),
            # The requester never approves their own adjustment, whatever calls the service.
            models.CheckConstraint(
                condition=Q(decided_by__isnull=True) | ~Q(decided_by=F("requested_by")),
                name="pending_adjustment_four_eyes",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.points:+d} for {self.member_id} ({self.status})"
