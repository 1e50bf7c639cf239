"""One paginated answer for the lists of webhooks, deliveries, tiers, earning rules and the catalog: the
query checked as everywhere (a bad one is a 400), then the cursor envelope every API list has
(core.api.paginate and page_body)."""

from rest_framework.response import Response

from core.api import page_body, paginate
from members.partners.serializers import ListQuerySerializer


def paginated(
    view,
    request,
    queryset,
    serializer_class,
    context: dict | None = None,
    *,
    ordering: tuple[str, ...] = ("-created_at", "-id"),
    query_checked: bool = False,
) -> Response:
    """`query_checked`: the view already validated the query string with its own filter serializer
    (a ListQuerySerializer); otherwise only cursor and page_size are accepted."""
    if not query_checked:
        ListQuerySerializer(data=request.query_params).is_valid(raise_exception=True)
    page, paginator = paginate(request, queryset, view=view, ordering=ordering)
    return Response(page_body(paginator, serializer_class(page, many=True, context=context or {}).data))
