"""Forms of the members admin: checks that give staff a field error instead of a refusal later."""

from decimal import Decimal, InvalidOperation

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from import_export.forms import ConfirmImportForm, ImportForm

from core.csvfiles import CsvImportForm, upload_text
from core.errors import DomainError
from members import branding, services
from members.models import CustomEventType, EarningRule, Member, MembershipPlan, Partner, Program, Tier
from members.models.custom_events import ATTRIBUTE_TYPES
from members.phones import REGIONS, PhoneInvalid, phone_e164

NEEDS = {
    EarningRule.Kind.CATEGORY: ("category",),
    EarningRule.Kind.SKU: ("sku",),
    EarningRule.Kind.EXCLUSION: ("category", "sku"),
    EarningRule.Kind.ENGAGEMENT: ("action",),
}


def _url_field(name: str) -> forms.URLField:
    field = Program._meta.get_field(name)
    return forms.URLField(label=field.verbose_name, help_text=field.help_text, required=False, assume_scheme="https")


LOYALTY_FIELDS = (
    "loyalty_advocate_nps",
    "loyalty_satisfied_nps",
    "loyalty_freebie_share",
    "loyalty_freebie_max_purchases",
    "loyalty_price_min_purchases",
    "loyalty_price_share",
    "loyalty_program_min_purchases",
    "loyalty_convenience_min_purchases",
    "loyalty_convenience_max_share",
)


class LoyaltyThresholdsForm(forms.ModelForm):
    """The loyalty-type thresholds alone: what the change form's live preview validates."""

    class Meta:
        model = Program
        fields = LOYALTY_FIELDS


class ProgramForm(forms.ModelForm):
    terms_url = _url_field("terms_url")
    privacy_url = _url_field("privacy_url")

    class Meta:
        model = Program
        fields = [
            "name",
            "slug",
            "is_default",
            "currency",
            "time_zone",
            "default_region",
            "points_name",
            "points_forms",
            "brand_name",
            "logo",
            "brand_color",
            "brand_accent",
            "terms_url",
            "privacy_url",
            "earn_rate",
            "rounding",
            "welcome_bonus",
            "pending_days",
            "expiry_policy",
            "expiry_months",
            "expiry_notice_days",
            "referral_mode",
            "referral_referrer_points",
            "referral_referee_points",
            "referral_steps",
            "referral_min_purchase",
            "refund_takes_referral",
            "burn_rate",
            "burn_min_order",
            "tier_notice_days",
            *LOYALTY_FIELDS,
            "adjust_limit",
            "adjust_approval_above",
            "member_daily_earns",
            "member_daily_points",
            "partner_daily_earns",
            "partner_daily_points",
        ]
        widgets = {
            "default_region": forms.Select(
                choices=[("", _("None: international numbers only")), *((code, code) for code in REGIONS)]
            )
        }

    def clean_logo(self):
        logo = self.cleaned_data.get("logo")
        if not isinstance(logo, UploadedFile):
            return logo  # unchanged or cleared
        if logo.size > branding.LOGO_MAX_BYTES:
            raise forms.ValidationError(_("The logo is too large: at most 200 KB."))
        head = logo.read(16)
        logo.seek(0)
        if branding.logo_type(head) is None:
            raise forms.ValidationError(_("The logo must be a PNG, JPEG or WebP image."))
        return logo

    def clean_referral_steps(self) -> list[list[int]]:
        steps = self.cleaned_data["referral_steps"] or []
        message = _("A list of [from_count, points] pairs, e.g. [[1, 100], [3, 200]].")
        if not isinstance(steps, list):
            raise forms.ValidationError(message)
        for step in steps:
            if not (
                isinstance(step, list)
                and len(step) == 2
                and all(isinstance(n, int) and not isinstance(n, bool) for n in step)
                and step[0] >= 1
                and step[1] >= 0
            ):
                raise forms.ValidationError(message)
        return sorted(steps)

    def clean(self):
        data = super().clean()
        if data.get("referral_mode") == Program.Referral.STEPPED and not data.get("referral_steps"):
            self.add_error("referral_steps", _("Stepped referrals need at least one step."))
        return data


class EarningRuleForm(forms.ModelForm):
    class Meta:
        model = EarningRule
        fields = [
            "program",
            "name",
            "kind",
            "is_active",
            "category",
            "sku",
            "partner",
            "action",
            "min_amount",
            "multiplier",
            "points",
            "daily_cap",
            "lifetime_cap",
            "starts_at",
            "ends_at",
            "weekdays",
            "from_hour",
            "until_hour",
            "priority",
            "stackable",
        ]

    def clean_weekdays(self) -> str:
        value = self.cleaned_data["weekdays"].replace(" ", "")
        if value and not all(part in "1234567" and len(part) == 1 for part in value.split(",")):
            raise forms.ValidationError(_("ISO weekdays 1 (Monday) to 7 (Sunday), separated by commas."))
        return value

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        needed = NEEDS.get(kind)
        if needed and not any(data.get(name) for name in needed):
            self.add_error(needed[0], _("This kind of rule needs a %(what)s.") % {"what": " or ".join(needed)})
        if kind == EarningRule.Kind.PARTNER and not data.get("partner"):
            self.add_error("partner", _("Pick the partner whose purchases earn more."))
        if kind in (EarningRule.Kind.BONUS, EarningRule.Kind.ENGAGEMENT) and not data.get("points"):
            self.add_error("points", _("How many points does it give?"))
        if data.get("multiplier") is not None and data["multiplier"] < 0:
            self.add_error("multiplier", _("A multiplier cannot be negative."))
        partner, program = data.get("partner"), data.get("program")
        if partner and program and partner.program_id != program.pk:
            self.add_error("partner", _("This partner belongs to another program."))
        if data.get("starts_at") and data.get("ends_at") and data["ends_at"] <= data["starts_at"]:
            self.add_error("ends_at", _("The end must be after the start."))
        return data


class MemberAdminForm(forms.ModelForm):
    referral_code_used = forms.CharField(label=_("Referred by (their referral code)"), required=False, max_length=12)

    class Meta:
        model = Member
        fields = ["program", *services.PROFILE_FIELDS, "consent_email", "consent_sms"]

    def clean_email(self) -> str:
        return services.normalize_email(self.cleaned_data["email"])

    def clean(self):
        data = super().clean()
        program = data.get("program") or (self.instance.program if self.instance.pk else None)
        others = Member.objects.filter(program=program).exclude(pk=self.instance.pk)
        if program and data.get("email") and others.filter(email=data["email"]).exists():
            self.add_error("email", _("Another member of this program uses this email."))
        if program and data.get("external_id") and others.filter(external_id=data["external_id"]).exists():
            self.add_error("external_id", _("Another member of this program uses this external id."))
        if program and data.get("phone"):
            try:
                data["phone"] = phone_e164(data["phone"], region=program.default_region)
            except PhoneInvalid:
                self.add_error(
                    "phone", _("Not a valid phone number. Enter it with + and the country code, e.g. +40 721 000 111.")
                )
        code = (data.get("referral_code_used") or "").strip().upper()
        if code and program and not Member.objects.filter(program=program, referral_code=code).exists():
            self.add_error("referral_code_used", _("No member of this program has this code."))
        data["referral_code_used"] = code
        return data


class AdjustPointsForm(forms.Form):
    points = forms.IntegerField(
        label=_("Points"), help_text=_("Positive to add, negative to remove."), min_value=-(10**7), max_value=10**7
    )
    reason = forms.CharField(
        label=_("Reason"), max_length=255, help_text=_("Required; kept in the ledger, for staff only.")
    )
    confirm = forms.BooleanField(label=_("Yes, adjust by this amount"), required=False)

    def __init__(self, *args, limit: int | None = None, confirm_above: int | None = None, members: int = 1, **kwargs):
        super().__init__(*args, **kwargs)
        self.limit, self.confirm_above, self.members = limit, confirm_above, members
        if limit is not None:
            self.fields["points"].help_text = _(
                "Positive to add, negative to remove; at most %(limit)d either way."
            ) % {"limit": limit}

    def clean_points(self) -> int:
        points = self.cleaned_data["points"]
        if points == 0:
            raise forms.ValidationError(_("An adjustment must change the balance."))
        if self.limit is not None and abs(points) > self.limit:
            raise forms.ValidationError(
                _("You may adjust at most %(limit)d points at once; ask a program manager for more.")
                % {"limit": self.limit}
            )
        return points

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(_("Say why: the reason is kept in the ledger and the audit trail."))
        return reason

    def clean(self):
        # A large amount is typed twice in effect: the page shows it back and asks for a tick.
        data = super().clean()
        points = data.get("points")
        if points and self.confirm_above is not None and abs(points) > self.confirm_above and not data.get("confirm"):
            self.add_error(
                "confirm",
                _("%(points)s points for each of %(members)d members (%(total)s in all): tick to confirm.")
                % {"points": f"{points:+,}", "members": self.members, "total": f"{points * self.members:+,}"},
            )
        return data


class AssignTierForm(forms.Form):
    tier = forms.ModelChoiceField(label=_("Tier"), queryset=Tier.objects.none())
    until = forms.DateField(
        label=_("Keep at least this tier until"),
        required=False,
        help_text=_("Empty: the tier is reviewed like any other."),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    note = forms.CharField(label=_("Note"), max_length=255, required=False)

    def __init__(self, *args, program_id: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tier"].queryset = Tier.objects.filter(program_id=program_id).order_by("level")

    def clean_until(self):
        until = self.cleaned_data["until"]
        if until and until < timezone.localdate():
            raise forms.ValidationError(_("The date is in the past."))
        return until


class SubscribeForm(forms.Form):
    plan = forms.ModelChoiceField(label=_("Plan"), queryset=MembershipPlan.objects.none())

    def __init__(self, *args, program_id: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["plan"].queryset = MembershipPlan.objects.filter(program_id=program_id, is_active=True)


class RefundForm(forms.Form):
    amount = forms.DecimalField(
        label=_("Refunded amount"), required=False, min_value=Decimal("0.01"), help_text=_("Empty: the rest of it.")
    )
    reason = forms.CharField(label=_("Reason"), max_length=255, initial=_("Refund"))


class SimulatorForm(forms.Form):
    program = forms.ModelChoiceField(label=_("Program"), queryset=Program.objects.all())
    member = forms.CharField(
        label=_("Member number"), required=False, help_text=_("Uses the member's tier and paid plan.")
    )
    tier = forms.ModelChoiceField(
        label=_("or tier"), queryset=Tier.objects.select_related("program").order_by("program", "level"), required=False
    )
    partner = forms.ModelChoiceField(
        label=_("Partner"), queryset=Partner.objects.select_related("program"), required=False
    )
    amount = forms.DecimalField(label=_("Order total"), min_value=Decimal("0.01"), max_digits=12, decimal_places=2)
    paid_with_points = forms.DecimalField(
        label=_("Part paid with points"), required=False, min_value=0, max_digits=12, decimal_places=2
    )
    at = forms.DateTimeField(
        label=_("When"),
        required=False,
        help_text=_("Empty: now. Promotions and weekday rules depend on it."),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    basket = forms.CharField(
        label=_("Basket"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "cols": 60}),
        help_text=_(
            "One line per item: sku, category, quantity, unit price, and optionally its kind (product, shipping, "
            "tax, discount; a discount has a negative price). E.g. SKU-1, coffee, 2, 4.50. The lines add up to "
            "the order total."
        ),
    )

    def clean_basket(self) -> list[dict]:
        items = []
        for number, line in enumerate(self.cleaned_data["basket"].splitlines(), start=1):
            if not line.strip():
                continue
            parts = [p.strip() for p in line.split(",")]
            try:
                sku, category, quantity, price, *kind = parts
                if len(kind) > 1:
                    raise ValueError
                items.append(
                    {
                        "kind": kind[0] if kind else "product",
                        "sku": sku,
                        "category": category,
                        "quantity": int(quantity),
                        "unit_price": str(Decimal(price)),
                    }
                )
            except (ValueError, InvalidOperation):
                raise forms.ValidationError(
                    _("Line %(n)d: expected sku, category, quantity, unit price[, kind].") % {"n": number}
                ) from None
        return items

    def clean(self):
        data = super().clean()
        program = data.get("program")
        if not program:
            return data
        data["items"] = data.get("basket") or []
        if data.get("member"):
            member = Member.objects.select_related("program", "tier").filter(
                program=program, number=data["member"].strip()
            )
            data["member_obj"] = member.first()
            if data["member_obj"] is None:
                self.add_error("member", _("No member with this number in the program."))
        for name in ("tier", "partner"):
            if data.get(name) and data[name].program_id != program.pk:
                self.add_error(name, _("It belongs to another program."))
        if data.get("amount") and (data.get("paid_with_points") or 0) > data["amount"]:
            self.add_error("paid_with_points", _("More than the order total."))
        return data


class ReviewDecisionForm(forms.Form):
    """Approving or rejecting a review case: always with a note (it stays on the case)."""

    note = forms.CharField(
        label=_("Note"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text=_("Why: what you checked and what you concluded."),
    )


class MemberImportForm(ImportForm):
    """django-import-export's upload, plus the checks and the choice every import shares."""

    mode = CsvImportForm.base_fields["mode"]

    def clean_import_file(self):
        upload = self.cleaned_data["import_file"]
        upload_text(upload)
        return upload


class MemberConfirmImportForm(ConfirmImportForm):
    mode = forms.CharField(widget=forms.HiddenInput(), required=False)


class CardNumberField(forms.CharField):
    """A printed card's number, checked like the service checks it (Luhn), so a typo is a form error."""

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return ""
        try:
            return services.card_number_normalize(value)
        except DomainError as exc:
            raise forms.ValidationError(exc.message) from None


class CardIssueForm(forms.Form):
    number = CardNumberField(
        label=_("Printed card number"),
        required=False,
        max_length=23,
        help_text=_("Leave empty to generate a virtual card. With a number, select one member."),
    )


class CardBlockForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=200, help_text=_("Lost, stolen, damaged..."))


class CardReplaceForm(CardBlockForm):
    number = CardNumberField(
        label=_("New printed card number"),
        required=False,
        max_length=23,
        help_text=_("Leave empty for a virtual card. With a number, select one card."),
    )


class CustomEventTypeForm(forms.ModelForm):
    """The attributes list is checked here, so a typo is a form error, not a type partners cannot use."""

    class Meta:
        model = CustomEventType
        fields = (
            "program",
            "key",
            "name",
            "attributes",
            "points",
            "points_attribute",
            "points_per_unit",
            "max_points",
            "daily_cap",
            "is_active",
        )

    def clean(self):
        data = super().clean()
        attributes = data.get("attributes") or []
        problem = None
        if not isinstance(attributes, list) or not all(
            isinstance(a, dict) and isinstance(a.get("name"), str) and a.get("type", "string") in ATTRIBUTE_TYPES
            for a in attributes
        ):
            problem = _('A list of {"name": ..., "type": "string" | "number" | "boolean", "required": true | false}.')
        elif len({a["name"] for a in attributes}) != len(attributes):
            problem = _("Each attribute name once.")
        if problem:
            self.add_error("attributes", problem)
        elif data.get("points_attribute") and not any(
            a["name"] == data["points_attribute"] and a.get("type") == "number" for a in attributes
        ):
            self.add_error("points_attribute", _("Name one of the number attributes above."))
        return data
