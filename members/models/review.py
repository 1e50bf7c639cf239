"""Review cases: what the abuse checks (members.checks) hold for staff to decide (members.review)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from members.models.ledger import Purchase
from members.models.member import Member
from members.models.program import Program


class ReviewCase(models.Model):
    """Something suspicious, held for staff: its points are credited only if someone approves it."""

    class Kind(models.TextChoices):
        EARN_LIMIT = "earn_limit", _("Earn over a velocity limit")
        SELF_REFERRAL = "self_referral", _("Suspected self-referral")
        DEBT = "debt", _("Refund after the points were spent (debt)")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    kind = models.CharField(max_length=16, choices=Kind.choices)
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="review_cases")
    points = models.PositiveIntegerField(
        default=0, help_text=_("Points held: credited only if the case is approved (a debt case holds none).")
    )
    purchase = models.ForeignKey(Purchase, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    reference = models.CharField(max_length=120, blank=True, help_text=_("What was held: 'purchase:ORD-1'."))
    details = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["purchase"], condition=Q(kind="earn_limit"), name="review_case_one_hold_per_purchase"
            ),
            models.UniqueConstraint(
                fields=["member"], condition=Q(kind="self_referral"), name="review_case_one_referral_per_member"
            ),
            models.CheckConstraint(
                condition=Q(status="open", decided_at__isnull=True) | (~Q(status="open") & Q(decided_at__isnull=False)),
                name="review_case_decided_when_closed",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "-created_at"]),
            models.Index(fields=["program", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"
