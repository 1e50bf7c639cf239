"""Loyalty cards: the numbers a member is known by at a till, printed on plastic or virtual (in a
wallet app). A member may hold several; the balance is the member's, so a blocked or replaced card
loses nothing."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from members.models.member import Member
from members.models.program import Program


class Card(models.Model):
    class Kind(models.TextChoices):
        PRINTED = "printed", _("Printed")
        VIRTUAL = "virtual", _("Virtual")

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        BLOCKED = "blocked", _("Blocked")
        REPLACED = "replaced", _("Replaced")

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="cards")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="cards")
    number = models.CharField(max_length=19, help_text=_("8 to 19 digits, the last one a Luhn check digit."))
    kind = models.CharField(max_length=8, choices=Kind.choices)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ACTIVE)
    issued_at = models.DateTimeField()
    blocked_at = models.DateTimeField(null=True, blank=True)
    block_reason = models.CharField(max_length=200, blank=True)
    replaced_by = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT, related_name="replaces")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-issued_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["program", "number"], name="card_number_per_program"),
            models.CheckConstraint(
                condition=Q(status="active") | Q(blocked_at__isnull=False), name="card_blocked_has_date"
            ),
        ]
        indexes = [models.Index(fields=["member", "status"])]

    def __str__(self) -> str:
        return self.number
