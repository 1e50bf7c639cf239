"""Money around points: exchange rates for purchases in other currencies, and points sold to
members (points + pay) at a price each program configures."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from members.models.ledger import LedgerEntry
from members.models.member import Member
from members.models.program import Partner, Program

CURRENCY_CODE = RegexValidator(r"^[A-Z]{3}$", _("Three capital letters (ISO 4217), e.g. USD."))


class ExchangeRate(models.Model):
    """How many units of the program's currency one unit of `currency` is worth, from `valid_from`
    until the next rate of the same currency. A purchase is converted at the rate in force on its date."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="exchange_rates")
    currency = models.CharField(max_length=3, validators=[CURRENCY_CODE])
    valid_from = models.DateField()
    rate = models.DecimalField(
        max_digits=18,
        decimal_places=8,
        validators=[MinValueValidator(Decimal("0.00000001"))],
        help_text=_("Units of the program's currency for one unit of this currency."),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["program", "currency", "-valid_from"]
        constraints = [
            models.UniqueConstraint(fields=["program", "currency", "valid_from"], name="rate_once_per_day"),
            models.CheckConstraint(condition=Q(rate__gt=0), name="rate_positive"),
        ]

    def __str__(self) -> str:
        return f"1 {self.currency} = {self.rate} ({self.valid_from})"


class PointsPrice(models.Model):
    """What a program sells points for, and the limits on buying them."""

    program = models.OneToOneField(Program, on_delete=models.CASCADE, related_name="points_price")
    is_active = models.BooleanField(default=True)
    price = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
        help_text=_("Price of one block of points, in the program's currency."),
    )
    block = models.PositiveIntegerField(
        default=100, validators=[MinValueValidator(1)], help_text=_("Points in one block: points are sold by blocks.")
    )
    min_points = models.PositiveIntegerField(default=100, help_text=_("Fewest points one purchase may buy."))
    max_points = models.PositiveIntegerField(default=10000, help_text=_("Most points one purchase may buy."))
    daily_limit = models.PositiveIntegerField(default=20000, help_text=_("Most points a member may buy a day."))
    yearly_limit = models.PositiveIntegerField(default=100000, help_text=_("Most points a member may buy a year."))
    refund_days = models.PositiveIntegerField(
        default=14, help_text=_("Days after the sale during which its unspent points can be refunded.")
    )
    payment_url = models.URLField(
        blank=True,
        help_text=_(
            "The payment provider's page an order is paid on (the order reference is added as ?order=). "
            "Without it, members cannot buy points on their page: only partners sell them, through the API."
        ),
    )

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(price__gt=0), name="points_price_positive"),
            models.CheckConstraint(condition=Q(block__gte=1), name="points_price_block_positive"),
            models.CheckConstraint(condition=Q(min_points__lte=models.F("max_points")), name="points_price_min_max"),
        ]

    def __str__(self) -> str:
        return f"{self.block} points = {self.price}"


class PointsSale(models.Model):
    """Points a member bought. A partner's sale is paid when recorded; a member page order waits
    (pending) for the payment provider's confirmation, which credits the points."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for payment")
        PAID = "paid", _("Paid")
        REFUNDED = "refunded", _("Refunded")
        CANCELLED = "cancelled", _("Cancelled")

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="points_sales")
    partner = models.ForeignKey(Partner, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    order = models.CharField(max_length=24, unique=True, help_text=_("Our reference, given to the payment provider."))
    points = models.PositiveIntegerField()
    price = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    payment_reference = models.CharField(
        max_length=64, blank=True, help_text=_("The payment's id at the provider or the partner's till.")
    )
    # Not a database foreign key: ledger entries are partitioned by month (no constraint points to them).
    entry = models.ForeignKey(
        LedgerEntry, null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    refunded_points = models.PositiveIntegerField(default=0)
    refunded_amount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    paid_at = models.DateTimeField(null=True, blank=True)
    refunded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["program", "payment_reference"],
                condition=~Q(payment_reference=""),
                name="points_sale_payment_once",
            ),
            models.CheckConstraint(condition=Q(points__gt=0), name="points_sale_points_positive"),
            models.CheckConstraint(
                condition=Q(refunded_points__lte=models.F("points")), name="points_sale_refund_not_above_points"
            ),
        ]
        indexes = [models.Index(fields=["member", "created_at"], name="points_sale_member_time")]

    def __str__(self) -> str:
        return f"{self.order}: {self.points} points for {self.price} {self.currency}"
