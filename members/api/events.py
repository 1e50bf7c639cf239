"""Partner API v1, the event feed: what the partner's webhooks carry, to read instead of receiving
them (no public endpoint) or to catch up after an outage. It shares /events with engagement reports
(POST), so its view is the engagement view plus a GET.
"""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from core.forms import BIGINT_MAX
from members.api import serializers as s
from members.api.members import NUMBER
from members.api.transactions import EngagementView
from members.partners import selectors, services
from members.partners.docs import PAGE_SIZE_PARAM, READ_ERRORS, errors

EVENT_EXAMPLE = {
    "id": 88213,
    "type": "points.earned",
    "created": "2026-11-20T17:42:03Z",
    "data": {"member": NUMBER, "points": 136, "kind": "earn", "entry": 9188, "purchase": 5121, "amount": "84.50"},
}


class EventsView(EngagementView):
    @extend_schema(
        tags=["events"],
        operation_id="events_feed",
        summary="Your event feed: what your webhooks carry, oldest first, after an event id",
        description="The same events and bodies as your webhooks (`id`, `type`, `created`, `data`), whether or "
        "not you registered an endpoint: the webhook event types about members of your program and about your "
        "own transactions, never another partner's. Keep the last `id` you handled and read `?after=<id>`; "
        "follow `next` while it is not null, then poll again later from the answer's `after`. An event "
        f"appears {settings.API_EVENTS_SETTLE_SECONDS} seconds after it happened, so a transaction that "
        "commits after a later one is never skipped. Events are kept as long as the program's outbox keeps them.",
        parameters=[
            OpenApiParameter(
                "after",
                {"type": "integer", "minimum": 0, "maximum": BIGINT_MAX},
                description="The id of the last event you handled (0 or absent: from the first).",
            ),
            PAGE_SIZE_PARAM,
        ],
        responses={
            200: OpenApiResponse(
                s.EventPageSerializer,
                examples=[
                    OpenApiExample(
                        "feed",
                        value={
                            "next": "https://loyalty.example.com/api/v1/events?after=88213",
                            "previous": None,
                            "after": 88213,
                            "results": [EVENT_EXAMPLE],
                        },
                    )
                ],
            ),
            **errors(*READ_ERRORS),
        },
    )
    def get(self, request):
        query = s.EventFeedQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        after = query.validated_data.get("after", 0)
        size = query.validated_data.get("page_size", 50)
        settled = timezone.now() - timedelta(seconds=settings.API_EVENTS_SETTLE_SECONDS)
        events = list(selectors.partner_events(partner=self.partner, after=after, settled_before=settled)[:size])
        last = events[-1].pk if events else after
        full = len(events) == size
        # The items are the webhook bodies as they are (EventPageSerializer states their shape).
        return Response(
            {
                "next": replace_query_param(request.build_absolute_uri(), "after", last) if full else None,
                "previous": None,
                "after": last,
                "results": [services.webhook_payload(event) for event in events],
            }
        )
