"""Programs, members, tiers, partners, earning rules, the points ledger and the event outbox."""

from decimal import Decimal

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework_api_key.models import AbstractAPIKey


class Program(models.Model):
    class Rounding(models.TextChoices):
        DOWN = "down", _("Round down")
        NEAREST = "nearest", _("Round to nearest")
        UP = "up", _("Round up")

    class Expiry(models.TextChoices):
        NEVER = "never", _("Points never expire")
        FIXED = "fixed", _("N months after they were earned (FIFO)")
        INACTIVITY = "inactivity", _("After N months without activity")

    class Referral(models.TextChoices):
        OFF = "off", _("No referral rewards")
        SINGLE = "single", _("Same reward for every referral")
        STEPPED = "stepped", _("Reward grows with the number of referrals")

    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(max_length=60, unique=True)
    is_default = models.BooleanField(default=False, help_text=_("Program used by the sign-up page when none is named."))
    currency = models.CharField(max_length=3, default="EUR")
    points_name = models.CharField(max_length=40, default="points")
    earn_rate = models.DecimalField(
        max_digits=10,
        decimal_places=4,
        default=Decimal("1"),
        validators=[MinValueValidator(0)],
        help_text=_("Points per currency unit spent."),
    )
    rounding = models.CharField(max_length=10, choices=Rounding.choices, default=Rounding.DOWN)
    welcome_bonus = models.PositiveIntegerField(default=0)
    pending_days = models.PositiveIntegerField(
        default=0,
        help_text=_("Purchase points wait this many days (the return window) before they can be spent."),
    )
    expiry_policy = models.CharField(max_length=12, choices=Expiry.choices, default=Expiry.NEVER)
    expiry_months = models.PositiveIntegerField(default=12)
    expiry_notice_days = models.PositiveIntegerField(
        default=30, help_text=_("Warn members this many days before points expire.")
    )
    referral_mode = models.CharField(max_length=10, choices=Referral.choices, default=Referral.SINGLE)
    referral_referrer_points = models.PositiveIntegerField(
        default=0, help_text=_("Single-level reward for the referrer.")
    )
    referral_referee_points = models.PositiveIntegerField(
        default=0, help_text=_("Reward for the new member on their first qualifying purchase.")
    )
    referral_steps = models.JSONField(
        default=list,
        blank=True,
        help_text=_("Stepped rewards: [[from_count, points], ...], e.g. [[1, 100], [3, 200], [5, 400]]."),
    )
    referral_min_purchase = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    burn_rate = models.DecimalField(
        max_digits=10,
        decimal_places=4,
        default=Decimal("0.01"),
        help_text=_("Currency value of one point when paying with points at checkout."),
    )
    burn_min_order = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    tier_notice_days = models.PositiveIntegerField(
        default=30, help_text=_("Warn members this long before a downgrade.")
    )
    adjust_limit = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text=_(
            "Largest manual adjustment (up or down, in points) staff without the unlimited permission may make "
            "at once. Empty: the POINTS_ADJUST_LIMIT setting."
        ),
    )
    # Abuse controls (members.fraud): an earn past a limit is recorded but its points wait for review.
    member_daily_earns = models.PositiveIntegerField(
        null=True, blank=True, help_text=_("Purchases a member may earn points on per day. Empty: no limit.")
    )
    member_daily_points = models.PositiveIntegerField(
        null=True, blank=True, help_text=_("Purchase points a member may earn per day. Empty: no limit.")
    )
    partner_daily_earns = models.PositiveIntegerField(
        null=True, blank=True, help_text=_("Earning purchases each partner may record per day. Empty: no limit.")
    )
    partner_daily_points = models.PositiveIntegerField(
        null=True, blank=True, help_text=_("Purchase points each partner may award per day. Empty: no limit.")
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Bumped in the same transaction as any change to the program's earning rules, tiers or plans:
    # the hot path caches those under this version (members.selectors.program_rules), so every
    # process sees a change as soon as it commits.
    rules_version = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True), name="one_default_program"),
        ]

    def __str__(self) -> str:
        return self.name


class Tier(models.Model):
    class Metric(models.TextChoices):
        SPEND = "spend", _("Spend")
        POINTS = "points", _("Points earned")
        REFERRALS = "referrals", _("Successful referrals")

    class Window(models.TextChoices):
        CALENDAR_YEAR = "calendar_year", _("Calendar year")
        ROLLING_12 = "rolling_12", _("Rolling 12 months")
        LIFETIME = "lifetime", _("Lifetime")

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="tiers")
    name = models.CharField(max_length=60)
    level = models.PositiveSmallIntegerField(help_text=_("0 is the entry tier; higher is better."))
    metric = models.CharField(max_length=10, choices=Metric.choices, default=Metric.SPEND)
    window = models.CharField(max_length=14, choices=Window.choices, default=Window.ROLLING_12)
    threshold = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    earn_multiplier = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal("1"))
    benefits = models.TextField(blank=True)
    invitation_only = models.BooleanField(default=False)
    color = models.CharField(max_length=7, default="#6b7280")

    class Meta:
        ordering = ["program", "level"]
        constraints = [models.UniqueConstraint(fields=["program", "level"], name="tier_level_unique")]

    def __str__(self) -> str:
        return f"{self.name} ({self.program})"


class Partner(models.Model):
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="partners")
    name = models.CharField(max_length=120)
    earn_multiplier = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal("1"))
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["program", "name"], name="partner_name_unique")]

    def __str__(self) -> str:
        return self.name


class MembershipPlan(models.Model):
    """A paid membership (Amazon Prime style) that unlocks perks."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="plans")
    name = models.CharField(max_length=80)
    fee = models.DecimalField(max_digits=10, decimal_places=2)
    duration_days = models.PositiveIntegerField(default=365)
    recurring = models.BooleanField(default=True, help_text=_("Renews automatically until cancelled."))
    earn_multiplier = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal("1"))
    free_shipping = models.BooleanField(default=False)
    early_access = models.BooleanField(default=False)
    perks = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["program", "fee"]

    def __str__(self) -> str:
        return self.name


class Member(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")
        ANONYMIZED = "anonymized", _("Anonymized")

    class LoyaltyType(models.TextChoices):
        UNKNOWN = "", _("Not yet known")
        SATISFIED = "satisfied", _("Satisfied")
        PRICE = "price", _("Price-loyal")
        PROGRAM = "program", _("Program-loyal")
        CONVENIENCE = "convenience", _("Convenience")
        FREEBIE = "freebie", _("Freebie-loyal")
        ADVOCATE = "advocate", _("Unconditional (advocate)")

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="members")
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="member",
    )
    number = models.CharField(max_length=12, unique=True, editable=False)
    email = models.EmailField()
    phone = models.CharField(max_length=20, blank=True)
    first_name = models.CharField(max_length=80, blank=True)
    last_name = models.CharField(max_length=80, blank=True)
    birth_date = models.DateField(null=True, blank=True)
    language = models.CharField(max_length=8, choices=settings.LANGUAGES, default="en")
    external_id = models.CharField(max_length=64, blank=True)
    consent_email = models.BooleanField(default=False)
    consent_email_at = models.DateTimeField(null=True, blank=True)
    consent_sms = models.BooleanField(default=False)
    consent_sms_at = models.DateTimeField(null=True, blank=True)
    referral_code = models.CharField(max_length=12, unique=True, editable=False)
    referred_by = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="referrals")
    referral_rewarded_at = models.DateTimeField(
        null=True, blank=True, help_text=_("When this member's referral qualified.")
    )
    referral_held = models.BooleanField(
        default=False,
        editable=False,
        help_text=_("A suspected self-referral: no referral points unless staff approve its review case."),
    )
    tier = models.ForeignKey(Tier, null=True, blank=True, on_delete=models.PROTECT, related_name="members")
    tier_floor = models.ForeignKey(Tier, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    tier_floor_until = models.DateField(null=True, blank=True)
    tier_downgrade_warned_at = models.DateTimeField(null=True, blank=True)
    points_available = models.IntegerField(default=0, editable=False)
    points_pending = models.IntegerField(default=0, editable=False)
    points_lifetime = models.IntegerField(default=0, editable=False)
    points_debt = models.IntegerField(
        default=0,
        editable=False,
        help_text=_("Points taken back by refunds after they were spent; repaid from future earnings."),
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.ACTIVE)
    loyalty_type = models.CharField(max_length=12, choices=LoyaltyType.choices, blank=True, default="")
    last_nps = models.PositiveSmallIntegerField(null=True, blank=True, help_text=_("Latest NPS answer (0-10)."))
    enrolled_at = models.DateTimeField(auto_now_add=True)
    last_activity_at = models.DateTimeField(null=True, blank=True)
    last_purchase_at = models.DateTimeField(null=True, blank=True)
    points_expiry_warned_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text=_("Inactivity expiry: when the member was last warned (activity since then re-arms the warning)."),
    )
    loyalty_type_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["program", "email"], name="member_email_per_program"),
            models.UniqueConstraint(
                fields=["program", "external_id"],
                condition=~Q(external_id=""),
                name="member_external_id_per_program",
            ),
            models.CheckConstraint(condition=Q(points_available__gte=0), name="member_available_not_negative"),
            models.CheckConstraint(condition=Q(points_pending__gte=0), name="member_pending_not_negative"),
            models.CheckConstraint(condition=Q(points_debt__gte=0), name="member_debt_not_negative"),
        ]
        permissions = [
            ("adjust_points", "Can adjust points up to the program's limit"),
            ("adjust_points_unlimited", "Can adjust points beyond the program's limit"),
            ("export_member", "Can export members and the dashboard tables as CSV"),
            ("view_dashboard", "Can view the program dashboard"),
        ]
        indexes = [
            models.Index(fields=["program", "status"]),
            models.Index(fields=["program", "tier"]),
            models.Index(fields=["program", "loyalty_type"]),
            models.Index(fields=["phone"]),
            models.Index(fields=["last_name", "first_name"]),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.full_name}".strip()

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def points_balance(self) -> int:
        return self.points_available + self.points_pending


class TierChange(models.Model):
    class Reason(models.TextChoices):
        UPGRADE = "upgrade", _("Qualified")
        DOWNGRADE = "downgrade", _("Review at the end of the window")
        MANUAL = "manual", _("Set by staff")
        ENROLL = "enroll", _("Enrollment")

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="tier_changes")
    from_tier = models.ForeignKey(Tier, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    to_tier = models.ForeignKey(Tier, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=10, choices=Reason.choices)
    note = models.CharField(max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.member_id}: {self.from_tier} -> {self.to_tier}"


class Subscription(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        CANCELLED = "cancelled", _("Cancelled (runs to the end of the period)")
        EXPIRED = "expired", _("Expired")

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="subscriptions")
    plan = models.ForeignKey(MembershipPlan, on_delete=models.PROTECT, related_name="subscriptions")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    started_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)
    paid_by = models.CharField(max_length=40, help_text=_("Who recorded the payment: staff user, partner API, ..."))
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(fields=["member"], condition=~Q(status="expired"), name="one_live_subscription"),
        ]

    def __str__(self) -> str:
        return f"{self.member_id} {self.plan}"


class EarningRule(models.Model):
    class Kind(models.TextChoices):
        CATEGORY = "category", _("Category multiplier")
        SKU = "sku", _("Product (SKU) multiplier")
        PARTNER = "partner", _("Partner multiplier")
        PROMOTION = "promotion", _("Time-boxed promotion (multiplier on the whole basket)")
        BONUS = "bonus", _("Fixed bonus on a purchase over a minimum")
        ENGAGEMENT = "engagement", _("Engagement action")
        EXCLUSION = "exclusion", _("Exclusion (no points on a category or SKU)")

    class Action(models.TextChoices):
        SOCIAL_SHARE = "social_share", _("Social share")
        REVIEW = "review", _("Product review")
        SURVEY = "survey_completed", _("Survey completed")
        PROFILE = "profile_completed", _("Profile completed")
        BIRTHDAY = "birthday", _("Birthday")
        REFERRAL = "referral", _("Referral")

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="earning_rules")
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    category = models.CharField(max_length=60, blank=True)
    sku = models.CharField(max_length=60, blank=True)
    partner = models.ForeignKey(Partner, null=True, blank=True, on_delete=models.CASCADE, related_name="earning_rules")
    action = models.CharField(max_length=20, choices=Action.choices, blank=True)
    multiplier = models.DecimalField(max_digits=6, decimal_places=2, default=Decimal("1"))
    points = models.PositiveIntegerField(default=0, help_text=_("Fixed points (bonus and engagement rules)."))
    min_amount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    daily_cap = models.PositiveIntegerField(null=True, blank=True, help_text=_("Engagement: times per day."))
    lifetime_cap = models.PositiveIntegerField(null=True, blank=True, help_text=_("Engagement: times ever."))
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    weekdays = models.CharField(
        max_length=20,
        blank=True,
        help_text=_("Only on these ISO weekdays, e.g. 6,7 for weekends. Empty: every day."),
    )
    priority = models.IntegerField(default=0, help_text=_("Higher wins among non-stackable rules."))
    stackable = models.BooleanField(default=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["program", "-priority", "id"]
        indexes = [models.Index(fields=["program", "kind", "is_active"])]

    def __str__(self) -> str:
        return self.name


class Purchase(models.Model):
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="purchases")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="purchases")
    partner = models.ForeignKey(Partner, null=True, blank=True, on_delete=models.PROTECT, related_name="purchases")
    external_id = models.CharField(max_length=64)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    paid_with_points = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    discount_amount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    currency = models.CharField(max_length=3)
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
    """One movement of points. Append-only: never updated, never deleted."""

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
    breakdown = models.JSONField(default=list, blank=True)
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


class PointLot(models.Model):
    """Points earned together: they become available, are spent and expire together."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="lots")
    entry = models.OneToOneField(LedgerEntry, on_delete=models.PROTECT, related_name="lot")
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
    entry = models.OneToOneField(LedgerEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["member", "action", "reference"], name="engagement_once")]
        indexes = [models.Index(fields=["member", "action", "created_at"])]

    def __str__(self) -> str:
        return f"{self.action} {self.reference}"


class Event(models.Model):
    """A domain event, written in the transaction that caused it (the outbox)."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="+")
    member = models.ForeignKey(Member, null=True, blank=True, on_delete=models.SET_NULL, related_name="events")
    type = models.CharField(max_length=40, db_index=True)
    payload = models.JSONField(default=dict)
    occurred_at = models.DateTimeField()
    dispatched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["occurred_at"], condition=Q(dispatched_at__isnull=True), name="event_undispatched")
        ]

    def __str__(self) -> str:
        return f"{self.type} #{self.id}"


class EventHandling(models.Model):
    """(event, handler) ran; the unique constraint makes re-dispatch safe."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="handlings")
    handler = models.CharField(max_length=120)
    handled_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["event", "handler"], name="event_handled_once")]

    def __str__(self) -> str:
        return f"{self.handler} on {self.event_id}"


# --- partner API: keys, idempotency, webhooks (members/api/) ---------------------------------


class PartnerAPIKey(AbstractAPIKey):
    """A partner's API key: only the hash is stored; the prefix identifies it in logs and admin."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="api_keys")
    rate_limit = models.CharField(
        max_length=20,
        blank=True,
        help_text=_("Requests allowed for this key, e.g. 600/min or 20/s. Empty: the API_THROTTLE_RATE default."),
    )

    class Meta(AbstractAPIKey.Meta):
        verbose_name = _("partner API key")
        verbose_name_plural = _("partner API keys")
        indexes = [models.Index(fields=["partner", "revoked"])]


class IdempotencyKey(models.Model):
    """The first response to a partner's POST with an Idempotency-Key, replayed on retries.

    A row without a status is a request in flight; `locked_until` lets a retry take over
    when the process that claimed it died (its work rolled back with it).
    """

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.BinaryField(default=b"")
    content_type = models.CharField(max_length=100, blank=True)
    locked_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["partner", "key"], name="idempotency_key_per_partner")]

    def __str__(self) -> str:
        return self.key


class WebhookEndpoint(models.Model):
    """Where a partner wants to hear about events, and the secret deliveries are signed with."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="webhook_endpoints")
    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=80, help_text=_("Shared secret for the X-Fidelis-Signature header."))
    events = models.JSONField(default=list, help_text=_("Event types delivered to this endpoint."))
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["partner", "url"]

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(models.Model):
    """One event sent (or to be sent) to one endpoint, with a log of every attempt."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SUCCEEDED = "succeeded", _("Delivered")
        FAILED = "failed", _("Gave up")

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(Event, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    event_type = models.CharField(max_length=40)
    body = models.TextField(help_text=_("The exact JSON sent; every attempt sends the same bytes."))
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    log = models.JSONField(default=list, blank=True, help_text=_("Every attempt: time, status code, error, duration."))
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "webhook deliveries"
        constraints = [models.UniqueConstraint(fields=["endpoint", "event"], name="webhook_delivery_once")]
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=Q(status="pending"), name="webhook_delivery_due"),
            models.Index(fields=["endpoint", "-created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} -> {self.endpoint_id}"


# --- abuse controls (members/fraud.py) ---------------------------------------------------------


class MemberDevice(models.Model):
    """A browser the member used the member pages from, known only by a keyed hash of its device cookie."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="devices")
    device_hash = models.CharField(max_length=64)
    first_seen_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["member", "device_hash"], name="member_device_once")]
        indexes = [models.Index(fields=["device_hash"])]

    def __str__(self) -> str:
        return f"{self.member_id}: {self.device_hash[:8]}"


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


class MetricSnapshot(models.Model):
    """A program's figures for one closed calendar month (members.metrics.metric_snapshots_refresh,
    daily): the dashboard's 12-month charts read these rows instead of a year of purchases and ledger."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="+")
    month = models.DateField(help_text=_("First day of the month."))
    data = models.JSONField(default=dict)
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["program", "-month"]
        constraints = [models.UniqueConstraint(fields=["program", "month"], name="metric_snapshot_once")]

    def __str__(self) -> str:
        return f"{self.program_id} {self.month:%Y-%m}"


class AuditEntry(models.Model):
    """Who changed what, when and why: every admin add/change/delete and every staff service
    (adjustments, tier assignments, grants, cancellations, campaign launches, ticket handling).

    Append-only: written only by members.services.audit_record, no admin write permission for anyone,
    and on PostgreSQL a trigger refuses UPDATE and DELETE. It holds no personal data, so GDPR erasure
    never has to touch it: a member is named by number, and free-text values of models that describe a
    person are recorded as changed without their content (members.services.audit_changes)."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,  # staff accounts are deactivated, not deleted, once they acted
        null=True,
        blank=True,
        related_name="+",
    )
    at = models.DateTimeField(default=timezone.now, db_index=True)
    action = models.CharField(max_length=60, db_index=True, help_text=_("admin.add, points.adjust, ..."))
    target_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    target_id = models.CharField(max_length=150, blank=True)  # API keys' ids are prefix + hash
    target_repr = models.CharField(max_length=200, blank=True)
    changes = models.JSONField(default=dict, blank=True, help_text=_("{field: [before, after]}"))
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "audit entries"
        indexes = [models.Index(fields=["target_type", "target_id"])]

    def __str__(self) -> str:
        return f"{self.action} {self.target_repr}"


class ReconciliationRun(models.Model):
    """One nightly consistency check (members.reconciliation): what was checked and what did not add up."""

    started_at = models.DateTimeField(db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    ok = models.BooleanField(default=False, help_text=_("Every check ran and found nothing."))
    counts = models.JSONField(default=dict, help_text=_("Mismatches found by each check."))
    mismatches = models.JSONField(default=list, help_text=_("Each mismatch: check, object, detail."))
    alerted = models.JSONField(default=list, blank=True, help_text=_("Addresses emailed about this run."))

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M} {'ok' if self.ok else 'mismatch'}"
