"""A member: profile and consents, email changes waiting for confirmation, tier history, paid-plan
subscriptions, the browsers they used."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from members.models.program import MembershipPlan, Partner, Program, Tier
from members.zones import validate_time_zone, zone_choices


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
    phone = models.CharField(
        max_length=20, blank=True, help_text=_("In international format; stored as +40721000111 (E.164).")
    )
    first_name = models.CharField(max_length=80, blank=True)
    last_name = models.CharField(max_length=80, blank=True)
    birth_date = models.DateField(null=True, blank=True)
    language = models.CharField(max_length=8, choices=settings.LANGUAGES, default="en")
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        blank=True,
        choices=zone_choices,
        validators=[validate_time_zone],
        help_text=_("Where the member lives: no messages reach them in quiet hours there. Empty: the program's."),
    )
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
    # On the member row so the hot paths (balance, purchase) know without a query that a member has none.
    household = models.ForeignKey(
        "members.Household", null=True, blank=True, on_delete=models.PROTECT, related_name="members", editable=False
    )
    household_joined_at = models.DateTimeField(null=True, blank=True, editable=False)
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
            # Written normalised by the services (members/phones.py): a free-text phone cannot slip in.
            models.CheckConstraint(condition=Q(phone="") | Q(phone__startswith="+"), name="member_phone_e164"),
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


class EmailChange(models.Model):
    """A change of the email sign-in uses, asked for by the member or a partner. It takes effect only
    when confirmed from a link sent to the new address; the old address is told, with a link to
    report it (which cancels a pending change, or puts the old address back)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for confirmation")
        CONFIRMED = "confirmed", _("Confirmed")
        CANCELLED = "cancelled", _("Cancelled")
        REPORTED = "reported", _("Reported as not asked for")

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="email_changes")
    old_email = models.EmailField()
    new_email = models.EmailField()
    requested_by = models.CharField(max_length=80, help_text=_("member, or partner:<name>"))
    partner = models.ForeignKey(Partner, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["member"], condition=Q(status="pending"), name="one_pending_email_change"),
        ]

    def __str__(self) -> str:
        return f"{self.member_id}: {self.status}"


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
    """A member's paid plan. It starts pending: perks (the earning multiplier, plan-only rewards)
    begin only once its payment is recorded (staff in admin, or a partner or payment provider
    through the API), and a pending one nobody pays lapses at `expires_at`."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for payment")
        ACTIVE = "active", _("Active")
        CANCELLED = "cancelled", _("Cancelled (runs to the end of the period)")
        EXPIRED = "expired", _("Expired")

    # The statuses that carry the plan's perks (until expires_at); every reader of perks filters on them.
    PERK_STATUSES = (Status.ACTIVE, Status.CANCELLED)

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="subscriptions")
    plan = models.ForeignKey(MembershipPlan, on_delete=models.PROTECT, related_name="subscriptions")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    started_at = models.DateTimeField()
    expires_at = models.DateTimeField(
        db_index=True, help_text=_("End of the paid period; for a pending subscription, when it lapses unpaid.")
    )
    paid_by = models.CharField(
        max_length=40, blank=True, help_text=_("Who asked for it, then who recorded the payment: staff user, partner.")
    )
    paid_at = models.DateTimeField(null=True, blank=True)
    payment_reference = models.CharField(
        max_length=100, blank=True, help_text=_("The payment's id at the till or payment provider.")
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(fields=["member"], condition=~Q(status="expired"), name="one_live_subscription"),
            models.CheckConstraint(
                condition=Q(status="pending") | Q(status="expired") | ~Q(payment_reference=""),
                name="subscription_perks_need_payment",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member_id} {self.plan}"

    @property
    def gives_perks(self) -> bool:
        return self.status in self.PERK_STATUSES


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
