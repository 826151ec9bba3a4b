"""Per-token throttling (SPEC 4): over the rate, 429 with Retry-After; other tokens go on."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from django.core.cache import cache

from tests.api.conftest import ENTRIES


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
