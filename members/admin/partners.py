"""Partner API admin: API keys, idempotency keys, webhook endpoints and deliveries."""

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, ngettext_lazy
from rest_framework_api_key.admin import APIKeyModelAdmin
from rest_framework_api_key.models import APIKey

from core.errors import DomainError
from members.admin.base import apply_each
from members.models import IdempotencyKey, PartnerAPIKey, WebhookDelivery, WebhookEndpoint
from members.outbox import webhook_event_types
from members.partners import endpoints, services

# The package's own key model is not used (keys here belong to a partner); hide it.
if admin.site.is_registered(APIKey):
    admin.site.unregister(APIKey)


class PartnerAPIKeyForm(forms.ModelForm):
    class Meta:
        model = PartnerAPIKey
        fields = ["partner", "name", "rate_limit", "expiry_date", "revoked"]

    def clean_rate_limit(self) -> str:
        rate = self.cleaned_data["rate_limit"].strip()
        if rate:
            try:
                services.rate_parse(rate)
            except DomainError as exc:
                raise forms.ValidationError(exc.message) from exc
        return rate


@admin.register(PartnerAPIKey)
class PartnerAPIKeyAdmin(APIKeyModelAdmin):
    """Creating a key shows it once (the package's message); only its hash is stored."""

    form = PartnerAPIKeyForm
    list_display = ("prefix", "name", "partner", "rate_limit", "created", "expiry_date", "_has_expired", "revoked")
    list_filter = ("revoked", "partner__program", "partner")
    list_select_related = ("partner",)
    search_fields = ("name", "prefix", "partner__name")
    actions = ["revoke"]

    def save_model(self, request, obj, form, change):
        if change and obj.revoked and "revoked" in form.changed_data:
            services.partner_key_revoke(api_key=obj)
            return
        super().save_model(request, obj, form, change)

    @admin.action(description=_("Revoke selected keys (cannot be undone)"), permissions=["change"])
    def revoke(self, request, queryset):
        keys = list(queryset.filter(revoked=False))
        for api_key in keys:
            services.partner_key_revoke(api_key=api_key)
        self.message_user(
            request,
            ngettext("%(n)d key revoked.", "%(n)d keys revoked.", len(keys)) % {"n": len(keys)},
            messages.SUCCESS,
        )


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(admin.ModelAdmin):
    """Read-only: what partners' retries were answered with (kept 24 hours)."""

    list_display = ("key", "partner", "status_code", "created_at")
    list_filter = ("status_code", "partner")
    list_select_related = ("partner",)
    search_fields = ("key",)
    date_hierarchy = "created_at"
    show_full_result_count = False
    readonly_fields = ("partner", "key", "request_hash", "status_code", "content_type", "created_at", "locked_until")
    exclude = ("response_body",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class WebhookEndpointForm(forms.ModelForm):
    """Checked by the same rules as the partner API (members/partners/endpoints.py); saved through its
    services by WebhookEndpointAdmin.save_model."""

    url = forms.URLField(max_length=endpoints.URL_MAX, assume_scheme="https")
    events = forms.MultipleChoiceField(
        choices=lambda: [(name, name) for name in webhook_event_types()],
        widget=forms.CheckboxSelectMultiple,
        required=True,
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["partner", "url", "events", "secret", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "secret" in self.fields and not self.instance.pk:
            self.fields["secret"].initial = services.webhook_secret_new()

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        problem = endpoints.webhook_url_problem(url)
        if problem:
            raise forms.ValidationError(problem)
        return url

    def clean_secret(self) -> str:
        secret = self.cleaned_data["secret"].strip()
        problem = services.webhook_secret_problem(secret)
        if problem:
            raise forms.ValidationError(problem)
        return secret


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = WebhookEndpointForm
    list_display = ("url", "partner", "event_list", "is_active", "created_at")
    list_filter = ("is_active", "partner__program", "partner")
    list_select_related = ("partner",)
    search_fields = ("url", "partner__name")
    actions = ["rotate_secret", "send_test"]

    def get_readonly_fields(self, request, obj=None):
        # The secret changes by rotation only (the previous one keeps signing for a while).
        return ("partner", "secret", "previous_secret_expires_at") if obj is not None else ()

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            stored = WebhookEndpoint.objects.get(pk=obj.pk)
            endpoints.webhook_endpoint_update(
                endpoint=stored, url=data["url"], events=data["events"], is_active=data["is_active"], actor=request.user
            )
            return
        created = endpoints.webhook_endpoint_create(
            partner=data["partner"],
            url=data["url"],
            events=data["events"],
            secret=data["secret"],
            is_active=data["is_active"],
            actor=request.user,
        )
        obj.pk, obj.created_at, obj.events = created.pk, created.created_at, created.events

    @admin.display(description=_("Events"))
    def event_list(self, obj: WebhookEndpoint) -> str:
        return ", ".join(obj.events)

    @admin.action(description=_("Rotate the secret (the old one signs too for 24 hours)"), permissions=["change"])
    def rotate_secret(self, request, queryset):
        apply_each(
            self,
            request,
            queryset,
            lambda endpoint: endpoints.webhook_secret_rotate(endpoint=endpoint, actor=request.user),
            ngettext_lazy("%(n)d secret rotated.", "%(n)d secrets rotated.", "n"),
        )

    @admin.action(description=_("Send a test event"), permissions=["change"])
    def send_test(self, request, queryset):
        apply_each(
            self,
            request,
            queryset,
            lambda endpoint: endpoints.webhook_test_send(endpoint=endpoint, actor=request.user),
            ngettext_lazy("%(n)d test delivery queued.", "%(n)d test deliveries queued.", "n"),
        )


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "event_type",
        "endpoint",
        "status",
        "attempts",
        "last_status_code",
        "created_at",
        "next_attempt_at",
        "delivered_at",
    )
    list_filter = ("status", "event_type", "endpoint__partner")
    list_select_related = ("endpoint",)
    search_fields = ("endpoint__url", "=event__id")
    date_hierarchy = "created_at"
    show_full_result_count = False
    readonly_fields = (
        "endpoint",
        "event",
        "event_type",
        "status",
        "attempts",
        "last_status_code",
        "next_attempt_at",
        "delivered_at",
        "created_at",
        "body",
        "log",
    )
    actions = ["resend"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description=_("Send again"), permissions=["change"])
    def resend(self, request, queryset):
        apply_each(
            self,
            request,
            queryset.select_related("endpoint"),
            lambda delivery: endpoints.webhook_redeliver(delivery=delivery, actor=request.user),
            ngettext_lazy("%(n)d delivery queued.", "%(n)d deliveries queued.", "n"),
        )
