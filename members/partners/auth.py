"""Partner authentication (`Authorization: Api-Key <key>`), its permission and the per-key throttle."""

import math
import time
from typing import NamedTuple

from django.conf import settings
from django.core.cache import cache
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions, throttling

from members.partners.selectors import KeyGrant, api_key_grant
from members.partners.services import rate_parse

KEYWORD = "Api-Key"


class RateLimit(NamedTuple):
    """The key's window after this request: its size, requests left, seconds until it resets."""

    limit: int
    remaining: int
    reset: int


class PartnerKeyAuthentication(authentication.BaseAuthentication):
    """request.user and request.auth are the KeyGrant (its partner: `request.auth.partner`)."""

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None
        scheme, _, key = header.partition(" ")
        if scheme != KEYWORD or not key.strip():
            raise exceptions.AuthenticationFailed(f"Send the key as 'Authorization: {KEYWORD} <key>'.")
        grant = api_key_grant(key=key.strip())
        if grant is None:
            raise exceptions.AuthenticationFailed("The API key is not valid (unknown, revoked or expired).")
        return grant, grant

    def authenticate_header(self, request) -> str:
        # Makes DRF answer 401 (not 403) when the header is missing or wrong.
        return f'{KEYWORD} realm="api"'


class HasPartnerKey(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        return isinstance(request.auth, KeyGrant)


class PartnerThrottle(throttling.BaseThrottle):
    """A fixed-window counter per key in the cache: one atomic increment per request (cheaper on the
    hot path than DRF's sliding-window history). The key's own rate wins over API_THROTTLE_RATE."""

    def allow_request(self, request, view) -> bool:
        grant = request.auth
        if not isinstance(grant, KeyGrant):
            return True
        limit, period = rate_parse(grant.rate_limit or settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["partner"])
        now = time.time()
        window = int(now // period)
        name = f"api-throttle:{grant.prefix}:{period}:{window}"
        try:
            count = cache.incr(name)  # one round trip once the window's counter exists
        except ValueError:  # first request of the window, or the cache is unreachable
            count = 1 if cache.add(name, 1, period + 1) else self._count_existing(name)
        self._wait = period - (now % period)
        # Read back by the partner view for the RateLimit-* headers of the answer (members/partners/base.py).
        request.rate_limit = RateLimit(limit=limit, remaining=max(0, limit - count), reset=math.ceil(self._wait))
        return count <= limit

    @staticmethod
    def _count_existing(name: str) -> int:
        """add() failed: another process created the counter meanwhile, so count on that one. With
        the cache unreachable incr() fails too and the request passes (throttles fail open while
        Redis is down, core/cache.py)."""
        try:
            return cache.incr(name)
        except ValueError:
            return 1

    def wait(self) -> float:
        return self._wait


class PartnerKeyScheme(OpenApiAuthenticationExtension):
    target_class = PartnerKeyAuthentication
    name = "PartnerApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": (
                f"`Authorization: {KEYWORD} <key>`. Keys are created in admin (Partner API keys) or with "
                '`manage.py partner_key "<partner name>"`; the key is shown once.'
            ),
        }
