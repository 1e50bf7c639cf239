"""The partner API's request path: API-key auth, per-key throttle, body-size limit, idempotent POSTs.

Every partner endpoint (members, rewards, feedback) derives from PartnerAPIView and marks its
POST handlers with @idempotent.
"""

import functools

from django.conf import settings
from django.db import transaction
from django.http import HttpResponse
from django.utils.cache import get_conditional_response, set_response_etag
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import Conflict, NotFound
from core.forms import BIGINT_MAX
from members.models import Member, Partner
from members.partners import services
from members.partners.auth import HasPartnerKey, PartnerKeyAuthentication, PartnerThrottle
from members.partners.selectors import member_for_partner
from members.services.cards import card_shown

IDEMPOTENCY_HEADER = "Idempotency-Key"
MAX_IDEMPOTENCY_KEY = 255
IN_FLIGHT_RETRY_SECONDS = 1


class PayloadTooLarge(exceptions.APIException):
    status_code = 413
    default_code = "payload_too_large"
    default_detail = "The request body is too large."


class PartnerAPIView(APIView):
    authentication_classes = [PartnerKeyAuthentication]
    permission_classes = [HasPartnerKey]
    throttle_classes = [PartnerThrottle]

    @property
    def partner(self) -> Partner:
        return self.request.auth.partner

    def member_or_404(self, number: str) -> Member:
        """A member of the partner's program; any other number is simply not found."""
        member = member_for_partner(partner=self.partner, number=number)
        if member is None:
            raise NotFound("Member not found.")
        return member

    def finalize_response(self, request, response, *args, **kwargs):
        """Every answer to a valid key says where its rate limit stands (the IETF RateLimit header
        fields, from the per-key throttle); a read carries an ETag, and `If-None-Match` with the
        current one answers 304 with no body."""
        response = super().finalize_response(request, response, *args, **kwargs)
        if request.method == "GET" and response.status_code == 200:
            if hasattr(response, "render"):  # a DRF Response; the hot paths answer ready bytes
                response.render()
            set_response_etag(response)
            response = get_conditional_response(request, etag=response["ETag"], response=response)
        rate = getattr(request, "rate_limit", None)
        if rate is not None:
            response["RateLimit-Limit"] = str(rate.limit)
            response["RateLimit-Remaining"] = str(rate.remaining)
            response["RateLimit-Reset"] = str(rate.reset)
        return response

    def member_or_card(self, number: str | None, card: str | None) -> Member:
        """The member named by a membership number, a card number of the program, or both (which
        must agree): 404 for unknown ones, 409 for a blocked or replaced card."""
        if not card:
            return self.member_or_404(number)
        return card_shown(program_id=self.partner.program_id, number=card, member=number or None).member

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        # An id in the address that no database column can hold names nothing (and SQLite would raise
        # OverflowError on the lookup): not found, like any other missing id.
        if any(isinstance(value, int) and value > BIGINT_MAX for value in kwargs.values()):
            raise NotFound("Not found.")
        # Django checks this limit only for forms; JSON bodies are read by DRF's parser directly.
        length = request.META.get("CONTENT_LENGTH") or "0"
        if length.isdigit() and int(length) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
            raise PayloadTooLarge(f"The request body may be at most {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes.")


def idempotent(handler):
    """Stripe-style idempotency for a POST handler.

    With an Idempotency-Key header, claiming the key, the handler's work and storing its response
    are one transaction: all commit or none does, so a request that crashed can simply be retried.
    A concurrent request with the same key waits for the first to finish and replays its answer.
    A retry with the same body replays the stored status and bytes; with another body it is a 422.
    A 5xx is not stored (the transaction rolls back): the client may retry.
    """

    @functools.wraps(handler)
    def wrapper(view: PartnerAPIView, request, *args, **kwargs):
        key = request.headers.get(IDEMPOTENCY_HEADER)
        if key is None:
            return handler(view, request, *args, **kwargs)
        if not key.strip() or len(key) > MAX_IDEMPOTENCY_KEY:
            raise exceptions.ValidationError({IDEMPOTENCY_HEADER: [f"1 to {MAX_IDEMPOTENCY_KEY} characters."]})
        fingerprint = services.request_fingerprint(method=request.method, path=request.path, body=request.body)
        try:
            with transaction.atomic():
                record = services.idempotency_claim(partner=view.partner, key=key, request_hash=fingerprint)
                if record.status_code is not None:
                    return _replay(record)
                try:
                    response = handler(view, request, *args, **kwargs)
                except Exception as exc:
                    response = view.handle_exception(exc)
                response = view.finalize_response(request, response, *args, **kwargs)
                response.render()
                if response.status_code >= 500:
                    transaction.set_rollback(True)
                else:
                    services.idempotency_store(
                        record=record,
                        status_code=response.status_code,
                        body=response.content,
                        content_type=response["Content-Type"],
                    )
        except Conflict as exc:
            # A request from before this claim scheme is still running: tell the client when to look again.
            response = view.handle_exception(exc)
            response["Retry-After"] = str(IN_FLIGHT_RETRY_SECONDS)
        return response

    return wrapper


def _replay(record) -> HttpResponse:
    response = HttpResponse(bytes(record.response_body), status=record.status_code, content_type=record.content_type)
    response["Idempotent-Replayed"] = "true"
    return response


def created_or_ok(data, created: bool) -> Response:
    return Response(data, status=201 if created else 200)
