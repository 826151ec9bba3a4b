"""Per-token throttling (SPEC 4): over the rate, 429 with Retry-After; other tokens go on."""

from __future__ import annotations

import logging
import re
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


def test_requests_refused_for_their_token_count_against_the_address(three_per_minute, api, db):
    # A script guessing keys: 401 three times, then 429 for the address, whatever it sends in
    # X-Forwarded-For (not behind a proxy: REMOTE_ADDR); a valid token keeps its own count.
    from django.test import Client

    guesser = Client(HTTP_AUTHORIZATION="Token not-a-key-" + "x" * 30)
    with time_machine.travel(datetime(2025, 3, 3, 15, 0, 20, tzinfo=UTC), tick=False):
        assert [guesser.get(ENTRIES).status_code for _ in range(2)] == [401, 401]
        assert Client().get(ENTRIES).status_code == 401  # no token at all: the same address
        refused = guesser.get(ENTRIES, HTTP_X_FORWARDED_FOR="203.0.113.7")
        assert refused.status_code == 429
        assert refused.headers["Retry-After"] == "40"
        assert refused.json() == {"detail": "Request was throttled. Expected available in 40 seconds."}
        assert Client(HTTP_AUTHORIZATION="Token revoked").get(ENTRIES).status_code == 429
        assert api.get(ENTRIES).status_code == 200

    with time_machine.travel(datetime(2025, 3, 3, 15, 1, 0, tzinfo=UTC), tick=False):
        assert guesser.get(ENTRIES).status_code == 401  # a new window


def test_behind_the_proxy_the_address_is_the_one_it_appended(settings):
    from rest_framework.settings import api_settings
    from rest_framework.test import APIRequestFactory

    from msp_ops.api.throttling import TokenRateThrottle

    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    api_settings.reload()
    try:
        request = APIRequestFactory().get(ENTRIES, HTTP_X_FORWARDED_FOR="198.51.100.9, 203.0.113.7")
        assert TokenRateThrottle().address(request) == "ip-203.0.113.7"  # not the client's 198.51.100.9
    finally:
        settings.REST_FRAMEWORK = {k: v for k, v in settings.REST_FRAMEWORK.items() if k != "NUM_PROXIES"}
        api_settings.reload()


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


def test_an_outage_logs_its_traceback_once_then_one_line_per_request(settings, api, caplog):
    from msp_ops.api import throttling
    from tests.harness import free_port

    working = settings.CACHES
    dead = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    throttling.outage.since = None  # no outage left over from another test in this process

    def throttle_log(requests: int) -> list[tuple[str, bool, str]]:
        caplog.clear()
        with caplog.at_level(logging.INFO, logger=throttling.logger.name):
            assert all(api.get(ENTRIES).status_code == 200 for _ in range(requests))
        return [
            (r.levelname, r.exc_info is not None, r.getMessage())
            for r in caplog.records
            if r.name == throttling.logger.name
        ]

    settings.CACHES = dead
    first_outage = throttle_log(3)
    settings.CACHES = working
    recovered = throttle_log(2)
    settings.CACHES = dead
    second_outage = throttle_log(2)

    assert first_outage[0] == ("WARNING", True, "API throttle skipped: the cache is unavailable")
    assert [(level, tb) for level, tb, _ in first_outage[1:]] == [("WARNING", False), ("WARNING", False)]
    for _, _, message in first_outage[1:]:
        assert re.fullmatch(
            r"API throttle skipped: the cache is still unavailable \(\d+ s, ConnectionError: .+\)", message
        ), message
        assert "\n" not in message
    assert len(recovered) == 1
    assert re.fullmatch(r"API throttle: the cache answers again after \d+ s", recovered[0][2])
    assert recovered[0][:2] == ("INFO", False)
    assert [tb for _, tb, _ in second_outage] == [True, False]  # a new outage: its traceback again
