"""Input and output shapes of the partner API's webhook endpoints (members/api/webhooks.py)."""

from rest_framework import serializers

from members.models import WebhookDelivery
from members.outbox import webhook_event_types
from members.partners.endpoints import ROTATION_OVERLAP_DEFAULT, ROTATION_OVERLAP_MAX, URL_MAX, URL_PATTERN
from members.partners.serializers import ListQuerySerializer, StrictSerializer, page_serializer
from members.partners.services import SECRET_PATTERN

OVERLAP_HOURS_MAX = int(ROTATION_OVERLAP_MAX.total_seconds() // 3600)


def _events_field(**kwargs) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.ChoiceField(choices=webhook_event_types()),
        min_length=1,
        max_length=len(webhook_event_types()),
        help_text="The event types delivered to this URL.",
        **kwargs,
    )


class WebhookCreateSerializer(StrictSerializer):
    url = serializers.RegexField(URL_PATTERN, max_length=URL_MAX, help_text="http or https, on a public address.")
    events = _events_field()
    is_active = serializers.BooleanField(required=False, default=True)
    secret = serializers.RegexField(
        SECRET_PATTERN,
        required=False,
        max_length=120,
        help_text="Optional: your own secret, `whsec_` and the padded standard base64 of at least 24 random "
        "bytes (32 to 88 characters). Without one, Fidelis generates one (32 bytes).",
    )


class WebhookUpdateSerializer(StrictSerializer):
    url = serializers.RegexField(URL_PATTERN, max_length=URL_MAX, required=False)
    events = _events_field(required=False)
    is_active = serializers.BooleanField(required=False)


class WebhookRotateSerializer(StrictSerializer):
    overlap_hours = serializers.IntegerField(
        required=False,
        min_value=0,
        max_value=OVERLAP_HOURS_MAX,
        default=int(ROTATION_OVERLAP_DEFAULT.total_seconds() // 3600),
        help_text="How long the old secret keeps signing too (a second `webhook-signature`). 0: at once.",
    )


class WebhookSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.URLField()
    events = serializers.ListField(child=serializers.CharField())
    is_active = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    previous_secret_expires_at = serializers.DateTimeField(
        allow_null=True, help_text="Until then the secret before the last rotation signs deliveries too."
    )


class WebhookWithSecretSerializer(WebhookSerializer):
    secret = serializers.CharField(
        help_text="Shown only when the endpoint is registered and when its secret is rotated: keep it."
    )


WebhookPageSerializer = page_serializer("WebhookPage", WebhookSerializer(many=True))


class AttemptSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    status_code = serializers.IntegerField(allow_null=True, help_text="null: no HTTP answer (see response).")
    response = serializers.CharField(help_text="The first 500 characters your server answered, or the error.")
    ms = serializers.IntegerField()


class DeliverySerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="Also the `webhook-id` and `X-Fidelis-Delivery` headers.")
    event = serializers.IntegerField(source="event_id", allow_null=True, help_text="null for a test delivery.")
    event_type = serializers.CharField()
    status = serializers.ChoiceField(choices=WebhookDelivery.Status.choices)
    attempts = serializers.IntegerField()
    last_status_code = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()
    next_attempt_at = serializers.DateTimeField(allow_null=True)
    delivered_at = serializers.DateTimeField(allow_null=True)
    body = serializers.CharField(help_text="The exact JSON sent: every attempt sends these bytes.")
    log = AttemptSerializer(many=True, help_text="Every attempt, oldest first.")


DeliveryPageSerializer = page_serializer("DeliveryPage", DeliverySerializer(many=True))


class DeliveryFilterSerializer(ListQuerySerializer):
    status = serializers.ChoiceField(choices=WebhookDelivery.Status.choices, required=False)
