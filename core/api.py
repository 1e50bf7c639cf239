"""Shared REST plumbing: error envelope, pagination, the JSON error pages of /api/."""

import logging

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import Http404, JsonResponse
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, pagination, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.errors import DomainError

logger = logging.getLogger(__name__)

_CODES = {
    400: "invalid",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "throttled",
}


def error_body(code: str, message: str, fields: dict | None = None) -> dict:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def exception_handler(exc, context):
    """Every API error is `{"error": {"code", "message", "fields"}}` with a 4xx (or 503)."""
    if isinstance(exc, DomainError):
        return Response(error_body(exc.code, exc.message, exc.fields), status=exc.status)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    if isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    if isinstance(exc, OperationalError | InterfaceError) or type(exc) is DatabaseError:
        logger.warning("database unavailable: %s", type(exc).__name__)
        return Response(
            error_body("service_unavailable", "The service is temporarily unavailable; retry later."),
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": "5"},
        )

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        response.data = error_body("validation_error", "The request has invalid fields.", detail)
    else:
        detail = getattr(exc, "detail", "")
        code = getattr(detail, "code", None) or _CODES.get(response.status_code, "error")
        response.data = error_body(str(code), str(detail))
    return response


class Pagination(pagination.PageNumberPagination):
    """Numbered pages: kept for `?page=` on the two lists that had it before cursors (deprecated)."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class CursorPagination(pagination.CursorPagination):
    """Every API list: `{"next", "previous", "results"}` where next/previous are links carrying an
    opaque `cursor`. A cursor is a position in the ordering (time, then id), not a page number, so
    rows inserted while a client walks the list never shift it (no row seen twice or skipped)."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def __init__(self, ordering: tuple[str, ...] = ("-created_at", "-id")):
        self.ordering = ordering

    def decode_cursor(self, request):
        try:
            return super().decode_cursor(request)
        except exceptions.NotFound:  # DRF's answer to a cursor it cannot read; it is bad input
            raise exceptions.ValidationError(
                {"cursor": ["Invalid cursor: follow a list's next or previous link."]}
            ) from None


def paginate(request, queryset, *, view, ordering: tuple[str, ...], pages: bool = False):
    """(rows of this page, paginator). `pages`: the list also takes the deprecated `?page=`."""
    paginator = Pagination() if pages and "page" in request.query_params else CursorPagination(ordering)
    return paginator.paginate_queryset(queryset, request, view=view), paginator


def page_body(paginator, results: list, **extra) -> dict:
    """The one list envelope (extra keys such as `count` or `totals` go before `results`)."""
    return {"next": paginator.get_next_link(), "previous": paginator.get_previous_link(), **extra, "results": results}


@csrf_exempt
def not_found(request, *args, **kwargs):
    """Unknown API paths answer in the API's own error format, not with Django's HTML page."""
    return JsonResponse(error_body("not_found", "Not found."), status=status.HTTP_404_NOT_FOUND)


def is_api(request) -> bool:
    return request.path.startswith("/api/")


def bad_request(request, exception=None, *args, **kwargs):
    """handler400: a refused request (SuspiciousOperation, ...) under /api/ answers in the API's format."""
    if is_api(request):
        return JsonResponse(error_body("bad_request", "The request is malformed."), status=400)
    return defaults.bad_request(request, exception)


def server_error(request, *args, **kwargs):
    """handler500: with DEBUG off, an unhandled error under /api/ is JSON like every other answer
    there (the details are in the log, under the request id), not Django's HTML page."""
    if is_api(request):
        message = "An unexpected error occurred; it was logged. Retry later or contact support with the X-Request-ID."
        return JsonResponse(error_body("server_error", message), status=500)
    return defaults.server_error(request)
