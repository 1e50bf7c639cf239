"""Admin for program configuration: programs with their tiers, partners, earning rules (and the
earning simulator), paid plans and the subscriptions to them."""

from django import forms
from django.contrib import admin, messages
from django.http import Http404, JsonResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from modeltranslation.admin import TranslationAdmin, TranslationTabularInline

from core.errors import DomainError
from core.formatting import number
from core.translations import MissingTranslationsAdmin
from members import services
from members.admin.base import ReadOnlyAdmin, action_form
from members.admin.forms import (
    LOYALTY_FIELDS,
    CustomEventTypeForm,
    EarningRuleForm,
    LoyaltyThresholdsForm,
    ProgramForm,
    SimulatorForm,
)
from members.admin.revisions import RulesRevisedAdminMixin
from members.earning import earn_quote
from members.loyalty import LoyaltyThresholds, loyalty_type_counts, loyalty_type_distribution
from members.models import (
    CustomEvent,
    CustomEventType,
    EarningRule,
    Member,
    MembershipPlan,
    Partner,
    Program,
    Subscription,
    Tier,
)


class TierInline(TranslationTabularInline):
    model = Tier
    extra = 0
    fields = ("level", "name", "metric", "window", "threshold", "earn_multiplier", "invitation_only")
    ordering = ("level",)


@admin.register(Program)
class ProgramAdmin(RulesRevisedAdminMixin, MissingTranslationsAdmin, TranslationAdmin):
    form = ProgramForm
    list_display = (
        "name",
        "slug",
        "currency",
        "points_name",
        "earn_rate",
        "pending_days",
        "expiry_policy",
        "is_default",
    )
    list_filter = ("expiry_policy", "referral_mode")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    inlines = [TierInline]
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "name",
                    "slug",
                    "is_default",
                    "currency",
                    "time_zone",
                    "points_name",
                    "points_forms",
                    "default_region",
                )
            },
        ),
        (
            _("Branding and links"),
            {
                "description": _(
                    "What member pages and emails show: the name, the logo and two colours (a stylesheet is "
                    "generated from them), and the pages the sign-up form links to."
                ),
                "fields": ("brand_name", "logo", ("brand_color", "brand_accent"), "terms_url", "privacy_url"),
            },
        ),
        (_("Earning"), {"fields": ("earn_rate", "rounding", "welcome_bonus", "pending_days")}),
        (_("Expiry"), {"fields": ("expiry_policy", "expiry_months", "expiry_notice_days")}),
        (
            _("Referrals"),
            {
                "fields": (
                    "referral_mode",
                    "referral_referrer_points",
                    "referral_referee_points",
                    "referral_steps",
                    "referral_min_purchase",
                    "refund_takes_referral",
                )
            },
        ),
        (_("Paying with points and tiers"), {"fields": ("burn_rate", "burn_min_order", "tier_notice_days")}),
        (
            _("Loyalty types"),
            {
                "description": _(
                    "The thresholds of the loyalty-type rules (README, Loyalty types), applied in order; the "
                    "first rule a member matches is their type. The table counts the members of each type now "
                    "and with the thresholds as entered, recounted as you change them; types are recomputed "
                    "nightly after saving."
                ),
                "fields": (LOYALTY_FIELDS[:3], LOYALTY_FIELDS[3:6], LOYALTY_FIELDS[6:], "loyalty_preview"),
            },
        ),
        (_("Staff"), {"fields": ("adjust_limit", "adjust_approval_above")}),
        (
            _("Points transfers between members"),
            {"fields": (("transfer_max_points", "transfer_min_points", "transfer_daily_points"),)},
        ),
        (
            _("Households"),
            {
                "description": _(
                    "Members who live together pool their points: any of them may redeem from the household's "
                    "points, each keeps earning on their own account."
                ),
                "fields": (("household_max_members", "household_tier_mode", "household_pool_default"),),
            },
        ),
        (
            _("Ceilings on purchases"),
            {
                "description": _(
                    "Hard limits on what partners send: a purchase dated too far back, over the largest amount, "
                    "or that would earn more points than allowed (per purchase, or per member and day) is refused."
                ),
                "fields": (
                    ("backdate_days", "max_purchase_amount"),
                    ("max_purchase_points", "max_member_daily_points"),
                    "receipt_claim_days",
                ),
            },
        ),
        (
            _("Abuse controls"),
            {
                "description": _(
                    "Daily limits on earning; empty means no limit. A purchase past a limit is recorded but "
                    "its points wait in Review cases until staff approve or reject them."
                ),
                "fields": (
                    ("member_daily_earns", "member_daily_points"),
                    ("partner_daily_earns", "partner_daily_points"),
                ),
            },
        ),
    )

    readonly_fields = ("loyalty_preview",)

    class Media:
        js = ("js/loyalty-preview.js",)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # members and the ledger hang on a program; deactivate its rules instead

    def get_urls(self):
        preview = self.admin_site.admin_view(self.loyalty_preview_view)
        return [
            path("<int:pk>/loyalty-preview/", preview, name="members_program_loyalty_preview"),
            *super().get_urls(),
        ]

    @admin.display(description=_("Members by type"))
    def loyalty_preview(self, program: Program | None) -> str:
        if program is None or program.pk is None:
            return _("Save the program first: the counts are of its members.")
        now = loyalty_type_counts(program=program)
        entered = loyalty_type_distribution(program=program)
        url = reverse("admin:members_program_loyalty_preview", args=[program.pk])
        rows = format_html_join(
            "",
            '<tr><th scope="row">{}</th><td>{}</td><td data-loyalty-type="{}">{}</td></tr>',
            ((label, number(now[value]), value, number(entered[value])) for value, label in Member.LoyaltyType.choices),
        )
        return format_html(
            '<table id="loyalty-preview" data-url="{}"><thead><tr><th>{}</th><th>{}</th><th>{}</th></tr></thead>'
            "<tbody>{}</tbody></table>",
            url,
            _("Type"),
            _("Now"),
            _("With these thresholds"),
            rows,
        )

    def loyalty_preview_view(self, request, pk: int) -> JsonResponse:
        """The counts by type with the thresholds of the query string (the change form's fields):
        JSON for static/js/loyalty-preview.js; invalid thresholds are a 400 naming the fields."""
        program = Program.objects.filter(pk=pk).first()
        if program is None or not self.has_view_permission(request, program):
            raise Http404
        form = LoyaltyThresholdsForm(request.GET, instance=program)
        if not form.is_valid():
            return JsonResponse({"errors": form.errors}, status=400)
        counts = loyalty_type_distribution(program=program, thresholds=LoyaltyThresholds.of(form.instance))
        return JsonResponse({"counts": counts, "shown": {k: number(v) for k, v in counts.items()}})


@admin.register(Tier)
class TierAdmin(RulesRevisedAdminMixin, MissingTranslationsAdmin, TranslationAdmin):
    list_display = ("name", "program", "level", "metric", "window", "threshold", "earn_multiplier", "invitation_only")
    list_filter = ("program", "metric", "window", "invitation_only")
    list_select_related = ("program",)
    search_fields = ("name", "program__name")
    ordering = ("program", "level")


@admin.register(Partner)
class PartnerAdmin(admin.ModelAdmin):
    list_display = ("name", "program", "earn_multiplier", "is_active", "created_at")
    list_filter = ("program", "is_active")
    list_select_related = ("program",)
    search_fields = ("name",)


@admin.register(EarningRule)
class EarningRuleAdmin(RulesRevisedAdminMixin, MissingTranslationsAdmin, TranslationAdmin):
    form = EarningRuleForm
    list_display = (
        "name",
        "program",
        "kind",
        "target",
        "multiplier",
        "points",
        "priority",
        "stackable",
        "is_active",
        "starts_at",
        "ends_at",
    )
    list_filter = ("program", "kind", "is_active", "stackable", "action")
    list_select_related = ("program", "partner")
    list_editable = ("is_active",)
    search_fields = ("name", "category", "sku")
    autocomplete_fields = ("partner",)
    change_list_template = "admin/members/earningrule/change_list.html"
    fieldsets = (
        (None, {"fields": ("program", "name", "kind", "is_active")}),
        (_("What it matches"), {"fields": ("category", "sku", "partner", "action", "min_amount")}),
        (_("What it gives"), {"fields": ("multiplier", "points", "daily_cap", "lifetime_cap")}),
        (_("When"), {"fields": ("starts_at", "ends_at", "weekdays", ("from_hour", "until_hour"))}),
        (_("Combining with other rules"), {"fields": ("priority", "stackable")}),
    )

    @admin.display(description=_("Applies to"))
    def target(self, rule: EarningRule) -> str:
        return rule.sku or rule.category or (rule.partner.name if rule.partner else "") or rule.action or "-"

    def get_urls(self):
        return [
            path("simulate/", self.admin_site.admin_view(self.simulate_view), name="members_earningrule_simulate"),
            *super().get_urls(),
        ]

    def simulate_view(self, request):
        """Pick a program, a member or a tier, a partner and a basket: see what it would earn. Writes nothing."""
        form = SimulatorForm(request.POST or None)
        result = None
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                data["items"] = services.purchase_items_check(amount=data["amount"], items=data["items"])
            except DomainError as exc:
                form.add_error("basket", exc.message)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            member = data.get("member_obj")
            kwargs = {
                "partner": data.get("partner"),
                "amount": data["amount"],
                "items": data["items"],
                "paid_with_points": data.get("paid_with_points") or 0,
            }
            at = data.get("at") or timezone.now()
            if member is not None:
                result = services.purchase_quote(member=member, at=at, **kwargs)
            else:
                result = earn_quote(program=data["program"], tier=data.get("tier"), at=at, **kwargs)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Earning simulator"),
            "opts": self.model._meta,
            "form": form,
            "result": result,
        }
        return TemplateResponse(request, "admin/members/simulator.html", context)


@admin.register(MembershipPlan)
class MembershipPlanAdmin(MissingTranslationsAdmin, TranslationAdmin):
    list_display = ("name", "program", "fee", "duration_days", "recurring", "earn_multiplier", "is_active")
    list_filter = ("program", "recurring", "is_active")
    list_select_related = ("program",)
    search_fields = ("name",)


class PaymentForm(forms.Form):
    reference = forms.CharField(
        label=_("Payment reference"),
        max_length=100,
        help_text=_("The receipt number at the desk, or the payment's id at the provider."),
    )


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    """Subscriptions start from a member (the membership page, action "subscribe") or the API, waiting
    for payment; here staff record the payment (which starts the perks), follow and cancel them."""

    list_display = (
        "member",
        "plan",
        "status",
        "started_at",
        "expires_at",
        "paid_by",
        "payment_reference",
        "cancelled_at",
    )
    list_filter = ("status", "plan__program", "plan")
    list_select_related = ("member", "plan")
    search_fields = ("=member__number", "member__email", "=payment_reference")
    show_full_result_count = False
    actions = ["record_payment", "cancel"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_cancel_permission(self, request) -> bool:
        return request.user.has_perm("members.change_subscription")

    has_record_payment_permission = has_cancel_permission

    @admin.action(description=_("Record the payment (the perks start now)"), permissions=["record_payment"])
    def record_payment(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(
                request, _("Select one subscription: each payment has its own reference."), messages.ERROR
            )
            return None
        form = action_form(self, request, queryset, PaymentForm, _("Record the payment"))
        if not isinstance(form, PaymentForm):
            return form
        try:
            sub = services.plan_payment_record(
                subscription=queryset.get(),
                reference=form.cleaned_data["reference"],
                paid_by=f"staff:{request.user.username}",
            )
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
        else:
            self.message_user(
                request,
                _("Payment recorded: %(sub)s runs until %(date)s.") % {"sub": sub, "date": sub.expires_at.date()},
            )
        return None

    @admin.action(description=_("Cancel (perks last until the end of the paid period)"), permissions=["cancel"])
    def cancel(self, request, queryset):
        done = 0
        for sub in queryset.filter(status__in=[Subscription.Status.ACTIVE, Subscription.Status.PENDING]):
            services.plan_cancel(subscription=sub)
            done += 1
        self.message_user(
            request,
            ngettext("%(n)d membership cancelled.", "%(n)d memberships cancelled.", done) % {"n": done},
            messages.SUCCESS,
        )


@admin.register(CustomEventType)
class CustomEventTypeAdmin(MissingTranslationsAdmin, TranslationAdmin):
    """Operator-defined events partners report for points (POST /api/v1/members/{n}/events)."""

    form = CustomEventTypeForm
    list_display = (
        "key",
        "name",
        "program",
        "points",
        "points_attribute",
        "points_per_unit",
        "max_points",
        "daily_cap",
        "is_active",
    )
    list_filter = ("program", "is_active")
    list_select_related = ("program",)
    search_fields = ("key", "name")


@admin.register(CustomEvent)
class CustomEventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "event_type", "member", "partner", "reference", "points")
    list_filter = ("event_type__program", "event_type")
    list_select_related = ("event_type", "member", "partner")
    search_fields = ("=member__number", "=reference")
    ordering = ("-id",)
