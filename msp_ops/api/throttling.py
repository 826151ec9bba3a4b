"""Per-token throttling (SPEC 4 leaves the rate open): a fixed-window counter per token.

The rate is ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["api_token"]`` (env
``API_THROTTLE_RATE``, default ``6000/min``). A counter costs one cache ``incr`` per request,
whatever the rate, unlike DRF's SimpleRateThrottle which stores every request's time.
Over the limit: 429 with ``Retry-After`` (seconds until the window ends).
"""

from __future__ import annotations

import logging
import time

from django.core.cache import cache
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

logger = logging.getLogger(__name__)
SCOPE = "api_token"
DURATIONS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """``"6000/min"`` -> (6000, 60)."""
    count, period = rate.split("/")
    return int(count), DURATIONS[period[0].lower()]


class TokenRateThrottle(BaseThrottle):
    def __init__(self) -> None:
        self.limit, self.duration = parse_rate(api_settings.DEFAULT_THROTTLE_RATES[SCOPE])
        self.retry_after: float | None = None

    def allow_request(self, request, view) -> bool:
        try:
            return self._allow(request)
        except Exception:  # the cache (Redis) is down: serve rather than refuse every client
            logger.warning("API throttle skipped: the cache is unavailable", exc_info=True)
            return True

    def _allow(self, request) -> bool:
        token = request.auth
        ident = f"token-{token.pk}" if token is not None else f"ip-{self.get_ident(request)}"
        now = time.time()
        window = int(now // self.duration)
        key = f"throttle:{SCOPE}:{ident}:{window}"
        if cache.add(key, 1, timeout=self.duration + 1):
            count = 1
        else:
            try:
                count = cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.add(key, 1, timeout=self.duration + 1)
                count = 1
        if count <= self.limit:
            return True
        self.retry_after = (window + 1) * self.duration - now
        return False

    def wait(self) -> float | None:
        return self.retry_after
