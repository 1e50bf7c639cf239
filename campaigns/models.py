"""Segments, offers, campaigns with A/B variants and a holdout, deliveries, offer grants, journeys."""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.template import Engine, TemplateSyntaxError
from django.utils.translation import gettext_lazy as _

from members.models import Member, MembershipPlan, Partner, Program, Tier

# Staff write message templates; they get the standard tags and filters, nothing else.
MESSAGE_ENGINE = Engine(libraries={}, builtins=["django.template.defaultfilters", "django.template.defaulttags"])


class Segment(models.Model):
    class Kind(models.TextChoices):
        DYNAMIC = "dynamic", _("Dynamic (rules, evaluated when used)")
        STATIC = "static", _("Static list (frozen or imported)")

    class Combine(models.TextChoices):
        ANY_GROUP = "any", _("Any group matches (rules inside a group: all must match)")
        ALL_GROUPS = "all", _("Every group matches (rules inside a group: any may match)")

    name = models.CharField(max_length=120)
    program = models.ForeignKey(
        Program,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="segments",
        help_text=_("Empty: members of every program."),
    )
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.DYNAMIC)
    combine = models.CharField(max_length=4, choices=Combine.choices, default=Combine.ANY_GROUP)
    description = models.TextField(blank=True)
    frozen_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SegmentRule(models.Model):
    """One condition. Rules share a group number to be combined with the other operator."""

    class Kind(models.TextChoices):
        TIER = "tier", _("Tier is")
        PROGRAM = "program", _("Program is")
        LOYALTY_TYPE = "loyalty_type", _("Loyalty type is one of (values)")
        ENROLLED = "enrolled", _("Enrolled between dates, or within the last N days")
        RECENCY = "recency", _("Purchased within the last N days")
        FREQUENCY = "frequency", _("Number of purchases in the last N days between min and max")
        MONETARY = "monetary", _("Spend in the last N days between min and max")
        BALANCE = "balance", _("Points balance between min and max")
        EXPIRING = "expiring", _("Points expiring within N days, at least min")
        NPS = "nps", _("NPS group is one of (values: promoter, passive, detractor)")
        CONSENT = "consent", _("Consents to channel (value: email or sms)")
        BIRTHDAY = "birthday", _("Birthday within the next N days")
        LANGUAGE = "language", _("Language is one of (values)")
        PARTNER = "partner", _("Shopped at partner (within the last N days if set)")
        REDEEMED = "redeemed", _("Has redeemed points (within the last N days if set)")
        PAID_PLAN = "paid_plan", _("Has a paid plan (the given plan, if set)")

    # The fields each kind reads (campaigns/selectors.py): the admin's builder shows only these
    # (static/js/segment-builder.js), and `clean` empties the others so a rule keeps no stray value.
    PARAMETERS = {
        Kind.TIER: ("tier",),
        Kind.PROGRAM: ("program",),
        Kind.LOYALTY_TYPE: ("values",),
        Kind.ENROLLED: ("days", "date_from", "date_to"),
        Kind.RECENCY: ("days",),
        Kind.FREQUENCY: ("days", "minimum", "maximum"),
        Kind.MONETARY: ("days", "minimum", "maximum"),
        Kind.BALANCE: ("minimum", "maximum"),
        Kind.EXPIRING: ("days", "minimum"),
        Kind.NPS: ("values",),
        Kind.CONSENT: ("values",),
        Kind.BIRTHDAY: ("days",),
        Kind.LANGUAGE: ("values",),
        Kind.PARTNER: ("partner", "days"),
        Kind.REDEEMED: ("days",),
        Kind.PAID_PLAN: ("plan",),
    }

    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="rules")
    group = models.PositiveSmallIntegerField(default=1)
    kind = models.CharField(max_length=14, choices=Kind.choices)
    negate = models.BooleanField(default=False, help_text=_("Members who do NOT match this rule."))
    values = models.CharField(max_length=200, blank=True, help_text=_("Comma-separated values."))
    tier = models.ForeignKey(Tier, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    program = models.ForeignKey(Program, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    partner = models.ForeignKey(Partner, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    plan = models.ForeignKey(MembershipPlan, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    minimum = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    maximum = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    days = models.PositiveIntegerField(null=True, blank=True)
    date_from = models.DateField(null=True, blank=True)
    date_to = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["group", "id"]
        constraints = [
            # min > max matches nobody, silently: refuse it instead.
            models.CheckConstraint(
                condition=Q(minimum__isnull=True) | Q(maximum__isnull=True) | Q(minimum__lte=F("maximum")),
                name="segment_rule_min_not_above_max",
                violation_error_message=_("The minimum cannot be above the maximum."),
            ),
            models.CheckConstraint(
                condition=(Q(minimum__isnull=True) | Q(minimum__gte=0)) & (Q(maximum__isnull=True) | Q(maximum__gte=0)),
                name="segment_rule_bounds_not_negative",
                violation_error_message=_("The minimum and maximum cannot be negative."),
            ),
            models.CheckConstraint(
                condition=Q(date_from__isnull=True) | Q(date_to__isnull=True) | Q(date_from__lte=F("date_to")),
                name="segment_rule_dates_in_order",
                violation_error_message=_("The start date cannot be after the end date."),
            ),
        ]

    def __str__(self) -> str:
        return f"{'NOT ' if self.negate else ''}{self.get_kind_display()}"

    def clean(self) -> None:
        """Each kind needs its own parameters; a rule missing them would silently match the wrong members.
        The parameters its kind does not read are emptied (a value left from another kind means nothing)."""
        K = self.Kind
        if self.kind in self.PARAMETERS:
            unused = {name for names in self.PARAMETERS.values() for name in names} - set(self.PARAMETERS[self.kind])
            for name in unused:
                setattr(self, self._meta.get_field(name).attname, "" if name == "values" else None)
        needs = {
            K.TIER: ("tier", self.tier_id),
            K.PROGRAM: ("program", self.program_id),
            K.PARTNER: ("partner", self.partner_id),
            K.RECENCY: ("days", self.days is not None),
            K.BIRTHDAY: ("days", self.days is not None),
            K.EXPIRING: ("days", self.days is not None),
            K.FREQUENCY: ("minimum", self.minimum is not None or self.maximum is not None),
            K.MONETARY: ("minimum", self.minimum is not None or self.maximum is not None),
            K.BALANCE: ("minimum", self.minimum is not None or self.maximum is not None),
            K.ENROLLED: ("days", self.days is not None or self.date_from or self.date_to),
        }
        allowed = {
            K.LOYALTY_TYPE: [v for v in Member.LoyaltyType.values if v],
            K.NPS: ["promoter", "passive", "detractor"],
            K.CONSENT: ["email", "sms"],
            K.LANGUAGE: [code for code, _name in settings.LANGUAGES],
        }
        if self.kind in needs and not needs[self.kind][1]:
            raise ValidationError({needs[self.kind][0]: _("This rule needs a value here.")})
        if self.minimum is not None and self.maximum is not None and self.minimum > self.maximum:
            raise ValidationError(
                {"maximum": _("The maximum cannot be below the minimum: the rule would match nobody.")}
            )
        if self.kind in allowed:
            values = [v.strip() for v in self.values.split(",") if v.strip()]
            wrong = [v for v in values if v not in allowed[self.kind]]
            if not values or wrong:
                raise ValidationError(
                    {"values": _("Comma-separated, from: %(allowed)s.") % {"allowed": ", ".join(allowed[self.kind])}}
                )


class SegmentMember(models.Model):
    """A member of a static segment."""

    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="entries")
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["segment", "member"], name="segment_member_once")]

    def __str__(self) -> str:
        return f"{self.segment_id}/{self.member_id}"


class Offer(models.Model):
    class Kind(models.TextChoices):
        REWARD = "reward", _("Catalog reward, free")
        MULTIPLIER = "multiplier", _("Points multiplier for a period")
        BONUS = "bonus", _("Bonus points on the next purchase over a minimum")
        DISCOUNT = "discount", _("Personal discount voucher")
        FREE_SHIPPING = "free_shipping", _("Free shipping on the next order")
        GIFT = "gift", _("Gift with purchase")

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="offers")
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=14, choices=Kind.choices)
    # xgettext:no-python-format
    title = models.CharField(max_length=160, help_text=_("What the member reads, e.g. '25% off shoes this week'."))
    description = models.TextField(blank=True)
    reward = models.ForeignKey(
        "rewards.Reward",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Catalog reward granted free."),
    )
    multiplier = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal("2"))
    category = models.CharField(max_length=60, blank=True, help_text=_("Multiplier or discount: one category."))
    points = models.PositiveIntegerField(default=0, help_text=_("Bonus points."))
    min_amount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    discount_percent = models.PositiveSmallIntegerField(
        default=0, validators=[MaxValueValidator(100)], help_text=_("Discount voucher: percent off.")
    )
    valid_days = models.PositiveIntegerField(default=7, validators=[MinValueValidator(1)])

    class Meta:
        ordering = ["program", "name"]
        constraints = [
            # Below 1 a multiplier would take points away from purchases.
            models.CheckConstraint(
                condition=Q(multiplier__gte=1),
                name="offer_multiplier_at_least_one",
                violation_error_message=_("A multiplier is at least 1."),
            ),
            models.CheckConstraint(
                condition=Q(discount_percent__lte=100),
                name="offer_discount_percent_at_most_100",
                violation_error_message=_("A discount takes at most 100 percent off."),
            ),
            models.CheckConstraint(
                condition=Q(min_amount__gte=0) & Q(valid_days__gte=1),
                name="offer_amounts_valid",
                violation_error_message=_(
                    "The minimum amount cannot be negative and an offer is valid at least 1 day."
                ),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        """What each kind needs to do anything (a draft may still lack its catalog reward: launch checks it)."""
        if self.reward_id and self.program_id and self.reward.program_id != self.program_id:
            raise ValidationError({"reward": _("This reward belongs to another program.")})
        if self.kind == self.Kind.MULTIPLIER and self.multiplier is not None and self.multiplier <= 1:
            raise ValidationError({"multiplier": _("A multiplier offer multiplies by more than 1.")})
        if self.kind == self.Kind.BONUS and not self.points:
            raise ValidationError({"points": _("A bonus offer gives at least 1 point.")})
        if self.kind == self.Kind.DISCOUNT and not self.discount_percent:
            raise ValidationError({"discount_percent": _("A discount offer takes 1 to 100 percent off.")})


class Campaign(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SCHEDULED = "scheduled", _("Scheduled")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        ACTIVE = "active", _("Active (journey)")
        PAUSED = "paused", _("Paused")

    class Recurrence(models.TextChoices):
        ONCE = "once", _("Once")
        DAILY = "daily", _("Every day")
        WEEKLY = "weekly", _("Every week")
        MONTHLY = "monthly", _("Every month")

    class Trigger(models.TextChoices):
        NONE = "", _("None: a broadcast campaign")
        ENROLLED = "enrolled", _("Welcome: the member enrolled")
        BIRTHDAY = "birthday", _("Birthday in N days (0: on the day)")
        POINTS_EXPIRING = "points_expiring", _("Points about to expire (the program's notice period)")
        TIER_REACHED = "tier_reached", _("Tier reached")
        TIER_EXPIRING = "tier_expiring", _("Tier about to be lost")
        WIN_BACK = "win_back", _("Win-back: no purchase in N days")
        POST_PURCHASE = "post_purchase", _("N days after a purchase")
        ABANDONED_REDEMPTION = "abandoned_redemption", _("Viewed a reward without enough points, now has enough")

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="campaigns")
    name = models.CharField(max_length=120)
    segment = models.ForeignKey(
        Segment,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="campaigns",
        help_text=_("Audience. Journeys: optional narrowing. Empty: every active member of the program."),
    )
    offer = models.ForeignKey(Offer, null=True, blank=True, on_delete=models.PROTECT, related_name="campaigns")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT, editable=False)
    trigger = models.CharField(max_length=20, choices=Trigger.choices, blank=True, default="")
    trigger_days = models.PositiveIntegerField(default=0)
    channel_email = models.BooleanField(default=True)
    channel_sms = models.BooleanField(default=False, help_text=_("Used when the member has no email consent."))
    send_at = models.DateTimeField(null=True, blank=True, help_text=_("Empty: as soon as it is launched."))
    recurrence = models.CharField(max_length=8, choices=Recurrence.choices, default=Recurrence.ONCE)
    next_run_at = models.DateTimeField(null=True, blank=True, editable=False)
    cap_messages = models.PositiveIntegerField(
        null=True, blank=True, help_text=_("Frequency cap: at most this many messages per member (all campaigns)...")
    )
    cap_days = models.PositiveIntegerField(default=7, help_text=_("... in this many days."))
    quiet_start = models.PositiveSmallIntegerField(
        default=21, validators=[MaxValueValidator(23)], help_text=_("SMS quiet hours start (member's local hour).")
    )
    quiet_end = models.PositiveSmallIntegerField(
        default=9, validators=[MaxValueValidator(23)], help_text=_("SMS quiet hours end (member's local hour).")
    )
    holdout_percent = models.PositiveSmallIntegerField(
        default=0, validators=[MaxValueValidator(90)], help_text=_("Control group that receives nothing.")
    )
    budget_offers = models.PositiveIntegerField(null=True, blank=True, help_text=_("Most offers to issue."))
    budget_points = models.PositiveIntegerField(
        null=True, blank=True, help_text=_("Most bonus points to promise (bonus offers: issued x points).")
    )
    attribution_days = models.PositiveIntegerField(default=14)
    created_at = models.DateTimeField(auto_now_add=True)
    launched_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "next_run_at"]), models.Index(fields=["program", "trigger"])]
        constraints = [
            models.CheckConstraint(
                condition=(Q(budget_offers__isnull=True) | Q(budget_offers__gte=1))
                & (Q(budget_points__isnull=True) | Q(budget_points__gte=1)),
                name="campaign_budget_positive",
                violation_error_message=_("A budget is at least 1 (empty: no budget)."),
            ),
            models.CheckConstraint(
                condition=(Q(cap_messages__isnull=True) | Q(cap_messages__gte=1)) & Q(cap_days__gte=1),
                name="campaign_cap_positive",
                violation_error_message=_("A frequency cap allows at least 1 message in at least 1 day."),
            ),
            models.CheckConstraint(
                condition=Q(quiet_start__lte=23) & Q(quiet_end__lte=23) & Q(holdout_percent__lte=90),
                name="campaign_hours_and_holdout_valid",
                violation_error_message=_("Quiet hours are 0 to 23 and the holdout at most 90%."),
            ),
            models.CheckConstraint(
                condition=Q(attribution_days__gte=1),
                name="campaign_attribution_positive",
                violation_error_message=_("Attribution needs at least 1 day."),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        for name in ("segment", "offer"):
            related = getattr(self, name) if getattr(self, f"{name}_id") else None
            if related is not None and related.program_id not in (None, self.program_id) and self.program_id:
                raise ValidationError({name: _("It belongs to another program.")})
        offer = self.offer if self.offer_id else None
        if (
            offer
            and offer.kind == Offer.Kind.BONUS
            and self.budget_points is not None
            and self.budget_points < offer.points
        ):
            message = _("Below the offer's %(points)d bonus points: no offer could be issued.") % {
                "points": offer.points
            }
            raise ValidationError({"budget_points": message})


class Variant(models.Model):
    """A message version. Templates are per language (modeltranslation) and use {{ name }}, {{ balance }},
    {{ tier }}, {{ points_to_next_tier }}, {{ next_tier }}, {{ offer }}, {{ code }}, {{ expiry }}."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="variants")
    name = models.CharField(max_length=40, default="A")
    weight = models.PositiveSmallIntegerField(default=1, validators=[MinValueValidator(1)])
    subject = models.CharField(max_length=200)
    body = models.TextField(help_text=_("Email text."))
    sms_body = models.CharField(max_length=320, blank=True)

    class Meta:
        ordering = ["campaign", "name"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "name"], name="variant_name_unique"),
            models.CheckConstraint(
                condition=Q(weight__gte=1),
                name="variant_weight_positive",
                violation_error_message=_("A variant's weight is at least 1."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.campaign} / {self.name}"

    def clean(self) -> None:
        """A template error found now is a form error; found at sending time it would fail every message."""
        errors = {}
        # The per-language columns (subject_en, body_ro, ...) are the ones the admin form edits.
        names = [f"{base}_{code}" for base in ("subject", "body", "sms_body") for code, _name in settings.LANGUAGES]
        for name in names:
            try:
                MESSAGE_ENGINE.from_string(getattr(self, name, None) or "")
            except TemplateSyntaxError as exc:
                errors[name] = str(exc)
        if errors:
            raise ValidationError(errors)


class Delivery(models.Model):
    """One (campaign, member, occurrence): the unique constraint is what makes re-runs safe."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Skipped")
        # Told by the provider's webhooks after the send (the email bounced, the member marked it spam).
        BOUNCED = "bounced", _("Bounced")
        COMPLAINED = "complained", _("Marked as spam")

    class Reason(models.TextChoices):
        NONE = "", "-"
        HOLDOUT = "holdout", _("Holdout (control group)")
        NO_CONSENT = "no_consent", _("No consent on any campaign channel")
        CAPPED = "capped", _("Frequency cap reached")
        QUIET_HOURS = "quiet_hours", _("Quiet hours: SMS waits for the morning")
        BUDGET = "budget", _("Campaign budget spent")
        INACTIVE = "inactive", _("Member no longer active")

    class Channel(models.TextChoices):
        NONE = "", "-"
        EMAIL = "email", _("Email")
        SMS = "sms", _("SMS")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="deliveries")
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="campaign_deliveries")
    occurrence = models.CharField(max_length=60, blank=True, help_text=_("Run or trigger occurrence."))
    variant = models.ForeignKey(Variant, null=True, blank=True, on_delete=models.PROTECT, related_name="deliveries")
    holdout = models.BooleanField(default=False)
    channel = models.CharField(max_length=5, choices=Channel.choices, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    reason = models.CharField(max_length=12, choices=Reason.choices, blank=True)
    send_after = models.DateTimeField(null=True, blank=True)
    provider_id = models.CharField(max_length=200, blank=True)
    # The claim that took this row to 'sending' with others (bulk email): the provider's idempotency key,
    # so a batch resent after a crash is accepted once.
    batch = models.UUIDField(null=True, blank=True, editable=False)
    error = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(fields=["campaign", "member", "occurrence"], name="delivery_once"),
        ]
        indexes = [
            models.Index(fields=["member", "status", "sent_at"]),
            models.Index(fields=["campaign", "status"]),
            models.Index(fields=["send_after"], condition=Q(status="queued"), name="delivery_due"),
            models.Index(fields=["batch"], condition=Q(status="sending"), name="delivery_batch_in_flight"),
            models.Index(fields=["provider_id"], condition=~Q(provider_id=""), name="delivery_provider_id"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}/{self.member_id} {self.status}"


class OfferGrant(models.Model):
    """The member's personal copy of an offer: a code to show at checkout, valid for a while."""

    class Status(models.TextChoices):
        ISSUED = "issued", _("Issued")
        REDEEMED = "redeemed", _("Redeemed")

    offer = models.ForeignKey(Offer, on_delete=models.PROTECT, related_name="grants")
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="grants")
    # db_constraint=False: deliveries are partitioned by month on PostgreSQL (core.partitions), and a
    # foreign key constraint would have to name (id, created_at).
    delivery = models.OneToOneField(Delivery, on_delete=models.CASCADE, related_name="grant", db_constraint=False)
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="offer_grants")
    code = models.CharField(max_length=64, unique=True, help_text=_("Ours, or the reward's voucher code."))
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ISSUED)
    valid_until = models.DateTimeField()
    points = models.PositiveIntegerField(default=0, help_text=_("Bonus points granted on redemption."))
    reference = models.CharField(max_length=120, blank=True, help_text=_("What redeemed it: 'purchase:42'."))
    created_at = models.DateTimeField(auto_now_add=True)
    redeemed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["member", "status", "valid_until"])]

    def __str__(self) -> str:
        return self.code


class RewardInterest(models.Model):
    """A member looked at a reward they could not afford yet (abandoned redemption journey)."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="+")
    reward_id = models.PositiveIntegerField()
    points_needed = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    fulfilled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["member", "reward_id"], condition=Q(fulfilled_at__isnull=True), name="reward_interest_open"
            )
        ]

    def __str__(self) -> str:
        return f"{self.member_id} wants reward {self.reward_id}"


class CampaignResult(models.Model):
    """A campaign's results per variant and holdout (campaigns.selectors.campaign_results), kept by a
    periodic job while its attribution window is open and frozen once it has closed, so the dashboard
    reads a few rows instead of probing every delivery for purchases."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="results")
    variant = models.ForeignKey(Variant, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    holdout = models.BooleanField(default=False)
    label = models.CharField(max_length=200)
    members = models.PositiveIntegerField()
    delivered = models.PositiveIntegerField()
    redeemed = models.PositiveIntegerField()
    buyers = models.PositiveIntegerField()
    purchases = models.PositiveIntegerField()
    spend = models.DecimalField(max_digits=14, decimal_places=2)
    refreshed_at = models.DateTimeField()
    final = models.BooleanField(default=False, help_text=_("The attribution window has closed: no longer refreshed."))

    class Meta:
        ordering = ["campaign", "holdout", "label"]

    def __str__(self) -> str:
        return f"{self.campaign_id}: {self.label}"
