"""Partner API admin: API keys, idempotency keys, webhook endpoints and deliveries."""

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from rest_framework_api_key.admin import APIKeyModelAdmin
from rest_framework_api_key.models import APIKey

from core.enqueue import enqueue_on_commit
from core.errors import DomainError
from members.models import IdempotencyKey, PartnerAPIKey, WebhookDelivery, WebhookEndpoint
from members.outbox import webhook_event_types
from members.partners import outbound, services, tasks

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
    url = forms.URLField(max_length=500, assume_scheme="https")
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
        if not self.instance.pk:
            self.fields["secret"].initial = services.webhook_secret_new()

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        if not url.startswith(("https://", "http://")):
            raise forms.ValidationError(_("Use an http or https URL."))
        problem = outbound.url_problem(url)
        if problem:
            raise forms.ValidationError(problem)
        return url


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = WebhookEndpointForm
    list_display = ("url", "partner", "event_list", "is_active", "created_at")
    list_filter = ("is_active", "partner__program", "partner")
    list_select_related = ("partner",)
    search_fields = ("url", "partner__name")

    @admin.display(description=_("Events"))
    def event_list(self, obj: WebhookEndpoint) -> str:
        return ", ".join(obj.events)


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
        deliveries = list(queryset)
        for delivery in deliveries:
            services.webhook_resend(delivery=delivery)
            enqueue_on_commit(tasks.webhook_deliver, delivery.pk)
        self.message_user(
            request,
            ngettext("%(n)d delivery queued.", "%(n)d deliveries queued.", len(deliveries)) % {"n": len(deliveries)},
            messages.SUCCESS,
        )
