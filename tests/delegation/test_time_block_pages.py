"""The weekly plan: the week grid, add, move, remove, overlap refusals, the week's out-of-window
count; roles and other orgs."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest

from delegation.models import BlockKind, Interruption, TimeBlock
from delegation.services import record_interruption, save_time_blocks
from msp_ops.orgs.models import Role
from tests.factories import MembershipFactory, TimeBlockFactory
from tests.pages import client_for, pinned_clock

CHI = ZoneInfo("America/Chicago")
NOW = datetime(2025, 3, 4, 11, 20, tzinfo=CHI)  # Tuesday, the week of 2025-03-03
HTMX = {"HTTP_HX_REQUEST": "true"}
PLAN = "/delegation/time-blocks/"


_pinned_clock = pinned_clock(NOW)


def block(org, user, weekday=1, start=time(13), end=time(14), kind=BlockKind.OWNER_ESCALATIONS) -> TimeBlock:
    item = TimeBlock(user=user, kind=kind, weekday=weekday, start_time=start, end_time=end)
    return save_time_blocks(org=org, blocks=[item])[0].obj


def log(org, user, when) -> Interruption:
    return record_interruption(
        org=org, interruption=Interruption(occurred_at=when, channel="call", logged_by=user)
    )


def body(response) -> str:
    return response.content.decode()


def add(client, **fields):
    data = {"kind": "owner_escalations", "weekday": "1", "start_time": "09:00", "end_time": "10:00", **fields}
    return client.post(PLAN, data, **HTMX)


# --- the grid -----------------------------------------------------------------------------


def test_the_grid_places_blocks_by_time(founder_client, org, founder):
    morning = block(org, founder, weekday=1, start=time(9), end=time(10, 30), kind=BlockKind.SALES_RETENTION)
    block(org, founder, weekday=3, start=time(13), end=time(14))
    page = body(founder_client.get(PLAN))
    assert "Weekly plan · fran · 3 Mar – 9 Mar 2025" in page
    for name in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"):
        assert f'aria-label="{name}"' in page
    # The grid shows 07:00-19:00 (12 h): 09:00 is 2/12 down, 1.5 h tall.
    assert f'id="block-{morning.pk}" style="top: 16.667%; height: 12.500%; order: 540"' in page
    assert "Sales and retention" in page
    assert "09:00–10:30" in page
    assert "--grid-height: 36.00rem" in page


def test_the_grid_grows_for_early_blocks(founder_client, org, founder):
    early = block(org, founder, start=time(5, 30), end=time(6))
    page = body(founder_client.get(PLAN))
    # 05:00-19:00 (14 h): 05:30 is half an hour down.
    assert f'id="block-{early.pk}" style="top: 3.571%; height: 3.571%; order: 330"' in page


def test_the_week_counts_interruptions_outside_the_owner_escalations_window(founder_client, org, founder):
    block(org, founder, weekday=2, start=time(13), end=time(14))  # Tuesday 13:00-14:00
    log(org, founder, datetime(2025, 3, 4, 13, 30, tzinfo=CHI))  # inside
    log(org, founder, datetime(2025, 3, 4, 9, 5, tzinfo=CHI))  # outside
    log(org, founder, datetime(2025, 3, 6, 13, 30, tzinfo=CHI))  # Thursday: outside
    log(org, founder, datetime(2025, 3, 2, 9, 0, tzinfo=CHI))  # the week before
    page = body(founder_client.get(PLAN))
    assert '<strong id="week-out-of-window">2</strong> of <strong id="week-interruptions">3</strong>' in page
    assert page.count('class="wg-marker out"') == 2
    assert page.count('class="wg-marker"') == 1
    assert "09:05 out of window" in page
    assert 'href="/delegation/interruptions/?week=2025-03-03&amp;out_of_window=true"' in page
    last_week = body(founder_client.get(PLAN, {"week": "2025-02-24"}))
    assert (
        '<strong id="week-out-of-window">1</strong> of <strong id="week-interruptions">1</strong>'
        in last_week
    )


def test_without_an_owner_escalations_block_nothing_is_flagged(founder_client, org, founder):
    block(org, founder, kind=BlockKind.TEAM)
    log(org, founder, datetime(2025, 3, 4, 9, 5, tzinfo=CHI))
    page = body(founder_client.get(PLAN))
    assert "No founder has an <strong>owner escalations</strong> block yet" in page
    assert 'class="wg-marker out"' not in page


def test_the_plan_of_another_founder_by_query_string(founder_client, org, founder):
    other = MembershipFactory(organization=org, role=Role.FOUNDER, user__username="alex").user
    mine, theirs = block(org, founder), block(org, other, weekday=5)
    page = body(founder_client.get(PLAN, {"member": other.pk}))
    assert f'id="block-{theirs.pk}"' in page
    assert f'id="block-{mine.pk}"' not in page
    assert 'id="member-choice"' in page


def test_a_manager_sees_the_first_founders_plan(org, founder, manager):
    mine = block(org, founder)
    assert f'id="block-{mine.pk}"' in body(client_for(manager).get(PLAN))


def test_a_stranger_as_member_is_404(founder_client, stranger):
    assert founder_client.get(PLAN, {"member": stranger.pk}).status_code == 404


@pytest.mark.parametrize("count", [1, 12])
def test_query_count_does_not_grow(count, founder_client, org, founder, django_assert_num_queries):
    block(org, founder, weekday=2)
    for n in range(count):
        log(org, founder, datetime(2025, 3, 3, 8, n, tzinfo=CHI))
        block(org, founder, weekday=(n % 7) + 1, start=time(15 + n // 7), end=time(15 + n // 7, 30))
    # session, user, memberships (also the org switcher's), founders, blocks, the week's
    # interruptions (flags in SQL), has a window
    with django_assert_num_queries(7):
        response = founder_client.get(PLAN)
    assert body(response).count('<span class="wg-marker-text">') == count


# --- add, move, remove --------------------------------------------------------------------


def test_add_a_block(founder_client, org, founder):
    response = add(founder_client, kind="sales_retention", weekday="2", start_time="08:00", end_time="09:30")
    assert response.status_code == 200
    stored = TimeBlock.objects.get()
    assert (stored.user, stored.kind, stored.weekday) == (founder, "sales_retention", 2)
    assert (stored.start_time, stored.end_time) == (time(8), time(9, 30))
    page = body(response)
    assert page.lstrip().startswith("{#") is False
    assert '<div id="time-block-plan">' in page
    assert f'id="block-{stored.pk}"' in page


def test_an_overlapping_block_is_refused_naming_it(founder_client, org, founder):
    existing = block(org, founder, weekday=1, start=time(9), end=time(10))
    response = add(founder_client, start_time="09:30", end_time="11:00")
    assert response.status_code == 422
    assert f"Overlaps block #{existing.pk}: Owner escalations Monday 09:00-10:00." in body(response)
    assert list(TimeBlock.objects.all()) == [existing]


def test_touching_blocks_are_fine(founder_client, org, founder):
    block(org, founder, weekday=1, start=time(9), end=time(10))
    assert add(founder_client, start_time="10:00", end_time="11:00").status_code == 200
    assert TimeBlock.objects.count() == 2


def test_an_end_before_the_start_is_refused(founder_client):
    response = add(founder_client, start_time="10:00", end_time="09:00")
    assert response.status_code == 422
    assert "A block must end after it starts." in body(response)
    assert not TimeBlock.objects.exists()


def test_a_plain_post_redirects_back_to_the_week(founder_client, founder):
    data = {"kind": "team", "weekday": "4", "start_time": "09:00", "end_time": "10:00", "week": "2025-02-24"}
    response = founder_client.post(PLAN, data)
    assert response.url == f"{PLAN}?week=2025-02-24&member={founder.pk}"


def test_move_a_block_to_another_day_and_time(founder_client, org, founder):
    moved = block(org, founder, weekday=1, start=time(9), end=time(10))
    edit = f"/delegation/time-blocks/{moved.pk}/edit/"
    form = body(founder_client.get(edit, **HTMX))
    assert form.lstrip().startswith('<section class="card highlight" id="edit-block">')
    assert 'name="start_time" value="09:00"' in form
    response = founder_client.post(
        edit,
        {"kind": "owner_escalations", "weekday": "3", "start_time": "14:00", "end_time": "15:00"},
        **HTMX,
    )
    assert response.status_code == 200
    moved.refresh_from_db()
    assert (moved.weekday, moved.start_time, moved.end_time) == (3, time(14), time(15))


def test_a_move_onto_another_block_is_refused_and_changes_nothing(founder_client, org, founder):
    moved = block(org, founder, weekday=1, start=time(9), end=time(10))
    other = block(org, founder, weekday=3, start=time(14), end=time(16))
    response = founder_client.post(
        f"/delegation/time-blocks/{moved.pk}/edit/",
        {"kind": "owner_escalations", "weekday": "3", "start_time": "15:00", "end_time": "17:00"},
        **HTMX,
    )
    assert response.status_code == 422
    page = body(response)
    assert f"Overlaps block #{other.pk}: Owner escalations Wednesday 14:00-16:00." in page
    assert 'id="edit-block"' in page
    moved.refresh_from_db()
    assert (moved.weekday, moved.start_time) == (1, time(9))
    assert f'id="block-{moved.pk}" style="top: 16.667%' in page  # still shown where it is


def test_without_javascript_edit_opens_the_form_on_the_page(founder_client, org, founder):
    moved = block(org, founder)
    response = founder_client.get(f"/delegation/time-blocks/{moved.pk}/edit/")
    assert response.url == f"{PLAN}?week=2025-03-03&member={founder.pk}&edit={moved.pk}#edit-block"
    page = body(founder_client.get(response.url))
    assert "Move or remove: Owner escalations Monday 13:00-14:00" in page


def test_remove_a_block(founder_client, org, founder):
    removed = block(org, founder)
    response = founder_client.post(f"/delegation/time-blocks/{removed.pk}/delete/", **HTMX)
    assert response.status_code == 200
    assert not TimeBlock.objects.exists()
    assert f'id="block-{removed.pk}"' not in body(response)


# --- roles and other organizations --------------------------------------------------------


def test_a_viewer_reads_the_plan_and_changes_nothing(org, founder, viewer):
    shown = block(org, founder)
    client = client_for(viewer)
    page = body(client.get(PLAN))
    assert f'<div class="wg-block kind-owner_escalations" id="block-{shown.pk}"' in page
    assert 'id="add-block"' not in page
    assert add(client).status_code == 403
    assert client.post(f"/delegation/time-blocks/{shown.pk}/edit/", {"weekday": "2"}).status_code == 403
    response = client.post(f"/delegation/time-blocks/{shown.pk}/delete/")
    assert response.status_code == 403
    assert "Your role may not change the weekly plan." in body(response)
    assert list(TimeBlock.objects.all()) == [shown]


def test_a_technician_has_no_plan_page(technician):
    assert client_for(technician).get(PLAN).status_code == 403


def test_another_organizations_block_is_404(founder_client, other_org):
    foreign = TimeBlockFactory(organization=other_org)
    base = f"/delegation/time-blocks/{foreign.pk}"
    assert founder_client.get(f"{base}/edit/", **HTMX).status_code == 404
    assert founder_client.post(f"{base}/edit/", {"weekday": "2"}).status_code == 404
    assert founder_client.post(f"{base}/delete/").status_code == 404
    foreign.refresh_from_db()
    assert foreign.weekday == 1
    assert f'id="block-{foreign.pk}"' not in body(founder_client.get(PLAN, {"edit": foreign.pk}))


@pytest.mark.parametrize("value", ["²", "99999999999999999999", "abc"])
def test_an_edit_id_that_is_no_row_id_shows_the_plan_without_a_form(founder_client, org, founder, value):
    # "²".isdigit() holds but int() refuses it (a 500 before); the second is past the bigint range.
    block(org, founder)
    response = founder_client.get(f"{PLAN}?edit={value}")
    assert response.status_code == 200
    assert "Move or remove:" not in body(response)


@pytest.mark.parametrize("value", ["²", "99999999999999999999", "abc"])
def test_a_member_that_is_no_row_id_is_404(founder_client, org, founder, value):
    assert founder_client.get(f"{PLAN}?member={value}").status_code == 404
    response = founder_client.post(
        PLAN,
        {
            "member": value,
            "kind": "owner_escalations",
            "weekday": 1,
            "start_time": "09:00",
            "end_time": "10:00",
        },
    )
    assert response.status_code == 404
    assert not TimeBlock.objects.exists()
