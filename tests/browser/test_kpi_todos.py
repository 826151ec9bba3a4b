"""The Level-10 to-do list in Chromium: ticking one done on the open list takes it out and counts
again; "Make another" opens a form whose Cancel closes it and which goes back to the list, as
filtered in place at the time."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from kpis.models import Todo
from tests.conftest import log_in
from tests.factories import TodoFactory

pytestmark = pytest.mark.browser


def test_ticking_a_to_do_done_on_the_open_list_drops_it_and_counts_again(page, org, manager):
    todos = [TodoFactory(organization=org, title=f"To-do {n}", owner=manager) for n in range(3)]
    log_in(page, "sam")
    page.goto("/kpis/todos/")
    expect(page.locator("#todo-list [data-role=count]")).to_have_text("3 open to-dos.")
    page.evaluate("window.__sameDocument = true")  # gone if anything reloads the page

    page.get_by_label("To-do 0").check()
    expect(page.locator(f"#todo-{todos[0].pk}")).to_have_count(0)
    expect(page.locator("#todo-list [data-role=count]")).to_have_text("2 open to-dos.")
    expect(page.locator("#todo-list .todo")).to_have_count(2)
    assert Todo.objects.get(pk=todos[0].pk).done is True
    assert page.evaluate("window.__sameDocument") is True


def test_make_another_cancels_and_goes_back_to_the_list(page, org, manager):
    log_in(page, "sam")
    page.goto("/kpis/todos/")
    page.get_by_text("New to-do", exact=True).click()
    slot = page.locator("#new-todo-slot")
    slot.get_by_label("Title").fill("VPN: root cause")
    slot.get_by_role("button", name="Create to-do").click()
    expect(slot.locator(".todo-created")).to_contain_text("To-do “VPN: root cause” for sam")
    expect(page.locator("#todo-list [data-role=count]")).to_have_text("1 open to-do.")

    slot.get_by_role("link", name="Make another").click()
    expect(slot.locator("input[name=next]")).to_have_value("/kpis/todos/")
    slot.get_by_role("button", name="Cancel").click()
    expect(slot.locator(".todo-created")).to_have_count(0)
    expect(page.locator("#new-todo")).not_to_have_attribute("open", "")
    # Opened again: a fresh form, which without htmx still goes back to the list.
    page.get_by_text("New to-do", exact=True).click()
    expect(slot.get_by_label("Title")).to_have_value("")
    expect(slot.locator("input[name=next]")).to_have_value("/kpis/todos/")
    slot.get_by_label("Title").fill("Backup: retrain Tier 2")
    slot.locator("form").evaluate("form => form.submit()")  # a plain POST, as without JavaScript
    page.wait_for_url("**/kpis/todos/")
    expect(page.get_by_text("To-do “Backup: retrain Tier 2” for sam")).to_be_visible()
    assert Todo.objects.count() == 2


def test_the_new_to_do_form_goes_back_to_the_list_as_filtered_in_place(page, org, manager, founder):
    TodoFactory(organization=org, title="Fran's", owner=founder)
    log_in(page, "sam")
    page.goto("/kpis/todos/")
    page.locator("#todo-filters").get_by_label("Owner").select_option(label="sam")
    page.wait_for_url("**/kpis/todos/?*owner=sam*")
    expect(page.locator("#todo-list [data-role=count]")).to_have_text("0 open to-dos.")
    filtered = page.evaluate("location.pathname + location.search")

    page.get_by_text("New to-do", exact=True).click()
    slot = page.locator("#new-todo-slot")
    expect(slot.locator("input[name=next]")).to_have_value(filtered)
    slot.get_by_label("Title").fill("VPN: root cause")
    slot.locator("form").evaluate("form => form.submit()")  # a plain POST, as without htmx
    page.wait_for_url(f"**{filtered}")
    expect(page.get_by_text("To-do “VPN: root cause” for sam")).to_be_visible()
    expect(page.locator("#todo-list [data-role=count]")).to_have_text("1 open to-do.")


def test_make_another_and_a_fresh_form_follow_the_filter_too(page, org, manager, founder):
    log_in(page, "sam")
    page.goto("/kpis/todos/")
    page.get_by_text("New to-do", exact=True).click()
    slot = page.locator("#new-todo-slot")
    slot.get_by_label("Title").fill("VPN: root cause")
    slot.get_by_role("button", name="Create to-do").click()
    expect(slot.locator(".todo-created")).to_be_visible()

    page.locator("#todo-filters").get_by_label("Show").select_option("all")
    page.wait_for_url("**/kpis/todos/?*status=all*")
    filtered = page.evaluate("location.pathname + location.search")
    slot.get_by_role("link", name="Make another").click()
    expect(slot.locator("input[name=next]")).to_have_value(filtered)
    slot.get_by_role("button", name="Cancel").click()
    expect(slot.locator("input[name=next]")).to_have_value(filtered)  # the fresh form, loaded
    page.locator("#todo-filters").get_by_label("Owner").select_option(label="sam")
    page.wait_for_url("**/kpis/todos/?*owner=sam*")
    filtered = page.evaluate("location.pathname + location.search")
    page.get_by_text("New to-do", exact=True).click()
    expect(slot.get_by_label("Title")).to_have_value("")
    expect(slot.locator("input[name=next]")).to_have_value(filtered)
