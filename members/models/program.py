"""A program and what its staff configure: tiers, partners, paid plans and earning rules."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from members.phones import phone_region_default, validate_region
from members.zones import validate_time_zone, zone_choices, zone_default

# Points columns are 32-bit integers: a ceiling above this could let one day's sums overflow them.
POINTS_CEILING_MAX = 1_000_000_000
# A household pools points: past a family's size it is a club, and every pooled redemption locks all of it.
HOUSEHOLD_MEMBERS_MAX = 12


class Program(models.Model):
    class HouseholdTierMode(models.TextChoices):
        MEMBER = "member", _("Each member by their own metric")
        HOUSEHOLD = "household", _("The household's combined metric")

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
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        choices=zone_choices,
        default=zone_default,
        validators=[validate_time_zone],
        help_text=_(
            "The program's local time: weekday and happy-hour rules, the expiry date of points (they run out "
            "at local midnight), birthdays and reports follow it. Members may choose their own for messages."
        ),
    )
    default_region = models.CharField(
        _("phone region"),
        max_length=2,
        blank=True,
        default=phone_region_default,
        validators=[validate_region],
        help_text=_(
            "Country whose numbers members may type without the country code (e.g. RO: 0721 000 111). "
            "Empty: only international numbers (+40 ...)."
        ),
    )
    points_name = models.CharField(
        _("points name"),
        max_length=40,
        default="points",
        help_text=_('What members call the points, in the plural ("stars"); one per language.'),
    )
    points_forms = models.CharField(
        _("points name by number"),
        max_length=120,
        blank=True,
        help_text=_(
            'Optional: every plural form separated by |, in the language\'s order: "star|stars" in English, '
            '"stea|stele|de stele" in Romanian, "звезда|звезды|звёзд" in Russian. Empty: the points name.'
        ),
    )
    # Branding on member pages and emails (members.branding): a stylesheet generated per program
    # carries the colours, so no page needs an inline style.
    brand_name = models.CharField(
        _("name shown to members"), max_length=120, blank=True, help_text=_("Empty: the program's name.")
    )
    logo = models.FileField(
        _("logo"),
        upload_to="logos/",
        blank=True,
        help_text=_("PNG, JPEG or WebP, at most 200 KB; shown in the header of member pages and emails."),
    )
    brand_color = models.CharField(
        _("main colour"),
        max_length=7,
        default="#4338ca",
        validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$", _("A colour as #rrggbb."))],
    )
    brand_accent = models.CharField(
        _("accent colour"),
        max_length=7,
        default="#f59e0b",
        validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$", _("A colour as #rrggbb."))],
    )
    terms_url = models.URLField(_("terms of the program"), blank=True, help_text=_("Linked from the sign-up page."))
    privacy_url = models.URLField(_("privacy notice"), blank=True, help_text=_("Linked from the sign-up page."))
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
    refund_takes_referral = models.BooleanField(
        _("take referral points back on refund"),
        default=False,
        help_text=_(
            "When the purchase that qualified a referral is refunded, take the referral points back "
            "too (in proportion to the refund)."
        ),
    )
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
    # Loyalty types (members.loyalty): the thresholds of its rules, per program. Shares in percent.
    loyalty_advocate_nps = models.PositiveSmallIntegerField(
        _("advocate: NPS from"),
        default=9,
        validators=[MaxValueValidator(10)],
        help_text=_("Advocates answered the NPS question with at least this and referred someone."),
    )
    loyalty_freebie_share = models.PositiveSmallIntegerField(
        _("freebie-loyal: share of points redeemed from (percent)"),
        default=60,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
    )
    loyalty_freebie_max_purchases = models.PositiveSmallIntegerField(_("freebie-loyal: at most purchases"), default=3)
    loyalty_price_min_purchases = models.PositiveSmallIntegerField(
        _("price-loyal: at least purchases"), default=2, validators=[MinValueValidator(1)]
    )
    loyalty_price_share = models.PositiveSmallIntegerField(
        _("price-loyal: share of purchases discounted from (percent)"),
        default=50,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
    )
    loyalty_program_min_purchases = models.PositiveSmallIntegerField(
        _("program-loyal: at least purchases"),
        default=2,
        validators=[MinValueValidator(1)],
        help_text=_("Members in a tier above the entry one, or on a paid plan, with at least this many purchases."),
    )
    loyalty_convenience_min_purchases = models.PositiveSmallIntegerField(
        _("convenience: at least purchases"), default=6, validators=[MinValueValidator(1)]
    )
    loyalty_convenience_max_share = models.PositiveSmallIntegerField(
        _("convenience: shares discounted and redeemed under (percent)"),
        default=20,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
    )
    loyalty_satisfied_nps = models.PositiveSmallIntegerField(
        _("satisfied: NPS from (or unknown)"), default=7, validators=[MaxValueValidator(10)]
    )
    adjust_limit = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text=_(
            "Largest manual adjustment (up or down, in points) staff without the unlimited permission may make "
            "at once. Empty: the POINTS_ADJUST_LIMIT setting."
        ),
    )
    # Abuse controls (members.checks): an earn past a limit is recorded but its points wait for review.
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
    # Ceilings on partner input (members.services.purchases): past one, a purchase is refused (4xx), not held.
    backdate_days = models.PositiveIntegerField(
        default=30,
        validators=[MaxValueValidator(3650)],
        help_text=_(
            "How many days back a purchase may be dated (occurred_at). Its points still wait the whole "
            "return window from when it is recorded."
        ),
    )
    max_purchase_amount = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        default=Decimal("1000000.00"),
        validators=[MinValueValidator(Decimal("0.01"))],
        help_text=_("Largest order total a purchase may have."),
    )
    receipt_claim_days = models.PositiveIntegerField(
        default=30,
        validators=[MaxValueValidator(365)],
        help_text=_(
            "How many days after a purchase recorded without a member (a receipt) a member may claim it and "
            "earn its points. 0: receipts cannot be claimed."
        ),
    )
    transfer_max_points = models.PositiveIntegerField(
        default=0,
        validators=[MaxValueValidator(POINTS_CEILING_MAX)],
        help_text=_("Most points a member may send another member at once. 0: members cannot transfer points."),
    )
    transfer_min_points = models.PositiveIntegerField(
        default=1, validators=[MinValueValidator(1)], help_text=_("Fewest points a transfer may move.")
    )
    transfer_daily_points = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MaxValueValidator(POINTS_CEILING_MAX)],
        help_text=_("Most points a member may send per day, all transfers together. Empty: no daily limit."),
    )
    household_max_members = models.PositiveSmallIntegerField(
        default=0,
        validators=[MaxValueValidator(HOUSEHOLD_MEMBERS_MAX)],
        help_text=_("Most members a household may have. 0: members cannot form households."),
    )
    household_tier_mode = models.CharField(
        max_length=10,
        choices=HouseholdTierMode.choices,
        default=HouseholdTierMode.MEMBER,
        help_text=_("Whether a household's combined tier metric qualifies each of its members for a tier."),
    )
    household_pool_default = models.BooleanField(
        default=False,
        help_text=_(
            "Partner API redemptions of a household member draw from the household's pooled points unless the "
            "request says otherwise (from_household)."
        ),
    )
    max_purchase_points = models.PositiveIntegerField(
        default=1_000_000,
        validators=[MinValueValidator(1), MaxValueValidator(POINTS_CEILING_MAX)],
        help_text=_("Most points one purchase may earn; a purchase that would earn more is refused."),
    )
    max_member_daily_points = models.PositiveIntegerField(
        default=2_000_000,
        validators=[MinValueValidator(1), MaxValueValidator(POINTS_CEILING_MAX)],
        help_text=_("Most purchase points a member may earn per day; a purchase past it is refused."),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Bumped in the same transaction as any change to the program's earning rules, tiers or plans:
    # the hot path caches those under this version (members.selectors.program_rules), so every
    # process sees a change as soon as it commits.
    rules_version = models.PositiveIntegerField(default=0, editable=False)
    # A second staff member approves adjustments above this (members.services.ledger.points_adjust_request).
    adjust_approval_above = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text=_(
            "Manual adjustments above this many points (up or down) wait for a second staff member's approval. "
            "Empty: the POINTS_ADJUST_APPROVAL_ABOVE setting."
        ),
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True), name="one_default_program"),
            models.CheckConstraint(
                condition=Q(earn_rate__gte=0),
                name="program_earn_rate_not_negative",
                violation_error_message=_("Points per currency unit cannot be negative."),
            ),
            models.CheckConstraint(
                condition=Q(burn_rate__gt=0),
                name="program_burn_rate_positive",
                violation_error_message=_("The value of one point at checkout must be above zero."),
            ),
            models.CheckConstraint(
                condition=Q(referral_min_purchase__gte=0) & Q(burn_min_order__gte=0),
                name="program_minimums_not_negative",
                violation_error_message=_("Minimum amounts (referral purchase, checkout order) cannot be negative."),
            ),
            models.CheckConstraint(
                condition=Q(expiry_policy="never") | Q(expiry_months__gte=1),
                name="program_expiry_months_positive",
                violation_error_message=_("Points that expire need at least one month before they do."),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if (
            self.loyalty_convenience_max_share is not None
            and self.loyalty_price_share is not None
            and self.loyalty_convenience_max_share > self.loyalty_price_share
        ):
            raise ValidationError(
                {
                    "loyalty_convenience_max_share": _(
                        "Convenience buyers buy with few discounts: keep this at or below the price-loyal share."
                    )
                }
            )

    @property
    def display_name(self) -> str:
        return self.brand_name or self.name


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
        constraints = [
            models.UniqueConstraint(fields=["program", "level"], name="tier_level_unique"),
            models.CheckConstraint(
                condition=Q(threshold__gte=0),
                name="tier_threshold_not_negative",
                violation_error_message=_("A tier's threshold cannot be negative."),
            ),
            # Below 1 a tier would earn less than no tier at all, shown to members as a negative "bonus".
            models.CheckConstraint(
                condition=Q(earn_multiplier__gte=1),
                name="tier_earn_multiplier_at_least_one",
                violation_error_message=_("A tier's earn multiplier must be at least 1 (1: no bonus)."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.program})"

    def clean(self) -> None:
        """Higher tiers are harder to reach: a threshold out of order would move members backwards."""
        if self.program_id is None or self.threshold is None or self.level is None:
            return
        same = Tier.objects.filter(program_id=self.program_id, metric=self.metric, window=self.window).exclude(
            pk=self.pk
        )
        if same.filter(level__lt=self.level, threshold__gt=self.threshold).exists():
            raise ValidationError({"threshold": _("A lower tier needs more than this; raise the threshold.")})
        if same.filter(level__gt=self.level, threshold__lt=self.threshold).exists():
            raise ValidationError({"threshold": _("A higher tier needs less than this; lower the threshold.")})


class Partner(models.Model):
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="partners")
    name = models.CharField(max_length=120)
    earn_multiplier = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal("1"))
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["program", "name"], name="partner_name_unique"),
            models.CheckConstraint(
                condition=Q(earn_multiplier__gte=0),
                name="partner_earn_multiplier_not_negative",
                violation_error_message=_("A partner's earn multiplier cannot be negative (0: no points there)."),
            ),
        ]

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
        constraints = [
            models.CheckConstraint(
                condition=Q(fee__gte=0),
                name="plan_fee_not_negative",
                violation_error_message=_("A plan's fee cannot be negative."),
            ),
            models.CheckConstraint(
                condition=Q(duration_days__gte=1),
                name="plan_duration_positive",
                violation_error_message=_("A plan lasts at least one day."),
            ),
            models.CheckConstraint(
                condition=Q(earn_multiplier__gte=1),
                name="plan_earn_multiplier_at_least_one",
                violation_error_message=_("A plan's earn multiplier must be at least 1 (1: no bonus)."),
            ),
        ]

    def __str__(self) -> str:
        return self.name


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
    # Happy hours, on the program's clock (members.zones); past midnight when `from_hour` > `until_hour`.
    from_hour = models.PositiveSmallIntegerField(
        _("from hour"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(23)],
        help_text=_("Happy hour: only from this hour (0-23, program time zone). Empty: all day."),
    )
    until_hour = models.PositiveSmallIntegerField(
        _("until hour"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(24)],
        help_text=_("Happy hour: only before this hour (1-24; 2 after 22 runs past midnight)."),
    )
    priority = models.IntegerField(default=0, help_text=_("Higher wins among non-stackable rules."))
    stackable = models.BooleanField(default=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["program", "-priority", "id"]
        indexes = [models.Index(fields=["program", "kind", "is_active"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(multiplier__gte=0),
                name="rule_multiplier_not_negative",
                violation_error_message=_("A multiplier cannot be negative."),
            ),
            models.CheckConstraint(
                condition=Q(min_amount__gte=0),
                name="rule_min_amount_not_negative",
                violation_error_message=_("A minimum amount cannot be negative."),
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=["bonus", "engagement"]) | Q(points__gte=1) | Q(is_active=False),
                name="rule_fixed_points_positive",
                violation_error_message=_("An active bonus or engagement rule gives at least 1 point."),
            ),
            models.CheckConstraint(
                condition=Q(starts_at__isnull=True) | Q(ends_at__isnull=True) | Q(ends_at__gt=F("starts_at")),
                name="rule_window_valid",
                violation_error_message=_("The end must be after the start."),
            ),
            models.CheckConstraint(
                condition=(Q(from_hour__isnull=True) & Q(until_hour__isnull=True))
                | (
                    Q(from_hour__isnull=False, until_hour__isnull=False)
                    & Q(from_hour__lte=23, until_hour__lte=24)
                    & ~Q(from_hour=F("until_hour"))
                ),
                name="rule_hours_valid",
                violation_error_message=_("A happy hour needs both hours, and they must differ."),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.partner_id and self.program_id and self.partner.program_id != self.program_id:
            raise ValidationError({"partner": _("This partner belongs to another program.")})
