"""The partner API (members/partners/): keys, idempotency records, webhook endpoints and deliveries."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from rest_framework_api_key.models import AbstractAPIKey

from members.models.outbox import Event
from members.models.program import Partner


class PartnerAPIKey(AbstractAPIKey):
    """A partner's API key: only the hash is stored; the prefix identifies it in logs and admin."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="api_keys")
    rate_limit = models.CharField(
        max_length=20,
        blank=True,
        help_text=_("Requests allowed for this key, e.g. 600/min or 20/s. Empty: the API_THROTTLE_RATE default."),
    )

    class Meta(AbstractAPIKey.Meta):
        verbose_name = _("partner API key")
        verbose_name_plural = _("partner API keys")
        indexes = [models.Index(fields=["partner", "revoked"])]


class IdempotencyKey(models.Model):
    """The first response to a partner's POST with an Idempotency-Key, replayed on retries.

    A row without a status is a request in flight; `locked_until` lets a retry take over
    when the process that claimed it died (its work rolled back with it).
    """

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.BinaryField(default=b"")
    content_type = models.CharField(max_length=100, blank=True)
    locked_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["partner", "key"], name="idempotency_key_per_partner")]

    def __str__(self) -> str:
        return self.key


class WebhookEndpoint(models.Model):
    """Where a partner wants to hear about events, and the secret deliveries are signed with."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="webhook_endpoints")
    url = models.URLField(max_length=500)
    # Standard Webhooks form: "whsec_" + base64 of the key bytes (24 to 64 bytes when generated here).
    secret = models.CharField(
        max_length=120, help_text=_("whsec_ followed by the base64 of the signing key (Standard Webhooks).")
    )
    # After a rotation deliveries are signed with both secrets until previous_secret_expires_at, so a
    # receiver can switch to the new secret without dropping a delivery.
    previous_secret = models.CharField(max_length=120, blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    events = models.JSONField(default=list, help_text=_("Event types delivered to this endpoint."))
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["partner", "url"]

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(models.Model):
    """One event sent (or to be sent) to one endpoint, with a log of every attempt."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SUCCEEDED = "succeeded", _("Delivered")
        FAILED = "failed", _("Gave up")

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    # db_constraint=False: events are partitioned (Event's docstring) and dropped before their deliveries.
    event = models.ForeignKey(
        Event, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_constraint=False
    )
    event_type = models.CharField(max_length=40)
    body = models.TextField(help_text=_("The exact JSON sent; every attempt sends the same bytes."))
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    log = models.JSONField(default=list, blank=True, help_text=_("Every attempt: time, status code, error, duration."))
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "webhook deliveries"
        constraints = [models.UniqueConstraint(fields=["endpoint", "event"], name="webhook_delivery_once")]
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=Q(status="pending"), name="webhook_delivery_due"),
            models.Index(fields=["endpoint", "-created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} -> {self.endpoint_id}"
