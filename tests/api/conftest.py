"""API clients for each role, and small helpers shared by the API tests."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from tests.conftest import api_client_for

ENTRIES = "/api/v1/time-entries/"
AUDITS = "/api/v1/audits/"


@pytest.fixture
def manager_api(manager_membership) -> Client:
    return api_client_for(manager_membership)


@pytest.fixture
def tech_api(tech_membership) -> Client:
    return api_client_for(tech_membership)


@pytest.fixture
def viewer_api(viewer_membership) -> Client:
    return api_client_for(viewer_membership)


@pytest.fixture
def stranger_api(stranger_membership) -> Client:
    return api_client_for(stranger_membership)


def post(client: Client, url: str, data: Any):
    return client.post(url, json.dumps(data), content_type="application/json")


def patch(client: Client, url: str, data: Any):
    return client.patch(url, json.dumps(data), content_type="application/json")


def put(client: Client, url: str, data: Any):
    return client.put(url, json.dumps(data), content_type="application/json")


def item(**overrides: Any) -> dict[str, Any]:
    """A valid entry: Monday 2025-03-03 09:00-10:15 in Chicago (1.25 h)."""
    return {
        "started_at": "2025-03-03T09:00:00-06:00",
        "ended_at": "2025-03-03T10:15:00-06:00",
        "activity": "Backup check",
        **overrides,
    }


def at(hour: int, minute: int = 0, day: int = 3) -> str:
    """A Chicago time on 2025-03-<day> (CST, -06:00)."""
    return f"2025-03-{day:02d}T{hour:02d}:{minute:02d}:00-06:00"
