"""Admin for the catalog, redemptions, vouchers, burn holds, surprises, challenges and badges.

Declarative lists; the actions and the two small forms (code import, surprise grant) call services.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop, ngettext
from modeltranslation.admin import TranslationAdmin

from core.csvfiles import CsvImportForm, import_rejected_into_form, import_report_message
from core.errors import DomainError
from core.formatting import number
from core.forms import IdsMultipleChoiceField
from core.translations import MissingTranslationsAdmin
from members.admin.revisions import RulesRevisedAdminMixin
from members.models import Member, Tier
from rewards import selectors, services
from rewards.models import (
    Badge,
    BurnHold,
    Cause,
    Challenge,
    ChallengeProgress,
    MemberBadge,
    Redemption,
    Reward,
    SurpriseRule,
    Voucher,
)


class VoucherInline(admin.TabularInline):
    """The latest vouchers of a reward; all of them are searchable under Vouchers."""

    model = Voucher
    fk_name = "reward"
    fields = ("code", "status", "member", "issued_at", "expires_at", "consumed_at", "consumed_by", "order_reference")
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = True
    ordering = ("-id",)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("member", "consumed_by")


@admin.register(Cause)
class CauseAdmin(MissingTranslationsAdmin, TranslationAdmin):
    list_display = ("name", "program", "is_active", "donations", "donated_points", "donated_value")
    list_filter = ("program", "is_active")
    search_fields = ("name",)
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def get_queryset(self, request):
        return selectors.charity_totals(super().get_queryset(request).select_related("program"))

    @admin.display(description=_("donations"), ordering="donations")
    def donations(self, obj: Cause) -> str:
        return number(obj.donations)

    @admin.display(description=_("points donated"), ordering="donated_points")
    def donated_points(self, obj: Cause) -> str:
        return number(obj.donated_points)

    @admin.display(description=_("value donated"), ordering="donated_value")
    def donated_value(self, obj: Cause) -> str:
        return number(obj.donated_value, 2)


class SurpriseGrantForm(forms.Form):
    numbers = forms.CharField(
        label=_("Member numbers or emails"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("One per line. Leave empty to use the filters below."),
    )
    tiers = IdsMultipleChoiceField(queryset=Tier.objects.none(), required=False)
    loyalty_types = forms.MultipleChoiceField(choices=Member.LoyaltyType.choices[1:], required=False)
    min_points = forms.IntegerField(label=_("At least this many points"), required=False, min_value=0)
    everyone = forms.BooleanField(label=_("Every active member matching the filters"), required=False)
    message = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), help_text=_("Shown and emailed to members."))

    def __init__(self, *args, program, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tiers"].queryset = Tier.objects.filter(program=program)

    def clean(self):
        data = super().clean()
        filtered = data.get("tiers") or data.get("loyalty_types") or data.get("min_points") is not None
        if not data.get("numbers", "").strip() and not (filtered or data.get("everyone")):
            raise forms.ValidationError(_("Name members, or choose filters, or tick 'every active member'."))
        return data


@admin.register(Reward)
class RewardAdmin(RulesRevisedAdminMixin, MissingTranslationsAdmin, TranslationAdmin):
    list_display = (
        "title",
        "kind",
        "program",
        "points_cost",
        "value",
        "stock",
        "codes_left",
        "redeemed",
        "is_active",
        "is_featured",
    )
    list_filter = ("program", "kind", "is_active", "is_featured", "members_only", "code_source", "category")
    list_editable = ("is_active", "is_featured")
    list_select_related = ("program",)
    search_fields = ("title", "category")
    filter_horizontal = ("tiers",)
    autocomplete_fields = ("cause",)
    inlines = [VoucherInline]
    actions = ["import_codes", "grant_surprise"]
    fieldsets = (
        (
            None,
            {"fields": ("program", "kind", "title", "description", "image", "category", "is_active", "is_featured")},
        ),
        (_("Price and value"), {"fields": ("points_cost", "value", "percent", "min_order_value", "cause")}),
        (
            _("Who and when"),
            {"fields": ("tiers", "members_only", "starts_at", "early_access", "ends_at", "event_at", "event_place")},
        ),
        (
            _("Stock and limits"),
            {"fields": ("stock", "limit_per_member", "limit_per_period", "limit_period", "code_source")},
        ),
        (_("Vouchers"), {"fields": ("voucher_valid_days",)}),
    )

    def get_queryset(self, request):
        return selectors.rewards_with_counts(super().get_queryset(request))

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        kwargs.setdefault("form_class", IdsMultipleChoiceField)  # a huge posted tier id is a form error
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_formset_kwargs(self, request, obj, inline, prefix):
        kwargs = super().get_formset_kwargs(request, obj, inline, prefix)
        if isinstance(inline, VoucherInline) and obj is not None and obj.pk:
            # A reward can hold thousands of imported codes: show the latest ones (search the rest).
            kwargs["queryset"] = inline.get_queryset(request).filter(pk__in=selectors.latest_voucher_ids(reward=obj))
        return kwargs

    @admin.display(description=_("redeemed"), ordering="redeemed")
    def redeemed(self, obj: Reward) -> str:
        return number(obj.redeemed)

    @admin.display(description=_("codes left"), ordering="codes_left")
    def codes_left(self, obj: Reward) -> str:
        return number(obj.codes_left) if obj.code_source == Reward.CodeSource.IMPORTED else "-"

    def get_urls(self):
        return [
            path("<int:pk>/import-codes/", self.admin_site.admin_view(self.import_codes_view), name="rewards_import"),
            path("<int:pk>/grant/", self.admin_site.admin_view(self.grant_view), name="rewards_grant"),
            *super().get_urls(),
        ]

    def _one(self, request, queryset, url_name: str):
        if queryset.count() != 1:
            self.message_user(request, _("Choose exactly one reward."), messages.WARNING)
            return None
        return HttpResponseRedirect(reverse(f"admin:{url_name}", args=[queryset.get().pk]))

    @admin.action(description=_("Import voucher codes (CSV)"), permissions=["change"])
    def import_codes(self, request, queryset):
        return self._one(request, queryset, "rewards_import")

    @admin.action(description=_("Grant as a surprise to members"), permissions=["change"])
    def grant_surprise(self, request, queryset):
        return self._one(request, queryset, "rewards_grant")

    def _page(self, request, reward: Reward, form, *, title: str, intro: str, submit_label: str):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": reward,
            "title": title,
            "intro": intro,
            "submit_label": submit_label,
            "form": form,
        }
        return TemplateResponse(request, "admin/form_page.html", context)

    def import_codes_view(self, request: HttpRequest, pk: int):
        reward = get_object_or_404(Reward, pk=pk)
        if not self.has_change_permission(request, reward):
            raise PermissionDenied
        form = CsvImportForm(request.POST or None, request.FILES or None)
        form.fields["file"].help_text = _("One code per line, in the first column.")
        if request.method == "POST" and form.is_valid():
            try:
                report = services.voucher_codes_import(
                    reward=reward, data=form.cleaned_data["file"], mode=form.cleaned_data["mode"]
                )
            except DomainError as exc:
                import_rejected_into_form(form, exc)
            else:
                summary = _("%(added)s codes added, %(dup)s already known, %(bad)s bad lines skipped.") % {
                    "added": report.added,
                    "dup": report.unchanged,
                    "bad": len(report.skipped),
                }
                import_report_message(self, request, summary, report)
                return HttpResponseRedirect(reverse("admin:rewards_reward_change", args=[reward.pk]))
        return self._page(
            request,
            reward,
            form,
            title=_("Import voucher codes for %s") % reward,
            intro=_(
                "Upload a CSV of codes made elsewhere (for example a partner's gift cards): one code per line in the "
                "first column, a 'code' header line is allowed. Spaces and dashes are ignored and letters made upper "
                "case; codes already known are skipped. A bad line is reported with its line number: choose whether it "
                "stops the whole import (nothing is written) or is skipped. Each redemption of this reward then hands out the next unused "
                "code, and the reward is out of stock when none are left."
            ),
            submit_label=_("Import"),
        )

    def grant_view(self, request: HttpRequest, pk: int):
        reward = get_object_or_404(Reward.objects.select_related("program"), pk=pk)
        if not self.has_change_permission(request, reward):
            raise PermissionDenied
        # ?numbers=... lets another page (e.g. a members list action) hand over its selection.
        initial = {"numbers": "\n".join(request.GET.get("numbers", "").split(","))}
        form = SurpriseGrantForm(request.POST or None, program=reward.program, initial=initial)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            members = selectors.members_for_grant(
                program=reward.program,
                identifiers=data["numbers"].split(),
                tiers=list(data["tiers"]),
                loyalty_types=data["loyalty_types"],
                min_points=data["min_points"],
            )
            result = services.surprise_grant_many(
                members=members, reward=reward, message=data["message"], created_by=request.user
            )
            self.message_user(
                request,
                ngettext("Granted to %(n)s member.", "Granted to %(n)s members.", result.granted)
                % {"n": result.granted},
                messages.SUCCESS if result.granted else messages.WARNING,
            )
            for code, count in result.refused.items():
                self.message_user(request, _("Not granted to %(n)s: %(code)s") % {"n": count, "code": code})
            return HttpResponseRedirect(reverse("admin:rewards_redemption_changelist") + f"?reward__id__exact={pk}")
        return self._page(
            request,
            reward,
            form,
            title=_("Grant %s as a surprise") % reward,
            intro=_(
                "The members get this reward for free (it normally costs %(cost)s points), with your message. Each is "
                "emailed and sees it with their rewards. Stock still applies: when it runs out, the remaining members "
                "are skipped and counted."
            )
            % {"cost": reward.points_cost},
            submit_label=_("Grant"),
        )


@admin.register(Redemption)
class RedemptionAdmin(admin.ModelAdmin):
    list_display = ("id", "member", "reward", "source", "status", "points", "value", "partner", "created_at")
    list_filter = ("status", "source", "reward__kind", "program")
    list_select_related = ("member", "reward", "partner")
    search_fields = ("=voucher__code", "=member__number", "member__email", "reward__title")
    raw_id_fields = ("member",)
    date_hierarchy = "created_at"
    show_full_result_count = False
    actions = ["cancel_redemptions"]
    readonly_fields = [f.name for f in Redemption._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description=_("Cancel and return the points"), permissions=["change"])
    def cancel_redemptions(self, request, queryset):
        done = 0
        for redemption in queryset.select_related("reward"):
            try:
                services.redemption_cancel(
                    redemption=redemption,
                    reason=gettext_noop("Cancelled by staff"),
                    reason_params={},
                    created_by=request.user,
                )
                done += 1
            except DomainError as exc:
                self.message_user(request, f"#{redemption.pk}: {exc.message}", messages.WARNING)
        if done:
            self.message_user(
                request,
                ngettext(
                    "%(n)s redemption cancelled, points returned.",
                    "%(n)s redemptions cancelled, points returned.",
                    done,
                )
                % {"n": done},
            )


@admin.register(Voucher)
class VoucherAdmin(admin.ModelAdmin):
    list_display = ("code", "reward", "member", "status", "issued_at", "expires_at", "consumed_at", "consumed_by")
    list_filter = ("status", "imported", "reward__kind", "program")
    list_select_related = ("reward", "member", "consumed_by")
    search_fields = ("=code", "=member__number", "member__email")
    show_full_result_count = False
    readonly_fields = [f.name for f in Voucher._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def get_search_results(self, request, queryset, search_term):
        # Codes are stored without dashes or spaces, as typed at the till.
        return super().get_search_results(
            request, queryset, services.voucher_code_normalize(search_term) or search_term
        )


@admin.register(BurnHold)
class BurnHoldAdmin(admin.ModelAdmin):
    list_display = ("token", "member", "partner", "status", "points", "amount", "order_total", "created_at")
    list_filter = ("status", "program")
    list_select_related = ("member", "partner")
    search_fields = ("=token", "=member__number", "order_reference")
    show_full_result_count = False
    readonly_fields = [f.name for f in BurnHold._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(SurpriseRule)
class SurpriseRuleAdmin(MissingTranslationsAdmin, TranslationAdmin):
    list_display = ("name", "program", "trigger", "n", "reward", "repeatable", "is_active", "granted")
    list_filter = ("program", "trigger", "is_active")
    search_fields = ("name",)
    autocomplete_fields = ("reward",)

    def get_queryset(self, request):
        done = Q(grants__status=Redemption.Status.COMPLETED)
        return (
            super()
            .get_queryset(request)
            .select_related("program", "reward")
            .annotate(granted=Count("grants", filter=done))
        )

    @admin.display(description=_("granted"))
    def granted(self, obj: SurpriseRule) -> str:
        return number(obj.granted)


@admin.register(Badge)
class BadgeAdmin(MissingTranslationsAdmin, TranslationAdmin):
    list_display = ("icon", "name", "program")
    list_filter = ("program",)
    search_fields = ("name",)


@admin.register(Challenge)
class ChallengeAdmin(MissingTranslationsAdmin, TranslationAdmin):
    list_display = ("title", "program", "metric", "target", "starts_at", "ends_at", "points", "badge", "is_active")
    list_filter = ("program", "metric", "is_active")
    list_select_related = ("program", "badge")
    search_fields = ("title",)
    autocomplete_fields = ("badge",)


@admin.register(ChallengeProgress)
class ChallengeProgressAdmin(admin.ModelAdmin):
    list_display = ("challenge", "member", "value", "completed_at", "updated_at")
    list_filter = ("challenge", ("completed_at", admin.EmptyFieldListFilter))
    list_select_related = ("challenge", "member")
    search_fields = ("=member__number", "member__email")
    show_full_result_count = False
    readonly_fields = ("challenge", "member", "value", "seen", "completed_at", "updated_at")

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(MemberBadge)
class MemberBadgeAdmin(admin.ModelAdmin):
    list_display = ("badge", "member", "challenge", "awarded_at")
    list_filter = ("badge",)
    list_select_related = ("badge", "member", "challenge")
    search_fields = ("=member__number", "member__email")
    show_full_result_count = False
    readonly_fields = ("member", "badge", "challenge", "awarded_at")

    def has_add_permission(self, request) -> bool:
        return False
