"""OpenAPI pieces every partner endpoint shares: the error envelope with an example per status,
the Idempotency-Key header, and the headers of a replayed response."""

from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, inline_serializer
from rest_framework import serializers

ErrorSerializer = inline_serializer(
    name="Error",
    fields={
        "error": inline_serializer(
            name="ErrorDetail",
            fields={
                "code": serializers.CharField(help_text="Stable, machine-readable: branch on this."),
                "message": serializers.CharField(help_text="For people; may change."),
                "fields": serializers.DictField(
                    child=serializers.JSONField(), help_text="Offending inputs -> list of problems."
                ),
            },
        )
    },
)


def _example(status: int, code: str, message: str, fields: dict | None = None) -> OpenApiExample:
    return OpenApiExample(
        code,
        value={"error": {"code": code, "message": message, "fields": fields or {}}},
        status_codes=[str(status)],
        response_only=True,
    )


STANDARD = {
    400: (
        "Invalid input (validation_error), or a purchase the program's rules refuse as sent (its code says which).",
        [
            _example(
                400, "validation_error", "The request has invalid fields.", {"amount": ["A valid number is required."]}
            )
        ],
    ),
    401: (
        "Missing or invalid API key.",
        [_example(401, "authentication_failed", "The API key is not valid (unknown, revoked or expired).")],
    ),
    404: (
        "Not found, or not visible to this partner (other programs, other partners' records).",
        [_example(404, "not_found", "Not found.")],
    ),
    409: ("Refused by the program's rules or the current state (its code says which).", []),
    413: ("The body is larger than the limit.", [_example(413, "payload_too_large", "The request body is too large.")]),
    415: (
        "Only application/json is accepted.",
        [_example(415, "unsupported_media_type", 'Unsupported media type "text/plain" in request.')],
    ),
    422: (
        "The Idempotency-Key was already used with a different request.",
        [
            _example(
                422,
                "idempotency_key_reused",
                "This Idempotency-Key was already used with a different request.",
                {"Idempotency-Key": ["Use a new key for a new request."]},
            )
        ],
    ),
    429: (
        "Too many requests for this key; retry after the number of seconds in Retry-After.",
        [_example(429, "throttled", "Request was throttled. Expected available in 12 seconds.")],
    ),
}


def errors(*statuses: int, conflicts: tuple[tuple[str, str], ...] = (), refusals: tuple[tuple[str, str], ...] = ()):
    """Responses for the given error statuses; `conflicts` and `refusals` add (code, message) examples
    for 409 and 400 specific to the endpoint."""
    responses = {}
    for status in statuses:
        description, examples = STANDARD[status]
        examples = list(examples)
        if status == 409:
            examples += [_example(409, code, message) for code, message in conflicts]
        if status == 400:
            examples += [_example(400, code, message) for code, message in refusals]
        responses[status] = OpenApiResponse(ErrorSerializer, description=description, examples=examples)
    return responses


READ_ERRORS = (400, 401, 404, 429)
WRITE_ERRORS = (400, 401, 404, 409, 413, 415, 422, 429)
IN_FLIGHT = ("idempotency_key_in_use", "A request with this Idempotency-Key is still being processed; retry shortly.")

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    # What the wrapper accepts (members/partners/base.py), so clients and fuzzers know a blank key is a 400.
    {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "\\S"},
    OpenApiParameter.HEADER,
    required=False,
    description=(
        "Up to 255 characters, unique per request (a UUID works). Retrying with the same key and body "
        "returns the first response again, byte for byte, with `Idempotent-Replayed: true`, and does "
        "nothing twice. The same key with another body is a 422; a retry while the first request is "
        "still running waits for it and replays its answer. Keys are kept for at least 24 hours."
    ),
)


# What DRF's CharField refuses: NUL characters; text of only spaces when not blank (Python's idea of a
# space, which adds \u001c-\u001f and \u0085 to a regex's \s). Lone surrogates are refused too, but
# a pattern naming them is one many tools cannot compile, so README (partner section) says it in words.
TEXT_PATTERN = r"^[^\u0000]*$"
NON_BLANK_TEXT_PATTERN = r"^[^\u0000]*[^\s\u0000\u001c-\u001f\u0085][^\u0000]*$"

# What every list takes (core.api.CursorPagination; the filter serializers enforce the same bounds).
CURSOR_PARAM = OpenApiParameter(
    "cursor",
    {"type": "string", "maxLength": 1000, "pattern": TEXT_PATTERN},
    description="Opaque: take it from a list's `next` or `previous` link; stable while rows are added.",
)
PAGE_SIZE_PARAM = OpenApiParameter(
    "page_size", {"type": "integer", "minimum": 1, "maximum": 200}, description="Default 50, at most 200."
)
LIST_PARAMS = [CURSOR_PARAM, PAGE_SIZE_PARAM]
LEGACY_PAGE_PARAM = OpenApiParameter(
    "page",
    {"type": "integer", "minimum": 1},
    deprecated=True,
    description="Numbered pages, from before cursors; follow `next` instead (then it carries a cursor).",
)
# Django's EmailValidator for ASCII addresses (dot-atom local part of at most 64 characters, as RFC 5321
# and the API's serializers want; domain labels; a letters-only TLD).
_ATOM = r"[-!#$%&'*+/=?^_`{}|~0-9A-Za-z]+"
EMAIL_PATTERN = (
    rf"^(?=[^@]{{1,64}}@){_ATOM}(\.{_ATOM})*@([A-Za-z0-9]([A-Za-z0-9-]{{0,61}}[A-Za-z0-9])?\.)+[A-Za-z]{{2,63}}$"
)


class StrictSerializerSchema(OpenApiSerializerExtension):
    """The request bodies say what `StrictSerializer` enforces: no other properties, money as a string
    of digits within the field's digits, decimals and minimum, text that is not only spaces (DRF trims
    it, and blank text is refused)."""

    target_class = "members.partners.serializers.StrictSerializer"
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_basic_serializer(self.target, direction)
        if direction != "request":
            return schema
        schema["additionalProperties"] = False
        properties = schema.get("properties", {})
        for name, field in self.target.fields.items():
            if name not in properties or field.read_only:
                continue
            if isinstance(field, serializers.DecimalField):
                properties[name]["pattern"] = money_pattern(field)
            elif isinstance(field, serializers.EmailField):
                properties[name].pop("format", None)  # "email" is looser than Django's validator
                properties[name]["pattern"] = EMAIL_PATTERN
            elif isinstance(field, serializers.CharField) and "pattern" not in properties[name]:
                properties[name]["pattern"] = TEXT_PATTERN if field.allow_blank else NON_BLANK_TEXT_PATTERN
        return schema


def money_pattern(field: serializers.DecimalField) -> str:
    whole = f"[0-9]{{1,{field.max_digits - field.decimal_places}}}(\\.[0-9]{{1,{field.decimal_places}}})?"
    if field.min_value is None or field.min_value < 0:
        return f"^-?{whole}$"
    if field.min_value == 0:
        return f"^{whole}$"
    return f"^(?!0+(\\.0+)?$){whole}$"  # more than zero


_RATE_HEADERS = {
    "RateLimit-Limit": "Requests this key may make per window (its own rate, or API_THROTTLE_RATE).",
    "RateLimit-Remaining": "Requests left in the current window.",
    "RateLimit-Reset": "Seconds until the window resets.",
}


def partner_api_headers(result, generator, request, public):
    """drf-spectacular postprocessing hook: the headers PartnerAPIView.finalize_response adds to
    every answer, stated once for every operation: RateLimit-* on every response to a valid key,
    and on reads an ETag, `If-None-Match` and its 304."""
    integer = {"schema": {"type": "integer", "minimum": 0}}
    for path, operations in result.get("paths", {}).items():
        if not path.startswith("/api/v1/"):
            continue
        for method, operation in operations.items():
            responses = operation.get("responses", {})
            if method == "get":
                operation.setdefault("parameters", []).append(
                    {
                        "in": "header",
                        "name": "If-None-Match",
                        "schema": {"type": "string"},  # any value: one that is not the current ETag is a 200
                        "description": "The ETag of the copy you hold: 304 with no body while it is current.",
                    }
                )
                if "200" in responses:
                    responses["200"].setdefault("headers", {})["ETag"] = {
                        "schema": {"type": "string"},
                        "description": "Send it back as If-None-Match to get a 304 while nothing changed.",
                    }
                    responses["304"] = {"description": "Not modified: the copy you hold (If-None-Match) is current."}
            for status, response in responses.items():
                if status == "401":
                    continue  # no valid key: no rate limit to report
                headers = response.setdefault("headers", {})
                for name, description in _RATE_HEADERS.items():
                    headers[name] = {**integer, "description": description}
    return result
