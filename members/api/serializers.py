"""Input and output shapes of the members part of the partner API. Serializers validate and
render; they never create domain objects (views pass validated data to the services)."""

from decimal import Decimal

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.forms import BIGINT_MAX
from members import checks as fraud
from members.api import render
from members.households import household_pool_brief
from members.models import EarningRule, LedgerEntry, Member, Subscription
from members.partners.serializers import MONEY, ListQuerySerializer, StrictSerializer, page_serializer
from members.perks import member_perks
from members.services import ITEM_KINDS, external_reference_normalize
from members.zones import zone_names

MAX_ITEMS = 500


class NFCCharField(serializers.CharField):
    """Text a partner uses as an idempotent reference: normalised to NFC, so the same text typed
    with combining accents (NFD) is the same reference."""

    def to_internal_value(self, data):
        return external_reference_normalize(super().to_internal_value(data))


def email_local_part_fits(value: str) -> None:
    """RFC 5321 caps the part before @ at 64 characters; Django does not, mail servers and the schema do."""
    if len(value.rpartition("@")[0]) > 64:
        raise serializers.ValidationError("The part before @ is at most 64 characters.")


# --- members -----------------------------------------------------------------------------------


class MemberWriteSerializer(StrictSerializer):
    email = serializers.EmailField(max_length=254, validators=[email_local_part_fits])
    first_name = serializers.CharField(max_length=80, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=80, required=False, allow_blank=True)
    phone = serializers.CharField(
        max_length=32,
        required=False,
        allow_blank=True,
        help_text="+40 721 000 111, or 0721 000 111 in the program's phone region. Stored and returned in E.164 "
        "(+40721000111); not a valid number: 400 invalid_phone.",
    )
    birth_date = serializers.DateField(required=False, allow_null=True)
    language = serializers.ChoiceField(choices=[code for code, _ in settings.LANGUAGES], required=False)
    external_id = NFCCharField(max_length=64, required=False, allow_blank=True)
    time_zone = serializers.ChoiceField(
        choices=zone_names(),
        required=False,
        allow_blank=True,
        error_messages={"invalid_choice": 'Unknown time zone "{input}": use an IANA name such as Europe/Bucharest.'},
        help_text="Where the member lives, as an IANA time zone name (Europe/Bucharest, Pacific/Auckland): text "
        "messages respect quiet hours there and birthdays follow it. Empty: the program's zone. An unknown "
        "name: 400 naming the field.",
    )
    consent_email = serializers.BooleanField(required=False, help_text="Agrees to receive emails.")
    consent_sms = serializers.BooleanField(required=False, help_text="Agrees to receive text messages.")


class MemberCreateSerializer(MemberWriteSerializer):
    referral_code = serializers.CharField(
        max_length=12, required=False, allow_blank=True, help_text="Code of the member who referred this one."
    )


class MemberUpdateSerializer(MemberWriteSerializer):
    """Profile and consent only: balance, tier and status are never writable."""

    email = serializers.EmailField(max_length=254, required=False, validators=[email_local_part_fits])


class HouseholdPoolSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    available = serializers.IntegerField(
        help_text="The household's pooled points: its active members' available points added up. A redemption "
        "with from_household may spend them."
    )
    members = serializers.IntegerField(help_text="How many members the household has.")


@extend_schema_field(HouseholdPoolSerializer(allow_null=True))
class HouseholdField(serializers.Field):
    """The member's household with its pooled points; null when none. A list view passes the page's
    households in the context ("households": members.households.household_briefs), so a page costs
    one query, not one per member."""

    def __init__(self, **kwargs):
        super().__init__(source="*", read_only=True, help_text="The member's household; null when none.", **kwargs)

    def to_representation(self, member):
        if member.household_id is None:
            return None
        known = self.context.get("households")
        brief = (
            known.get(member.household_id)
            if known is not None
            else household_pool_brief(household_id=member.household_id)
        )
        return render.household(brief)


class PerksSerializer(serializers.Serializer):
    free_shipping = serializers.BooleanField(help_text="The member's paid plan ships orders for free.")
    early_access = serializers.BooleanField(
        help_text="The member's paid plan opens sales and early-access rewards before their public date."
    )


class MemberSerializer(serializers.Serializer):
    number = serializers.CharField(help_text="Membership number (12 digits, Luhn check digit).")
    email = serializers.EmailField()
    phone = serializers.CharField(help_text="E.164, e.g. +40721000111; empty when unknown.")
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    birth_date = serializers.DateField(allow_null=True)
    language = serializers.CharField()
    external_id = serializers.CharField(help_text="The partner's own customer id, if given at enrollment.")
    time_zone = serializers.CharField(help_text="The member's IANA time zone; empty: the program's.")
    consent_email = serializers.BooleanField()
    consent_sms = serializers.BooleanField()
    referral_code = serializers.CharField()
    status = serializers.ChoiceField(choices=Member.Status.choices)
    tier = serializers.CharField(source="tier.name", allow_null=True, default=None)
    points_available = serializers.IntegerField()
    points_pending = serializers.IntegerField()
    household = HouseholdField()
    enrolled_at = serializers.DateTimeField()
    perks = serializers.SerializerMethodField(
        help_text="What the member's paid plan gives now (all false without one, or before it is paid)."
    )

    @extend_schema_field(PerksSerializer)
    def get_perks(self, member: Member) -> dict:
        return member_perks(member).as_dict()


class EmailChangeSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=["pending"], help_text="pending: waiting for the member to confirm it from the new address."
    )
    new_email = serializers.EmailField()
    requested_at = serializers.DateTimeField(source="created_at")


class MemberUpdateResultSerializer(MemberSerializer):
    email_change = EmailChangeSerializer(
        allow_null=True,
        help_text="Set when an email change waits for the member's confirmation; `email` stays the old one until then.",
    )


class SubscriptionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    plan = serializers.CharField(source="plan.name")
    status = serializers.ChoiceField(
        choices=Subscription.Status.choices,
        help_text="pending: asked for, no perks until its payment is recorded; active; cancelled: perks until "
        "expires_at; expired.",
    )
    fee = serializers.DecimalField(**MONEY, source="plan.fee")
    started_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(help_text="End of the paid period; for a pending one, when it lapses.")
    paid_at = serializers.DateTimeField(allow_null=True)
    payment_reference = serializers.CharField()


SubscriptionListSerializer = page_serializer("SubscriptionList", SubscriptionSerializer(many=True))


class PaymentSerializer(StrictSerializer):
    reference = serializers.CharField(
        max_length=100, help_text="The payment's id at your till or payment provider; the same one again is a no-op."
    )


class MemberLookupSerializer(ListQuerySerializer):
    # A blank filter (empty, or only spaces) is no filter, whichever field it is.
    email = serializers.CharField(required=False, allow_blank=True, max_length=254)
    phone = serializers.CharField(required=False, allow_blank=True, max_length=20)
    external_id = NFCCharField(required=False, allow_blank=True, max_length=64)
    page = serializers.IntegerField(required=False, min_value=1, help_text="Deprecated: follow `next`.")

    def validate(self, attrs):
        if not any(attrs.get(name) for name in ("email", "phone", "external_id")):
            # A lookup without criteria matches nobody: partners find members, they do not list them all.
            attrs["nothing"] = True
        return attrs


MemberPageSerializer = page_serializer(
    "MemberPage", MemberSerializer(many=True), count=serializers.IntegerField(help_text="Members found.")
)


class BalanceShortSerializer(serializers.Serializer):
    available = serializers.IntegerField(source="points_available")
    pending = serializers.IntegerField(source="points_pending")


class NextTierSerializer(serializers.Serializer):
    name = serializers.CharField()
    metric = serializers.CharField(help_text="spend, points or referrals.")
    threshold = serializers.DecimalField(**MONEY)
    value = serializers.DecimalField(**MONEY, help_text="The member's current value of the metric.")
    needed = serializers.DecimalField(**MONEY, help_text="What is still needed to reach the tier.")
    percent = serializers.IntegerField()


class ExpiringSerializer(serializers.Serializer):
    within_30_days = serializers.IntegerField()
    within_60_days = serializers.IntegerField()
    within_90_days = serializers.IntegerField()


class BalanceSerializer(serializers.Serializer):
    member = serializers.CharField()
    available = serializers.IntegerField(help_text="Spendable now.")
    pending = serializers.IntegerField(help_text="Earned, spendable after the return window.")
    lifetime = serializers.IntegerField(help_text="All points ever earned.")
    debt = serializers.IntegerField(help_text="Points taken back after they were spent; repaid from new earnings.")
    tier = serializers.CharField(allow_null=True)
    next_tier = NextTierSerializer(allow_null=True)
    expiring = ExpiringSerializer()
    household = HouseholdPoolSerializer(allow_null=True, help_text="The member's household; null when none.")


# --- ledger ---------------------------------------------------------------------------------------


class EntrySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=LedgerEntry.Kind.choices)
    points = serializers.IntegerField(help_text="Positive when earned, negative when spent or taken back.")
    amount = serializers.DecimalField(**MONEY, allow_null=True)
    currency = serializers.CharField()
    transaction = serializers.IntegerField(source="purchase_id", allow_null=True)
    reference = serializers.CharField()
    # Partners list only their own entries, never staff adjustments; member_reason keeps it so if that changes.
    reason = serializers.CharField(source="member_reason")
    breakdown = serializers.JSONField()
    created_at = serializers.DateTimeField()


class EntryFilterSerializer(ListQuerySerializer):
    since = serializers.DateTimeField(required=False, help_text="Entries at or after this moment.")
    until = serializers.DateTimeField(required=False, help_text="Entries before this moment.")
    kind = serializers.ChoiceField(choices=LedgerEntry.Kind.choices, required=False)
    page = serializers.IntegerField(required=False, min_value=1, help_text="Deprecated: follow `next`.")


class TotalsSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    points_in = serializers.IntegerField()
    points_out = serializers.IntegerField()
    net = serializers.IntegerField()


EntryPageSerializer = page_serializer(
    "EntryPage",
    EntrySerializer(many=True),
    count=serializers.IntegerField(help_text="Entries matching the filters."),
    totals=TotalsSerializer(help_text="Over every entry matching the filters, not only this page."),
)


# --- purchases ------------------------------------------------------------------------------------


class ItemSerializer(StrictSerializer):
    kind = serializers.ChoiceField(
        choices=ITEM_KINDS,
        default="product",
        help_text="product (the only lines that earn), shipping, tax or discount (a negative unit_price).",
    )
    sku = serializers.CharField(max_length=60, required=False, allow_blank=True)
    category = serializers.CharField(max_length=60, required=False, allow_blank=True)
    quantity = serializers.IntegerField(min_value=1, max_value=100000, default=1)
    unit_price = serializers.DecimalField(**MONEY, help_text="Negative only on discount lines.")


class PurchaseSerializer(StrictSerializer):
    member = serializers.CharField(max_length=12, required=False, help_text="Membership number (or send `card`).")
    card = serializers.CharField(
        max_length=23,
        required=False,
        help_text="A loyalty card number of the member, instead of (or with) `member`: 8 to 19 digits, spaces "
        "allowed. A blocked or replaced card is a 409 `card_blocked` / `card_replaced`.",
    )
    external_id = NFCCharField(max_length=64, help_text="Your order id; unique per partner.")
    amount = serializers.DecimalField(
        **MONEY,
        min_value=Decimal("0.01"),
        help_text="Order total. With items, the lines (all kinds) add up to it within 0.01 per line.",
    )
    currency = serializers.RegexField(
        r"^[A-Za-z]{3}$",
        min_length=3,
        max_length=3,
        help_text="The program's currency (e.g. EUR), or another one the program has exchange rates for (e.g. USD): "
        "the amounts are then converted at the rate in force on the purchase's date, and the points computed in "
        "the program's currency. A currency without a rate is a 400 `unknown_currency`, one without a rate on "
        "that date yet a 400 `no_rate`.",
    )
    occurred_at = serializers.DateTimeField(
        required=False,
        help_text="When the purchase happened; default now. Not before the member enrolled, not older than the "
        "program's back-dating window (30 days by default), not more than 5 minutes ahead.",
    )
    paid_with_points = serializers.DecimalField(
        **MONEY, min_value=Decimal("0"), default=Decimal("0"), help_text="Part of the total paid with points."
    )
    discount_amount = serializers.DecimalField(**MONEY, min_value=Decimal("0"), default=Decimal("0"))
    items = ItemSerializer(many=True, required=False, max_length=MAX_ITEMS)

    def validate_items(self, items):
        # Stored as JSON: prices as strings keep their exact decimal value.
        return [{**item, "unit_price": str(item["unit_price"])} for item in items]

    def validate(self, attrs):
        if not attrs.get("member") and not attrs.get("card"):
            raise serializers.ValidationError({"member": ["Send the membership number or a card number."]})
        return attrs


class PurchaseFilterSerializer(ListQuerySerializer):
    external_id = NFCCharField(required=False, allow_blank=True, max_length=64, help_text="Your order id.")
    since = serializers.DateTimeField(required=False, help_text="Purchases that happened at or after this moment.")
    until = serializers.DateTimeField(required=False, help_text="Purchases that happened before this moment.")


class RuleLineSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="base, category, sku, promotion, partner, bonus, tier, plan, excluded.")
    label = serializers.CharField()
    points = serializers.IntegerField()
    rule = serializers.IntegerField(allow_null=True)


class HoldSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(
        choices=fraud.HOLD_REASONS,
        help_text="The program's daily limit this purchase would have passed.",
    )
    message = serializers.CharField()
    points = serializers.IntegerField(help_text="Points held: credited if staff approve the review.")
    review = serializers.ChoiceField(choices=["open", "rejected"], help_text="open: waiting for staff.")


class PurchaseResultSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="Transaction id, for reversals.")
    external_id = serializers.CharField()
    member = serializers.CharField()
    card = serializers.CharField(allow_null=True, help_text="The card number the purchase named, if any.")
    amount = serializers.DecimalField(**MONEY)
    currency = serializers.CharField()
    occurred_at = serializers.DateTimeField()
    points = serializers.IntegerField(help_text="Points credited (0 while held).")
    status = serializers.ChoiceField(
        choices=["pending", "available", "none", "held", "rejected"],
        help_text="pending: spendable from available_at (the return window); none: the purchase earned nothing; "
        "held: recorded, but its points wait for a fraud review (see `hold`) because a daily limit was reached; "
        "rejected: the review refused them.",
    )
    available_at = serializers.DateTimeField()
    breakdown = RuleLineSerializer(many=True)
    refunded_amount = serializers.DecimalField(**MONEY)
    points_reversed = serializers.IntegerField()
    original_amount = serializers.DecimalField(
        **MONEY, allow_null=True, help_text="Paid in another currency: the amount you sent (`amount` is converted)."
    )
    original_currency = serializers.CharField(
        allow_null=True, help_text="The currency you sent, when not the program's."
    )
    exchange_rate = serializers.DecimalField(
        max_digits=18,
        decimal_places=8,
        allow_null=True,
        help_text="Program currency units for one unit of original_currency, in force on the purchase's date.",
    )
    balance = BalanceShortSerializer()
    hold = HoldSerializer(allow_null=True, help_text="Set when the points are (or were) held for review.")
    rule_revision = serializers.IntegerField(
        allow_null=True,
        help_text="The number of the program's rule revision the points were computed under (the earn rate, "
        "rules and tiers in force at the purchase); null for purchases older than rule revisions.",
    )


PurchasePageSerializer = page_serializer("PurchasePage", PurchaseResultSerializer(many=True))


class SimulationSerializer(serializers.Serializer):
    member = serializers.CharField()
    points = serializers.IntegerField()
    eligible_amount = serializers.DecimalField(**MONEY)
    status = serializers.ChoiceField(choices=["pending", "available", "none"])
    available_at = serializers.DateTimeField()
    breakdown = RuleLineSerializer(many=True)


class ReturnItemSerializer(StrictSerializer):
    sku = serializers.CharField(max_length=60, help_text="The SKU of a product line of the purchase.")
    quantity = serializers.IntegerField(min_value=1, max_value=100000)


class ReverseSerializer(StrictSerializer):
    amount = serializers.DecimalField(
        **MONEY,
        min_value=Decimal("0.01"),
        required=False,
        help_text="Refunded amount; omit for a full refund, or, with `items`, for the items' value at the prices paid.",
    )
    items = ReturnItemSerializer(
        many=True,
        required=False,
        max_length=MAX_ITEMS,
        help_text="Items returned: the points they earned are taken back (item and basket rules included); "
        "never more of a SKU than was bought, over all refunds.",
    )
    reference = NFCCharField(
        max_length=64,
        required=False,
        help_text="Your return id: the same one again answers with the first refund and takes nothing more.",
    )
    reason = serializers.CharField(max_length=200, required=False, default="Refund")
    currency = serializers.RegexField(
        r"^[A-Za-z]{3}$",
        min_length=3,
        max_length=3,
        required=False,
        help_text="The currency of `amount`: by default the one the purchase was paid in. A purchase paid in "
        "another currency than the program's is refunded at its own exchange rate, not today's; send the "
        "program's currency to refund a converted amount.",
    )


class ReverseResultSerializer(serializers.Serializer):
    transaction = serializers.IntegerField()
    amount = serializers.DecimalField(**MONEY, help_text="Refunded by this call.")
    refunded_amount = serializers.DecimalField(**MONEY, help_text="Refunded in total.")
    points_reversed = serializers.IntegerField(help_text="Points taken back by this call.")
    debt = serializers.IntegerField(help_text="Part of them already spent: the member's debt grows by this.")
    balance = BalanceShortSerializer()


# --- engagement -------------------------------------------------------------------------------------


class EngagementSerializer(StrictSerializer):
    member = serializers.CharField(max_length=12)
    type = serializers.ChoiceField(choices=EarningRule.Action.choices)
    reference = NFCCharField(max_length=120, help_text="Your id of the action; the same one earns once.")


class EngagementResultSerializer(serializers.Serializer):
    member = serializers.CharField()
    type = serializers.CharField()
    reference = serializers.CharField()
    points = serializers.IntegerField(help_text="0 when a daily or lifetime cap was reached.")
    balance = BalanceShortSerializer()


# --- event feed -------------------------------------------------------------------------------------


class EventFeedQuerySerializer(StrictSerializer):
    after = serializers.IntegerField(
        required=False, min_value=0, max_value=BIGINT_MAX, help_text="The last event id you handled."
    )
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=200)


class EventSerializer(serializers.Serializer):
    """The body of a webhook (members.partners.services.webhook_payload)."""

    id = serializers.IntegerField(help_text="Unique and increasing; the same in the webhook: de-duplicate on it.")
    type = serializers.CharField(help_text="A webhook event type: member.enrolled, points.earned, reward.redeemed, ...")
    created = serializers.DateTimeField(help_text="When it happened.")
    data = serializers.DictField(help_text="The event's payload, as in the webhook; `member` is the member number.")


EventPageSerializer = page_serializer(
    "EventPage",
    EventSerializer(many=True),
    after=serializers.IntegerField(
        help_text="The last event id of this page (or the `after` you sent): read on from it."
    ),
)
