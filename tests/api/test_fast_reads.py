"""Every list endpoint's page, read as rows (``msp_ops.api.fastread``), equals the object path's
answer (``prepare()`` and the serializer's ``to_representation``) field for field and byte for
byte, with null, empty and non-ASCII values; and the JSON renderer (orjson) writes what DRF's
wrote. Issue 12 item 1."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.renderers import JSONRenderer

from audits.models import Category, Source
from delegation.models import BlockKind, Channel, DelegateKind, FollowUp
from msp_ops import plugins
from msp_ops.api.fastread import ReadPlan
from msp_ops.api.renderers import OrjsonRenderer
from msp_ops.api.viewsets import OrgScopedViewSet
from tests.factories import (
    DelegateFactory,
    DelegationFactory,
    DrillFactory,
    InterruptionFactory,
    MembershipFactory,
    RunbookFactory,
    TicketFactory,
    TimeAuditFactory,
    TimeBlockFactory,
    TimeEntryFactory,
    TodoFactory,
)

ODD = "Zoë’s café — 日本語 ☕ \u2028 \U0001f600"  # non-ASCII, a line separator, outside the BMP
# Every control character (NUL is refused at input), DEL, quotes, backslashes, a slash, HTML's
# specials, the other line separator, a BOM and NEL: each escaped (or not) as DRF's json did.
CONTROLS = (
    "".join(map(chr, range(1, 32))) + "\x7f \"quoted\" 'single' back\\slash /path <a>&amp; \u2029 \ufeff \x85"
)
# The endpoints whose answer needs Python beyond the columns (named here, so a new list
# endpoint is on the fast path unless it is added to this set with its reason).
OBJECT_PATH = {"delegation"}  # hours_freed_per_week: computed for the page in prepare()


def list_routes() -> list[tuple[str, type, str]]:
    return [
        route
        for route in plugins.api_routes()
        if issubclass(route[1], OrgScopedViewSet) and "list" in dir(route[1])
    ]


@pytest.fixture
def everything(org, founder):
    """Rows of every list endpoint, with nulls, blanks and non-ASCII text where a field has them."""
    other = MembershipFactory(organization=org, user__username="zoë", role="technician").user
    tickets = Category.objects.get(organization=org, slug="tickets")
    start = datetime(2025, 3, 3, 15, tzinfo=UTC)
    TimeEntryFactory(organization=org, user=founder, category=tickets, started_at=start,
                     ended_at=start + timedelta(minutes=45), activity=ODD, client=ODD, notes=ODD,
                     tag_repetitive=True, tag_owner_by_habit=True, urgent=True, important=False,
                     external_id=ODD, source=Source.API)  # fmt: skip
    TimeEntryFactory(organization=org, user=other, category=tickets, started_at=start,
                     ended_at=start + timedelta(hours=23, minutes=59, seconds=59, microseconds=999_999),
                     activity="x", client="", ticket_ref="", notes="", urgent=None, important=None,
                     external_id=None)  # fmt: skip
    # Odd lengths (a microsecond off whole seconds); the other member's entry ties on started_at.
    for n in range(3):
        begin = start + timedelta(days=3, minutes=2 * n, microseconds=n)
        TimeEntryFactory(organization=org, user=founder, category=tickets, started_at=begin,
                         ended_at=begin + timedelta(seconds=18 * (n + 1) + 9),
                         tag_repetitive=True, tag_outsourceable=True, tag_systemizable=True,
                         tag_owner_by_habit=True, external_id="" if n == 0 else None)  # fmt: skip
    TimeAuditFactory(organization=org, user=founder, start_date=date(2025, 3, 3))
    TimeAuditFactory(organization=org, user=other, start_date=date(1900, 1, 1))
    runbook = RunbookFactory(organization=org, ticket_category=ODD, title="", updated_by=founder,
                             last_reviewed=date(2025, 2, 1))  # fmt: skip
    RunbookFactory(organization=org, ticket_category="VPN", updated_by=None, last_reviewed=None)
    DrillFactory(organization=org, starts_at=start - timedelta(days=40), completed_at=start, notes=ODD)
    DrillFactory(organization=org, starts_at=start - timedelta(days=1), notes="")  # running or in review
    DrillFactory(organization=org, starts_at=start + timedelta(days=3650))  # scheduled
    TimeBlockFactory(organization=org, user=founder, kind=BlockKind.OWNER_ESCALATIONS, weekday=1,
                     start_time=time(9, 0), end_time=time(10, 30))  # fmt: skip
    TimeBlockFactory(organization=org, user=other, kind=BlockKind.OWNER_ESCALATIONS, weekday=7,
                     start_time=time(0, 0), end_time=time(23, 59))  # fmt: skip
    InterruptionFactory(organization=org, logged_by=founder, occurred_at=start, channel=Channel.CALL,
                        ticket_ref=ODD, client="", category=ODD, requested_by="", owner_level=None,
                        follow_up=FollowUp.RUNBOOK_UPDATED, runbook=runbook, notes=ODD,
                        external_id=ODD)  # fmt: skip
    InterruptionFactory(organization=org, logged_by=other, occurred_at=start - timedelta(hours=23),
                        about_ticket=False, owner_level=True, runbook=None, external_id=None)  # fmt: skip
    InterruptionFactory(organization=org, logged_by=founder, occurred_at=start - timedelta(days=39),
                        owner_level=False, external_id="")  # fmt: skip
    DelegateFactory(organization=org, name=ODD, kind=DelegateKind.TECHNICIAN, email="", hourly_cost=None)
    DelegateFactory(organization=org, name="Tess", email="tess@example.com", hourly_cost=Decimal("85.50"),
                    active=False)  # fmt: skip
    DelegationFactory(organization=org, title=ODD)
    TicketFactory(organization=org, title=ODD, client="", category="", team=ODD, closed_at=None)
    # Opened at ``start``: in a long run the factory's hourly sequence of opening times passes the close.
    TicketFactory(organization=org, external_id=ODD, opened_at=start,
                  closed_at=start + timedelta(days=2, microseconds=7))  # fmt: skip
    TodoFactory(organization=org, owner=founder, title=ODD, ticket_category="", done=False)
    TodoFactory(organization=org, owner=other, ticket_category=ODD, done=True)


def object_path_answer(api, monkeypatch, viewset, url: str):
    with monkeypatch.context() as patch:
        patch.setattr(viewset, "_read_plan_cache", False, raising=False)  # no plan: the object path
        return api.get(url)


@pytest.mark.parametrize(("prefix", "viewset", "basename"), list_routes(), ids=lambda v: str(v))
def test_a_list_page_as_rows_equals_the_serializers_answer(
    api, everything, monkeypatch, prefix, viewset, basename
):
    if basename in OBJECT_PATH:
        assert ReadPlan.for_viewset(viewset) is None
    else:
        assert ReadPlan.for_viewset(viewset) is not None, f"/{prefix}/ is not on the fast path"
    for query in ("?page_size=1000", "?page_size=2"):
        url = f"/api/v1/{prefix}/{query}"
        fast = api.get(url)
        slow = object_path_answer(api, monkeypatch, viewset, url)
        assert fast.status_code == slow.status_code == 200
        assert fast.content == slow.content
        results = json.loads(fast.content)["results"]
        assert results, f"/{prefix}/ has no rows to compare"
        # Every field of the serializer is in the answer, and the rows span nulls and blanks.
        serializer_fields = {
            name for name, field in viewset.serializer_class().fields.items() if not field.write_only
        }
        assert set(results[0]) == serializer_fields
    # And the next page (from the rows' cursor) too.
    first = json.loads(api.get(f"/api/v1/{prefix}/?page_size=1").content)
    if first["next"]:
        assert (
            api.get(first["next"]).content
            == object_path_answer(api, monkeypatch, viewset, first["next"]).content
        )


def test_the_rows_hold_nulls_blanks_and_non_ascii_text(api, everything):
    entries = json.loads(api.get("/api/v1/time-entries/?page_size=1000").content)["results"]
    assert {e["urgent"] for e in entries} == {True, None}
    assert {e["external_id"] for e in entries} >= {None, "", ODD}
    assert ODD in {e["activity"] for e in entries}
    assert {tuple(e["tags"]) for e in entries} >= {(), ("repetitive", "owner_by_habit")}
    assert {e["duration_hours"] for e in entries} >= {0.75, 24.0, 0.01}
    raw = api.get("/api/v1/interruptions/?page_size=1000").content
    assert b"\\u2028" in raw  # DRF's escape
    assert "日本語".encode() in raw  # UTF-8 otherwise
    interruptions = json.loads(raw)["results"]
    assert {i["runbook"] is None for i in interruptions} == {True, False}
    assert {i["owner_level"] for i in interruptions} == {True, False, None}
    delegates = json.loads(api.get("/api/v1/delegates/").content)["results"]
    assert {d["email"] for d in delegates} == {None, "tess@example.com"}
    assert {d["hourly_cost"] for d in delegates} == {None, 85.5}
    drills = json.loads(api.get("/api/v1/drills/").content)["results"]
    assert {d["status"] for d in drills} >= {"complete", "scheduled"}
    runbooks = json.loads(api.get("/api/v1/runbooks/").content)["results"]
    assert {r["updated_by"] for r in runbooks} == {None, "fran"}


@pytest.mark.parametrize("count", [1, 30])
def test_a_list_page_costs_two_queries_whatever_its_size(api, org, founder, count, django_assert_num_queries):
    tickets = Category.objects.get(organization=org, slug="tickets")
    for _ in range(count):
        TimeEntryFactory(organization=org, user=founder, category=tickets)
    api.get("/api/v1/time-entries/")  # warm: the connection's health check is not counted
    with django_assert_num_queries(2):  # token (with member, org, user), the page's rows
        assert len(json.loads(api.get("/api/v1/time-entries/?page_size=1000").content)["results"]) == count


@pytest.mark.parametrize(("prefix", "viewset", "basename"), list_routes(), ids=lambda v: str(v))
def test_each_list_costs_the_queries_of_the_object_path(
    api, everything, monkeypatch, prefix, viewset, basename
):
    url = f"/api/v1/{prefix}/?page_size=1000"
    api.get(url)
    with CaptureQueriesContext(connection) as fast:
        api.get(url)
    with CaptureQueriesContext(connection) as slow:
        object_path_answer(api, monkeypatch, viewset, url)
    assert len(fast.captured_queries) <= len(slow.captured_queries) <= 3


# --- the renderer --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        {"detail": "Not found."},
        [{}, {"ended_at": ["The entry must end after it starts."]}],
        {"a": ODD, "b": [1, 2.5, None, True, False], "c": {"d": "\u2029"}},
        {"controls": CONTROLS, "nested": [CONTROLS, {"k": CONTROLS}], CONTROLS: "as a key"},
        {"when": datetime(2025, 3, 3, 9, 0, 0, 123456, tzinfo=UTC), "day": date(2025, 3, 3), "t": time(9, 5)},
        {"amount": Decimal("12.30"), "big": 2**70, "nested": [[[]]], "empty": ""},
        {1: "int key", None: "null key"},
    ],
)
def test_the_renderer_writes_what_drfs_json_renderer_wrote(data):
    assert OrjsonRenderer().render(data) == JSONRenderer().render(data)


def test_indented_answers_and_errors_still_render(api, everything):
    indented = api.get("/api/v1/tickets/", HTTP_ACCEPT="application/json; indent=2")
    assert indented.status_code == 200
    assert b'\n  "next"' in indented.content
    missing = api.get("/api/v1/time-entries/999999/")
    assert missing.status_code == 404
    assert missing.json() == {"detail": "No TimeEntry matches the given query."}
    refused = api.post("/api/v1/time-entries/", "[]", content_type="application/json")
    assert refused.status_code == 400
    assert "non_field_errors" in refused.json()
    assert api.get("/api/v1/time-entries/?page_size=0").json() == {
        "page_size": ["Give a whole number from 1 to 1000."]
    }
    schema = api.get("/api/schema/?format=json")
    assert schema.status_code == 200
    assert schema.json()["info"]["title"] == "msp-ops API"
    assert api.get("/api/docs/").status_code == 200


def test_the_user_filter_reads_by_the_members_id(api, org, founder, manager, django_assert_num_queries):
    """``?user=`` filters on ``user_id`` (PostgreSQL then plans from its statistics of the
    column and reads the member's entries in order from the index): the token's own member
    costs no query, another member one lookup, an unknown username finds nothing."""
    tickets = Category.objects.get(organization=org, slug="tickets")
    for user in (founder, manager, founder):
        TimeEntryFactory(organization=org, user=user, category=tickets)
    api.get("/api/v1/time-entries/")
    with django_assert_num_queries(2) as own:  # token, page
        mine = json.loads(api.get("/api/v1/time-entries/?user=fran").content)["results"]
    assert [e["user"] for e in mine] == ["fran", "fran"]
    assert f'"audits_timeentry"."user_id" = {founder.pk}' in own.captured_queries[-1]["sql"]
    with django_assert_num_queries(3):  # token, the username's id, page
        theirs = json.loads(api.get("/api/v1/time-entries/?user=sam").content)["results"]
    assert [e["user"] for e in theirs] == ["sam"]
    assert json.loads(api.get("/api/v1/time-entries/?user=nobody").content)["results"] == []


@pytest.mark.parametrize("zone", ["Africa/Monrovia", "Europe/Amsterdam", "Asia/Kolkata", "UTC"])
def test_timestamps_read_as_rows_keep_offsets_with_seconds(api, org, founder, monkeypatch, zone):
    """orjson writes offsets in whole minutes; the times a zone had an offset with seconds
    (local mean time, e.g. Monrovia -00:44:30 until 1972) keep ``isoformat``'s text."""
    org.timezone = zone
    org.save()
    tickets = Category.objects.get(organization=org, slug="tickets")
    for year in (1900, 1920, 1937, 1950, 1972, 2025):
        begin = datetime(year, 1, 6, 23, 30, 15, 250, tzinfo=UTC)
        TimeEntryFactory(organization=org, user=founder, category=tickets, started_at=begin,
                         ended_at=begin + timedelta(days=1) - timedelta(seconds=1))  # fmt: skip
    url = "/api/v1/time-entries/?page_size=1000"
    fast = api.get(url).content
    assert fast == object_path_answer(api, monkeypatch, type_of("time-entry"), url).content
    if zone == "Africa/Monrovia":
        assert b"-00:44:30" in fast
        assert b"+00:00" in fast


def type_of(basename: str) -> type:
    return next(viewset for _, viewset, name in list_routes() if name == basename)


def test_text_with_controls_quotes_and_backslashes_reads_as_the_serializers(api, org, founder, monkeypatch):
    tickets = Category.objects.get(organization=org, slug="tickets")
    TimeEntryFactory(organization=org, user=founder, category=tickets, activity=CONTROLS, client=CONTROLS,
                     ticket_ref=CONTROLS, notes=CONTROLS, external_id=CONTROLS)  # fmt: skip
    InterruptionFactory(organization=org, logged_by=founder, ticket_ref=CONTROLS, client=CONTROLS,
                        category=CONTROLS, requested_by=CONTROLS, notes=CONTROLS,
                        external_id=CONTROLS)  # fmt: skip
    TicketFactory(organization=org, external_id=CONTROLS, title=CONTROLS, client=CONTROLS,
                  category=CONTROLS, team=CONTROLS)  # fmt: skip
    for prefix, basename in (
        ("time-entries", "time-entry"),
        ("interruptions", "interruption"),
        ("tickets", "ticket"),
    ):
        url = f"/api/v1/{prefix}/"
        fast = api.get(url).content
        assert fast == object_path_answer(api, monkeypatch, type_of(basename), url).content
        assert b"\\u0001\\u0002" in fast
        assert b"\\\"quoted\\\" 'single' back\\\\slash /path" in fast
        assert json.loads(fast)["results"][0]["notes" if prefix != "tickets" else "title"] == CONTROLS


@pytest.mark.parametrize(
    "zone",
    ["America/Chicago", "Asia/Kathmandu", "America/St_Johns", "Australia/Lord_Howe", "Pacific/Chatham",
     "Europe/Dublin", "America/Caracas"],
)  # fmt: skip
def test_timestamps_across_dst_changes_and_odd_offsets_read_as_the_serializers(
    api, org, founder, monkeypatch, zone
):
    """Half- and quarter-hour offsets, a half-hour DST (Lord Howe), a negative DST (Dublin's
    winter time), an offset changed twice in a decade (Caracas), either side of DST changes,
    and the ends of the years the API takes."""
    org.timezone = zone
    org.save()
    tickets = Category.objects.get(organization=org, slug="tickets")
    micro = timedelta(microseconds=1)
    moments = [
        datetime(1900, 1, 1, 0, 0, 0, tzinfo=UTC),
        datetime(1945, 7, 1, 12, 0, 0, 1, tzinfo=UTC),
        datetime(2007, 12, 9, 6, 59, 59, tzinfo=UTC),
        datetime(2016, 5, 1, 6, 30, 0, tzinfo=UTC),
        *(datetime(2025, month, day, hour, tzinfo=UTC) + shift
          for month, day, hour in ((3, 9, 8), (3, 30, 1), (4, 6, 2), (10, 26, 1), (11, 2, 7))
          for shift in (-micro, timedelta(0))),
        datetime(2999, 7, 1, 12, 0, 0, 999_999, tzinfo=UTC),
    ]  # fmt: skip
    for begin, end in zip(moments, [*moments[1:], moments[-1] + timedelta(hours=1)], strict=True):
        TimeEntryFactory(organization=org, user=founder, category=tickets, started_at=begin,
                         ended_at=min(end, begin + timedelta(hours=23)))  # fmt: skip
    url = "/api/v1/time-entries/?page_size=1000"
    fast = api.get(url).content
    assert fast == object_path_answer(api, monkeypatch, type_of("time-entry"), url).content
    assert len(json.loads(fast)["results"]) == len(moments)
