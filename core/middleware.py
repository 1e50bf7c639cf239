"""Request id: taken from X-Request-ID (if sane) or generated, echoed back, stamped on logs.
Requests no view can answer (a NUL byte in the path) are refused here; a lost database is a 503."""

import contextvars
import logging
import re
import uuid

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _SAFE_ID.match(incoming) else uuid.uuid4().hex
        token = _request_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            _request_id.reset(token)
        response["X-Request-ID"] = request_id
        return response


def request_id_get() -> str:
    return _request_id.get()


def request_id_set(value: str | None) -> contextvars.Token:
    """Adopt a request id carried along (a Celery task's header); a missing or odd one becomes "-"."""
    return _request_id.set(value if value and _SAFE_ID.match(value) else "-")


def request_id_reset(token: contextvars.Token) -> None:
    _request_id.reset(token)


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get()
        return True


class DatabaseUnavailableMiddleware:
    """Lost database connection outside DRF's own handler (member pages, admin, middleware): a 503
    with Retry-After instead of a 500, JSON under /api/. Django closes the broken connection at
    the end of the request (CONN_HEALTH_CHECKS checks reused ones), so the next request reconnects."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        from django.db import DatabaseError, InterfaceError, OperationalError
        from django.http import HttpResponse, JsonResponse
        from django.utils.translation import gettext as _

        if not (isinstance(exception, OperationalError | InterfaceError) or type(exception) is DatabaseError):
            return None
        logging.getLogger(__name__).warning("database unavailable: %s", type(exception).__name__)
        if request.path.startswith("/api/"):
            from core.api import error_body

            message = "The service is temporarily unavailable; retry later."
            response = JsonResponse(error_body("service_unavailable", message), status=503)
        else:
            message = _("The service is temporarily unavailable. Please try again in a moment.")
            response = HttpResponse(message, status=503, content_type="text/plain; charset=utf-8")
        response["Retry-After"] = "5"
        return response


class NulByteMiddleware:
    """A NUL byte in the path or the query string is never valid input, and PostgreSQL refuses it in
    any text parameter (DataError: a 500 wherever a path segment reaches a query). Refused up front
    with a 400: JSON under /api/, plain text elsewhere."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path or "%00" in request.META.get("QUERY_STRING", ""):
            from django.http import HttpResponse, JsonResponse

            if request.path.startswith("/api/"):
                from core.api import error_body

                message = "The address contains a NUL byte."
                return JsonResponse(error_body("bad_request", message), status=400)
            return HttpResponse("Bad request.", status=400, content_type="text/plain; charset=utf-8")
        return self.get_response(request)
