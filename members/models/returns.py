"""Returns and receipts: the items a partner took back from a purchase (so no item comes back twice)
and receipts recorded without a member, which a member may claim later within the program's window."""

from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from members.models.ledger import Purchase
from members.models.member import Member
from members.models.program import Partner, Program


class PurchaseReturn(models.Model):
    """One refund of a purchase (members.services.refunds.purchase_reverse): the items and amount
    it took back and the points, as the locked service computed them. A partner's `reference` (its
    return id) makes the refund idempotent: the same reference answers with this row again."""

    purchase = models.ForeignKey(Purchase, on_delete=models.PROTECT, related_name="returns")
    reference = models.CharField(max_length=64, blank=True)
    items = models.JSONField(default=list, blank=True, help_text=_("[{sku, quantity}] taken back."))
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    points = models.IntegerField(default=0)
    debt = models.IntegerField(default=0)
    reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["purchase", "reference"], condition=~Q(reference=""), name="purchase_return_reference_once"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="purchase_return_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.purchase_id}: {self.amount}"


class Receipt(models.Model):
    """A purchase recorded by a partner without a member (the customer was not known at the till).
    A member claims it within the program's window; it then becomes a purchase and earns, once."""

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="receipts")
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="receipts")
    external_id = models.CharField(max_length=64)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    paid_with_points = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    discount_amount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    currency = models.CharField(max_length=3)
    items = models.JSONField(default=list, blank=True)
    occurred_at = models.DateTimeField()
    created_at = models.DateTimeField()
    claim_until = models.DateTimeField(help_text=_("A member may claim it until then."))
    member = models.ForeignKey(Member, null=True, blank=True, on_delete=models.PROTECT, related_name="receipts")
    purchase = models.OneToOneField(Purchase, null=True, blank=True, on_delete=models.PROTECT, related_name="receipt")
    claimed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["partner", "external_id"], name="receipt_external_id_per_partner"),
            models.CheckConstraint(
                condition=Q(member__isnull=True, purchase__isnull=True, claimed_at__isnull=True)
                | Q(member__isnull=False, purchase__isnull=False, claimed_at__isnull=False),
                name="receipt_claimed_whole",
            ),
        ]
        indexes = [
            models.Index(fields=["program", "claim_until"], condition=Q(member__isnull=True), name="receipt_open")
        ]

    def __str__(self) -> str:
        return f"{self.external_id} ({self.amount} {self.currency})"
