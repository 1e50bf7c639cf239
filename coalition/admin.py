"""Partner settlement in admin: the rates per partner (by date), and the closed statements, read-only,
each with its lines, exported as CSV (the same file partners get from the API)."""

from django.contrib import admin
from django.http import HttpResponse
from django.utils.translation import gettext_lazy as _

from coalition import selectors
from coalition.models import PartnerRate, SettlementLine, SettlementStatement
from members.admin.base import ReadOnlyAdmin, ReadOnlyInline


@admin.register(PartnerRate)
class PartnerRateAdmin(admin.ModelAdmin):
    """A new rate from a date: add a row (a rate in force for closed months changes nothing closed;
    the next close carries the difference as an adjustment)."""

    list_display = ("partner", "valid_from", "cost_per_point", "value_per_point")
    list_filter = ("partner__program", "partner")
    list_select_related = ("partner",)
    autocomplete_fields = ("partner",)
    search_fields = ("partner__name",)
    ordering = ("partner__name", "-valid_from")


class SettlementLineInline(ReadOnlyInline):
    model = SettlementLine
    fields = ("kind", "adjusts", "period", "points", "amount", "paid_by")
    readonly_fields = fields
    ordering = ("period", "id")

    @admin.display(description=_("paid by"))
    def paid_by(self, line: SettlementLine) -> str:
        return {"partner": _("partner"), "program": _("program")}.get(line.paid_by, "-")


@admin.register(SettlementStatement)
class SettlementStatementAdmin(ReadOnlyAdmin):
    """Closed statements: nobody changes or deletes one (a correction goes into a later month)."""

    list_display = (
        "partner",
        "month_display",
        "points_issued",
        "points_redeemed",
        "points_redeemed_elsewhere",
        "points_expired",
        "partner_owes",
        "program_owes",
        "balance_display",
        "currency",
        "closed_at",
    )
    list_filter = ("program", "partner", "month")
    list_select_related = ("partner",)
    search_fields = ("partner__name",)
    date_hierarchy = "month"
    ordering = ("-month", "partner__name")
    inlines = [SettlementLineInline]
    actions = ["export_csv"]
    fields = (
        ("program", "partner"),
        ("month", "currency", "closed_at"),
        ("points_issued", "points_redeemed", "points_redeemed_elsewhere", "points_expired"),
        ("partner_owes", "program_owes", "balance_display"),
    )
    readonly_fields = ("balance_display",)

    @admin.display(description=_("month"), ordering="month")
    def month_display(self, statement: SettlementStatement) -> str:
        return f"{statement.month:%Y-%m}"

    @admin.display(description=_("balance (+ partner pays)"))
    def balance_display(self, statement: SettlementStatement):
        return statement.balance

    @admin.action(description=_("Export as CSV"), permissions=["view"])
    def export_csv(self, request, queryset):
        items = selectors.statements_with_lines(queryset).order_by("month", "partner__name", "id")
        response = HttpResponse(selectors.statements_csv(items), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="settlements.csv"'
        return response
