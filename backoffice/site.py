"""The Fidelis admin site: who may enter, and its own pages. The index is the program dashboard
(backoffice/dashboard/), each of its tables also as CSV; the "Two-factor" page enrols an authenticator;
/admin/member/<id>/ is the member 360° page (backoffice/member360.py).

The dashboard is read-only; it needs members.view_dashboard (superusers, the "analyst" and
"program manager" groups, see backoffice/roles.py). Its CSV exports need members.export_member
(analysts, superusers).

Every ModelAdmin registered on this site is audited (AuditedAdminMixin, backoffice/audit.py) and shows
its number columns grouped in the reader's language (GroupedNumbersAdminMixin, backoffice/numbers.py).
Staff sign in with an authenticator code once they enrolled one on the "Two-factor" page
(backoffice/two_factor.py); superusers must enrol when OTP_REQUIRED_FOR_SUPERUSERS. Failed passwords
are counted by django-axes (AXES_* settings): a locked-out login gets `lockout_response`, and its
access attempts are listed (and reset, by deleting them) under Axes on this site.
"""

from base64 import b32encode
from functools import wraps

import segno
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django_otp import login as otp_login

from backoffice import two_factor
from backoffice.audit import AuditedAdminMixin
from backoffice.dashboard import TABLES, DashboardForm, dashboard_page, table_csv
from backoffice.feedback_segments import feedback_by_segment_view
from backoffice.member360 import member_360_view
from backoffice.numbers import GroupedNumbersAdminMixin
from core.db import replica_reads
from members.models import Program
from members.zones import program_clock

DASHBOARD_PERMISSION = "members.view_dashboard"
EXPORT_PERMISSION = "members.export_member"


class FidelisAdminSite(admin.AdminSite):
    site_header = _("Fidelis loyalty back-office")
    site_title = _("Fidelis admin")
    index_title = _("Program dashboard")
    login_form = two_factor.StaffLoginForm
    login_template = "admin/login_2fa.html"

    def register(self, model_or_iterable, admin_class=None, **options):
        admin_class = admin_class or admin.ModelAdmin
        mixins = tuple(m for m in (AuditedAdminMixin, GroupedNumbersAdminMixin) if not issubclass(admin_class, m))
        if mixins:
            admin_class = type(admin_class.__name__, (*mixins, admin_class), {"__module__": admin_class.__module__})
        return super().register(model_or_iterable, admin_class, **options)

    def get_urls(self):
        return [
            path("dashboard/<slug:key>.csv", self.admin_view(self.dashboard_csv), name="dashboard_csv"),
            path("2fa/", self.admin_view(self.two_factor), name="two_factor"),
            path("member/<int:member_id>/", self.admin_view(self.member_360), name="member_360"),
            path("feedback/segments/", self.admin_view(self.feedback_by_segment), name="feedback_by_segment"),
            *super().get_urls(),
        ]

    def has_permission(self, request: HttpRequest) -> bool:
        """Staff, and, if they enrolled a device, verified by it in this session (else: log in again)."""
        return super().has_permission(request) and two_factor.otp_verified_enough(user=request.user)

    def admin_view(self, view, cacheable=False):
        """Every admin page: a superuser who must enrol a device can only enrol or log out."""
        inner = super().admin_view(view, cacheable)
        if getattr(view, "__name__", "") in ("two_factor", "logout"):
            return inner

        @wraps(inner)
        def guarded(request, *args, **kwargs):
            if self.has_permission(request) and two_factor.otp_enrolment_required(user=request.user):
                return HttpResponseRedirect(reverse("admin:two_factor", current_app=self.name))
            return inner(request, *args, **kwargs)

        return guarded

    def two_factor(self, request: HttpRequest) -> HttpResponse:
        """Enrol an authenticator app (QR code, confirmed by a first code), generate recovery codes, or
        turn it off (with a current or a recovery code)."""
        user = request.user
        device = two_factor.totp_device_confirmed(user=user)
        wants_codes = device is not None and request.POST.get("action") == "recovery_codes"
        form = two_factor.TokenForm(request.POST if request.method == "POST" and not wants_codes else None)
        recovery_form = two_factor.TokenForm(request.POST if wants_codes else None, prefix="recovery")
        recovery_codes = None
        if wants_codes and recovery_form.is_valid():
            recovery_codes = two_factor.recovery_codes_generate(user=user, token=recovery_form.cleaned_data["token"])
            if recovery_codes is None:
                recovery_form.add_error(
                    "token", _("This code is not valid. Enter the current code from your authenticator app.")
                )
        elif request.method == "POST" and not wants_codes and form.is_valid():
            token = form.cleaned_data["token"].strip()
            if device is None:
                confirmed = two_factor.totp_enrolment_confirm(user=user, token=token)
                if confirmed is not None:
                    otp_login(request, confirmed)
                    messages.success(request, _("Two-factor sign-in is on. The admin will ask for a code."))
                    return HttpResponseRedirect(reverse("admin:index", current_app=self.name))
            elif two_factor.totp_device_remove(user=user, token=token):
                messages.success(request, _("Two-factor sign-in is off."))
                return HttpResponseRedirect(reverse("admin:two_factor", current_app=self.name))
            form.add_error(
                "token",
                _("This code is not valid. Enter the current code from your authenticator app.")
                if device is None
                else _(
                    "This code is not valid. Enter the current code from your authenticator app, or a recovery code."
                ),
            )
        context = {
            **self.each_context(request),
            "title": _("Two-factor sign-in"),
            "device": device,
            "form": form,
            "required": two_factor.otp_enrolment_required(user=user),
            "recovery_form": recovery_form,
            # Shown once, in this answer only (admin pages are never cached); a new set replaces them.
            "recovery_codes": recovery_codes,
            "recovery_codes_left": two_factor.recovery_codes_left(user=user) if device is not None else 0,
        }
        if device is None:
            pending = two_factor.totp_enrolment_start(user=user)
            # Inline SVG: no image request, and the secret never leaves this page.
            context["qr_svg"] = mark_safe(segno.make(pending.config_url, error="m").svg_inline(scale=4))  # noqa: S308
            context["secret"] = b32encode(pending.bin_key).decode()
        return TemplateResponse(request, "admin/two_factor.html", context)

    def member_360(self, request: HttpRequest, member_id: int) -> HttpResponse:
        return member_360_view(request, admin_site=self, member_id=member_id)

    def feedback_by_segment(self, request: HttpRequest) -> HttpResponse:
        with replica_reads():  # a report: the replica answers it when there is one
            return feedback_by_segment_view(request, admin_site=self, permission=DASHBOARD_PERMISSION)

    def index(self, request: HttpRequest, extra_context=None):
        context = {**(extra_context or {})}
        if request.user.has_perm(DASHBOARD_PERMISSION) and Program.objects.exists():
            form = DashboardForm(request.GET)
            context["dashboard_form"] = form
            if form.is_valid():
                scope = form.scope(timezone.now())
                context["dashboard"] = dashboard_page(scope=scope, period=form.cleaned_data["period"])
                context["dashboard_query"] = request.GET.urlencode()
                context["dashboard_can_export"] = request.user.has_perm(EXPORT_PERMISSION)
        return super().index(request, context)

    def dashboard_csv(self, request: HttpRequest, key: str) -> HttpResponse:
        if not request.user.has_perm(EXPORT_PERMISSION):
            raise PermissionDenied
        if key not in TABLES:
            raise Http404
        form = DashboardForm(request.GET)
        if not form.is_valid():
            return HttpResponse(form.errors.as_text(), status=400, content_type="text/plain; charset=utf-8")
        scope = form.scope(timezone.now())
        with replica_reads(), program_clock(scope.program):  # months and dates by the program's local day
            return table_csv(key=key, scope=scope)


def lockout_response(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """What django-axes answers a locked-out login (AXES_LOCKOUT_CALLABLE): a page in the admin's look,
    429, that says how long to wait and who can lift it."""
    context = {
        **admin.site.each_context(request),
        "title": _("Too many failed sign-in attempts"),
        "cooloff_minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60) if settings.AXES_COOLOFF_TIME else 0,
    }
    return render(request, "admin/lockout.html", context, status=429)
