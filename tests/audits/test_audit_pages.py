"""Audit pages: the list, starting an audit, progress and the report, against a hand-worked week."""

import json
import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from audits.models import Category, TimeAudit, TimeEntry
from audits.services import record_time_entry, start_time_audit
from tests.factories import MembershipFactory
from tests.pages import client_for, pinned_clock

CHI = ZoneInfo("America/Chicago")
NOW = datetime(2025, 3, 14, 12, 0, tzinfo=CHI)  # Friday: day 5 of an audit from Monday 10 March


_pinned_clock = pinned_clock(NOW)


def at(day, hour, minute=0):
    return datetime(2025, 3, day, hour, minute, tzinfo=CHI)


def log(org, user, start, end, activity, slug, tags=(), **fields):
    entry = TimeEntry(
        user=user,
        started_at=start,
        ended_at=end,
        activity=activity,
        category=Category.objects.get(organization=org, slug=slug),
        **fields,
    )
    entry.tags = tags
    return record_time_entry(org=org, entry=entry).entry


@pytest.fixture
def week(org, founder) -> TimeAudit:
    """The hand-worked week (hours; U/I = urgent/important):

    Mon 10  09:00-10:30  Password resets  tickets           repetitive+outsourceable  U, not I   1.50
    Mon 10  13:00-14:00  Quote for Acme   sales             owner_by_habit, delegated I, not U   1.00
    Tue 11  08:00-08:45  Escalation VPN   escalations       repetitive                unflagged  0.75
    Tue 11  10:00-12:00  QBR prep         client-retention  (untagged)                U and I    2.00
    Wed 12  07:00-07:30  Password resets  tickets           repetitive                unflagged  0.50
    """
    tags = ["repetitive", "outsourceable"]
    log(
        org,
        founder,
        at(10, 9),
        at(10, 10, 30),
        "Password resets",
        "tickets",
        tags,
        urgent=True,
        important=False,
    )
    log(org, founder, at(10, 13), at(10, 14), "Quote for Acme", "sales", ["owner_by_habit"],
        handling="delegated", urgent=False, important=True)  # fmt: skip
    log(org, founder, at(11, 8), at(11, 8, 45), "Escalation VPN", "escalations", ["repetitive"])
    log(org, founder, at(11, 10), at(11, 12), "QBR prep", "client-retention", urgent=True, important=True)
    log(org, founder, at(12, 7), at(12, 7, 30), "Password resets", "tickets", ["repetitive"])
    return start_time_audit(org=org, user=founder, start_date=date(2025, 3, 10))


def chart_data(response) -> dict:
    match = re.search(
        r'<script id="chart-data" type="application/json">(.*?)</script>', response.content.decode()
    )
    return json.loads(match.group(1))


# --- the list and starting an audit -----------------------------------------------------


def test_start_form_defaults_to_this_monday(founder_client):
    body = founder_client.get("/audits/").content.decode()
    assert 'name="start_date" value="2025-03-10"' in body


def test_founder_starts_own_audit(founder_client, founder):
    response = founder_client.post("/audits/", {"start_date": "2025-03-10", "member": founder.pk})
    audit = TimeAudit.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/audits/{audit.pk}/"
    assert (audit.user, audit.start_date, audit.end_date) == (founder, date(2025, 3, 10), date(2025, 3, 16))


def test_starting_the_same_audit_twice_is_refused(founder_client, founder, week):
    response = founder_client.post("/audits/", {"start_date": "2025-03-10", "member": founder.pk})
    assert response.status_code == 422
    assert "fran already has an audit starting 2025-03-10." in response.content.decode()
    assert TimeAudit.objects.count() == 1


def test_manager_starts_an_audit_for_a_technician(manager, technician):
    response = client_for(manager).post("/audits/", {"start_date": "2025-03-17", "member": technician.pk})
    assert response.status_code == 302
    assert TimeAudit.objects.get().user == technician


def test_member_choice_is_limited_to_the_org(manager, stranger):
    response = client_for(manager).post("/audits/", {"start_date": "2025-03-17", "member": stranger.pk})
    assert response.status_code == 422
    assert not TimeAudit.objects.exists()


def test_technician_starts_only_their_own_audit(technician, founder):
    client = client_for(technician)
    assert 'name="member"' not in client.get("/audits/").content.decode()
    client.post("/audits/", {"start_date": "2025-03-10", "member": founder.pk})
    assert TimeAudit.objects.get().user == technician


def test_viewer_reads_the_list_but_cannot_start(viewer, week):
    client = client_for(viewer)
    body = client.get("/audits/").content.decode()
    assert "Start an audit" not in body
    assert f'href="/audits/{week.pk}/report/"' in body
    assert client.post("/audits/", {"start_date": "2025-03-10"}).status_code == 403
    assert TimeAudit.objects.count() == 1


def test_list_shows_everyone_to_founders_and_own_to_technicians(org, founder, manager, technician, week):
    mine = start_time_audit(org=org, user=technician, start_date=date(2025, 3, 3))
    body = client_for(manager).get("/audits/").content.decode()
    assert f'href="/audits/{week.pk}/"' in body
    assert f'href="/audits/{mine.pk}/"' in body
    assert "day 5 of 7" in body
    tech_body = client_for(technician).get("/audits/").content.decode()
    assert f'href="/audits/{mine.pk}/"' in tech_body
    assert f'href="/audits/{week.pk}/"' not in tech_body
    assert client_for(technician).get(f"/audits/{week.pk}/report/").status_code == 404


def test_audits_of_another_org_are_404(founder_client, other_org):
    otto = MembershipFactory(organization=other_org, user__username="otto").user
    theirs = start_time_audit(org=other_org, user=otto, start_date=date(2025, 3, 10))
    for path in (
        f"/audits/{theirs.pk}/",
        f"/audits/{theirs.pk}/report/",
        f"/audits/{theirs.pk}/report/?print=1",
    ):
        assert founder_client.get(path).status_code == 404
    assert f"/audits/{theirs.pk}/" not in founder_client.get("/audits/").content.decode()


# --- progress ---------------------------------------------------------------------------


def test_progress_shows_the_day_hours_per_day_and_gaps(founder_client, week):
    body = founder_client.get(f"/audits/{week.pk}/").content.decode()
    assert '<strong id="audit-day">Day 5 of 7</strong>' in body
    assert '<div class="stat" id="logged-hours">5.75 h</div>' in body
    # Mon 2.50, Tue 2.75, Wed 0.50; Thursday and today (Friday) have nothing yet; Sat, Sun to come.
    days = dict(re.findall(r'data-date="([\d-]+)">\s*<span class="audit-day-name">[^<]*</span>\s*'
                           r'<span class="audit-day-hours">([\d.]+) h', body))  # fmt: skip
    assert days == {
        "2025-03-10": "2.50",
        "2025-03-11": "2.75",
        "2025-03-12": "0.50",
        "2025-03-13": "0.00",
        "2025-03-14": "0.00",
        "2025-03-15": "0.00",
        "2025-03-16": "0.00",
    }
    empty = re.findall(r'class="audit-day empty[^"]*" data-date="([\d-]+)"', body)
    assert empty == ["2025-03-13", "2025-03-14"]
    assert '<div class="stat" id="gap-count">2</div>' in body
    assert 'href="/audits/today/?day=2025-03-13">Log it</a>' in body


def test_a_day_holding_only_a_10_second_entry_is_no_gap_on_the_pages(founder_client, org, founder):
    # Thursday holds 10 s (0.00 h): logged, so neither progress nor the report calls it empty.
    log(org, founder, at(13, 9), at(13, 9).replace(second=10), "Quick call", "tickets")
    audit = start_time_audit(org=org, user=founder, start_date=date(2025, 3, 10))

    progress = founder_client.get(f"/audits/{audit.pk}/").content.decode()
    empty = re.findall(r'class="audit-day empty[^"]*" data-date="([\d-]+)"', progress)
    assert empty == ["2025-03-10", "2025-03-11", "2025-03-12", "2025-03-14"]
    assert '<div class="stat" id="gap-count">4</div>' in progress

    report = founder_client.get(f"/audits/{audit.pk}/report/").content.decode()
    assert '<tr><th scope="row">Thu 13 Mar</th><td class="num">0.00 h</td></tr>' in report
    assert report.count('<tr class="empty">') == 6
    assert (
        '<div class="card"><div class="stat">6</div><div class="stat-label">days with nothing logged'
        in report
    )


def test_progress_before_and_after_the_window(founder_client, org, founder):
    upcoming = start_time_audit(org=org, user=founder, start_date=date(2025, 3, 17))
    done = start_time_audit(org=org, user=founder, start_date=date(2025, 3, 3))
    assert "Starts Monday 17 March" in founder_client.get(f"/audits/{upcoming.pk}/").content.decode()
    assert (
        '<strong id="audit-day">Finished</strong>'
        in founder_client.get(f"/audits/{done.pk}/").content.decode()
    )


# --- the report -------------------------------------------------------------------------


def test_report_shows_every_figure(founder_client, week):
    response = founder_client.get(f"/audits/{week.pk}/report/")
    assert response.status_code == 200
    body = response.content.decode()
    # 1.5 + 1 + 0.75 + 2 + 0.5
    assert '<div class="stat" id="logged-hours">5.75 h</div>' in body
    # every entry but QBR prep has a tag: 5.75 - 2 = 3.75
    assert '<div class="stat" id="reclaimable-hours">3.75 h</div>' in body
    assert '<div class="stat" id="untagged-hours">2.00 h</div>' in body

    def rows(table):
        section = re.search(rf'<table class="table compact" id="{table}">(.*?)</table>', body, re.S).group(1)
        return dict(re.findall(r'<th scope="row">([^<]+)</th><td class="num">([\d.]+) h', section))

    # repetitive 1.5 + 0.75 + 0.5; outsourceable 1.5; owner by habit 1
    assert rows("table-tags") == {
        "Repetitive": "2.75",
        "Outsourceable": "1.50",
        "Systemizable": "0.00",
        "Owner by habit": "1.00",
        "Untagged": "2.00",
        "Reclaimable (any tag, counted once)": "3.75",
    }
    assert rows("table-days") == {
        "Mon 10 Mar": "2.50",
        "Tue 11 Mar": "2.75",
        "Wed 12 Mar": "0.50",
        "Thu 13 Mar": "0.00",
        "Fri 14 Mar": "0.00",
        "Sat 15 Mar": "0.00",
        "Sun 16 Mar": "0.00",
    }
    assert rows("table-categories") == {
        "Tickets": "2.00",
        "Client retention": "2.00",
        "Sales": "1.00",
        "Escalations": "0.75",
    }
    # in: tickets 2 + escalations 0.75; on: sales 1 + client retention 2
    assert rows("table-business") == {"In the business": "2.75", "On the business": "3.00", "Neither": "0.00"}
    assert rows("table-handling") == {
        "Personal (did the work)": "4.75",
        "Delegated (assigned, planned, reviewed)": "1.00",
    }
    # unflagged: Escalation VPN 0.75 + Wednesday's resets 0.5
    assert rows("table-quadrants") == {
        "Urgent and important": "2.00",
        "Urgent, not important": "1.50",
        "Important, not urgent": "1.00",
        "Neither urgent nor important": "0.00",
        "Unflagged": "1.25",
    }
    candidates = re.findall(
        r'<li class="candidate" data-category="([\w-]+)">\s*'
        r'<div class="candidate-head"><strong>[^<]+</strong> '
        r'<span class="candidate-hours">([\d.]+) h</span> <span class="muted">in (\d+) entr',
        body,
    )
    # Tagged hours per category: tickets 1.5 + 0.5, sales 1, escalations 0.75 (QBR prep is untagged)
    assert candidates == [("tickets", "2.00", "2"), ("sales", "1.00", "1"), ("escalations", "0.75", "1")]


def test_report_charts_get_their_data_as_json(founder_client, week):
    response = founder_client.get(f"/audits/{week.pk}/report/")
    body = response.content.decode()
    for chart in ("tags", "days", "categories", "business"):
        assert f'data-chart="{chart}"' in body
    assert "vendor/chart-4.6.1.umd.min.js" in body
    assert "js/charts.js" in body
    data = chart_data(response)
    assert data["tags"] == {
        "labels": ["Repetitive", "Outsourceable", "Systemizable", "Owner by habit", "Untagged"],
        "hours": [2.75, 1.5, 0.0, 1.0, 2.0],
    }
    assert data["days"]["hours"] == [2.5, 2.75, 0.5, 0.0, 0.0, 0.0, 0.0]
    assert data["business"] == {
        "labels": ["In the business", "On the business", "Neither"],
        "hours": [2.75, 3.0, 0.0],
    }
    assert dict(zip(data["categories"]["labels"], data["categories"]["hours"], strict=True)) == {
        "Client retention": 2.0,
        "Escalations": 0.75,
        "Sales": 1.0,
        "Tickets": 2.0,
    }


def test_printable_view(founder_client, week):
    body = founder_client.get(f"/audits/{week.pk}/report/?print=1").content.decode()
    assert '<body class="print-view">' in body
    assert 'class="topbar"' not in body
    assert "data-print" in body
    assert '<div class="stat" id="logged-hours">5.75 h</div>' in body


def test_viewer_reads_the_report(viewer, week):
    assert client_for(viewer).get(f"/audits/{week.pk}/report/").status_code == 200


@pytest.mark.parametrize("entries", [1, 20])
def test_report_page_queries_do_not_grow(entries, founder_client, org, founder, django_assert_num_queries):
    audit = start_time_audit(org=org, user=founder, start_date=date(2025, 3, 10))
    for n in range(entries):
        log(org, founder, at(10 + n % 7, 8 + n // 7), at(10 + n % 7, 8 + n // 7, 30), f"Reset {n}", "tickets",
            ["repetitive"])  # fmt: skip
    # session, user, memberships (also the org switcher's), the audit (+user), the report's 2
    with django_assert_num_queries(6):
        assert founder_client.get(f"/audits/{audit.pk}/report/").status_code == 200
    # the progress page: the same queries

    with django_assert_num_queries(6):
        assert founder_client.get(f"/audits/{audit.pk}/").status_code == 200


def test_neither_is_the_sum_of_neither_categories(founder_client, org, founder):
    audit = start_time_audit(org=org, user=founder, start_date=date(2025, 3, 10))
    log(org, founder, at(10, 9), at(10, 9, 20), "Inbox", "other")  # 0.33 h
    log(org, founder, at(10, 10), at(10, 10, 20), "Inbox", "other")  # 0.33 h -> 0.67 h in "other"
    log(org, founder, at(10, 11), at(10, 11, 20), "Reset", "tickets")  # 0.33 h
    body = founder_client.get(f"/audits/{audit.pk}/report/").content.decode()
    # logged 1.00 - in 0.33 - on 0 would say 0.67 as well; the row is other's own rounded figure.
    assert '<tr><th scope="row">Neither</th><td class="num">0.67 h</td></tr>' in body
