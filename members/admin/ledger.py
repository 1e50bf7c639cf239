"""What happened, read-only: the ledger, purchases (refunded through an action), events, the audit
trail, Django's admin log and the nightly reconciliation runs. Large tables order by the primary key
and skip full counts."""

from django.contrib import admin, messages
from django.contrib.admin.models import LogEntry
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.errors import DomainError
from members import services
from members.admin.base import ReadOnlyAdmin, ReadOnlyInline, action_form
from members.admin.forms import RefundForm
from members.models import (
    AuditEntry,
    Event,
    ImportJob,
    LedgerEntry,
    Purchase,
    PurchaseReturn,
    Receipt,
    ReconciliationRun,
)


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "member", "kind", "points", "amount", "partner", "reason", "reference")
    list_filter = ("kind", "program")
    list_select_related = ("member", "partner")
    search_fields = ("=member__number", "reference", "=purchase__external_id")
    ordering = ("-id",)  # the primary key index: newest first without sorting a million rows


class PurchaseReturnInline(ReadOnlyInline):
    model = PurchaseReturn
    fields = ("created_at", "reference", "items", "amount", "points", "debt", "reason")
    readonly_fields = fields
    verbose_name_plural = _("Refunds and returned items")


@admin.register(Purchase)
class PurchaseAdmin(ReadOnlyAdmin):
    list_display = ("occurred_at", "external_id", "member", "partner", "amount", "refunded_amount", "points")
    list_filter = ("program", "partner")
    list_select_related = ("member", "partner")
    search_fields = ("=external_id", "=member__number")
    ordering = ("-id",)
    inlines = [PurchaseReturnInline]
    actions = ["refund"]

    def has_refund_permission(self, request) -> bool:
        return request.user.has_perm("members.change_purchase")

    @admin.action(description=_("Refund (takes back the points in proportion)"), permissions=["refund"])
    def refund(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, _("Refund one purchase at a time."), messages.ERROR)
            return None
        purchase = queryset.select_related("member").get()
        form = action_form(self, request, queryset, RefundForm, _("Refund purchase"))
        if not isinstance(form, RefundForm):
            return form
        try:
            reversal = services.purchase_reverse(
                purchase=purchase,
                amount=form.cleaned_data["amount"],
                reason=form.cleaned_data["reason"],
                created_by=request.user,
            )
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return None
        message = ngettext(
            "Refund recorded; %(n)d point taken back.", "Refund recorded; %(n)d points taken back.", reversal.points
        ) % {"n": reversal.points}
        if reversal.debt:
            message += " " + _("%(n)d of them were already spent: the member owes them.") % {"n": reversal.debt}
        self.message_user(request, message, messages.SUCCESS)
        return None


@admin.register(Receipt)
class ReceiptAdmin(ReadOnlyAdmin):
    """Purchases recorded without a member; a partner gives one to a member within its window."""

    list_display = ("created_at", "external_id", "partner", "amount", "claim_until", "member", "claimed_at")
    list_filter = ("program", "partner")
    list_select_related = ("partner", "member")
    search_fields = ("=external_id", "=member__number")
    ordering = ("-id",)


@admin.register(ImportJob)
class ImportJobAdmin(ReadOnlyAdmin):
    """Partners' CSV imports: progress and the lines refused (the file itself is dropped once imported)."""

    list_display = ("created_at", "partner", "kind", "status", "total", "succeeded", "failed", "finished_at")
    list_filter = ("program", "partner", "kind", "status")
    list_select_related = ("partner",)
    exclude = ("content",)
    ordering = ("-id",)


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ("id", "type", "member", "occurred_at", "dispatched_at")
    list_filter = ("type", "program", ("dispatched_at", admin.EmptyFieldListFilter))
    list_select_related = ("member",)
    search_fields = ("=member__number", "=type")
    ordering = ("-id",)
    readonly_fields = ("payload",)


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    """The audit trail: read-only for whoever may view it (auditors, superusers); nobody, not even a
    superuser, may add, change or delete a line (and PostgreSQL refuses UPDATE/DELETE underneath)."""

    list_display = ("at", "actor", "action", "target_type", "target_repr", "reason")
    list_filter = ("action", "target_type")
    list_select_related = ("actor", "target_type")
    search_fields = ("=target_id", "target_repr", "=action")
    ordering = ("-id",)
    readonly_fields = ("at", "actor", "action", "target_type", "target_id", "target_repr", "changes", "reason")


@admin.register(LogEntry)
class LogEntryAdmin(ReadOnlyAdmin):
    """Django's admin log, read-only (auditors, superusers). The audit trail has the before/after."""

    list_display = ("action_time", "user", "content_type", "object_id", "action_flag", "change_message")
    list_filter = ("action_flag", "content_type")
    list_select_related = ("user", "content_type")
    search_fields = ("=object_id",)
    ordering = ("-id",)


@admin.register(ReconciliationRun)
class ReconciliationRunAdmin(ReadOnlyAdmin):
    """Nightly checks (members.reconciliation); run one by hand with `manage.py reconcile`."""

    list_display = ("started_at", "finished_at", "ok", "counts")
    list_filter = ("ok",)
    ordering = ("-id",)
    readonly_fields = ("started_at", "finished_at", "ok", "counts", "mismatches", "alerted")
