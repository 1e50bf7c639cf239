"""Money around points: exchange rates (by hand or CSV), the price points are sold at, the sales
(refund, record a payment provider's confirmation), and opening-balance imports (upload, dry run,
report, confirm)."""

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import models
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportExportMixin
from import_export.formats import base_formats

from core.csvfiles import upload_text
from core.errors import DomainError
from members import services
from members.admin.base import ReadOnlyAdmin, action_form, apply_each
from members.api.imports import import_job_create
from members.models import ExchangeRate, ImportJob, OpeningBalanceImport, PointsPrice, PointsSale, Program
from members.resources import ExchangeRateResource
from members.services.currency import exchange_rate_check


class ExchangeRateForm(forms.ModelForm):
    class Meta:
        model = ExchangeRate
        fields = ("program", "currency", "valid_from", "rate")

    def clean(self):
        data = super().clean()
        if data.get("program") and data.get("currency"):
            try:
                data["currency"] = exchange_rate_check(program=data["program"], currency=data["currency"])
            except DomainError as refused:
                raise ValidationError({"currency": refused.message}) from refused
        return data


@admin.register(ExchangeRate)
class ExchangeRateAdmin(ImportExportMixin, admin.ModelAdmin):
    form = ExchangeRateForm
    resource_classes = [ExchangeRateResource]
    import_formats = [base_formats.CSV]
    export_formats = [base_formats.CSV]
    list_display = ("program", "currency", "valid_from", "rate")
    list_filter = ("program", "currency")
    list_select_related = ("program",)
    date_hierarchy = "valid_from"


@admin.register(PointsPrice)
class PointsPriceAdmin(admin.ModelAdmin):
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = ("program", "is_active", "block", "price", "min_points", "max_points", "daily_limit", "refund_days")
    list_select_related = ("program",)


class PaymentForm(forms.Form):
    payment_reference = forms.CharField(label=_("Payment reference"), max_length=64)
    amount = forms.DecimalField(label=_("Amount paid"), max_digits=12, decimal_places=2, min_value=Decimal("0.01"))


@admin.register(PointsSale)
class PointsSaleAdmin(ReadOnlyAdmin):
    """Points members bought: from a partner (paid) or on their page (pending until paid)."""

    list_display = (
        "order",
        "member",
        "points",
        "price",
        "currency",
        "status",
        "payment_reference",
        "partner",
        "created_at",
    )
    list_filter = ("program", "status", "partner")
    list_select_related = ("member", "partner")
    search_fields = ("=order", "=payment_reference", "=member__number")
    ordering = ("-id",)
    actions = ["refund", "record_payment"]

    @admin.action(description=_("Refund the unspent points (or cancel a pending order)"))
    def refund(self, request, queryset):
        apply_each(
            self,
            request,
            queryset.select_related("member"),
            lambda sale: services.points_sale_refund(sale=sale, created_by=request.user),
            _("%(n)d sales refunded or cancelled."),
        )

    @admin.action(description=_("Record the payment of a pending order"))
    def record_payment(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, _("Choose one order."), messages.ERROR)
            return None
        form = action_form(self, request, queryset, PaymentForm, _("Record the payment"))
        if not isinstance(form, PaymentForm):
            return form
        apply_each(
            self,
            request,
            queryset,
            lambda sale: services.points_order_settle(
                order=sale.order,
                payment_reference=form.cleaned_data["payment_reference"],
                amount=form.cleaned_data["amount"],
                created_by=request.user,
            ),
            _("%(n)d orders paid: their points are credited."),
        )
        return None


class OpeningUploadForm(forms.Form):
    program = forms.ModelChoiceField(label=_("Program"), queryset=Program.objects.order_by("name"))
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_(
            "Columns: email, points (required); external_id, first_name, last_name, expires_at, earned_at "
            "(dates such as 2027-06-30), reference (the old platform's id of the entry)."
        ),
    )
    dry_run = forms.BooleanField(
        label=_("Dry run"),
        initial=True,
        required=False,
        help_text=_("Report what each line would do, writing nothing."),
    )

    def clean_file(self) -> str:
        return upload_text(self.cleaned_data["file"])


@admin.register(OpeningBalanceImport)
class OpeningBalanceImportAdmin(ReadOnlyAdmin):
    """Upload a file (a dry run first), read the per-line report, then confirm it as the import."""

    list_display = ("created_at", "program", "dry_run", "status", "total", "succeeded", "failed", "created_by")
    list_filter = ("program", "dry_run", "status")
    list_select_related = ("program", "created_by")
    exclude = ("content", "errors")
    readonly_fields = ("line_report",)
    actions = ["confirm"]
    ordering = ("-id",)

    def get_queryset(self, request):
        return super().get_queryset(request).filter(kind=ImportJob.Kind.OPENING_BALANCES)

    def has_add_permission(self, request) -> bool:
        return request.user.has_perm("members.add_importjob")

    def add_view(self, request, form_url="", extra_context=None):
        form = OpeningUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                job = import_job_create(
                    partner=None,
                    program=form.cleaned_data["program"],
                    kind=ImportJob.Kind.OPENING_BALANCES,
                    content=form.cleaned_data["file"],
                    dry_run=form.cleaned_data["dry_run"],
                    created_by=request.user,
                )
            except DomainError as refused:
                form.add_error("file", refused.message)
            else:
                self.message_user(request, _("The file is queued; this page shows its report when it is done."))
                return redirect(reverse("admin:members_openingbalanceimport_change", args=[job.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Import opening balances"),
            "opts": self.model._meta,
            "form": form,
        }
        return render(request, "admin/members/opening_upload.html", context)

    @admin.display(description=_("Report"))
    def line_report(self, job: ImportJob) -> str:
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            ((e["line"], e["status"], e["member"], e["points"], e["message"]) for e in job.report),
        )
        return format_html(
            "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead>"
            "<tbody>{}</tbody></table>",
            _("Line"),
            _("Status"),
            _("Member"),
            _("Points"),
            _("What"),
            rows,
        )

    @admin.action(description=_("Confirm: import these dry runs for real"))
    def confirm(self, request, queryset):
        def run(job: ImportJob) -> None:
            if not job.dry_run or job.status != ImportJob.Status.DONE or not job.content:
                raise DomainError("not_a_dry_run", str(_("Only a finished dry run can be confirmed.")))
            import_job_create(
                partner=None,
                program=job.program,
                kind=job.kind,
                content=job.content,
                dry_run=False,
                created_by=request.user,
            )

        apply_each(self, request, queryset, run, _("%(n)d imports queued."))
