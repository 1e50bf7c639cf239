"""A Redis cache that degrades to "no cache" while Redis is unreachable.

The cache only speeds things up (API-key lookups) and counts (throttle windows, sign-in link
limits). When Redis is down, earning and redeeming must still work, so a failed call behaves like
a miss: reads return the default, writes do nothing, `incr` raises ValueError (the documented "no
such key", which every caller already handles). After a failure Redis is not tried again for a few
seconds, so a dead server costs one short connect timeout, not one per cache call.
"""

import logging
import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

_ERRORS = (RedisConnectionError, RedisTimeoutError, OSError)
RETRY_AFTER_SECONDS = 5.0


class TolerantRedisCache(RedisCache):
    _down_until = 0.0

    def _call(self, name: str, fallback, *args, **kwargs):
        if time.monotonic() < TolerantRedisCache._down_until:
            return fallback()
        try:
            return getattr(super(), name)(*args, **kwargs)
        except _ERRORS:
            TolerantRedisCache._down_until = time.monotonic() + RETRY_AFTER_SECONDS
            logger.warning("cache unavailable; continuing without it for %ss", RETRY_AFTER_SECONDS)
            return fallback()

    def get(self, key, default=None, version=None):
        return self._call("get", lambda: default, key, default, version)

    def get_many(self, keys, version=None):
        return self._call("get_many", dict, keys, version)

    def has_key(self, key, version=None):
        return self._call("has_key", lambda: False, key, version)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("add", lambda: False, key, value, timeout, version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("set", lambda: None, key, value, timeout, version)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("set_many", list, data, timeout, version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("touch", lambda: False, key, timeout, version)

    def delete(self, key, version=None):
        return self._call("delete", lambda: False, key, version)

    def delete_many(self, keys, version=None):
        return self._call("delete_many", lambda: None, keys, version)

    def incr(self, key, delta=1, version=None):
        def missing():
            raise ValueError(f"Key '{key}' not found (cache unavailable).")

        return self._call("incr", missing, key, delta, version)

    def clear(self):
        return self._call("clear", lambda: None)

    def get_and_count(self, key, counter, timeout: int):
        """GET `key` and INCR `counter` (created to live `timeout` seconds) in one round trip:
        (value or None, count). While Redis is down: (None, None)."""

        def run():
            name, counter_name = self.make_and_validate_key(key), self.make_and_validate_key(counter)
            pipe = self._cache.get_client(counter_name, write=True).pipeline(transaction=False)
            pipe.get(name)
            pipe.incr(counter_name)
            pipe.expire(counter_name, timeout, nx=True)
            value, count, _ = pipe.execute()
            return (None if value is None else self._cache._serializer.loads(value)), count

        if time.monotonic() < TolerantRedisCache._down_until:
            return None, None
        try:
            return run()
        except _ERRORS:
            TolerantRedisCache._down_until = time.monotonic() + RETRY_AFTER_SECONDS
            logger.warning("cache unavailable; continuing without it for %ss", RETRY_AFTER_SECONDS)
            return None, None


def cache_get_and_count(key: str, counter: str, timeout: int) -> tuple[object, int | None]:
    """A cached value and a counter's new value (created for `timeout` seconds): one Redis round trip
    with Redis, two plain calls with any other cache (local memory in development and tests).
    The count is None when the cache could not count (throttles then fail open)."""
    from django.core.cache import caches

    cache = caches["default"]  # the backend itself (django.core.cache.cache is a proxy to it)
    if isinstance(cache, TolerantRedisCache):
        return cache.get_and_count(key, counter, timeout)
    value = cache.get(key)
    try:
        count = cache.incr(counter)
    except ValueError:
        count = 1 if cache.add(counter, 1, timeout) else cache.incr(counter)
    return value, count
