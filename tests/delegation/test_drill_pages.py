"""Owner offline drill pages: the schedule, starting one, the running drill's live list, the review
with follow-ups in place, completing (and its refusals), the report; roles and other orgs."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from delegation.models import Drill, FollowUp, Interruption
from delegation.services import complete_drill, record_interruption, save_drills
from tests.factories import DrillFactory, RunbookFactory
from tests.pages import client_for, pinned_clock

CHI = ZoneInfo("America/Chicago")
NOW = datetime(2025, 3, 4, 11, 20, 30, tzinfo=CHI)  # Tuesday 11:20:30 in Chicago
HTMX = {"HTTP_HX_REQUEST": "true"}
DRILLS = "/delegation/drills/"


_pinned_clock = pinned_clock(NOW)


def at(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    return datetime(2025, month, day, hour, minute, tzinfo=CHI)


def drill(org, starts, ends=None) -> Drill:
    (saved,) = save_drills(org=org, drills=[Drill(starts_at=starts, ends_at=ends)])
    return saved.obj


def log(org, user, when, **fields) -> Interruption:
    values = {"channel": "call", "category": "VPN", **fields}
    return record_interruption(org=org, interruption=Interruption(occurred_at=when, logged_by=user, **values))


def body(response) -> str:
    return response.content.decode()


def url(d: Drill, action: str = "") -> str:
    return f"{DRILLS}{d.pk}/{action + '/' if action else ''}"


# --- the list and the schedule ------------------------------------------------------------


def test_no_drill_yet_asks_for_the_first(founder_client):
    page = body(founder_client.get(DRILLS))
    assert "No drill completed yet" in page
    assert 'id="start-drill"' in page
    assert "No drills yet." in page


def test_an_overdue_drill_is_flagged(founder_client, org):
    done = drill(org, at(20, 9, month=1))  # Mon 20 Jan, due 20 Feb, overdue since
    complete_drill(drill=done, now=at(24, 9, month=1))
    page = body(founder_client.get(DRILLS))
    assert (
        '<span class="badge red">Overdue</span> The next drill was due on Thursday 20 February 2025' in page
    )
    assert "<strong>12 days overdue.</strong>" in page  # 20 Feb to 4 Mar


def test_the_next_due_date_when_not_overdue(founder_client, org):
    done = drill(org, at(24, 9, month=2))
    complete_drill(drill=done, now=at(28, 9, month=2))
    page = body(founder_client.get(DRILLS))
    assert "Next drill due on Monday 24 March 2025" in page
    assert "Overdue" not in page


def test_the_list_shows_each_drill_with_status_and_interruption_count(founder_client, org, founder):
    old = drill(org, at(6, 9, month=1))
    complete_drill(drill=old, now=at(10, 9, month=1))
    running = drill(org, at(3, 9))
    log(org, founder, at(3, 10))
    log(org, founder, at(4, 8))
    log(org, founder, at(2, 8))  # before the window
    page = body(founder_client.get(DRILLS))
    row = page[page.index(f'id="drill-{running.pk}"') :]
    row = row[: row.index("</tr>")]
    assert "Mon 3 Mar 2025 09:00 – Thu 6 Mar 09:00" in row
    assert '<span class="badge red">running</span>' in row
    assert '<td class="num">2</td>' in row
    assert f"Drill #{running.pk} is running until Thu 6 Mar 09:00" in page
    assert '<span class="badge green">complete</span>' in page


@pytest.mark.parametrize("count", [1, 8])
def test_list_query_count_does_not_grow_with_drills(
    count, founder_client, org, founder, django_assert_num_queries
):
    for n in range(count):
        DrillFactory(organization=org, starts_at=datetime(2024, 1, 1, tzinfo=UTC) + timedelta(days=10 * n))
    # session, user, memberships (also the org switcher's), drills with their counts, the last
    # completed drill
    with django_assert_num_queries(5):
        response = founder_client.get(DRILLS)
    assert body(response).count('<tr id="drill-') == count


# --- starting a drill ---------------------------------------------------------------------


def test_start_now_lasts_three_days(founder_client, org):
    response = founder_client.post(DRILLS, {"days": "3", "notes": "Peer-group retreat"}, follow=True)
    stored = Drill.objects.get()
    assert stored.starts_at == datetime(2025, 3, 4, 17, 20, tzinfo=UTC)  # now, to the minute
    assert stored.ends_at == stored.starts_at + timedelta(days=3)
    assert stored.notes == "Peer-group retreat"
    assert response.redirect_chain == [(url(stored), 302)]
    page = body(response)
    assert "Drill started: the owner is offline until Fri 7 Mar 11:20, true emergencies only." in page
    assert "The owner is offline until Friday 7 March, 11:20" in page


def test_start_at_a_local_time_across_the_dst_change(founder_client, org):
    # Sunday 9 March 2025 02:00 Chicago jumps to 03:00: 2 days from Saturday 08:00 are 47 wall hours.
    founder_client.post(DRILLS, {"date": "2025-03-08", "time": "08:00", "days": "2"})
    stored = Drill.objects.get()
    assert stored.starts_at == datetime(2025, 3, 8, 14, 0, tzinfo=UTC)  # 08:00 CST
    assert stored.ends_at == datetime(2025, 3, 10, 14, 0, tzinfo=UTC)  # 09:00 CDT, 48 real hours


def test_three_days_across_the_dst_change_end_at_the_same_local_time_as_the_apis_default(founder_client, org):
    # The default length is the service's (3 local days): Friday 09:00 CST to Monday 09:00 CDT,
    # 71 real hours, as a drill sent to the API without ends_at.
    founder_client.post(DRILLS, {"date": "2025-03-07", "time": "09:00", "days": "3"})
    stored = Drill.objects.get()
    assert stored.starts_at == datetime(2025, 3, 7, 15, 0, tzinfo=UTC)  # 09:00 CST
    assert stored.ends_at == datetime(2025, 3, 10, 14, 0, tzinfo=UTC)  # 09:00 CDT
    assert stored.ends_at - stored.starts_at == timedelta(hours=71)


def test_a_day_without_a_time_starts_at_midnight(founder_client, org):
    founder_client.post(DRILLS, {"date": "2025-03-10", "days": "3"})
    assert Drill.objects.get().starts_at == datetime(2025, 3, 10, 5, 0, tzinfo=UTC)  # 00:00 CDT


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"date": "2025-03-09", "time": "02:30"},
            "2:30 does not exist on 2025-03-09 in America/Chicago: clocks jump from 2:00 to 3:00 "
            "(daylight saving time starts).",
        ),
        ({"time": "08:00"}, "Give the day the drill starts, or leave both empty to start now."),
        ({"days": "0"}, "Ensure this value is greater than or equal to 1."),
        ({"days": "15"}, "Ensure this value is less than or equal to 14."),
    ],
)
def test_a_refused_start_says_why_and_stores_nothing(data, message, founder_client):
    response = founder_client.post(DRILLS, {"days": "3", **data})
    assert response.status_code == 422
    assert message in body(response)
    assert not Drill.objects.exists()


def test_an_overlapping_drill_is_refused_naming_the_other(founder_client, org):
    existing = drill(org, at(3, 9))
    response = founder_client.post(DRILLS, {"date": "2025-03-05", "time": "08:00", "days": "3"})
    assert response.status_code == 422
    assert f"Overlaps drill #{existing.pk} (2025-03-03 09:00 to 2025-03-06 09:00)." in body(response)
    assert list(Drill.objects.all()) == [existing]


def test_a_viewer_reads_drills_but_starts_none(viewer, org):
    client = client_for(viewer)
    page = body(client.get(DRILLS))
    assert "No drill completed yet" in page
    assert 'id="start-drill"' not in page
    response = client.post(DRILLS, {"days": "3"})
    assert response.status_code == 403
    assert "Your role may not run drills." in body(response)
    assert not Drill.objects.exists()


def test_a_technician_has_no_drill_pages(technician, org):
    running = drill(org, at(3, 9))
    client = client_for(technician)
    for target in (DRILLS, url(running), url(running, "report")):
        assert client.get(target).status_code == 403
    assert client.post(url(running, "complete")).status_code == 403


# --- the running drill --------------------------------------------------------------------


def test_the_running_drill_polls_its_interruptions(founder_client, org, founder):
    running = drill(org, at(3, 9))
    log(org, founder, at(4, 10), ticket_ref="DURING")
    log(org, founder, at(3, 8, 59), ticket_ref="BEFORE")
    page = body(founder_client.get(url(running)))
    assert "The owner is offline until Thursday 6 March, 09:00" in page
    assert f'hx-get="{url(running, "live")}"' in page
    assert 'hx-trigger="every 10s, interruptions-changed from:body"' in page
    assert 'badge">DURING<' in page
    assert 'badge">BEFORE<' not in page
    assert 'class="follow-up"' not in page  # reviewed after the window

    log(org, founder, at(4, 11), ticket_ref="LATER")
    live = body(founder_client.get(url(running, "live"), **HTMX))
    assert live.lstrip().startswith("{# The running") is False
    assert '<section id="drill-live"' in live
    assert '<p class="stat" id="drill-live-count">2</p>' in live
    assert 'badge">LATER<' in live


def test_the_live_list_reloads_the_page_once_the_window_ends(founder_client, org):
    running = drill(org, at(3, 9))
    with time_machine.travel(at(6, 9, 1), tick=False):
        response = founder_client.get(url(running, "live"), **HTMX)
    assert response["HX-Refresh"] == "true"


def test_ending_a_running_drill_now_starts_its_review(founder_client, org):
    running = drill(org, at(3, 9))
    response = founder_client.post(url(running, "end"), follow=True)
    running.refresh_from_db()
    assert running.ends_at == datetime(2025, 3, 4, 17, 20, tzinfo=UTC)
    assert "Drill ended: review each interruption, then complete it." in body(response)
    assert 'id="drill-review-summary"' in body(response)


def test_a_scheduled_drill_can_be_cancelled_a_running_one_not(founder_client, org):
    running = drill(org, at(3, 9))
    later = drill(org, at(20, 9))
    response = founder_client.post(url(running, "delete"), follow=True)
    assert "Only a drill that has not started yet can be cancelled." in body(response)
    response = founder_client.post(url(later, "delete"), follow=True)
    assert "Drill cancelled." in body(response)
    assert list(Drill.objects.all()) == [running]


# --- the review and completing ------------------------------------------------------------


@pytest.fixture
def ended(org, founder):
    """A drill from Friday 28 Feb 09:00 to Monday 3 Mar 09:00 with two interruptions in it."""
    ended = drill(org, at(28, 9, month=2))
    log(org, founder, at(1, 10), ticket_ref="SAT", category="VPN")
    log(org, founder, at(3, 8), ticket_ref="MON", category="Backup")
    return ended


def test_the_review_gives_each_interruption_its_follow_up_form(founder_client, ended):
    page = body(founder_client.get(url(ended)))
    assert '<span class="badge amber">in review</span>' in page
    assert "<strong>2</strong> of 2 interruptions still need a follow-up or the owner-level mark." in page
    assert page.count('class="follow-up"') == 2
    assert f'<input type="hidden" name="drill" value="{ended.pk}">' in page
    assert 'id="complete-drill"' in page


def test_a_follow_up_in_the_review_updates_the_pending_count(founder_client, org, ended):
    runbook = RunbookFactory(organization=org, ticket_category="VPN")
    saturday = Interruption.objects.get(ticket_ref="SAT")
    response = founder_client.post(
        f"/delegation/interruptions/{saturday.pk}/follow-up/",
        {"follow_up": "runbook_updated", "runbook": runbook.pk, "drill": ended.pk},
        **HTMX,
    )
    page = body(response)
    assert page.lstrip().startswith(f'<li class="interruption" id="interruption-{saturday.pk}"')
    assert 'id="drill-review-summary" hx-swap-oob="true"' in page
    assert "<strong>1</strong> of 2 interruptions still needs a follow-up or the owner-level mark." in page
    assert f'<input type="hidden" name="drill" value="{ended.pk}">' in page  # the row stays in the review
    assert 'id="complete-drill"' in page


def test_completing_with_pending_interruptions_is_refused(founder_client, ended):
    pending = sorted(Interruption.objects.values_list("pk", flat=True))
    message = (
        f"2 interruption(s) still need a follow-up or the owner-level mark: #{pending[0]}, #{pending[1]}."
    )
    response = founder_client.post(url(ended, "complete"), **HTMX)
    assert response.status_code == 422
    assert message in body(response)
    response = founder_client.post(url(ended, "complete"), follow=True)  # without JavaScript
    assert message in body(response)
    ended.refresh_from_db()
    assert ended.completed_at is None


def test_completing_before_the_window_ends_is_refused(founder_client, org):
    running = drill(org, at(3, 9))
    response = founder_client.post(url(running, "complete"), follow=True)
    assert "The drill&#x27;s window has not ended yet: it ends 2025-03-06 09:00." in body(response)
    running.refresh_from_db()
    assert running.completed_at is None


def test_completing_the_reviewed_drill(founder_client, org, ended):
    for interruption in Interruption.objects.all():
        interruption.follow_up = FollowUp.RULE_TIGHTENED
        record_interruption(org=org, interruption=interruption)
    response = founder_client.post(url(ended, "complete"), **HTMX)
    assert response["HX-Redirect"] == url(ended, "report")
    ended.refresh_from_db()
    assert ended.completed_at == NOW
    page = body(founder_client.get(url(ended)))
    assert "Completed Tuesday 4 March 2025, 11:20" in page
    assert 'class="follow-up"' not in page


@pytest.fixture
def completed(org, founder_client, ended):
    """The ended drill, each interruption followed up, completed (by the page) at NOW."""
    for interruption in Interruption.objects.all():
        interruption.follow_up = FollowUp.RULE_TIGHTENED
        record_interruption(org=org, interruption=interruption)
    founder_client.post(url(ended, "complete"), **HTMX)
    ended.refresh_from_db()
    assert ended.completed_at == NOW
    return ended


def test_a_late_quick_log_sends_the_completed_drill_back_to_review(founder_client, completed):
    response = founder_client.post(
        "/delegation/interruptions/log/",
        {"channel": "call", "date": "2025-03-02", "time": "10:00", "ticket_ref": "SUN"},
        **HTMX,
    )

    assert response.status_code == 200
    completed.refresh_from_db()
    assert completed.completed_at is None
    page = body(founder_client.get(url(completed)))
    assert '<span class="badge amber">in review</span>' in page
    assert "<strong>1</strong> of 3 interruptions still needs a follow-up or the owner-level mark." in page
    assert 'id="complete-drill"' in page
    assert "Completed Tuesday" not in page


def test_a_follow_up_taken_back_in_the_list_sends_the_completed_drill_back_to_review(
    founder_client, completed
):
    saturday = Interruption.objects.get(ticket_ref="SAT")

    response = founder_client.post(
        f"/delegation/interruptions/{saturday.pk}/follow-up/",
        {"follow_up": "none", "owner_level": ""},
        **HTMX,
    )

    assert response.status_code == 200
    saturday.refresh_from_db()
    assert saturday.needs_follow_up
    completed.refresh_from_db()
    assert completed.completed_at is None
    page = body(founder_client.get(url(completed)))
    assert '<span class="badge amber">in review</span>' in page
    assert 'id="complete-drill"' in page


def test_a_viewer_may_not_complete(viewer, ended):
    response = client_for(viewer).post(url(ended, "complete"))
    assert response.status_code == 403
    ended.refresh_from_db()
    assert ended.completed_at is None


@pytest.mark.parametrize("count", [1, 10])
def test_review_query_count_does_not_grow(count, founder_client, org, founder, django_assert_num_queries):
    ended = drill(org, at(28, 9, month=2))
    RunbookFactory(organization=org, ticket_category="VPN")
    for n in range(count):
        log(org, founder, at(1, 10, n))
    # session, user, memberships (also the org switcher's), drill, its interruptions (+runbook),
    # the runbook choice
    with django_assert_num_queries(6):
        response = founder_client.get(url(ended))
    assert body(response).count('class="follow-up"') == count


# --- the report ---------------------------------------------------------------------------


def test_the_report_counts_per_day_and_category_and_what_changed(founder_client, org, founder, ended):
    runbook = RunbookFactory(organization=org, ticket_category="VPN", title="VPN triage")
    saturday, monday = Interruption.objects.get(ticket_ref="SAT"), Interruption.objects.get(ticket_ref="MON")
    saturday.follow_up, saturday.runbook = FollowUp.RUNBOOK_UPDATED, runbook
    record_interruption(org=org, interruption=saturday)
    monday.follow_up, monday.owner_level = FollowUp.RULE_TIGHTENED, True
    record_interruption(org=org, interruption=monday)
    log(org, founder, at(1, 11), category="")

    page = body(founder_client.get(url(ended, "report")))

    assert '<div class="stat" id="report-total">3</div>' in page
    assert '<div class="stat" id="report-owner-level">1</div>' in page
    assert '<div class="stat" id="report-runbooks">1</div>' in page
    assert '<div class="stat" id="report-rules">1</div>' in page
    assert f'<li><a href="/delegation/runbooks/{runbook.pk}/">VPN: VPN triage</a></li>' in page
    assert "1 rule tightened" in page
    assert "1 interruption still without a follow-up." in page
    data = json.loads(
        page.split('<script id="drill-chart-data" type="application/json">')[1].split("</script>")[0]
    )
    # Fri 28 Feb 09:00 to Mon 3 Mar 09:00: every local day of the window, with 0s.
    assert data["days"] == {
        "labels": ["Fri 28 Feb", "Sat 1 Mar", "Sun 2 Mar", "Mon 3 Mar"],
        "counts": [0, 2, 0, 1],
    }
    assert data["categories"] == {"labels": ["Backup", "Uncategorized", "VPN"], "counts": [1, 1, 1]}
    assert "vendor/chart-4.6.1.umd.min.js" in page


def test_a_viewer_reads_the_report(viewer, ended):
    assert client_for(viewer).get(url(ended, "report")).status_code == 200


# --- another organization -----------------------------------------------------------------


def test_another_organizations_drill_is_404_on_every_route(founder_client, other_org):
    foreign = DrillFactory(organization=other_org, starts_at=at(3, 9), ends_at=at(6, 9))
    for action in ("", "live", "report"):
        assert founder_client.get(url(foreign, action), **HTMX).status_code == 404
    for action in ("complete", "end", "delete"):
        assert founder_client.post(url(foreign, action)).status_code == 404
    foreign.refresh_from_db()
    assert (foreign.completed_at, foreign.ends_at) == (None, at(6, 9))
    assert f'id="drill-{foreign.pk}"' not in body(founder_client.get(DRILLS))
