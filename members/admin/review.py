"""Admin queue of review cases (members.review): open cases first; approve or reject, always with a note.

The actions and the buttons on a case's page call members.review's services; nothing here writes a model.
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from members import review
from members.admin.base import action_form, apply_each
from members.admin.forms import ReviewDecisionForm
from members.models import ReviewCase

SIGNALS = {"phone": _("same phone"), "email": _("same mailbox"), "device": _("same browser (device cookie)")}


class StatusFilter(admin.SimpleListFilter):
    """Open cases unless another status is asked for: the queue is what still needs a decision."""

    title = _("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [*ReviewCase.Status.choices, ("all", _("All"))]

    def value(self):
        return super().value() or ReviewCase.Status.OPEN

    def choices(self, changelist):
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        return queryset if self.value() == "all" else queryset.filter(status=self.value())


@admin.register(ReviewCase)
class ReviewCaseAdmin(admin.ModelAdmin):
    list_display = ("created_at", "kind", "member", "points", "why", "status", "decided_by", "decided_at")
    list_filter = (StatusFilter, "kind", "program")
    list_select_related = ("member", "decided_by")
    search_fields = ("=member__number", "member__email", "reference")
    show_full_result_count = False
    ordering = ("-created_at", "-id")
    actions = ["approve", "reject"]
    fields = (
        "kind",
        "status",
        "program",
        "member_link",
        "points",
        "why",
        "held",
        "created_at",
        "decided_by",
        "decided_at",
        "note",
    )
    readonly_fields = fields
    change_form_template = "admin/members/reviewcase/change_form.html"

    def has_add_permission(self, request) -> bool:
        return False  # cases are opened by the earn, enrolment and refund services

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # the decision and its note are the audit trail

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("program", "member", "purchase", "decided_by")

    @admin.display(description=_("Member"))
    def member_link(self, case: ReviewCase) -> str:
        url = reverse("admin:members_member_change", args=[case.member_id])
        return format_html('<a href="{}">{}</a>', url, case.member)

    @admin.display(description=_("Why"))
    def why(self, case: ReviewCase) -> str:
        d = case.details
        if case.kind == ReviewCase.Kind.EARN_LIMIT:
            return d.get("message", "")
        if case.kind == ReviewCase.Kind.SELF_REFERRAL:
            signals = ", ".join(str(SIGNALS.get(s, s)) for s in d.get("signals", []))
            return _("Referred by %(referrer)s: %(signals)s") % {"referrer": d.get("referrer"), "signals": signals}
        return _("Refund of %(amount)s took back %(debt)d points already spent (now owed)") % {
            "amount": d.get("refunded"),
            "debt": d.get("debt", 0),
        }

    @admin.display(description=_("What is held"))
    def held(self, case: ReviewCase) -> str:
        if case.purchase_id:
            url = reverse("admin:members_purchase_changelist") + f"?q={case.purchase.external_id}"
            return format_html('<a href="{}">{}</a>', url, case.reference)
        return case.reference

    # --- decisions: each calls a service; refusals (already decided, member suspended) become messages ---

    def _action(self, request, queryset, service, title, done_message):
        form = action_form(self, request, queryset, ReviewDecisionForm, title)
        if not isinstance(form, ReviewDecisionForm):
            return form
        note = form.cleaned_data["note"]
        apply_each(
            self, request, queryset, lambda case: service(case=case, decided_by=request.user, note=note), done_message
        )
        return None

    @admin.action(description=_("Approve (credit the held points)"), permissions=["change"])
    def approve(self, request, queryset):
        return self._action(
            request,
            queryset,
            review.review_approve,
            _("Approve review cases"),
            ngettext_lazy("%(n)d case approved.", "%(n)d cases approved.", "n"),
        )

    @admin.action(description=_("Reject (credit nothing)"), permissions=["change"])
    def reject(self, request, queryset):
        return self._action(
            request,
            queryset,
            review.review_reject,
            _("Reject review cases"),
            ngettext_lazy("%(n)d case rejected.", "%(n)d cases rejected.", "n"),
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        case = self.get_object(request, object_id)
        decision = next((k for k in ("_approve", "_reject") if k in request.POST), None)
        if request.method == "POST" and case is not None and decision:
            if not self.has_change_permission(request, case):
                raise PermissionDenied
            form = ReviewDecisionForm(request.POST)
            if not form.is_valid():
                self.message_user(request, _("A decision needs a note."), messages.ERROR)
                return redirect(request.path)
            service = review.review_approve if decision == "_approve" else review.review_reject
            done = _("Case approved.") if decision == "_approve" else _("Case rejected.")
            apply_each(
                self,
                request,
                [case],
                lambda c: service(case=c, decided_by=request.user, note=form.cleaned_data["note"]),
                done,
            )
            return redirect(reverse("admin:members_reviewcase_changelist"))
        can_decide = case is not None and case.status == ReviewCase.Status.OPEN
        extra_context = {
            **(extra_context or {}),
            "decision_form": ReviewDecisionForm() if can_decide and self.has_change_permission(request, case) else None,
            "show_save": False,
            "show_save_and_continue": False,
            "show_save_and_add_another": False,
            "show_delete": False,
        }
        return super().change_view(request, object_id, form_url, extra_context)
