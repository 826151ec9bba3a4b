"""The KPI dashboard in Chromium: the cards and their trend charts drawn by Chart.js, week
navigation, a to-do made in place from the Level-10 agenda and ticked done, and "Recompute now"
showing the run's progress (polled through htmx) until the fresh "computed at" replaces the stale
figures, with a Celery worker taking the task from the real Redis; the stand-up on a phone."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from kpis.models import RollupRun, Todo, WeeklyKpi
from msp_ops.celery import app
from msp_ops.lib import weeks
from tests.conftest import log_in
from tests.factories import TicketFactory, WeeklyKpiFactory

pytestmark = pytest.mark.browser


@contextmanager
def on_a_phone(browser, live_server, width: int, height: int) -> Iterator:
    """A page in a fresh browser context the size of a phone's screen."""
    context = browser.new_context(base_url=live_server.url, viewport={"width": width, "height": height})
    context.set_default_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def card(page, key: str):
    return page.locator(f"#card-{key}")


def this_week(org):
    return weeks.current_week(org.tz)


def row(org, monday, **fields) -> WeeklyKpi:
    end = weeks.week_bounds(monday, org.tz)[1]
    final = end <= timezone.now()
    defaults = {"final": final, "computed_at": end + timedelta(hours=2) if final else timezone.now()}
    return WeeklyKpiFactory(organization=org, week=monday, **{**defaults, **fields})


def chart_labels(page, key: str) -> list[str] | None:
    return page.evaluate(
        """(key) => {
            const chart = window.Chart && window.Chart.getChart(document.getElementById("chart-" + key));
            return chart ? chart.data.labels : null;
        }""",
        key,
    )


@contextmanager
def celery_worker() -> Iterator[None]:
    """A Celery worker in a thread of this process (the live server's database), consuming the
    harness's Redis like ``bin/run``'s worker; it leaves the root logger alone."""
    from celery.contrib.testing.worker import start_worker

    hijack = app.conf.worker_hijack_root_logger
    app.conf.worker_hijack_root_logger = False
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
            yield
    finally:
        app.conf.worker_hijack_root_logger = hijack


def test_the_dashboard_cards_charts_and_week_navigation(page, org, manager):
    monday = this_week(org)
    row(
        org, monday, delegated_hours=Decimal("12.00"), owner_interruptions=1,
        owner_interruptions_4wk_avg=Decimal("1.25"), aged_backlog=2, aged_backlog_by_team={"Tier 1": 2},
    )  # fmt: skip
    row(
        org, monday - timedelta(weeks=1), delegated_hours=Decimal("6.50"), owner_interruptions=4,
        owner_interruptions_4wk_avg=Decimal("2.50"), aged_backlog=5, aged_backlog_by_team={"Tier 1": 5},
        level10_review=True, level10_categories={"Tier 1": ["VPN", "Backup"]},
        status={"delegated_hours": "amber", "owner_interruptions": "red", "aged_backlog": "red"},
    )  # fmt: skip

    log_in(page, "sam")  # the service manager lands on the dashboard
    expect(page).to_have_url(re.compile(r"/kpis/$"))
    expect(page.locator("h1")).to_contain_text(f"Weekly KPIs · {monday:%a %-d %b}")
    expect(card(page, "delegated_hours").locator("[data-role=value]")).to_have_text("12.00 h")
    expect(card(page, "delegated_hours").locator("[data-role=status]")).to_have_text("Green: on target")
    expect(card(page, "owner_interruptions").locator("[data-role=detail]")).to_have_text(
        "4-week average 1.25"
    )
    expect(card(page, "aged_backlog").locator("[data-role=value]")).to_have_text("2")
    expect(page.locator("#next-week")).to_have_count(0)
    for key in ("delegated_hours", "owner_interruptions", "aged_backlog"):
        expect(page.locator(f"#chart-{key}")).to_be_visible()
        page.wait_for_function(
            "(key) => window.Chart && window.Chart.getChart(document.getElementById('chart-' + key))", arg=key
        )
        labels = chart_labels(page, key)
        assert len(labels) == 12
        assert labels[-1] == f"{monday:%-d %b}"
    datasets = page.evaluate(
        "window.Chart.getChart(document.getElementById('chart-delegated_hours'))"
        ".data.datasets.map(d => d.label)"
    )
    assert datasets == ["Delegated hours", "Green target", "Amber line"]  # 24 managed clients: fixed lines

    # The previous week: its own figures, charts ending on it, the Level-10 review it triggered.
    page.locator("#prev-week").click()
    previous = monday - timedelta(weeks=1)
    expect(page).to_have_url(re.compile(rf"\?week={previous.isoformat()}$"))
    expect(card(page, "delegated_hours").locator("[data-role=value]")).to_have_text("6.50 h")
    expect(card(page, "delegated_hours").locator("[data-role=status]")).to_have_text("Amber: watch")
    expect(card(page, "owner_interruptions").locator("[data-role=status]")).to_have_text("Red: off target")
    expect(page.locator("#level10-teams .aging-name")).to_have_text(["VPN", "Backup"])
    page.wait_for_function("() => window.Chart.getChart(document.getElementById('chart-aged_backlog'))")
    assert chart_labels(page, "aged_backlog")[-1] == f"{previous:%-d %b}"
    expect(page.locator("#next-week")).to_be_visible()
    page.locator("#this-week").click()
    expect(card(page, "delegated_hours").locator("[data-role=value]")).to_have_text("12.00 h")


def test_a_to_do_made_from_the_agenda_and_ticked_done_in_place(page, org, manager):
    row(
        org, this_week(org), aged_backlog=4, aged_backlog_by_team={"Tier 1": 4}, level10_review=True,
        level10_categories={"Tier 1": ["VPN", "Backup"]},
        status={"delegated_hours": "green", "owner_interruptions": "green", "aged_backlog": "red"},
    )  # fmt: skip
    log_in(page, "sam")
    page.evaluate("window.__sameDocument = true")  # gone if anything reloads the page

    vpn = page.locator(".aging-category").filter(has_text="VPN")
    vpn.get_by_role("link", name="Make a to-do").click()
    form = vpn.locator("form.todo-form")
    expect(form.get_by_label("Title")).to_have_value("Tier 1: clear the aged VPN tickets and fix the cause")
    due = weeks.today(org.tz) + timedelta(days=7)
    expect(form.get_by_label("Due")).to_have_value(due.isoformat())
    form.get_by_role("button", name="Create to-do").click()

    created = vpn.locator(".todo-created")
    expect(created).to_contain_text(
        f"for sam, due {due:%a %-d %b}, on the agenda of the week of {this_week(org):%-d %b}."
    )
    expect(created).to_be_focused()  # where the form was: the keyboard goes on from here
    new = page.locator("#todos-this-week .todo")
    expect(new).to_have_count(1)  # the agenda's to-dos reloaded
    todo = Todo.objects.get()
    assert (todo.owner, todo.ticket_category, todo.due_date) == (manager, "VPN", due)

    new.get_by_role("checkbox").check()
    expect(page.locator(f"#todo-{todo.pk} [data-role=state]")).to_contain_text("Done")
    todo.refresh_from_db()
    assert todo.done is True
    assert page.evaluate("window.__sameDocument") is True


def test_recompute_now_shows_the_progress_then_the_fresh_figures(page, org, manager):
    monday = this_week(org)
    stale = timezone.now() - timedelta(hours=30)
    row(org, monday, final=False, computed_at=stale)
    app.control.purge()  # messages queued by earlier tests (no worker ran then) are not ours

    log_in(page, "sam")
    expect(page.locator("#stale-warning")).to_contain_text("more than 24 hours old")
    page.evaluate("window.__sameDocument = true")
    page.get_by_role("button", name="Recompute now").click()

    # No worker yet: the run waits in Redis, the page says so and keeps polling.
    progress = page.locator("#rollup-progress")
    expect(progress).to_have_attribute("data-state", "queued")
    expect(progress).to_have_text("Queued: waiting for a worker…")
    run = RollupRun.objects.get()
    assert run.finished_at is None

    with celery_worker():
        expect(progress).to_have_attribute("data-state", "done", timeout=30_000)
        expect(progress).to_contain_text("Recomputed the weeks of")
        run.refresh_from_db()
        assert (run.weeks_total, run.weeks_done, run.error) == (2, 2, "")

    # The finished poll fired kpis-recomputed: the figures reloaded in place, fresh.
    fresh = WeeklyKpi.objects.get(organization=org, week=monday)
    assert fresh.computed_at > stale + timedelta(hours=29)
    local = weeks.to_local(fresh.computed_at, org.tz)
    expect(page.locator("[data-role=computed-at]")).to_have_text(f"{local:%a %-d %b %Y, %H:%M}")
    expect(page.locator("#stale-warning")).to_have_count(0)
    page.wait_for_function("() => window.Chart.getChart(document.getElementById('chart-delegated_hours'))")
    assert page.evaluate("window.__sameDocument") is True
    assert WeeklyKpi.objects.filter(organization=org, week=monday - timedelta(weeks=1)).exists()


def test_the_standup_on_a_phone(browser, live_server, org, viewer):
    now = timezone.now()
    TicketFactory(organization=org, external_id="T-9", title="Backups failing", severity="p1",
                  opened_at=now - timedelta(hours=6))  # fmt: skip
    with on_a_phone(browser, live_server, 390, 844) as phone:
        log_in(phone, "vic")
        phone.goto("/kpis/standup/")
        ticket = phone.locator("table.standup-table tbody tr").first
        expect(ticket).to_contain_text("T-9 Backups failing")
        # One column: each cell a labelled line, nothing wider than the screen.
        expect(phone.locator("table.standup-table thead")).to_be_hidden()
        over = ticket.locator("td[data-role=over]")
        assert over.evaluate("td => getComputedStyle(td).display") == "block"
        expect(over).to_contain_text(" h")
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390


def test_a_table_wider_than_a_phone_is_a_stop_of_tab_that_scrolls(browser, live_server, org, viewer):
    for back in range(12):
        row(org, this_week(org) - timedelta(weeks=back), owner_interruptions=back)
    with on_a_phone(browser, live_server, 375, 812) as phone:
        log_in(phone, "vic")
        phone.goto("/kpis/")
        figures = phone.locator("#trend-figures")
        figures.locator("summary").click()
        box = figures.locator(".table-wrap")
        expect(box).to_have_attribute("tabindex", "0")
        expect(box).to_have_attribute("aria-label", "The 12 weeks in figures (scrolls sideways)")
        box.focus()
        phone.keyboard.press("ArrowRight")
        phone.keyboard.press("ArrowRight")
        phone.wait_for_function("document.querySelector('#trend-figures .table-wrap').scrollLeft > 0")
        # Wide enough for it, the same table is no stop.
        phone.set_viewport_size({"width": 1280, "height": 900})
        expect(box).not_to_have_attribute("tabindex", "0")
