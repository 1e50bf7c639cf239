"""Households: members who pool their points to redeem together (members.services.households).

Each member's points stay on their own ledger; the household is who may draw on them. A member
belongs to at most one household (Member.household); joining takes an invitation the invited
member accepts.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from members.models.member import Member
from members.models.program import Program


class Household(models.Model):
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="households")
    name = models.CharField(_("name"), max_length=80)
    created_by = models.ForeignKey(Member, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["program", "-created_at"])]

    def __str__(self) -> str:
        return self.name


class HouseholdInvitation(models.Model):
    """A household member asks another member of the program to join; only the invited member decides."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for an answer")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")
        CANCELLED = "cancelled", _("Cancelled")

    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="invitations")
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="household_invitations")
    invited_by = models.ForeignKey(Member, null=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["household", "member"], condition=Q(status="pending"), name="household_invitation_pending_once"
            ),
        ]
        indexes = [models.Index(fields=["member", "status"])]

    def __str__(self) -> str:
        return f"{self.household_id} -> {self.member_id}: {self.status}"
