"""Operators build segments from rules, attach offers, run campaigns and journeys, and read the results.
Everything here calls campaigns.services / campaigns.selectors."""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import translation
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from modeltranslation.admin import TranslationAdmin, TranslationStackedInline

from campaigns import selectors, services
from campaigns.models import Campaign, Delivery, Offer, OfferGrant, Segment, SegmentRule, Variant
from core.csvfiles import CsvImportForm, import_rejected_into_form, import_report_message
from core.db import reads_replica
from core.errors import DomainError
from core.formatting import number
from members.admin.base import ReadOnlyAdmin

SAMPLE_SIZE = 20


class SegmentRuleInline(admin.StackedInline):
    """One rule per block, its fields on five short lines (the tabular form was 14 columns wide)."""

    model = SegmentRule
    extra = 1
    classes = ("segment-rules",)
    fieldsets = [
        (
            None,
            {
                "fields": (
                    ("kind", "group", "negate"),
                    ("values", "days"),
                    ("minimum", "maximum", "date_from", "date_to"),
                    ("tier", "partner", "plan", "program"),
                )
            },
        )
    ]
    autocomplete_fields = ("tier", "program", "partner", "plan")


@admin.register(Segment)
class SegmentAdmin(admin.ModelAdmin):
    list_display = ("name", "program", "kind", "combine", "created_at")
    list_filter = ("kind", "program")
    search_fields = ("name",)
    autocomplete_fields = ("program",)
    readonly_fields = ("live_count", "sample", "frozen_from")
    fields = ("name", "program", "kind", "combine", "description", "frozen_from", "live_count", "sample")
    inlines = [SegmentRuleInline]
    actions = ["freeze", "import_csv"]

    def get_inlines(self, request, obj):
        return [] if obj is not None and obj.kind == Segment.Kind.STATIC else self.inlines

    def preview_view(self, request: HttpRequest) -> JsonResponse:
        """The live count and a sample for the rules being edited (POST: the change form as it stands),
        before anything is saved; rules with errors are named and left out. `?segment=<id>` on a saved
        segment's page: its saved rules are the ones the form edits (nothing is written either way)."""
        if request.method != "POST":
            return JsonResponse({"error": _("POST the segment form.")}, status=405)
        if not self.has_view_permission(request):
            raise PermissionDenied
        saved = request.GET.get("segment") or None
        if saved is not None and not saved.isdigit():
            return JsonResponse({"error": _("The rules could not be read; reload the page.")}, status=400)
        program_id = request.POST.get("program") or None
        if program_id is not None and not str(program_id).isdigit():
            return JsonResponse({"error": _("Choose a program from the list.")}, status=400)
        combine = request.POST.get("combine") or Segment.Combine.ANY_GROUP
        if combine not in Segment.Combine.values:
            return JsonResponse({"error": _("Choose how groups combine from the list.")}, status=400)
        segment = Segment(program_id=program_id, combine=combine, kind=Segment.Kind.DYNAMIC)
        if saved is not None:
            segment.pk = get_object_or_404(Segment, pk=saved).pk  # the saved rules bind to their forms
        formset = SegmentRuleInline(Segment, self.admin_site).get_formset(request)(
            request.POST, instance=segment, prefix="rules"
        )
        if not formset.management_form.is_valid():  # missing or tampered with
            return JsonResponse({"error": _("The rules could not be read; reload the page.")}, status=400)
        rules, invalid = [], []
        for position, form in enumerate(formset.forms, start=1):
            if not form.has_changed() and form.instance.pk is None:
                continue
            if not form.is_valid():
                invalid.append(position)
            elif not form.cleaned_data.get("DELETE"):
                rules.append(form.instance)
        members = selectors.segment_members(segment=segment, rules=rules)
        sample = members.select_related("tier").order_by("-pk")[:SAMPLE_SIZE]
        return JsonResponse(
            {
                "count": members.count(),
                "rules": len(rules),
                "invalid": invalid,
                "status": _("Rules left out until they are complete: %(numbers)s")
                % {"numbers": ", ".join(map(str, invalid))}
                if invalid
                else "",
                "sample": render_to_string("campaigns/admin/segment_sample.html", {"members": sample}),
            }
        )

    @admin.display(description=_("members now"))
    def live_count(self, obj: Segment) -> str:
        if obj.pk is None:
            return _("Save the rules to see the count.")
        return number(selectors.segment_members(segment=obj).count())

    def render_change_form(self, request, context, *args, **kwargs):
        # What each rule kind reads, for the builder's script to show only those fields (JSON, not run).
        context["rule_parameters"] = {str(kind): list(names) for kind, names in SegmentRule.PARAMETERS.items()}
        return super().render_change_form(request, context, *args, **kwargs)

    @admin.display(description=_("sample"))
    def sample(self, obj: Segment) -> str:
        if obj.pk is None:
            return "-"
        members = selectors.segment_members(segment=obj).select_related("tier").order_by("-pk")[:SAMPLE_SIZE]
        return render_to_string("campaigns/admin/segment_sample.html", {"members": members})

    @admin.action(description=_("Freeze into a static list"), permissions=["change"])
    def freeze(self, request, queryset):
        for segment in queryset:
            frozen = services.segment_freeze(segment=segment)
            count = frozen.entries.count()
            self.message_user(
                request,
                ngettext("Frozen '%(name)s': %(count)d member.", "Frozen '%(name)s': %(count)d members.", count)
                % {"name": frozen.name, "count": count},
            )

    @admin.action(description=_("Import a member list (CSV) into a static segment"), permissions=["change"])
    def import_csv(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, _("Choose exactly one static segment."), messages.WARNING)
            return None
        return HttpResponseRedirect(reverse("admin:campaigns_segment_import", args=[queryset.get().pk]))

    def get_urls(self):
        return [
            path("<int:pk>/import/", self.admin_site.admin_view(self.import_view), name="campaigns_segment_import"),
            # The live count is a read that tolerates lag: the replica answers it when there is one.
            path(
                "preview/",
                self.admin_site.admin_view(reads_replica(self.preview_view)),
                name="campaigns_segment_preview",
            ),
            *super().get_urls(),
        ]

    def import_view(self, request: HttpRequest, pk: int):
        segment = get_object_or_404(Segment, pk=pk)
        if not self.has_change_permission(request, segment):
            raise PermissionDenied
        form = CsvImportForm(request.POST or None, request.FILES or None)
        form.fields["file"].help_text = _("One member per line: a 'number' or 'email' column, or a single bare column.")
        if request.method == "POST" and form.is_valid():
            try:
                report = services.segment_import_csv(
                    segment=segment, data=form.cleaned_data["file"], mode=form.cleaned_data["mode"]
                )
            except DomainError as exc:
                import_rejected_into_form(form, exc)
            else:
                summary = _("Added %(added)d members (%(kept)d were already in the list).") % {
                    "added": report.added,
                    "kept": report.unchanged,
                }
                import_report_message(self, request, summary, report)
                return HttpResponseRedirect(reverse("admin:campaigns_segment_change", args=[segment.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": segment,
            "title": _("Import a member list"),
            "intro": _(
                "Upload a CSV with one member per line: a column named 'number' (the member number) or 'email', "
                "or a single column of either without a header. Members already in the list are kept once. A line "
                "that matches no active member of the segment's program is reported with its line number: choose "
                "whether it stops the whole import (nothing is written) or is skipped."
            ),
            "submit_label": _("Import"),
            "form": form,
        }
        return TemplateResponse(request, "admin/form_page.html", context)


@admin.register(Offer)
class OfferAdmin(TranslationAdmin):
    list_display = ("name", "program", "kind", "title", "valid_days")
    list_filter = ("kind", "program")
    search_fields = ("name", "title")
    autocomplete_fields = ("program", "reward")
    fieldsets = (
        (None, {"fields": ("program", "name", "kind", "title", "description", "valid_days")}),
        (
            _("Details by kind"),
            {
                "fields": ("reward", "multiplier", "category", "points", "min_amount", "discount_percent"),
                "description": _(
                    "Reward: the catalog reward. Multiplier: multiplier and optional category. Bonus: points and "
                    "minimum amount. Discount: percent and optional category. Free shipping and gift: the title "
                    "says what the code gives."
                ),
            },
        ),
    )


class PreviewForm(forms.Form):
    """Which variant, in which language; and, to send it, a staff address."""

    variant = forms.ChoiceField(label=_("Variant"))
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)
    to = forms.EmailField(label=_("Send a test to"), required=False)

    def __init__(self, *args, campaign: Campaign, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["variant"].choices = [(v.pk, v.name) for v in campaign.variants.order_by("name")]

    @property
    def variant_id(self) -> int:
        return int(self.cleaned_data["variant"])


class VariantInline(TranslationStackedInline):
    model = Variant
    extra = 0
    fields = ("name", "weight", "subject", "body", "sms_body")


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ("name", "program", "trigger", "status", "segment", "offer", "next_run_at", "sent", "redeemed")
    list_filter = ("status", "trigger", "program")
    search_fields = ("name",)
    autocomplete_fields = ("program", "segment", "offer")
    readonly_fields = ("status", "launched_at", "next_run_at", "before_launch", "results")
    inlines = [VariantInline]
    actions = ["launch", "pause"]
    fieldsets = (
        (None, {"fields": ("program", "name", "segment", "offer", "status", "launched_at", "before_launch")}),
        (_("Trigger (journeys)"), {"fields": ("trigger", "trigger_days")}),
        (
            _("Channels and schedule"),
            {"fields": ("channel_email", "channel_sms", "send_at", "recurrence", "next_run_at")},
        ),
        (
            _("Limits"),
            {"fields": ("cap_messages", "cap_days", "quiet_start", "quiet_end", "budget_offers", "budget_points")},
        ),
        (_("A/B test and results"), {"fields": ("holdout_percent", "attribution_days", "results")}),
    )

    def get_queryset(self, request):
        return selectors.campaigns_summary()

    @admin.display(description=_("sent"), ordering="sent")
    def sent(self, obj: Campaign) -> str:
        return number(obj.sent)

    @admin.display(description=_("redeemed"), ordering="redeemed")
    def redeemed(self, obj: Campaign) -> str:
        return number(obj.redeemed)

    @admin.display(description=_("results per variant and holdout"))
    def results(self, obj: Campaign) -> str:
        if obj.pk is None:
            return "-"
        return render_to_string(
            "campaigns/admin/results.html",
            {
                "groups": selectors.campaign_results(campaign=obj),
                "statuses": selectors.delivery_counts(campaign=obj),
                "campaign": obj,
                "deliveries_url": reverse("admin:campaigns_delivery_changelist") + f"?campaign__id__exact={obj.pk}",
            },
        )

    @admin.display(description=_("before launch"))
    def before_launch(self, obj: Campaign) -> str:
        if obj.pk is None:
            return _("Save the campaign to preview it.")
        return format_html(
            '<a href="{}">{}</a> · <a href="{}">{}</a>',
            reverse("admin:campaigns_campaign_preview", args=[obj.pk]),
            _("Preview and test send"),
            reverse("admin:campaigns_campaign_launch", args=[obj.pk]),
            _("Review and launch"),
        )

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/preview/", view(self.preview_view), name="campaigns_campaign_preview"),
            path("<int:pk>/launch/", view(self.launch_view), name="campaigns_campaign_launch"),
            *super().get_urls(),
        ]

    def _campaign(self, request, pk: int, change: bool) -> Campaign:
        campaign = get_object_or_404(Campaign.objects.select_related("program", "segment", "offer"), pk=pk)
        allowed = self.has_change_permission if change else self.has_view_permission
        if not allowed(request, campaign):
            raise PermissionDenied
        return campaign

    def _page(self, request, campaign: Campaign, template: str, title: str, **context) -> TemplateResponse:
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": campaign,
            "title": title,
            **context,
        }
        return TemplateResponse(request, template, context)

    def preview_view(self, request: HttpRequest, pk: int):
        """A variant in a language, exactly as sent; a POST sends it to a staff address."""
        campaign = self._campaign(request, pk, change=request.method == "POST")
        data = request.POST if request.method == "POST" else request.GET.copy()
        if request.method == "GET":
            first = campaign.variants.order_by("name").first()
            data.setdefault("variant", str(first.pk) if first else "")
            data.setdefault("language", translation.get_language())
            data.setdefault("to", request.user.email)
        choose = PreviewForm(data, campaign=campaign)
        if request.method == "POST" and not data.get("to"):
            choose.add_error("to", _("Enter the address to send the test to."))
        preview = None
        if choose.is_valid():
            args = {"campaign": campaign, "variant_id": choose.variant_id, "language": choose.cleaned_data["language"]}
            try:
                if request.method == "POST":
                    services.campaign_test_send(**args, to=choose.cleaned_data["to"], by=request.user)
                    self.message_user(
                        request, _("Test email sent to %(to)s.") % {"to": choose.cleaned_data["to"]}, messages.SUCCESS
                    )
                preview = services.campaign_preview(**args)
            except DomainError as exc:
                for field, errors in (exc.fields or {"__all__": [exc.message]}).items():
                    choose.add_error(field if field in choose.fields else None, errors)
        return self._page(
            request, campaign, "campaigns/admin/preview.html", _("Preview and test send"), form=choose, preview=preview
        )

    def launch_view(self, request: HttpRequest, pk: int):
        """What the launch will do (audience, holdout, channels, budget); it starts only from the POST."""
        campaign = self._campaign(request, pk, change=True)
        if request.method == "POST":
            self._each(request, [campaign], services.campaign_launch, "'{name}' launched.")
            return HttpResponseRedirect(reverse("admin:campaigns_campaign_change", args=[campaign.pk]))
        summary = selectors.campaign_launch_summary(campaign=campaign)
        return self._page(
            request,
            campaign,
            "campaigns/admin/launch_confirm.html",
            _("Review and launch"),
            summary=summary,
            languages=settings.LANGUAGES,
            can_launch=campaign.status in (Campaign.Status.DRAFT, Campaign.Status.PAUSED),
        )

    def _each(self, request, queryset, service, done: str) -> None:
        for campaign in queryset:
            try:
                service(campaign=campaign, by=request.user)
            except DomainError as exc:
                details = "; ".join(f"{k}: {' '.join(v)}" for k, v in (exc.fields or {}).items())
                self.message_user(request, f"{campaign}: {exc.message} {details}".strip(), messages.ERROR)
            else:
                self.message_user(request, format_html(done, name=campaign.name))

    @admin.action(
        description=_("Launch (journeys start listening; broadcasts send now or at their time)"), permissions=["change"]
    )
    def launch(self, request, queryset):
        """Launching goes through the confirmation page, one campaign at a time."""
        if queryset.count() != 1:
            self.message_user(request, _("Choose one campaign to review and launch."), messages.WARNING)
            return None
        return HttpResponseRedirect(reverse("admin:campaigns_campaign_launch", args=[queryset.get().pk]))

    @admin.action(description=_("Pause"), permissions=["change"])
    def pause(self, request, queryset):
        self._each(request, queryset, services.campaign_pause, "'{name}' paused.")


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "campaign",
        "member",
        "occurrence",
        "variant",
        "holdout",
        "channel",
        "status",
        "reason",
        "sent_at",
        "provider_id",
    )
    list_filter = ("status", "reason", "channel", "holdout", "campaign__program")
    list_select_related = ("campaign", "member", "variant")
    search_fields = ("=member__number", "member__email", "campaign__name", "=provider_id")
    raw_id_fields = ("campaign",)


@admin.register(OfferGrant)
class OfferGrantAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "code", "offer", "campaign", "member", "status", "valid_until", "points", "reference")
    list_filter = ("status", "offer__kind")
    list_select_related = ("offer", "campaign", "member")
    search_fields = ("=code", "=member__number", "member__email")
