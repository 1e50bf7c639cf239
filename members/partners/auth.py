"""Partner authentication (`Authorization: Api-Key <key>`), its permission and the per-key throttle."""

import contextlib
import math
import time
from typing import NamedTuple

from django.conf import settings
from django.core.cache import cache
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions, throttling

from members.partners.selectors import KeyGrant, api_key_grant_counted
from members.partners.services import rate_parse

KEYWORD = "Api-Key"


def throttle_name(prefix: str, period: int, now: float) -> str:
    """The cache counter of a key's requests in the fixed window of `period` seconds holding `now`."""
    return f"api-throttle:{prefix}:{period}:{int(now // period)}"


def _uncount(name: str) -> None:
    with contextlib.suppress(ValueError):  # gone already, or the cache is unreachable
        cache.decr(name)


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
        key = key.strip()
        # The key's throttle window is counted in the same cache round trip as the key lookup, for
        # the default rate's period (a key with a rate of its own may count again in the throttle).
        _, period = rate_parse(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["partner"])
        counter = throttle_name(key.partition(".")[0], period, time.time())
        grant, count = api_key_grant_counted(key=key, counter=counter, seconds=period + 1)
        if grant is None:
            if count is not None:  # a wrong secret must not use up the real key's rate
                _uncount(counter)
            raise exceptions.AuthenticationFailed("The API key is not valid (unknown, revoked or expired).")
        request._partner_throttle_count = (counter, count)
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
        name = throttle_name(grant.prefix, period, now)
        counted_name, count = getattr(request, "_partner_throttle_count", (None, None))
        if counted_name != name:  # the key has its own period, or the window turned since authentication
            try:
                count = cache.incr(name)  # one round trip once the window's counter exists
            except ValueError:  # first request of the window, or the cache is unreachable
                count = 1 if cache.add(name, 1, period + 1) else self._count_existing(name)
        elif count is None:  # the cache could not count: fail open, as incr does
            count = 1
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
