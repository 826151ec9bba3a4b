"""The batch fast path (StrictSerializer.fast_validated) accepts exactly what DRF accepts,
with the same validated data, and leaves everything else to DRF's own messages."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from audits.api.serializers import AuditSerializer, TimeEntrySerializer
from tests.api.conftest import item


def _serializer(cls, membership, items):
    request = RequestFactory().post("/")
    request.user, request.org = membership.user, membership.organization
    context = {
        "request": request,
        "org": request.org,
        "tz": request.org.tz,
        **cls.batch_context(items, request),
    }
    return cls(context=context)


VALID = [
    item(),
    item(user="sam", category="tickets", tags=["systemizable", "repetitive", "repetitive"]),
    item(activity="  padded  ", client="", notes="", urgent=None, important=False, external_id=None),
    item(handling="delegated", source="import", ticket_ref="T-9", external_id=""),
    item(activity="Café déjà vu"),  # not ASCII: DRF's path, same result
    item(started_at="2025-03-03T15:00:00Z", ended_at="2025-03-03T15:00:01+00:00"),
]
REFUSED = [
    item(activity=""),
    item(activity="x" * 501),
    item(handling="outsourced"),
    item(urgent="true"),
    item(user="nobody"),
    item(category="nope"),
    item(tags=["boring"]),
    item(started_at="2025-03-03T09:00:00"),
    item(ended_at="2025-03-03T08:00:00-06:00"),
    item(extra=1),
    {"activity": "no times"},
    "not an object",
    item(activity="nul\x00byte"),
]


@pytest.mark.parametrize("data", VALID)
def test_fast_path_gives_drfs_validated_data(founder_membership, manager, data):
    serializer = _serializer(TimeEntrySerializer, founder_membership, [data])

    assert serializer.fast_validated(data) == dict(serializer.run_validation(data))


@pytest.mark.parametrize("data", REFUSED)
def test_fast_path_leaves_refusals_to_drf(founder_membership, data):
    serializer = _serializer(TimeEntrySerializer, founder_membership, [data])

    assert serializer.fast_validated(data) is None


def test_read_only_fields_go_through_drf(founder_membership):
    data = item(id=5, duration_hours=1.0)
    serializer = _serializer(TimeEntrySerializer, founder_membership, [data])

    assert serializer.fast_validated(data) is None
    assert "id" not in serializer.run_validation(data)


def test_audits_use_the_same_path(founder_membership):
    data = {"start_date": "2025-03-03"}
    serializer = _serializer(AuditSerializer, founder_membership, [data])

    assert serializer.fast_validated(data) == dict(serializer.run_validation(data))


def test_fast_path_builds_no_fields_per_serializer(founder_membership):
    TimeEntrySerializer._fast_field_checks()  # once per class
    data = item(category="tickets")
    serializer = _serializer(TimeEntrySerializer, founder_membership, [data])

    assert serializer.fast_validated(data)["category"].slug == "tickets"
    assert "fields" not in serializer.__dict__  # DRF's per-serializer deep copy of every field
