"""One paginated answer for the lists this part of the API added (webhooks, deliveries, tiers, earning
rules, the catalog): page parameters checked as everywhere (a bad one is a 400), then the project's
Pagination class, so a change of envelope is made here once."""

from rest_framework.response import Response

from core.api import Pagination
from members.api.webhook_serializers import PageSerializer


def paginated(
    view, request, queryset, serializer_class, context: dict | None = None, *, query_checked: bool = False
) -> Response:
    """`query_checked`: the view already validated the query string with its own filter serializer
    (which has page and page_size); otherwise only page and page_size are accepted."""
    if not query_checked:
        PageSerializer(data=request.query_params).is_valid(raise_exception=True)
    paginator = Pagination()
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True, context=context or {}).data)
