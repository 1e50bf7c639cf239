"""Partner API v1, webhooks part: a partner registers and manages its own endpoints, rotates their
secrets, sends a test event, and reads and redelivers its deliveries. The admin does the same through
the same services (members/partners/endpoints.py). Another partner's endpoint is a 404."""

from datetime import timedelta

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.response import Response

from core.errors import NotFound
from members.api import webhook_serializers as s
from members.api.pages import paginated
from members.models import WebhookDelivery, WebhookEndpoint
from members.partners import endpoints, selectors
from members.partners.base import PartnerAPIView, idempotent
from members.partners.docs import IDEMPOTENCY_KEY, IN_FLIGHT, LIST_PARAMS, READ_ERRORS, WRITE_ERRORS, errors

TAG = "webhooks"
WEBHOOK_EXAMPLE = {
    "id": 12,
    "url": "https://shop.example.com/fidelis/hooks",
    "events": ["points.earned", "points.reversed"],
    "is_active": True,
    "created_at": "2026-11-20T17:42:03Z",
    "previous_secret_expires_at": None,
}
SECRET_EXAMPLE = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw1XyFbGMgGd0="  # noqa: S105 - an example in the docs
DELIVERY_EXAMPLE = {
    "id": 5012,
    "event": 88121,
    "event_type": "points.earned",
    "status": "succeeded",
    "attempts": 2,
    "last_status_code": 200,
    "created_at": "2026-11-20T17:42:03Z",
    "next_attempt_at": None,
    "delivered_at": "2026-11-20T17:43:05Z",
    "body": '{"id":88121,"type":"points.earned","created":"2026-11-20T17:42:03Z","data":{"member":"402519876543"}}',
    "log": [
        {"at": "2026-11-20T17:42:03Z", "status_code": 503, "response": "try later", "ms": 41},
        {"at": "2026-11-20T17:43:05Z", "status_code": 200, "response": "ok", "ms": 38},
    ],
}
WEBHOOK_PARAM = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Webhook endpoint id.")
DELIVERY_PARAM = OpenApiParameter("delivery_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Delivery id.")
INVALID_WEBHOOK = ("invalid_webhook", "The webhook endpoint cannot be used as given.")
ACTOR_NOTE = "Recorded in the audit trail."


class _EndpointView(PartnerAPIView):
    def endpoint_or_404(self, pk: int) -> WebhookEndpoint:
        endpoint = selectors.webhook_endpoint_for_partner(partner=self.partner, pk=pk)
        if endpoint is None:
            raise NotFound("Webhook endpoint not found.")
        return endpoint


class WebhooksView(_EndpointView):
    @extend_schema(
        tags=[TAG],
        operation_id="webhooks_list",
        summary="Your webhook endpoints",
        parameters=LIST_PARAMS,
        responses={
            200: OpenApiResponse(
                s.WebhookPageSerializer,
                examples=[
                    OpenApiExample("endpoints", value={"next": None, "previous": None, "results": [WEBHOOK_EXAMPLE]})
                ],
            ),
            **errors(*READ_ERRORS),
        },
    )
    def get(self, request):
        return paginated(
            self, request, selectors.webhook_endpoints_for_partner(partner=self.partner), s.WebhookSerializer
        )

    @extend_schema(
        tags=[TAG],
        operation_id="webhooks_register",
        summary="Register a webhook endpoint",
        description="The answer carries the endpoint's `secret` (shown now and after a rotation only): verify "
        "deliveries with it using any Standard Webhooks library. The URL must be http(s) on a public address. "
        + ACTOR_NOTE,
        parameters=[IDEMPOTENCY_KEY],
        request=s.WebhookCreateSerializer,
        examples=[
            OpenApiExample(
                "register",
                request_only=True,
                value={"url": "https://shop.example.com/fidelis/hooks", "events": ["points.earned", "points.reversed"]},
            )
        ],
        responses={
            201: OpenApiResponse(
                s.WebhookWithSecretSerializer,
                examples=[OpenApiExample("registered", value={**WEBHOOK_EXAMPLE, "secret": SECRET_EXAMPLE})],
            ),
            **errors(*WRITE_ERRORS, conflicts=(IN_FLIGHT,), refusals=(INVALID_WEBHOOK,)),
        },
    )
    @idempotent
    def post(self, request):
        data = s.WebhookCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint = endpoints.webhook_endpoint_create(partner=self.partner, **data.validated_data)
        return Response(s.WebhookWithSecretSerializer(endpoint).data, status=201)


class WebhookView(_EndpointView):
    @extend_schema(
        tags=[TAG],
        operation_id="webhooks_get",
        summary="One of your webhook endpoints",
        parameters=[WEBHOOK_PARAM],
        responses={
            200: OpenApiResponse(s.WebhookSerializer, examples=[OpenApiExample("endpoint", value=WEBHOOK_EXAMPLE)]),
            **errors(*READ_ERRORS),
        },
    )
    def get(self, request, pk: int):
        return Response(s.WebhookSerializer(self.endpoint_or_404(pk)).data)

    @extend_schema(
        tags=[TAG],
        operation_id="webhooks_update",
        summary="Change a webhook endpoint's URL, events or whether it is active",
        description="Only the fields sent change. Deliveries already made keep their history. " + ACTOR_NOTE,
        parameters=[WEBHOOK_PARAM],
        request=s.WebhookUpdateSerializer,
        examples=[OpenApiExample("pause", request_only=True, value={"is_active": False})],
        responses={
            200: OpenApiResponse(
                s.WebhookSerializer, examples=[OpenApiExample("paused", value={**WEBHOOK_EXAMPLE, "is_active": False})]
            ),
            **errors(400, 401, 404, 413, 415, 429, refusals=(INVALID_WEBHOOK,)),
        },
    )
    def patch(self, request, pk: int):
        endpoint = self.endpoint_or_404(pk)
        data = s.WebhookUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint = endpoints.webhook_endpoint_update(endpoint=endpoint, **data.validated_data)
        return Response(s.WebhookSerializer(endpoint).data)


class WebhookRotateView(_EndpointView):
    @extend_schema(
        tags=[TAG],
        operation_id="webhooks_rotate_secret",
        summary="Rotate a webhook endpoint's secret",
        description="A new secret signs every delivery from now on. For `overlap_hours` (default 24, at most "
        "168) the old secret signs them too, as a second signature in `webhook-signature` (Standard Webhooks "
        "libraries accept a delivery when any signature matches), so switch your receiver within that time. "
        "`X-Fidelis-Signature` carries the new secret's signature only. Rotating again during an overlap ends it: "
        "only the two newest secrets ever sign. " + ACTOR_NOTE,
        parameters=[WEBHOOK_PARAM, IDEMPOTENCY_KEY],
        request=s.WebhookRotateSerializer,
        examples=[OpenApiExample("rotate", request_only=True, value={"overlap_hours": 24})],
        responses={
            200: OpenApiResponse(
                s.WebhookWithSecretSerializer,
                examples=[
                    OpenApiExample(
                        "rotated",
                        value={
                            **WEBHOOK_EXAMPLE,
                            "previous_secret_expires_at": "2026-11-21T17:42:03Z",
                            "secret": SECRET_EXAMPLE,
                        },
                    )
                ],
            ),
            **errors(*WRITE_ERRORS, conflicts=(IN_FLIGHT,)),
        },
    )
    @idempotent
    def post(self, request, pk: int):
        endpoint = self.endpoint_or_404(pk)
        data = s.WebhookRotateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint = endpoints.webhook_secret_rotate(
            endpoint=endpoint, overlap=timedelta(hours=data.validated_data["overlap_hours"])
        )
        return Response(s.WebhookWithSecretSerializer(endpoint).data)


class WebhookTestView(_EndpointView):
    @extend_schema(
        tags=[TAG],
        operation_id="webhooks_test",
        summary="Send a test event to a webhook endpoint",
        description="Queues a `webhook.test` delivery (its body's `id` is null) to this endpoint only, even an "
        "inactive one, signed and retried like any other. Follow it with the delivery's URL. " + ACTOR_NOTE,
        parameters=[WEBHOOK_PARAM, IDEMPOTENCY_KEY],
        request=None,
        responses={
            202: OpenApiResponse(
                s.DeliverySerializer,
                examples=[
                    OpenApiExample(
                        "queued",
                        value={
                            **DELIVERY_EXAMPLE,
                            "event": None,
                            "event_type": "webhook.test",
                            "status": "pending",
                            "attempts": 0,
                            "last_status_code": None,
                            "delivered_at": None,
                            "next_attempt_at": "2026-11-20T17:42:03Z",
                            "body": '{"id":null,"type":"webhook.test","created":"2026-11-20T17:42:03Z",'
                            '"data":{"endpoint":12,"partner":3}}',
                            "log": [],
                        },
                    )
                ],
            ),
            **errors(*WRITE_ERRORS, conflicts=(IN_FLIGHT,)),
        },
    )
    @idempotent
    def post(self, request, pk: int):
        delivery = endpoints.webhook_test_send(endpoint=self.endpoint_or_404(pk))
        return Response(s.DeliverySerializer(_fresh(delivery)).data, status=202)


class WebhookDeliveriesView(_EndpointView):
    @extend_schema(
        tags=[TAG],
        operation_id="webhooks_deliveries",
        summary="Deliveries to a webhook endpoint, newest first",
        parameters=[
            WEBHOOK_PARAM,
            OpenApiParameter("status", {"type": "string", "enum": WebhookDelivery.Status.values}),
            *LIST_PARAMS,
        ],
        responses={
            200: OpenApiResponse(
                s.DeliveryPageSerializer,
                examples=[
                    OpenApiExample("deliveries", value={"next": None, "previous": None, "results": [DELIVERY_EXAMPLE]})
                ],
            ),
            **errors(*READ_ERRORS),
        },
    )
    def get(self, request, pk: int):
        endpoint = self.endpoint_or_404(pk)
        query = s.DeliveryFilterSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        deliveries = selectors.webhook_deliveries_for_endpoint(
            endpoint=endpoint, status=query.validated_data.get("status", "")
        )
        return paginated(self, request, deliveries, s.DeliverySerializer, query_checked=True)


class _DeliveryView(_EndpointView):
    def delivery_or_404(self, pk: int, delivery_id: int) -> WebhookDelivery:
        delivery = selectors.webhook_delivery_for_endpoint(endpoint=self.endpoint_or_404(pk), pk=delivery_id)
        if delivery is None:
            raise NotFound("Delivery not found.")
        return delivery


class WebhookDeliveryView(_DeliveryView):
    @extend_schema(
        tags=[TAG],
        operation_id="webhooks_delivery",
        summary="One delivery with every attempt",
        parameters=[WEBHOOK_PARAM, DELIVERY_PARAM],
        responses={
            200: OpenApiResponse(s.DeliverySerializer, examples=[OpenApiExample("delivery", value=DELIVERY_EXAMPLE)]),
            **errors(*READ_ERRORS),
        },
    )
    def get(self, request, pk: int, delivery_id: int):
        return Response(s.DeliverySerializer(self.delivery_or_404(pk, delivery_id)).data)


class WebhookRedeliverView(_DeliveryView):
    @extend_schema(
        tags=[TAG],
        operation_id="webhooks_redeliver",
        summary="Send a delivery again",
        description="Due at once, with a fresh budget of attempts; same body and same `webhook-id`, so "
        "a receiver that already handled it can tell. " + ACTOR_NOTE,
        parameters=[WEBHOOK_PARAM, DELIVERY_PARAM, IDEMPOTENCY_KEY],
        request=None,
        responses={
            202: OpenApiResponse(
                s.DeliverySerializer,
                examples=[OpenApiExample("queued", value={**DELIVERY_EXAMPLE, "status": "pending", "attempts": 0})],
            ),
            **errors(*WRITE_ERRORS, conflicts=(IN_FLIGHT,)),
        },
    )
    @idempotent
    def post(self, request, pk: int, delivery_id: int):
        delivery = endpoints.webhook_redeliver(delivery=self.delivery_or_404(pk, delivery_id))
        return Response(s.DeliverySerializer(_fresh(delivery)).data, status=202)


def _fresh(delivery: WebhookDelivery) -> WebhookDelivery:
    """Without a broker (tasks run in-process) the attempt may already have run when the service's
    transaction committed: answer what is stored, not the row as queued."""
    delivery.refresh_from_db()
    return delivery
