"""Partner settlement: what each partner of a coalition program pays for the points it issues and is
paid for the points redeemed at it, month by month.

A statement is written once, when its month is closed (coalition.services.settlement_close), and never
changes afterwards: what the ledger learns later about a closed month (a back-dated entry, a rate
corrected after the fact) goes into the next statement as adjustment lines. The nightly
reconciliation (coalition.checks) recomputes closed months from the ledger and reports any
difference no adjustment explains. Nothing here points at LedgerEntry rows (a partitioned table):
statements are computed from entries by partner and time range.
"""

from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from members.models import Partner, Program

RATE = {"max_digits": 12, "decimal_places": 6}
MONEY = {"max_digits": 14, "decimal_places": 2}


class PartnerRate(models.Model):
    """What a point costs the partner that issues it, and what the program pays the partner where it
    is redeemed, from `valid_from` until the partner's next rate. Money in the program's currency."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="settlement_rates")
    valid_from = models.DateField(_("valid from"))
    cost_per_point = models.DecimalField(
        _("cost per point issued"), **RATE, help_text=_("The partner pays this for each point it issues.")
    )
    value_per_point = models.DecimalField(
        _("value per point redeemed"),
        **RATE,
        help_text=_("The program pays the partner this for each point redeemed at it."),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["partner", "-valid_from"]
        verbose_name = _("partner rate")
        verbose_name_plural = _("partner rates")
        constraints = [
            models.UniqueConstraint(fields=["partner", "valid_from"], name="partner_rate_once_per_day"),
            models.CheckConstraint(
                condition=Q(cost_per_point__gte=0, value_per_point__gte=0),
                name="partner_rate_not_negative",
                violation_error_message=_("Rates cannot be negative."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.partner} {self.valid_from}"


class SettlementStatement(models.Model):
    """One partner's month, closed. The totals are the sums of the lines (adjustments included)."""

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+")
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="settlements")
    month = models.DateField(_("month"), help_text=_("The first day of the month settled."))
    currency = models.CharField(max_length=3)
    points_issued = models.IntegerField(_("points issued"), default=0, help_text=_("Net of reversals."))
    points_redeemed = models.IntegerField(
        _("points redeemed here"), default=0, help_text=_("Net of returned points; vouchers used here included.")
    )
    points_redeemed_elsewhere = models.IntegerField(
        _("points redeemed elsewhere"), default=0, help_text=_("Points this partner issued, spent at others.")
    )
    points_expired = models.IntegerField(
        _("breakage"), default=0, help_text=_("Points this partner issued that expired unspent.")
    )
    partner_owes = models.DecimalField(_("partner owes"), **MONEY, default=Decimal("0"))
    program_owes = models.DecimalField(_("program owes"), **MONEY, default=Decimal("0"))
    closed_at = models.DateTimeField(_("closed at"))

    class Meta:
        ordering = ["-month", "partner__name"]
        verbose_name = _("settlement statement")
        verbose_name_plural = _("settlement statements")
        constraints = [models.UniqueConstraint(fields=["partner", "month"], name="settlement_once_per_month")]
        indexes = [
            models.Index(fields=["partner", "-month", "-id"], name="settlement_partner_month"),
            models.Index(fields=["program", "month"], name="settlement_program_month"),
        ]

    def __str__(self) -> str:
        return f"{self.partner} {self.month:%Y-%m}"

    @property
    def balance(self) -> Decimal:
        """Positive: the partner pays the program; negative: the program pays the partner."""
        return self.partner_owes - self.program_owes


class SettlementLine(models.Model):
    class Kind(models.TextChoices):
        ISSUED = "issued", _("Points issued")
        REVERSED = "reversed", _("Points taken back (refunded purchases)")
        REDEEMED = "redeemed", _("Points redeemed here")
        RETURNED = "returned", _("Points returned (cancelled redemptions)")
        VOUCHERS = "vouchers", _("Vouchers used here")
        ELSEWHERE = "elsewhere", _("Issued here, redeemed elsewhere")
        BREAKAGE = "breakage", _("Issued here, expired")
        ADJUSTMENT = "adjustment", _("Adjustment")

    # Who pays a line's amount: the partner for what it issues, the program for what is redeemed at
    # the partner. The other kinds are information (amount 0).
    PARTNER_PAYS = (Kind.ISSUED, Kind.REVERSED)
    PROGRAM_PAYS = (Kind.REDEEMED, Kind.RETURNED, Kind.VOUCHERS)

    statement = models.ForeignKey(SettlementStatement, on_delete=models.PROTECT, related_name="lines")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    adjusts = models.CharField(
        max_length=12, choices=Kind.choices, blank=True, help_text=_("For an adjustment: the kind of line it corrects.")
    )
    period = models.DateField(help_text=_("The month the points moved in (an adjustment: the month it corrects)."))
    points = models.IntegerField()
    amount = models.DecimalField(**MONEY, default=Decimal("0"))

    class Meta:
        ordering = ["statement", "period", "id"]
        verbose_name = _("settlement line")
        verbose_name_plural = _("settlement lines")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="adjustment", adjusts__gt="") | (~Q(kind="adjustment") & Q(adjusts="")),
                name="settlement_line_adjusts_only_adjustments",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.points:+d}"

    @property
    def effective_kind(self) -> str:
        """The kind whose total this line counts in (an adjustment counts in the kind it corrects)."""
        return self.adjusts or self.kind

    @property
    def paid_by(self) -> str:
        """ "partner", "program", or "" for a line that is information only."""
        kind = self.effective_kind
        return "partner" if kind in self.PARTNER_PAYS else "program" if kind in self.PROGRAM_PAYS else ""
