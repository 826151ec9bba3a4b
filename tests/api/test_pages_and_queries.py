"""Cursor pages and query counts: lists, batches and the report cost a constant number of
queries whatever their size (SPEC 4; STYLE 11)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audits.models import TimeAudit, TimeEntry
from msp_ops.api.pagination import _keyset_after
from tests.api.conftest import AUDITS, ENTRIES, item, post
from tests.factories import MembershipFactory, TimeAuditFactory, TimeEntryFactory

START = datetime(2025, 1, 6, 8, tzinfo=UTC)


def _batch(count: int, start: datetime) -> list[dict]:
    return [
        item(
            started_at=(start + timedelta(minutes=10 * n)).isoformat(),
            ended_at=(start + timedelta(minutes=10 * n + 9)).isoformat(),
            external_id=f"q{start:%j}-{n}",
            category="tickets" if n % 2 else "sales",
            tags=["repetitive"],
        )
        for n in range(count)
    ]


@pytest.fixture
def warm_api(api):
    """The founder's client after one request (the first one records the token's last use)."""
    api.get(AUDITS)
    return api


def test_pages_follow_next_and_previous_in_a_stable_order(api, founder, org):
    # Three entries share a start (different members), so the order falls back to id.
    same = datetime(2025, 1, 6, 9, tzinfo=UTC)
    entries = [
        TimeEntryFactory(organization=org, user=founder, started_at=START + timedelta(hours=n))
        for n in range(4)
    ]
    for username in ("m1", "m2"):
        member = MembershipFactory(organization=org, user__username=username).user
        entries.append(TimeEntryFactory(organization=org, user=member, started_at=same))
    expected = [e.pk for e in sorted(entries, key=lambda e: (e.started_at, e.pk))]

    seen, url, pages = [], f"{ENTRIES}?page_size=2", 0
    while url:
        body = api.get(url).json()
        assert set(body) == {"next", "previous", "results"}
        seen += [e["id"] for e in body["results"]]
        url, pages = body["next"], pages + 1
        if pages == 2:
            previous = api.get(body["previous"]).json()
            assert [e["id"] for e in previous["results"]] == expected[:2]
    assert seen == expected
    assert pages == 3


@pytest.mark.parametrize(
    "order", [("started_at", "id"), ("-started_at", "-id"), ("started_at", "-id"), ("-started_at", "id")]
)
def test_the_rows_after_a_cursor_are_exactly_those_after_it_in_the_order(order, founder, org):
    # Led by the first field's bound for the index; ties on it still fall back to the second.
    members = [founder] + [MembershipFactory(organization=org).user for _ in range(2)]
    for n in range(4):
        for member in members[: 1 + n % 3]:
            TimeEntryFactory(organization=org, user=member, started_at=START + timedelta(hours=n))
    # The database's own order (it ends with the unique id) is the oracle.
    ordered = list(TimeEntry.objects.filter(organization=org).order_by(*order))
    assert len({e.started_at for e in ordered}) < len(ordered)  # ties on the first field
    for position, cursor in enumerate(ordered):
        values = [getattr(cursor, f.lstrip("-")) for f in order]
        after = TimeEntry.objects.filter(organization=org).filter(_keyset_after(order, values))
        assert sorted(e.pk for e in after) == sorted(e.pk for e in ordered[position + 1 :])


@pytest.mark.parametrize("size", ["0", "1001", "ten", "-5"])
def test_page_size_must_be_1_to_1000(api, size):
    response = api.get(ENTRIES, {"page_size": size})

    assert response.status_code == 400
    assert response.json() == {"page_size": ["Give a whole number from 1 to 1000."]}


def test_a_damaged_cursor_is_400(api):
    response = api.get(ENTRIES, {"cursor": "bm90IGEgY3Vyc29y"})

    assert response.status_code == 400
    assert response.json() == {"cursor": ["Invalid cursor: use the `next` or `previous` URL as given."]}


@pytest.mark.parametrize("rows", [1, 60])
def test_entry_list_query_count_does_not_grow(rows, warm_api, founder, org, django_assert_num_queries):
    TimeEntryFactory.create_batch(rows, organization=org, user=founder)
    with django_assert_num_queries(2):  # token (with member, org, user), page (with user, category)
        response = warm_api.get(ENTRIES, {"page_size": 1000, "tag": "repetitive", "user": "fran"})
    assert response.status_code == 200


@pytest.mark.parametrize("rows", [1, 30])
def test_audit_list_query_count_does_not_grow(rows, warm_api, founder, org, django_assert_num_queries):
    for n in range(rows):
        TimeAuditFactory(organization=org, user=founder, start_date=START.date() + timedelta(days=7 * n))
    with django_assert_num_queries(2):  # token, page (with user)
        response = warm_api.get(AUDITS, {"page_size": 1000})
    assert len(response.json()["results"]) == rows


@pytest.mark.parametrize("rows", [1, 40])
def test_report_query_count_does_not_grow(rows, warm_api, founder, org, django_assert_num_queries):
    audit = TimeAuditFactory(organization=org, user=founder, start_date=START.date())
    TimeEntryFactory.create_batch(rows, organization=org, user=founder)
    with django_assert_num_queries(4):  # token, audit (with user, org), report's two aggregates
        assert warm_api.get(f"{AUDITS}{audit.pk}/report/").status_code == 200


def test_a_batch_of_500_costs_the_queries_of_a_batch_of_1(warm_api, founder, org):
    counts = []
    batches = [(1, datetime(2025, 2, 3, tzinfo=UTC)), (1, datetime(2025, 2, 10, tzinfo=UTC))]
    for size, start in [*batches, (500, datetime(2025, 3, 3, tzinfo=UTC))]:
        with CaptureQueriesContext(connection) as queries:
            response = post(warm_api, ENTRIES, _batch(size, start))
        assert response.status_code == 201
        counts.append(len(queries))
    # token, stored external ids, and the write: SAVEPOINT, INSERT ... ON CONFLICT, RELEASE
    # (outside a test's transaction the one statement needs no transaction at all). The
    # organization's categories are read by the first write only (kept while its
    # categories_version is unchanged). Members and overlaps cost nothing here: the token's own
    # member, and the exclusion constraint checks the stored entries (the query runs only on a
    # refusal).
    assert counts == [6, 5, 5], counts
    assert TimeEntry.objects.count() == 502

    # A replay of the 500 (all updates by external_id) stays as cheap.
    with CaptureQueriesContext(connection) as queries:
        assert post(warm_api, ENTRIES, _batch(500, datetime(2025, 3, 3, tzinfo=UTC))).status_code == 200
    assert len(queries) <= counts[1] + 1
    assert TimeEntry.objects.count() == 502


def test_a_batch_of_1000_audits_costs_the_queries_of_one(warm_api, founder, org):
    counts = []
    for size, first in [(1, START.date()), (1000, START.date() + timedelta(days=7))]:
        body = [{"start_date": (first + timedelta(days=n)).isoformat()} for n in range(size)]
        with CaptureQueriesContext(connection) as queries:
            response = post(warm_api, AUDITS, body)
        assert response.status_code == 201, response.content[:300]
        counts.append(len(queries))
    # token, members, audits already started, and the write: SAVEPOINT, INSERT (two of 500
    # for the big batch), RELEASE.
    assert counts == [6, 7], counts
    assert TimeAudit.objects.count() == 1001
