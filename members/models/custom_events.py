"""Operator-defined events: the kinds of things a partner reports for points beyond the fixed
engagement actions (a class attended, a bottle recycled, a kilometre run), configured in admin,
and each one a partner recorded."""

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from members.models.ledger import LedgerEntry
from members.models.member import Member
from members.models.program import POINTS_CEILING_MAX, Partner, Program

ATTRIBUTE_TYPES = ("string", "number", "boolean")


class CustomEventType(models.Model):
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="custom_event_types")
    key = models.CharField(
        max_length=40,
        validators=[RegexValidator(r"^[a-z][a-z0-9_.-]*$", _("Lower-case letters, digits, _ . - ; a letter first."))],
        help_text=_("What partners send as the event's type, e.g. class_attended."),
    )
    name = models.CharField(max_length=120, help_text=_("Shown to members in their history."))
    attributes = models.JSONField(
        default=list,
        blank=True,
        help_text=_(
            'What the event carries: [{"name": "km", "type": "number", "required": true}, ...]; '
            "types: string, number, boolean. Other attributes are refused."
        ),
    )
    points = models.PositiveIntegerField(default=0, help_text=_("Fixed points for each event."))
    points_attribute = models.CharField(
        max_length=40, blank=True, help_text=_("A number attribute that earns points too (e.g. km). Empty: none.")
    )
    points_per_unit = models.DecimalField(
        max_digits=10,
        decimal_places=4,
        default=Decimal("0"),
        validators=[MinValueValidator(0)],
        help_text=_("Points per unit of that attribute, rounded down."),
    )
    max_points = models.PositiveIntegerField(
        default=1000,
        validators=[MinValueValidator(1), MaxValueValidator(POINTS_CEILING_MAX)],
        help_text=_("Most points one event may earn, whatever its attributes."),
    )
    daily_cap = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text=_("Events that earn per member and day; past it they are recorded without points."),
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["program", "key"]
        constraints = [models.UniqueConstraint(fields=["program", "key"], name="custom_event_key_per_program")]

    def __str__(self) -> str:
        return f"{self.name} ({self.key})"


class CustomEvent(models.Model):
    """One operator-defined event a partner reported; (type, member, reference) earns once."""

    event_type = models.ForeignKey(CustomEventType, on_delete=models.PROTECT, related_name="events")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="custom_events")
    partner = models.ForeignKey(Partner, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    reference = models.CharField(max_length=120)
    attributes = models.JSONField(default=dict, blank=True)
    points = models.PositiveIntegerField(default=0)
    entry = models.OneToOneField(  # db_constraint=False: the ledger is partitioned (LedgerEntry's docstring)
        LedgerEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_constraint=False
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["event_type", "member", "reference"], name="custom_event_once"),
            models.CheckConstraint(condition=Q(points=0) | Q(entry__isnull=False), name="custom_event_points_entry"),
        ]
        indexes = [models.Index(fields=["member", "event_type", "created_at"])]

    def __str__(self) -> str:
        return f"{self.event_type_id} {self.reference}"
