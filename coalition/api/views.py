"""Partner API v1, settlement part: a partner's own monthly statements, as JSON or CSV."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response

from coalition import selectors
from coalition.api import serializers as s
from core.errors import NotFound
from members.api.pages import paginated
from members.partners.base import PartnerAPIView
from members.partners.docs import LIST_PARAMS, READ_ERRORS, errors

STATEMENT = {
    "id": 31,
    "month": "2026-10-01",
    "currency": "EUR",
    "points_issued": 48210,
    "points_redeemed": 12500,
    "points_redeemed_elsewhere": 9100,
    "points_expired": 640,
    "partner_owes": "482.10",
    "program_owes": "100.00",
    "balance": "382.10",
    "closed_at": "2026-11-01T02:15:04Z",
}
LINES = [
    {
        "kind": "adjustment",
        "adjusts": "issued",
        "period": "2026-09-01",
        "points": 120,
        "amount": "1.20",
        "paid_by": "partner",
    },
    {
        "kind": "issued",
        "adjusts": "",
        "period": "2026-10-01",
        "points": 48500,
        "amount": "485.00",
        "paid_by": "partner",
    },
    {
        "kind": "reversed",
        "adjusts": "",
        "period": "2026-10-01",
        "points": -410,
        "amount": "-4.10",
        "paid_by": "partner",
    },
    {
        "kind": "redeemed",
        "adjusts": "",
        "period": "2026-10-01",
        "points": 12500,
        "amount": "100.00",
        "paid_by": "program",
    },
    {"kind": "elsewhere", "adjusts": "", "period": "2026-10-01", "points": 9100, "amount": "0.00", "paid_by": ""},
    {"kind": "breakage", "adjusts": "", "period": "2026-10-01", "points": 640, "amount": "0.00", "paid_by": ""},
]
CSV_EXAMPLE = (
    "partner,month,line,corrects,period,points,amount,currency,paid_by\r\n"
    "Downtown Store,2026-10,adjustment,issued,2026-09,120,1.20,EUR,partner\r\n"
    "Downtown Store,2026-10,issued,,2026-10,48500,485.00,EUR,partner\r\n"
    "Downtown Store,2026-10,total_partner_owes,,2026-10,,482.10,EUR,partner\r\n"
)


class CSVRenderer(BaseRenderer):
    """A statement as CSV (`Accept: text/csv` or `?format=csv`); the view renders the text itself."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data.encode(self.charset) if isinstance(data, str) else b""


class SettlementsView(PartnerAPIView):
    @extend_schema(
        tags=["settlements"],
        operation_id="settlements_list",
        summary="Your monthly settlement statements, newest month first",
        description="A month's statement exists once the month is closed (shortly after it ends) and never "
        "changes; a later correction appears in a later statement as an `adjustment` line. Only your own.",
        parameters=LIST_PARAMS,
        responses={
            200: OpenApiResponse(
                s.SettlementPageSerializer,
                examples=[OpenApiExample("statements", value={"next": None, "previous": None, "results": [STATEMENT]})],
            ),
            **errors(*READ_ERRORS),
        },
    )
    def get(self, request):
        statements = selectors.partner_statements(partner=self.partner)
        return paginated(self, request, statements, s.SettlementSerializer, ordering=("-month", "-id"))


class SettlementView(PartnerAPIView):
    renderer_classes = [JSONRenderer, CSVRenderer]

    @extend_schema(
        tags=["settlements"],
        operation_id="settlements_get",
        summary="One of your statements with its lines, as JSON or CSV",
        description="With `Accept: text/csv` or `?format=csv`: the statement as CSV (one row per line, then "
        "the totals and the balance), the same file staff export in admin.",
        parameters=[
            OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Statement id."),
            OpenApiParameter("format", str, enum=["json", "csv"], description="csv: the statement as CSV."),
        ],
        responses={
            (200, "application/json"): OpenApiResponse(
                s.SettlementDetailSerializer,
                examples=[OpenApiExample("statement", value={**STATEMENT, "lines": LINES})],
            ),
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR, examples=[OpenApiExample("statement as CSV", value=CSV_EXAMPLE)]
            ),
            **errors(*READ_ERRORS),
        },
    )
    def get(self, request, pk: int):
        statement = (
            selectors.statements_with_lines(selectors.partner_statements(partner=self.partner)).filter(pk=pk).first()
        )
        if statement is None:
            raise NotFound("Statement not found.")
        if request.accepted_renderer.format == "csv":
            return Response(selectors.statements_csv([statement]))
        return Response(s.SettlementDetailSerializer(statement).data)

    def finalize_response(self, request, response, *args, **kwargs):
        # Errors answer in the API's JSON error format whatever representation was asked for.
        if response.status_code >= 400 and getattr(request, "accepted_renderer", None) is not None:
            request.accepted_renderer, request.accepted_media_type = JSONRenderer(), JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)
