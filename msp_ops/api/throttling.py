"""Per-token throttling (SPEC 4 leaves the rate open): a fixed-window counter per token.

The rate is ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["api_token"]`` (env
``API_THROTTLE_RATE``, default ``6000/min``). A counter costs one Redis round trip per
request (``count_request``), whatever the rate, unlike DRF's SimpleRateThrottle which
stores every request's time. Over the limit: 429 with ``Retry-After`` (seconds until the window ends).

A request refused for its token (401: none, a wrong one, a revoked one) counts against its
client address instead (``refused_authentication_over_rate``, from the API's exception
handler): over the rate, 429 too. The address is ``REMOTE_ADDR``, or behind the proxy
(``BEHIND_PROXY``) the one the proxy appends to ``X-Forwarded-For`` (DRF's ``NUM_PROXIES``):
never an address the client wrote itself.

When the cache (Redis) is down, requests are served unthrottled. The first failure logs its
traceback; while the outage lasts, each request logs one short line; once the cache answers
again that is logged too, and the next outage gets its traceback again (per process).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache.backends.redis import RedisCache
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

from msp_ops.lib.envparse import parse_rate

logger = logging.getLogger(__name__)
SCOPE = "api_token"


class _Outage:
    """Whether this process is in a cache outage (so the traceback is logged once per outage)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.since: float | None = None

    def failed(self, error: Exception) -> None:
        with self._lock:
            first = self.since is None
            if first:
                self.since = time.monotonic()
            since = self.since
        if first:
            logger.warning("API throttle skipped: the cache is unavailable", exc_info=error)
        else:
            reason = " ".join(f"{type(error).__name__}: {error}".split())
            logger.warning(
                "API throttle skipped: the cache is still unavailable (%.0f s, %s)",
                time.monotonic() - since,
                reason,
            )

    def answered(self) -> None:
        if self.since is None:  # the usual case: no lock taken
            return
        with self._lock:
            since, self.since = self.since, None
        if since is not None:
            logger.info("API throttle: the cache answers again after %.0f s", time.monotonic() - since)


outage = _Outage()


def count_request(key: str, timeout: int) -> int:
    """Adds one to the window's counter and returns it: on Redis in one round trip (``INCR``
    and ``EXPIRE`` sent together; the key names its window, so renewing its expiry is harmless),
    elsewhere (the embedded memory cache) through the cache's ``add``/``incr``."""
    cache = caches[DEFAULT_CACHE_ALIAS]
    if isinstance(cache, RedisCache):
        key = cache.make_and_validate_key(key)
        pipe = _redis_client(cache).pipeline(transaction=False)
        pipe.incr(key)
        pipe.expire(key, timeout)
        return pipe.execute()[0]
    if cache.add(key, 1, timeout=timeout):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=timeout)
        return 1


_clients: dict[int, tuple[Any, Any]] = {}  # id(connection pool) -> (pool, client)


def _redis_client(cache: RedisCache) -> Any:
    """The cache's writing Redis client, made once per connection pool: Django's ``get_client``
    builds a new client object on every call (a tenth of the throttle's time in Python)."""
    backend = cache._cache
    pool = backend._get_connection_pool(True)  # the writing one
    kept = _clients.get(id(pool))
    if kept is None or kept[0] is not pool:
        kept = _clients[id(pool)] = (pool, backend._client(connection_pool=pool))
    return kept[1]


class TokenRateThrottle(BaseThrottle):
    def __init__(self) -> None:
        self.limit, self.duration = parse_rate(api_settings.DEFAULT_THROTTLE_RATES[SCOPE])
        self.retry_after: float | None = None

    def allow_request(self, request, view) -> bool:
        token = request.auth
        return self.within_rate(f"token-{token.pk}" if token is not None else self.address(request))

    def within_rate(self, ident: str) -> bool:
        """``counted(ident)``; with the cache (Redis) down, True: served rather than refusing
        every client (the outage logged as the module says)."""
        try:
            allowed = self.counted(ident)
        except Exception as error:
            outage.failed(error)
            return True
        outage.answered()
        return allowed

    def address(self, request) -> str:
        """The counter of requests without a token: the client's address."""
        return f"ip-{self.get_ident(request)}"

    def counted(self, ident: str) -> bool:
        """One more request of ``ident`` in the current window; whether it is within the rate."""
        now = time.time()
        window = int(now // self.duration)
        count = count_request(f"throttle:{SCOPE}:{ident}:{window}", self.duration + 1)
        if count <= self.limit:
            return True
        self.retry_after = (window + 1) * self.duration - now
        return False

    def wait(self) -> float | None:
        return self.retry_after


def refused_authentication_over_rate(request) -> float | None:
    """A request refused for its token (none, a wrong one, a revoked one) counts against its
    client address, as requests without a token do: the seconds to wait once that address is
    over the rate (a script guessing keys gets 429 like a token over its rate), else None.
    With the cache down, None (served as before: 401)."""
    throttle = TokenRateThrottle()
    return None if throttle.within_rate(throttle.address(request)) else throttle.wait()
