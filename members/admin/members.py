"""Admin for members: the change list with its filters, the member page with read-only ledger, tier
and subscription inlines, CSV import and export, and the actions (adjust points, suspend, reactivate,
assign a tier, subscribe, GDPR export), each calling members.services; large adjustments wait in
Pending adjustments for a second staff member."""

from django.conf import settings
from django.contrib import admin, messages
from django.core.paginator import Paginator
from django.forms.models import BaseInlineFormSet
from django.http import HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, ngettext_lazy
from import_export.admin import ImportExportMixin
from import_export.formats import base_formats

from core.csvfiles import ImportMode, skipped_message
from core.db import replica_reads
from core.errors import DomainError
from core.formatting import number
from members import exports, selectors, services
from members.admin.base import ReadOnlyInline, action_form, apply_each
from members.admin.cards import CardInline
from members.admin.forms import (
    AdjustPointsForm,
    AssignTierForm,
    CardIssueForm,
    MemberAdminForm,
    MemberConfirmImportForm,
    MemberImportForm,
    ReviewDecisionForm,
    SubscribeForm,
)
from members.loyalty import loyalty_signals
from members.models import Card, LedgerEntry, Member, PendingAdjustment, Program, Subscription, Tier, TierChange
from members.resources import MemberResource, import_result_report

LEDGER_PAGE_SIZE = 25


class LedgerPageFormSet(BaseInlineFormSet):
    """Shows one page of the member's ledger, newest first (`?ledger_page=N`)."""

    page_number = 1

    def get_queryset(self):
        if not hasattr(self, "_page"):
            paginator = Paginator(super().get_queryset().order_by("-created_at", "-id"), LEDGER_PAGE_SIZE)
            self._page = paginator.get_page(self.page_number)
        return list(self._page.object_list)

    @property
    def page(self):
        self.get_queryset()
        return self._page


class LedgerInline(ReadOnlyInline):
    model = LedgerEntry
    formset = LedgerPageFormSet
    template = "admin/members/ledger_inline.html"
    fields = ("created_at", "kind", "points", "amount", "partner", "reason", "reference", "why", "created_by")
    readonly_fields = fields
    verbose_name_plural = _("Ledger (newest first)")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("partner", "created_by")

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.page_number = request.GET.get("ledger_page") or 1
        return formset

    @admin.display(description=_("Breakdown"))
    def why(self, entry: LedgerEntry) -> str:
        rows = [r for r in entry.breakdown if r.get("label")]
        return "; ".join(f"{r['label']}: {r['points']:+d}" for r in rows) or "-"


class TierChangeInline(ReadOnlyInline):
    model = TierChange
    fk_name = "member"
    fields = ("created_at", "from_tier", "to_tier", "reason", "note", "created_by")
    readonly_fields = fields
    max_num = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("from_tier__program", "to_tier__program", "created_by")


class SubscriptionInline(ReadOnlyInline):
    model = Subscription
    fields = ("plan", "status", "started_at", "expires_at", "paid_by", "cancelled_at")
    readonly_fields = fields


class TierFilter(admin.RelatedFieldListFilter):
    """Tier choices with their program in one query (a tier's name shows its program)."""

    def field_choices(self, field, request, model_admin):
        return [(t.pk, str(t)) for t in Tier.objects.select_related("program").order_by("program__name", "level")]


class ConsentFilter(admin.SimpleListFilter):
    title = _("marketing consent")
    parameter_name = "consent"

    def lookups(self, request, model_admin):
        return [("email", _("Email")), ("sms", _("SMS")), ("none", _("None"))]

    def queryset(self, request, queryset):
        if self.value() == "email":
            return queryset.filter(consent_email=True)
        if self.value() == "sms":
            return queryset.filter(consent_sms=True)
        if self.value() == "none":
            return queryset.filter(consent_email=False, consent_sms=False)
        return queryset


@admin.register(Member)
class MemberAdmin(ImportExportMixin, admin.ModelAdmin):
    form = MemberAdminForm
    resource_classes = [MemberResource]
    import_form_class = MemberImportForm
    confirm_form_class = MemberConfirmImportForm
    import_formats = [base_formats.CSV]
    export_formats = [base_formats.CSV]
    list_display = (
        "number",
        "full_name",
        "email",
        "program",
        "tier_name",
        "status",
        "points_available",
        "points_pending",
        "loyalty_type",
        "enrolled_at",
    )
    list_filter = ("program", ("tier", TierFilter), "status", "loyalty_type", ConsentFilter)
    list_select_related = ("program", "tier__program")

    @admin.display(description=_("tier"), ordering="tier__level")
    def tier_name(self, obj: Member) -> str:
        # The tier's own name: the list already has a program column (str(tier) repeats it).
        return obj.tier.name if obj.tier_id else "-"

    def export_action(self, request):
        # A CSV of the whole program is a long read: the replica serves it when there is one.
        with replica_reads():
            return super().export_action(request)

    search_fields = ("=number", "email", "phone", "first_name", "last_name", "=external_id")
    show_full_result_count = False
    list_per_page = 50
    autocomplete_fields = ("referred_by",)
    inlines = [LedgerInline, CardInline, TierChangeInline, SubscriptionInline]
    actions = ["adjust_points", "suspend", "reactivate", "assign_tier", "subscribe", "issue_card", "gdpr_export"]
    readonly_fields = (
        "number",
        "balance",
        "tier_status",
        "loyalty",
        "referral_code",
        "referred_by",
        "status",
        "enrolled_at",
        "last_activity_at",
        "last_purchase_at",
        "consent_email_at",
        "consent_sms_at",
    )
    fieldsets = (
        (None, {"fields": ("program", "number", "status", "balance", "tier_status", "loyalty")}),
        (
            _("Profile"),
            {"fields": ("email", "first_name", "last_name", "phone", "birth_date", "language", "external_id")},
        ),
        (_("Consent"), {"fields": (("consent_email", "consent_email_at"), ("consent_sms", "consent_sms_at"))}),
        (_("Referral"), {"fields": ("referral_code", "referred_by")}),
        (_("Activity"), {"fields": ("enrolled_at", "last_activity_at", "last_purchase_at")}),
    )
    add_fieldsets = (
        (None, {"fields": ("program",)}),
        (
            _("Profile"),
            {"fields": ("email", "first_name", "last_name", "phone", "birth_date", "language", "external_id")},
        ),
        (_("Consent"), {"fields": ("consent_email", "consent_sms")}),
        (_("Referral"), {"fields": ("referral_code_used",)}),
    )

    def get_fieldsets(self, request, obj=None):
        return self.add_fieldsets if obj is None else self.fieldsets

    # --- CSV import: the operator's mode (core/csvfiles.py) on top of django-import-export ---

    def import_action(self, request, **kwargs):
        response = super().import_action(request, **kwargs)
        context = getattr(response, "context_data", None) or {}
        form, result = context.get("form"), context.get("result")
        # Valid-only: bad rows do not block the confirmation, they are skipped (and were listed above).
        if (
            result is not None
            and "confirm_form" not in context
            and not result.has_errors()
            and form.cleaned_data.get("mode") == ImportMode.VALID_ONLY
        ):
            context["confirm_form"] = self.create_confirm_form(request, import_form=form)
        return response

    def get_confirm_form_initial(self, request, import_form):
        initial = super().get_confirm_form_initial(request, import_form)
        if import_form is not None:
            initial["mode"] = import_form.cleaned_data.get("mode") or ImportMode.ALL_OR_NOTHING
        return initial

    def process_dataset(self, dataset, form, request, **kwargs):
        request.import_mode = form.cleaned_data.get("mode") or ImportMode.ALL_OR_NOTHING
        # All-or-nothing: a row that turned bad since the preview rolls back the whole file.
        kwargs["rollback_on_validation_errors"] = request.import_mode == ImportMode.ALL_OR_NOTHING
        return super().process_dataset(dataset, form, request, **kwargs)

    def process_result(self, result, request):
        try:
            report = import_result_report(result, getattr(request, "import_mode", ImportMode.ALL_OR_NOTHING))
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            for line in exc.fields.get("file", []):
                self.message_user(request, line, messages.ERROR)
            return HttpResponseRedirect(reverse("admin:members_member_import"))
        response = super().process_result(result, request)
        if report.skipped:
            self.message_user(request, skipped_message(report.skipped), messages.WARNING)
        return response

    def get_readonly_fields(self, request, obj=None):
        return ("program", *self.readonly_fields) if obj else ()

    def get_inlines(self, request, obj):
        return self.inlines if obj else []

    def get_search_results(self, request, queryset, search_term):
        # A card number or an email is matched exactly first: the common case at a till or on the phone.
        term = search_term.strip()
        if term.isdigit() and len(term) == 12:
            return queryset.filter(number=term), False
        if term.isdigit() and 8 <= len(term) <= 19:  # a loyalty card's number, active or not
            return queryset.filter(pk__in=Card.objects.filter(number=term).values("member_id")), False
        if "@" in term and " " not in term:
            return queryset.filter(email=services.normalize_email(term)), False
        return super().get_search_results(request, queryset, search_term)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # members are anonymized (GDPR erasure), never deleted: the ledger keeps its amounts

    def has_import_permission(self, request) -> bool:
        return request.user.has_perm("members.add_member")

    def has_export_permission(self, request) -> bool:
        return request.user.has_perm("members.export_member")

    def has_adjust_points_permission(self, request) -> bool:
        return request.user.has_perm("members.adjust_points")

    def save_model(self, request, obj, form, change):
        profile = {name: form.cleaned_data[name] for name in services.PROFILE_FIELDS if name in form.cleaned_data}
        if change:
            changed = {name: value for name, value in profile.items() if name in form.changed_data}
            for channel in ("consent_email", "consent_sms"):
                if channel in form.changed_data:
                    changed[channel] = form.cleaned_data[channel]
            member = services.member_update(member=obj, **changed)
        else:
            member = services.member_enroll(
                program=form.cleaned_data["program"],
                consent_email=form.cleaned_data["consent_email"],
                consent_sms=form.cleaned_data["consent_sms"],
                referral_code=form.cleaned_data.get("referral_code_used", ""),
                **profile,
            )
        obj.pk, obj.number = member.pk, member.number

    @admin.display(description=_("Balance"))
    def balance(self, member: Member) -> str:
        parts = [
            _("%(n)d available") % {"n": member.points_available},
            _("%(n)d pending") % {"n": member.points_pending},
            _("%(n)d earned in total") % {"n": member.points_lifetime},
        ]
        if member.points_debt:
            parts.append(_("%(n)d owed from refunds") % {"n": member.points_debt})
        expiring = selectors.points_expiring(member=member, days=member.program.expiry_notice_days)
        if expiring:
            parts.append(
                _("%(n)d expiring within %(d)d days") % {"n": expiring, "d": member.program.expiry_notice_days}
            )
        return f"{member.program.points_name.capitalize()}: {' · '.join(str(p) for p in parts)}"

    @admin.display(description=_("Tier"))
    def tier_status(self, member: Member) -> str:
        progress = selectors.tier_progress(member=member)
        current = member.tier.name if member.tier else _("none")
        text = str(current)
        if member.tier_floor_id and member.tier_floor_until:
            text += " " + str(
                _("(kept at least at %(tier)s until %(date)s)")
                % {"tier": member.tier_floor.name, "date": member.tier_floor_until}
            )
        if member.tier_downgrade_warned_at:
            text += " " + str(_("(downgrade warned on %(date)s)") % {"date": member.tier_downgrade_warned_at.date()})
        if progress.next is None:
            return text + " " + str(_("- top tier"))
        return (
            text
            + " "
            + str(
                _("- %(needed)s %(metric)s more to %(next)s (%(percent)d%%)")
                % {
                    "needed": f"{progress.needed.normalize():f}",
                    "metric": progress.next.get_metric_display().lower(),
                    "next": progress.next.name,
                    "percent": progress.percent,
                }
            )
        )

    @admin.display(description=_("Loyalty type"))
    def loyalty(self, member: Member) -> str:
        s = loyalty_signals(members=[member])[member.pk]
        return format_html(
            "<strong>{}</strong> &mdash; {}",
            member.get_loyalty_type_display(),
            _(
                "12 months: %(n)d purchases, %(d)d%% discounted, spend %(spend)s; "
                "%(r)d%% of points redeemed; %(ref)d referrals; NPS %(nps)s"
            )
            % {
                "n": s.purchases,
                "d": round(s.discount_share * 100),
                "spend": f"{number(s.spend, 2)} {member.program.currency}",
                "r": round(s.redemption_share * 100),
                "ref": s.referrals,
                "nps": "-" if s.nps is None else s.nps,
            },
        )

    # --- actions (each calls a service; domain refusals become messages) ---

    def _one_program(self, request, queryset) -> int | None:
        """Tiers and plans belong to a program: such actions work on members of one program."""
        programs = set(queryset.values_list("program_id", flat=True).distinct())
        if len(programs) == 1:
            return programs.pop()
        self.message_user(request, _("Select members of one program."), messages.ERROR)
        return None

    @admin.action(description=_("Adjust points (with a reason)"), permissions=["adjust_points"])
    def adjust_points(self, request, queryset):
        # The form refuses what the service would (over the limit): nothing is stored, the page says why.
        limits = {
            services.points_adjust_limit(program=program, user=request.user)
            for program in Program.objects.filter(pk__in=queryset.values("program_id"))
        }
        limit = None if limits == {None} else min(x for x in limits if x is not None)
        form = action_form(
            self,
            request,
            queryset,
            AdjustPointsForm,
            _("Adjust points"),
            limit=limit,
            confirm_above=settings.POINTS_ADJUST_CONFIRM_ABOVE,
            members=queryset.count(),
        )
        if not isinstance(form, AdjustPointsForm):
            return form
        points, reason = form.cleaned_data["points"], form.cleaned_data["reason"]

        def adjust(member: Member) -> None:
            # Above the program's threshold a second staff member approves (Pending adjustments).
            if abs(points) > services.points_adjust_approval_above(program=member.program):
                services.points_adjust_request(member=member, points=points, reason=reason, created_by=request.user)
                waiting.append(member.number)
            else:
                services.points_adjust(member=member, points=points, reason=reason, created_by=request.user)

        waiting: list[str] = []
        apply_each(
            self,
            request,
            queryset.select_related("program"),
            adjust,
            ngettext_lazy("Adjustment recorded for %(n)d member.", "Adjustment recorded for %(n)d members.", "n"),
        )
        if waiting:
            self.message_user(
                request,
                ngettext(
                    "%(n)d adjustment waits for a second staff member's approval under Pending adjustments.",
                    "%(n)d adjustments wait for a second staff member's approval under Pending adjustments.",
                    len(waiting),
                )
                % {"n": len(waiting)},
                messages.WARNING,
            )
        return None

    def _move_status(self, request, queryset, before: str, after: str, done_message) -> None:
        apply_each(
            self,
            request,
            queryset.filter(status=before),
            lambda m: services.member_set_status(member=m, status=after),
            done_message,
        )

    @admin.action(description=_("Suspend"), permissions=["change"])
    def suspend(self, request, queryset):
        self._move_status(
            request,
            queryset,
            Member.Status.ACTIVE,
            Member.Status.SUSPENDED,
            ngettext_lazy("%(n)d member suspended.", "%(n)d members suspended.", "n"),
        )

    @admin.action(description=_("Reactivate"), permissions=["change"])
    def reactivate(self, request, queryset):
        self._move_status(
            request,
            queryset,
            Member.Status.SUSPENDED,
            Member.Status.ACTIVE,
            ngettext_lazy("%(n)d member reactivated.", "%(n)d members reactivated.", "n"),
        )

    @admin.action(description=_("Assign a tier (optionally as a floor until a date)"), permissions=["change"])
    def assign_tier(self, request, queryset):
        program_id = self._one_program(request, queryset)
        if program_id is None:
            return None
        form = action_form(self, request, queryset, AssignTierForm, _("Assign a tier"), program_id=program_id)
        if not isinstance(form, AssignTierForm):
            return form
        data = form.cleaned_data
        apply_each(
            self,
            request,
            queryset,
            lambda m: services.tier_assign(
                member=m, tier=data["tier"], until=data["until"], note=data["note"], created_by=request.user
            ),
            ngettext_lazy("Tier assigned to %(n)d member.", "Tier assigned to %(n)d members.", "n"),
        )
        return None

    @admin.action(description=_("Subscribe to a paid plan (payment taken by staff)"), permissions=["change"])
    def subscribe(self, request, queryset):
        program_id = self._one_program(request, queryset)
        if program_id is None:
            return None
        form = action_form(self, request, queryset, SubscribeForm, _("Subscribe to a plan"), program_id=program_id)
        if not isinstance(form, SubscribeForm):
            return form
        plan = form.cleaned_data["plan"]
        apply_each(
            self,
            request,
            queryset,
            lambda m: services.plan_subscribe(member=m, plan=plan, paid_by=f"staff:{request.user.username}"),
            ngettext_lazy("%(n)d member subscribed.", "%(n)d members subscribed.", "n"),
        )
        return None

    @admin.action(description=_("Issue a card (printed number or virtual)"), permissions=["change"])
    def issue_card(self, request, queryset):
        form = action_form(self, request, queryset, CardIssueForm, _("Issue a card"))
        if not isinstance(form, CardIssueForm):
            return form
        number = form.cleaned_data["number"]
        if number and queryset.count() != 1:
            self.message_user(request, _("A printed number goes to one member: select one."), messages.ERROR)
            return None
        apply_each(
            self,
            request,
            queryset.select_related("program"),
            lambda m: services.card_issue(member=m, number=number, actor=request.user, source="admin"),
            _("Cards issued to %(n)d members."),
        )
        return None

    @admin.action(description=_("GDPR export (JSON)"), permissions=["view"])
    def gdpr_export(self, request, queryset):
        members = list(queryset.select_related("program", "tier")[:2])
        if len(members) != 1:
            self.message_user(request, _("Select exactly one member to export."), messages.ERROR)
            return None
        response = JsonResponse(exports.member_export(member=members[0]), json_dumps_params={"indent": 2})
        response["Content-Disposition"] = f'attachment; filename="member-{members[0].number}.json"'
        return response


@admin.register(PendingAdjustment)
class PendingAdjustmentAdmin(admin.ModelAdmin):
    """Large adjustments waiting for a second staff member: anyone with the adjust permission but the
    requester approves or rejects them (members.services.points_adjust_approve / _reject)."""

    list_display = ("requested_at", "member", "points", "reason", "status", "requested_by", "decided_by", "decided_at")
    list_filter = ("status", "program")
    list_select_related = ("member", "requested_by", "decided_by")
    search_fields = ("=member__number",)
    show_full_result_count = False
    actions = ["approve", "reject"]
    readonly_fields = [f.name for f in PendingAdjustment._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False  # asked for through the members' "Adjust points" action

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_adjust_points_permission(self, request) -> bool:
        return request.user.has_perm("members.adjust_points")

    @admin.action(description=_("Approve and apply"), permissions=["adjust_points"])
    def approve(self, request, queryset):
        apply_each(
            self,
            request,
            queryset.filter(status=PendingAdjustment.Status.PENDING),
            lambda a: services.points_adjust_approve(adjustment=a, approved_by=request.user),
            ngettext_lazy("%(n)d adjustment approved and applied.", "%(n)d adjustments approved and applied.", "n"),
        )

    @admin.action(description=_("Reject (with a note)"), permissions=["adjust_points"])
    def reject(self, request, queryset):
        form = action_form(self, request, queryset, ReviewDecisionForm, _("Reject adjustments"))
        if not isinstance(form, ReviewDecisionForm):
            return form
        note = form.cleaned_data["note"]
        apply_each(
            self,
            request,
            queryset.filter(status=PendingAdjustment.Status.PENDING),
            lambda a: services.points_adjust_reject(adjustment=a, rejected_by=request.user, note=note),
            ngettext_lazy("%(n)d adjustment rejected.", "%(n)d adjustments rejected.", "n"),
        )
        return None
