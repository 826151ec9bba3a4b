"""The founder's time audit in Chromium: log a day, run the timer, read the report, on a phone too."""

import re
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import expect

from audits.models import Category, TimeEntry
from audits.services import record_time_entry, start_time_audit
from msp_ops.lib.weeks import today
from tests.conftest import log_in

pytestmark = pytest.mark.browser


def test_founder_logs_a_day_with_quick_add_and_the_form(page, founder):
    log_in(page, "fran")
    assert page.url.endswith("/audits/today/")
    page.evaluate("window.__sameDocument = true")  # gone if anything reloads the page

    page.keyboard.press("/")  # the shortcut focuses the quick-add line
    expect(page.locator("#id_line")).to_be_focused()
    page.keyboard.type("9:00-9:45 Password resets for Acme @tickets #repetitive #outsourceable")
    page.keyboard.press("Enter")
    row = page.locator(".entry", has_text="Password resets")
    expect(row).to_contain_text("09:00–09:45")
    expect(row).to_contain_text("for Acme")
    expect(row.locator('[data-tag="repetitive"]')).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#day-total")).to_contain_text("0.75 h")
    expect(page.locator("#id_line")).to_have_value("")  # a fresh line, focus kept for the next one
    expect(page.locator("#id_line")).to_be_focused()

    page.keyboard.type("Vendor call")  # no time: refused inline
    page.keyboard.press("Enter")
    expect(page.locator("#quick-add-error")).to_have_text(
        "Start with a time range like 9:00-9:45 or a duration like 45m."
    )
    page.fill("#id_line", "9:30-10:00 Vendor call @vendor-calls")
    page.keyboard.press("Enter")
    expect(page.locator("#quick-add-error")).to_contain_text("Overlaps entry #")
    expect(page.locator("#quick-add-error")).to_contain_text(": Password resets")

    page.keyboard.press("Escape")
    page.keyboard.press("a")  # opens the full form
    form = page.locator("#entry-form")
    form.locator("input[name=start]").fill("10:00")
    form.locator("input[name=end]").fill("11:30")
    form.locator("input[name=activity]").fill("QBR prep")
    form.locator("select[name=category]").select_option("client-retention")
    form.locator("select[name=handling]").select_option("delegated")
    form.locator("input[name=tags][value=systemizable]").check()
    form.get_by_role("button", name="Add entry").click()
    qbr = page.locator(".entry", has_text="QBR prep")
    expect(qbr).to_contain_text("delegated")
    expect(page.locator("#day-total")).to_contain_text("2.25 h")  # 0.75 + 1.5

    # Tag toggle, then inline edit, then delete: each swaps its row only.
    qbr.locator('[data-tag="owner_by_habit"]').click()
    expect(qbr.locator('[data-tag="owner_by_habit"]')).to_have_attribute("aria-pressed", "true")
    qbr.get_by_role("link", name="Edit").click()
    editing = page.locator(".entry.editing")
    editing.locator("input[name=end]").fill("11:00")
    editing.get_by_role("button", name="Save").click()
    expect(page.locator("#day-total")).to_contain_text("1.75 h")
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator(".entry", has_text="Password resets").get_by_role("button", name="Delete").click()
    expect(page.locator(".entry", has_text="Password resets")).to_have_count(0)
    expect(page.locator("#day-total")).to_contain_text("1.00 h")

    assert page.evaluate("window.__sameDocument") is True
    stored = TimeEntry.objects.get()
    assert (stored.activity, stored.tags) == ("QBR prep", ["systemizable", "owner_by_habit"])
    assert stored.handling == "delegated"


def test_the_timer_survives_a_reload_and_a_second_tab(page, founder):
    log_in(page, "fran")
    page.fill("#id_timer_activity", "Escalation: VPN down")
    page.keyboard.press("Escape")
    page.keyboard.press("t")  # shortcut: start
    expect(page.locator("#timer")).to_contain_text("Running: Escalation: VPN down")
    expect(page.locator("#timer-elapsed")).to_have_text(re.compile(r"^0:00:0\d$"))

    page.reload()
    expect(page.locator("#timer")).to_contain_text("Running: Escalation: VPN down")
    expect(page.locator("#timer-elapsed")).to_have_text(re.compile(r"^0:00:\d\d$"))

    second = page.context.new_page()  # same session, another tab
    second.goto("/audits/today/")
    expect(second.locator("#timer")).to_contain_text("Running: Escalation: VPN down")
    second.get_by_role("button", name="Stop timer").click()
    stopped = second.locator(".entry", has_text="Escalation: VPN down")
    expect(stopped).to_contain_text("timer")

    # The first tab learns about it when it comes back into view.
    page.bring_to_front()
    page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    expect(page.locator("#timer-toggle")).to_have_text(re.compile("Start timer"))
    assert TimeEntry.objects.get().source == "timer"


def test_founder_reads_the_report(page, org, founder):
    monday = today(org.tz) - timedelta(days=today(org.tz).weekday())
    audit = start_time_audit(org=org, user=founder, start_date=monday)
    tickets = Category.objects.get(organization=org, slug="tickets")
    for n, tags in enumerate([["repetitive", "outsourceable"], ["repetitive"], []]):
        start = datetime.combine(monday + timedelta(days=n), datetime.min.time(), tzinfo=org.tz) + timedelta(
            hours=9
        )
        entry = TimeEntry(
            user=founder, started_at=start, ended_at=start + timedelta(hours=1), activity="Resets"
        )
        entry.category = tickets
        entry.tags = tags
        record_time_entry(org=org, entry=entry)

    log_in(page, "fran")
    page.get_by_role("link", name="Audits").click()
    page.get_by_role("link", name="Report").click()
    expect(page.locator("#logged-hours")).to_have_text("3.00 h")
    expect(page.locator("#reclaimable-hours")).to_have_text("2.00 h")
    candidate = page.locator(".candidate").first
    expect(candidate).to_contain_text("Tickets")
    expect(candidate).to_contain_text("2.00 h")
    for chart in ("tags", "days", "categories", "business"):
        canvas = page.locator(f"#chart-{chart}")
        expect(canvas).to_be_visible()
        # The chart scripts are deferred: wait until Chart.js has drawn on the canvas.
        page.wait_for_function(
            "id => window.Chart && !!Chart.getChart(document.getElementById(id))", arg=f"chart-{chart}"
        )
    page.get_by_role("link", name="Printable view").click()
    expect(page.locator("body.print-view h1")).to_have_text("Time audit report")
    assert page.url.endswith(f"/audits/{audit.pk}/report/?print=1")


def test_today_fits_a_phone(page, org, founder):
    tickets = Category.objects.get(organization=org, slug="tickets")
    day = today(org.tz)
    start = datetime.combine(day, datetime.min.time(), tzinfo=org.tz) + timedelta(hours=8)
    entry = TimeEntry(
        user=founder, started_at=start, ended_at=start + timedelta(minutes=45), category=tickets
    )
    entry.activity = "Password resets for the whole accounting department after the phishing test"
    entry.client = "Acme Dental Partners"
    entry.ticket_ref = "123456"
    entry.tags = ["repetitive", "outsourceable", "systemizable", "owner_by_habit"]
    record_time_entry(org=org, entry=entry)

    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, "fran")
    expect(page.locator(".entry")).to_have_count(1)
    overflow = "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    assert page.evaluate(overflow) == 0
    page.locator(".entry").get_by_role("link", name="Edit").click()
    expect(page.locator(".entry.editing")).to_be_visible()
    assert page.evaluate(overflow) == 0


def test_a_form_submitted_before_htmx_wired_it_still_stays_on_the_page(page, founder):
    # htmx wires swapped-in content only after the swap settles; a fast Enter in that gap once
    # posted the whole page. A clone of the quick-add form is such a not-yet-wired form.
    log_in(page, "fran")
    page.evaluate(
        """() => {
            window.__sameDocument = true;
            const form = document.querySelector("#quick-add");
            form.replaceWith(form.cloneNode(true));
        }"""
    )
    page.fill("#id_line", "9:00-9:30 Patch stuck on Acme's file server @tickets")
    page.press("#id_line", "Enter")

    expect(page.locator(".entry", has_text="Patch stuck")).to_have_count(1)
    assert page.evaluate("window.__sameDocument") is True
    assert TimeEntry.objects.get().activity == "Patch stuck on Acme's file server"


def test_a_refused_timer_start_keeps_the_text_in_the_focused_field(page, technician):
    log_in(page, "tess")
    page.goto("/audits/today/")
    typed = "Vendor call with Dell @nosuchcat #repetitive"
    page.fill("#id_timer_activity", typed)
    page.get_by_role("button", name="Start timer").click()
    expect(page.locator("#timer-errors")).to_contain_text("Unknown category @nosuchcat.")
    field = page.locator("#id_timer_activity")
    expect(field).to_have_value(typed)
    expect(field).to_be_focused()  # fix the category and press Enter again
    field.press("End")
    for _ in "nosuchcat #repetitive":
        field.press("Backspace")
    page.keyboard.type("vendor-calls #repetitive")
    page.keyboard.press("Enter")
    expect(page.locator("#timer")).to_contain_text("Running: Vendor call with Dell")
    expect(page.locator("#timer-errors")).to_have_count(0)


def test_deleting_the_last_entry_shows_the_empty_day(page, org, founder):
    log_in(page, "fran")
    page.keyboard.press("/")
    page.keyboard.type("9:00-9:45 Password resets @tickets")
    page.keyboard.press("Enter")
    row = page.locator(".entry", has_text="Password resets")
    expect(row).to_be_visible()
    expect(page.locator(".empty-day")).to_have_count(0)

    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Delete").click()
    expect(page.locator(".entry")).to_have_count(0)
    expect(page.locator("#day-entries .empty-day")).to_contain_text("Nothing logged on this day yet.")
    expect(page.locator("#day-total")).to_contain_text("0.00 h")
    assert not TimeEntry.objects.exists()
