"""Per-token throttling (SPEC 4): over the rate, 429 with Retry-After; other tokens go on."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from django.core.cache import cache

from tests.api.conftest import ENTRIES, item, post


@pytest.fixture
def three_per_minute(settings):
    cache.clear()
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"api_token": "3/min"}}
    yield
    cache.clear()


def test_the_fourth_request_in_a_minute_is_429_with_retry_after(three_per_minute, api, viewer_api):
    with time_machine.travel(datetime(2025, 3, 3, 15, 0, 20, tzinfo=UTC), tick=False):
        assert [api.get(ENTRIES).status_code for _ in range(3)] == [200, 200, 200]

        refused = api.get(ENTRIES)

        assert refused.status_code == 429
        assert refused.headers["Retry-After"] == "40"  # the window ends at 15:01:00
        assert refused.json() == {"detail": "Request was throttled. Expected available in 40 seconds."}
        assert viewer_api.get(ENTRIES).status_code == 200  # another token has its own count

    with time_machine.travel(datetime(2025, 3, 3, 15, 1, 0, tzinfo=UTC), tick=False):
        assert api.get(ENTRIES).status_code == 200


def test_the_counters_live_in_the_real_redis(three_per_minute, api):
    # Every web process shares the count: it is kept in Redis, not in process memory.
    import os

    import redis

    api.get(ENTRIES)
    keys = redis.Redis.from_url(os.environ["REDIS_URL"]).keys("msp-ops:*throttle:api_token:token-*")
    assert len(keys) == 1


def test_a_push_still_succeeds_when_redis_is_down(settings, api, founder):
    # SPEC 3: writes never wait on Redis. Point the cache at a port where nothing listens.
    from tests.harness import free_port

    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    response = post(api, ENTRIES, item())
    assert response.status_code == 201
    assert founder.time_entries.count() == 1
