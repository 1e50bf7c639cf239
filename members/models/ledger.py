"""The points ledger: purchases, entries (append-only), the lots earned points live in, rewarded engagement."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from members.models.cards import Card
from members.models.member import Member
from members.models.program import EarningRule, Partner, Program
from members.texts import reason_render


class Purchase(models.Model):
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="purchases")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="purchases")
    partner = models.ForeignKey(Partner, null=True, blank=True, on_delete=models.PROTECT, related_name="purchases")
    external_id = models.CharField(max_length=64)
    card = models.ForeignKey(
        Card, null=True, blank=True, on_delete=models.PROTECT, related_name="purchases", help_text=_("The card shown.")
    )
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    paid_with_points = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    discount_amount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    currency = models.CharField(max_length=3)
    # A purchase paid in another currency: what the partner sent and the rate that converted it
    # (members.services.currency); `amount` and `currency` are then in the program's currency.
    original_amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    original_currency = models.CharField(max_length=3, blank=True)
    exchange_rate = models.DecimalField(max_digits=18, decimal_places=8, null=True, blank=True)
    items = models.JSONField(default=list, blank=True)
    categories = models.PositiveSmallIntegerField(default=0, help_text=_("Distinct product categories in the basket."))
    occurred_at = models.DateTimeField()
    points = models.IntegerField(default=0)
    refunded_amount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    points_reversed = models.IntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["partner", "external_id"], name="purchase_external_id_per_partner"),
            # NULL partners are distinct in a unique index: purchases recorded without one (staff) need their own.
            models.UniqueConstraint(
                fields=["program", "external_id"],
                condition=Q(partner__isnull=True),
                name="purchase_external_id_without_partner",
            ),
            models.CheckConstraint(
                condition=Q(refunded_amount__lte=models.F("amount")), name="purchase_refund_not_above_amount"
            ),
        ]
        indexes = [
            models.Index(fields=["member", "occurred_at"]),
            # A partner's own purchases by time (GET /api/v1/transactions, newest first).
            models.Index(fields=["partner", "-occurred_at", "-id"], name="purchase_partner_time"),
            # Covering (PostgreSQL; SQLite ignores include): the dashboard's period scans of
            # purchases read the index alone.
            models.Index(
                fields=["program", "occurred_at"],
                include=["member", "amount", "refunded_amount", "id"],
                name="purchase_program_period",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.external_id} ({self.amount} {self.currency})"


class LedgerEntry(models.Model):
    """One movement of points. Append-only: never updated, never deleted.

    On PostgreSQL the table is partitioned by month of `created_at` (core.partitions): its database
    key is (id, created_at) and `id` alone stays unique through its sequence. A foreign key *to* it
    therefore cannot be a database constraint (PostgreSQL wants the referenced key to hold the
    partition key): such fields say `db_constraint=False`, the ledger is never deleted from, and
    Django's on_delete still guards deletes made through the ORM."""

    class Kind(models.TextChoices):
        EARN = "earn", _("Purchase")
        BONUS = "bonus", _("Bonus")
        WELCOME = "welcome", _("Welcome gift")
        REFERRAL = "referral", _("Referral reward")
        ENGAGEMENT = "engagement", _("Engagement")
        GRANT = "grant", _("Granted")
        REDEEM = "redeem", _("Redeemed")
        REFUND = "refund", _("Returned")
        EXPIRE = "expire", _("Expired")
        ADJUST = "adjust", _("Adjustment")
        REVERSE = "reverse", _("Purchase refunded")
        DEBT = "debt", _("Debt repayment")
        TRANSFER_OUT = "transfer_out", _("Points sent")
        TRANSFER_IN = "transfer_in", _("Points received")
        BOUGHT = "bought", _("Points bought")
        SALE_REFUND = "sale_refund", _("Bought points refunded")
        OPENING = "opening", _("Opening balance")

    # Points issued to members: the one definition of the dashboard's "points issued"
    # (members.metrics), of what the lifetime total adds up (members.services.ledger, which counts
    # staff adjustments net, up and down, and takes reversals out) and of the points-earned tier
    # metric (members.selectors).
    ISSUED_KINDS = (
        Kind.EARN,
        Kind.BONUS,
        Kind.WELCOME,
        Kind.REFERRAL,
        Kind.ENGAGEMENT,
        Kind.GRANT,
    )

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="ledger")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    points = models.IntegerField()
    amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    partner = models.ForeignKey(Partner, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    purchase = models.ForeignKey(Purchase, null=True, blank=True, on_delete=models.PROTECT, related_name="entries")
    reference = models.CharField(max_length=120, blank=True, help_text=_("What caused it: 'rewards.redemption:42'."))
    reason = models.CharField(max_length=255, blank=True)
    # When set, `reason` is an English message id (gettext_noop) and these its parameters: the
    # entry reads in the reader's language, whenever it was written (members.texts.ledger_reason).
    # A parameter may be {"en": ..., "ro": ...}: stored content (a reward's title) in every language.
    reason_params = models.JSONField(null=True, blank=True, editable=False)
    breakdown = models.JSONField(default=list, blank=True)
    # The version of the program's rules (all of them: rate, rules, tiers) an earn was computed under;
    # the breakdown names the rules within it. Null: an entry no rule produced, or older than revisions.
    rule_revision = models.ForeignKey(
        "members.RuleRevision", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "ledger entries"
        indexes = [
            models.Index(fields=["member", "-created_at"]),
            models.Index(fields=["program", "kind", "created_at"]),
            # Covering (PostgreSQL): the dashboard's points-by-kind totals over a period.
            models.Index(fields=["program", "created_at"], include=["kind", "points"], name="entry_program_period"),
            models.Index(fields=["partner", "-created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.points:+d}"

    # What members (their pages, CSV, export, emails) and partners read. A staff member's reason is
    # written for staff ("goodwill after complaint T-000042", "fraud suspicion"): they see a neutral
    # title instead, and the reason stays in the admin and the audit trail.
    @property
    def member_title(self) -> str:
        return str(_("Points adjustment")) if self.kind == self.Kind.ADJUST else str(self.get_kind_display())

    @property
    def member_reason(self) -> str:
        if self.kind == self.Kind.ADJUST:
            return self.member_title
        return reason_render(self.reason, self.reason_params)


class PointLot(models.Model):
    """Points earned together: they become available, are spent and expire together."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="lots")
    # db_constraint=False: the ledger is partitioned (LedgerEntry's docstring).
    entry = models.OneToOneField(LedgerEntry, on_delete=models.PROTECT, related_name="lot", db_constraint=False)
    points = models.PositiveIntegerField()
    remaining = models.PositiveIntegerField()
    pending = models.BooleanField(default=False)
    available_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True)
    expiry_notified_at = models.DateTimeField(
        null=True, blank=True, help_text=_("When the member was told this lot is about to expire.")
    )

    class Meta:
        ordering = ["expires_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(remaining__lte=models.F("points")), name="lot_remaining_not_above_points"
            )
        ]
        indexes = [
            models.Index(fields=["member", "expires_at"], condition=Q(remaining__gt=0), name="lot_open_by_expiry"),
            models.Index(fields=["available_at"], condition=Q(pending=True), name="lot_pending_by_date"),
            models.Index(fields=["expires_at"], condition=Q(remaining__gt=0), name="lot_open_expiry"),
        ]

    def __str__(self) -> str:
        return f"lot {self.id}: {self.remaining}/{self.points}"


class EngagementAction(models.Model):
    """An engagement action that was rewarded; (member, action, reference) earns once."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="engagements")
    action = models.CharField(max_length=20, choices=EarningRule.Action.choices)
    reference = models.CharField(max_length=120)
    entry = models.OneToOneField(  # db_constraint=False: the ledger is partitioned (LedgerEntry's docstring)
        LedgerEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_constraint=False
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["member", "action", "reference"], name="engagement_once")]
        indexes = [models.Index(fields=["member", "action", "created_at"])]

    def __str__(self) -> str:
        return f"{self.action} {self.reference}"


class PointsTransfer(models.Model):
    """Points one member gave another of the same program (members.services.transfers): one
    TRANSFER_OUT entry on the sender, one TRANSFER_IN entry on the recipient. `reference` (the
    caller's id of the transfer) makes it idempotent within the program."""

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+")
    sender = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="transfers_sent")
    recipient = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="transfers_received")
    points = models.PositiveIntegerField()
    reference = models.CharField(max_length=64)
    partner = models.ForeignKey(Partner, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # db_constraint=False: the ledger is partitioned (LedgerEntry's docstring).
    sent_entry = models.OneToOneField(LedgerEntry, on_delete=models.PROTECT, related_name="+", db_constraint=False)
    received_entry = models.OneToOneField(LedgerEntry, on_delete=models.PROTECT, related_name="+", db_constraint=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["program", "reference"], name="transfer_reference_per_program"),
            models.CheckConstraint(condition=~Q(sender=models.F("recipient")), name="transfer_between_two_members"),
            models.CheckConstraint(condition=Q(points__gt=0), name="transfer_points_positive"),
        ]
        indexes = [models.Index(fields=["sender", "created_at"])]

    def __str__(self) -> str:
        return f"{self.sender_id} -> {self.recipient_id}: {self.points}"
