"""Owner interruptions, drills and the weekly plan in Chromium: the quick log from any page (one
click, or "i"), the list updating at once, a drill review completed, the plan on a phone."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from delegation.models import Drill, Interruption, TimeBlock
from delegation.services import record_interruption, save_drills
from tests.conftest import log_in
from tests.factories import RunbookFactory

pytestmark = pytest.mark.browser

OVERFLOW = "document.documentElement.scrollWidth - document.documentElement.clientWidth"


def test_log_an_interruption_in_one_click_from_a_page_that_is_not_the_interruption_list(page, founder):
    log_in(page, "fran")
    assert page.url.endswith("/audits/today/")
    page.evaluate("window.__sameDocument = true")  # gone if anything reloads the page

    page.get_by_role("link", name="Log an interruption", exact=True).click()  # the one click
    dialog = page.locator("#quick-log")
    expect(dialog).to_be_visible()
    expect(dialog.locator("#ql_ticket_ref")).to_be_focused()
    expect(dialog.locator("#ql_channel_0")).to_be_checked()  # a call, about a ticket, now
    expect(dialog.locator("#ql_about_ticket")).to_be_checked()
    page.keyboard.type("48213")
    dialog.locator("#ql_client").fill("Acme Dental")
    dialog.locator("#ql_requested_by").fill("Tess")
    dialog.locator("#ql_ticket_ref").press("Enter")

    expect(dialog.locator("#quick-log-done")).to_have_text(
        re.compile(r"^Logged: Call about T#48213 for Acme Dental at \d\d:\d\d \(#\d+\)\. See the list$")
    )
    stored = Interruption.objects.get()
    expect(dialog.locator("#quick-log-done")).to_contain_text(f"(#{stored.pk})")
    assert (stored.channel, stored.ticket_ref, stored.requested_by) == ("call", "48213", "Tess")
    assert stored.logged_by == founder
    assert abs(stored.occurred_at - timezone.now()) < timedelta(minutes=2)

    # Esc closes it; "i" opens a fresh form, on the keyboard alone.
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    page.keyboard.press("i")
    expect(dialog.locator("#ql_ticket_ref")).to_be_focused()
    expect(dialog.locator("#ql_ticket_ref")).to_have_value("")
    dialog.get_by_text("Text", exact=True).click()
    page.keyboard.press("Escape")  # nothing saved
    assert Interruption.objects.count() == 1
    assert page.evaluate("window.__sameDocument") is True


def test_the_list_shows_a_new_interruption_at_once(page, org, founder, technician):
    log_in(page, "fran")
    page.goto("/delegation/interruptions/")
    expect(page.locator("#count-total")).to_have_text("0")
    page.evaluate("window.__sameDocument = true")

    page.locator("[data-quick-log-open]").click()  # the list's own button opens the same dialog
    dialog = page.locator("#quick-log")
    dialog.get_by_text("Emergency escalation").click()
    dialog.locator("#ql_ticket_ref").fill("P1-7781")
    dialog.locator("#ql_category").fill("Backup")
    dialog.get_by_role("button", name="Log interruption").click()
    expect(dialog.locator("#quick-log-done")).to_be_visible()
    page.keyboard.press("Escape")

    row = page.locator(".interruption", has_text="P1-7781")
    expect(row).to_contain_text("Emergency escalation")
    expect(row).to_contain_text("Backup")
    expect(page.locator("#count-total")).to_have_text("1")

    # A refusal shows in the dialog and stores nothing.
    page.keyboard.press("i")
    expect(dialog.locator("#ql_ticket_ref")).to_be_focused()  # the fresh form has arrived
    dialog.locator("#ql_time").fill("")
    dialog.get_by_role("button", name="Log interruption").click()
    expect(dialog.get_by_text("Give both the date and the time, or neither.")).to_be_visible()
    assert Interruption.objects.count() == 1
    assert page.evaluate("window.__sameDocument") is True


def test_complete_a_drill_review(page, org, founder):
    start = timezone.now() - timedelta(days=5)  # a 3-day window that ended two days ago
    (saved,) = save_drills(org=org, drills=[Drill(starts_at=start)])
    drill = saved.obj
    RunbookFactory(organization=org, ticket_category="VPN")
    for hours, ref, category in [(20, "VPN-1", "VPN"), (30, "MFA-2", "MFA")]:
        record_interruption(
            org=org,
            interruption=Interruption(
                occurred_at=start + timedelta(hours=hours),
                channel="call",
                ticket_ref=ref,
                category=category,
                logged_by=founder,
            ),
        )

    log_in(page, "fran")
    page.get_by_role("link", name="Drills", exact=True).click()
    page.get_by_role("link", name="Review it").click()
    expect(page.locator("#drill-pending")).to_contain_text("2 of 2 interruptions still need a follow-up")

    page.get_by_role("button", name="Complete the drill").click()  # too early: refused, says why
    expect(page.locator("#complete-error")).to_contain_text("2 interruption(s) still need a follow-up")
    drill.refresh_from_db()
    assert drill.completed_at is None

    vpn = page.locator(".interruption", has_text="VPN-1")
    vpn.get_by_label("Runbook updated").select_option(label="VPN")
    expect(page.locator("#drill-pending")).to_contain_text("1 of 2 interruptions still needs a follow-up")
    expect(vpn.get_by_role("link", name="Runbook: VPN")).to_be_visible()
    mfa = page.locator(".interruption", has_text="MFA-2")
    mfa.get_by_label("Owner-level").select_option(label="Owner-level")
    expect(page.locator("#drill-pending")).to_contain_text("Every interruption has its follow-up")

    page.get_by_role("button", name="Complete the drill").click()
    expect(page).to_have_url(re.compile(rf"/delegation/drills/{drill.pk}/report/$"))
    expect(page.get_by_text("Drill complete. The next one is due in a month.")).to_be_visible()
    expect(page.locator("#report-total")).to_have_text("2")
    expect(page.locator("#report-owner-level")).to_have_text("1")
    expect(page.locator("#report-runbooks")).to_have_text("1")
    page.wait_for_function("() => window.Chart && !!Chart.getChart(document.getElementById('chart-days'))")
    drill.refresh_from_db()
    assert drill.completed_at is not None
    stored = {i.ticket_ref: i for i in Interruption.objects.select_related("runbook")}
    assert stored["VPN-1"].follow_up == "runbook_updated"
    assert stored["VPN-1"].runbook.ticket_category == "VPN"
    assert stored["MFA-2"].owner_level is True


def test_the_quick_log_and_the_weekly_plan_fit_a_phone(page, org, founder):
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, "fran")
    page.get_by_role("link", name="Log an interruption", exact=True).click()
    expect(page.locator("#ql_ticket_ref")).to_be_focused()
    assert page.evaluate(OVERFLOW) == 0
    box = page.locator("#quick-log").bounding_box()
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= 390
    page.keyboard.press("Escape")

    page.goto("/delegation/time-blocks/")
    form = page.locator("#add-block")
    form.locator("select[name=weekday]").select_option(label="Tuesday")
    form.locator("input[name=start_time]").fill("13:00")
    form.locator("input[name=end_time]").fill("14:00")
    form.get_by_role("button", name="Add block").click()
    expect(page.locator("#day-2 .wg-block")).to_contain_text("Owner escalations")
    expect(page.locator("#day-2 .wg-block")).to_contain_text("13:00–14:00")
    assert page.evaluate(OVERFLOW) == 0

    # The same times again: refused, naming the block, nothing stored.
    form = page.locator("#add-block")
    form.locator("select[name=weekday]").select_option(label="Tuesday")
    form.locator("input[name=start_time]").fill("13:30")
    form.locator("input[name=end_time]").fill("15:00")
    form.get_by_role("button", name="Add block").click()
    block = TimeBlock.objects.get()
    expect(
        page.get_by_text(f"Overlaps block #{block.pk}: Owner escalations Tuesday 13:00-14:00.")
    ).to_be_visible()
    assert TimeBlock.objects.count() == 1


def test_a_refused_quick_log_shows_its_message_on_a_page_without_the_htmx_config(page, founder):
    log_in(page, "fran")
    page.goto("/audits/")  # the audit list: no htmx-config meta of its own
    page.keyboard.press("i")
    dialog = page.locator("#quick-log")
    expect(dialog.locator("#ql_ticket_ref")).to_be_focused()
    dialog.locator("#ql_date").fill("2025-03-09")
    dialog.locator("#ql_time").fill("02:30")
    dialog.get_by_role("button", name="Log interruption").click()
    expect(dialog.get_by_text("2:30 does not exist on 2025-03-09 in America/Chicago")).to_be_visible()
    expect(dialog.locator("#ql_time")).to_be_focused()
    assert not Interruption.objects.exists()


def test_a_list_filtered_to_no_follow_up_drops_a_reviewed_row(page, org, founder):
    for minutes, ref in [(30, "VPN-1"), (20, "MFA-2")]:
        record_interruption(
            org=org,
            interruption=Interruption(
                occurred_at=timezone.now() - timedelta(minutes=minutes), channel="call", ticket_ref=ref,
                category="VPN", logged_by=founder,
            ),
        )  # fmt: skip
    log_in(page, "fran")
    page.goto("/delegation/interruptions/?follow_up=none")
    expect(page.locator("#shown-count")).to_have_text("2 shown of 2, newest first")
    page.evaluate("window.__sameDocument = true")

    vpn = page.locator(".interruption", has_text="VPN-1")
    vpn.locator("select[name=follow_up]").select_option(label="Rule tightened")
    expect(page.locator(".interruption", has_text="VPN-1")).to_have_count(0)
    expect(page.locator("#shown-count")).to_have_text("1 shown of 2, newest first")
    expect(page.locator(".interruption", has_text="MFA-2")).to_have_count(1)
    assert Interruption.objects.get(ticket_ref="VPN-1").follow_up == "rule_tightened"
    assert page.evaluate("window.__sameDocument") is True


def test_browsing_a_follow_up_with_the_arrow_keys_saves_only_the_choice_made(page, org, founder):
    runbook = RunbookFactory(organization=org, ticket_category="Backup")
    interruption = record_interruption(
        org=org,
        interruption=Interruption(
            occurred_at=timezone.now() - timedelta(minutes=30), channel="call", ticket_ref="BK-1",
            category="Backup", logged_by=founder, follow_up="runbook_updated", runbook=runbook,
        ),
    )  # fmt: skip
    log_in(page, "fran")
    page.goto("/delegation/interruptions/")
    choice = page.locator(f"#id_i{interruption.pk}_follow_up")
    expect(choice).to_have_value("runbook_updated")
    page.evaluate("window.__sameDocument = true")

    # Arrow keys only browse: nothing is written while the options go by.
    choice.focus()
    page.keyboard.press("ArrowDown")
    expect(choice).to_have_value("rule_tightened")
    page.wait_for_timeout(300)  # a save would have been sent by now
    interruption.refresh_from_db()
    assert (interruption.follow_up, interruption.runbook) == ("runbook_updated", runbook)

    # Enter saves the choice shown; the focus comes back to the same select in the new row.
    row = f"document.getElementById('interruption-{interruption.pk}')"
    page.evaluate(f"{row}.dataset.before = 'save'")
    page.keyboard.press("Enter")
    page.wait_for_function(f"!{row}.dataset.before")  # the saved row has replaced it
    expect(page.locator(f"#id_i{interruption.pk}_follow_up")).to_be_focused()
    interruption.refresh_from_db()
    assert (interruption.follow_up, interruption.runbook) == ("rule_tightened", None)

    # Browsed, then the row's form left with Tab (past its other selects, which do not save
    # it): saved once, as the select shows it.
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")
    in_form = f"{row}.querySelector('form.follow-up').contains(document.activeElement)"
    for _ in range(6):  # three choices at most; a few presses to spare
        page.keyboard.press("Tab")
        if not page.evaluate(in_form):
            break
        interruption.refresh_from_db()
        assert interruption.follow_up == "rule_tightened"  # still inside the row's choices
    for _ in range(50):  # the save, sent as the focus left
        interruption.refresh_from_db()
        if interruption.follow_up == "none":
            break
        page.wait_for_timeout(100)
    assert interruption.follow_up == "none"
    expect(page.locator(f"#id_i{interruption.pk}_follow_up")).to_have_value("none")
    assert page.evaluate("window.__sameDocument") is True
