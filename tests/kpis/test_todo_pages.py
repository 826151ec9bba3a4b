"""Level-10 to-dos on the pages: made from the agenda (the form prefilled, due at the next review in
the org's zone), refusals that store nothing, done and open again in place, the list and its
filters, roles, another organization's 404, and open to-dos carried over to each next agenda."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from kpis.models import Todo
from msp_ops.orgs.models import Role
from tests.factories import MembershipFactory, TodoFactory
from tests.kpis.page_helpers import HTMX, body, elements, inner, text, texts
from tests.pages import client_for, pinned_clock

CHI = ZoneInfo("America/Chicago")
# Sunday 9 March 2025, 20:30 in Chicago: already Monday 10 March 01:30 in UTC. Today is the 9th
# (week of 3 March) in the organization's zone.
NOW = datetime(2025, 3, 9, 20, 30, tzinfo=CHI)
NEW = "/kpis/todos/new/"
LIST = "/kpis/todos/"


_pinned_clock = pinned_clock(NOW)


def done_url(todo: Todo) -> str:
    return f"/kpis/todos/{todo.pk}/done/"


def stored(todo: Todo) -> dict:
    return Todo.objects.filter(pk=todo.pk).values("done", "done_at").get()


# --- made from the agenda ---------------------------------------------------------------------


def test_the_form_opens_in_place_prefilled(org, manager, founder):
    response = client_for(manager).get(
        NEW,
        {"title": "Tier 1: clear the aged VPN tickets and fix the cause", "ticket_category": "VPN"},
        **HTMX,
    )
    html = body(response)
    assert response.status_code == 200
    assert html.lstrip().startswith('<form method="post" action="/kpis/todos/new/" class="todo-form card"')
    assert 'value="Tier 1: clear the aged VPN tickets and fix the cause"' in html
    assert 'name="ticket_category" value="VPN"' in html
    # Due at the next weekly review: 7 days after today in Chicago (9 March), not after the UTC date.
    assert 'name="due_date" value="2025-03-16"' in html
    # Any member may own it; the one who opens the form by default.
    owners = inner(html, id="todo_owner")
    assert texts(owners, value=str(manager.pk)) == ["sam"]
    assert f'<option value="{manager.pk}" selected>sam</option>' in owners
    assert f'<option value="{founder.pk}">fran</option>' in owners
    assert "Cancel" in html


def test_making_a_to_do_stores_it_in_this_weeks_agenda_and_reloads_the_agenda(org, manager, technician):
    response = client_for(manager).post(
        NEW,
        {"title": "VPN: find the root cause", "owner": technician.pk, "due_date": "2025-03-16",
         "ticket_category": "VPN", "week": "2025-03-03"},
        **HTMX,
    )  # fmt: skip

    assert response.status_code == 200
    assert response["HX-Trigger"] == "todos-changed"
    assert text(body(response), class_="msg msg-success todo-created") == (
        "To-do “VPN: find the root cause” for tess, due Sun 16 Mar, on the agenda of the week of 3 Mar."
        " Make another"
    )
    todo = Todo.objects.get()
    assert (todo.organization, todo.owner, todo.ticket_category) == (org, technician, "VPN")
    assert (todo.due_date, todo.created_week, todo.done, todo.done_at) == (
        date(2025, 3, 16),
        date(2025, 3, 3),
        False,
        None,
    )


def test_a_due_date_left_empty_is_the_next_weekly_review(org, manager):
    client_for(manager).post(
        NEW, {"title": "Backups: retrain Tier 2", "owner": manager.pk, "due_date": ""}, **HTMX
    )
    assert Todo.objects.get().due_date == date(2025, 3, 16)


def test_without_javascript_the_form_is_a_page_and_creating_goes_back(org, manager):
    client = client_for(manager)
    page = client.get(NEW, {"title": "VPN", "next": "/kpis/?week=2025-03-03"})
    assert "<h1>New Level-10 to-do</h1>" in body(page)
    assert 'name="next" value="/kpis/?week=2025-03-03"' in body(page)

    response = client.post(NEW, {"title": "VPN", "owner": manager.pk, "next": "/kpis/?week=2025-03-03"})
    assert response.status_code == 302
    assert response.url == "/kpis/?week=2025-03-03"
    assert "To-do “VPN” for sam, due Sun 16 Mar." in body(client.get(response.url))


def test_an_outside_next_is_not_followed(org, manager):
    response = client_for(manager).post(
        NEW, {"title": "VPN", "owner": manager.pk, "next": "https://evil.example/"}
    )
    assert response.url == "/kpis/?week=2025-03-03"


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"title": ""}, "title", "This field is required."),
        ({"title": "x" * 201}, "title", "Ensure this value has at most 200 characters (it has 201)."),
        ({"due_date": "16/03/2025"}, "due_date", "Enter a valid date."),
        (
            {"owner": "999999"},
            "owner",
            "Select a valid choice. That choice is not one of the available choices.",
        ),
    ],
    ids=["no title", "long title", "bad date", "not a member"],
)
def test_a_refused_to_do_says_why_under_its_field_and_stores_nothing(org, manager, fields, field, message):
    data = {"title": "VPN", "owner": manager.pk, **fields}
    response = client_for(manager).post(NEW, data, **HTMX)
    assert response.status_code == 422
    errors = elements(body(response), class_="errorlist")
    assert [e["text"] for e in errors] == [message]
    assert f'id="todo_{field}"' in body(response).split('class="errorlist"')[0].rsplit("<div", 1)[1]
    assert not Todo.objects.exists()


def test_another_organizations_member_cannot_own_a_to_do(org, manager, stranger):
    response = client_for(manager).post(NEW, {"title": "VPN", "owner": stranger.pk}, **HTMX)
    assert response.status_code == 422
    assert not Todo.objects.exists()


@pytest.mark.parametrize("role", ["viewer", "technician"])
def test_only_founders_and_service_managers_make_to_dos(request, org, role):
    client = client_for(request.getfixturevalue(role))
    assert client.get(NEW, **HTMX).status_code == 403
    assert client.post(NEW, {"title": "VPN", "owner": request.getfixturevalue(role).pk}).status_code == 403
    assert not Todo.objects.exists()


# --- done and open again ----------------------------------------------------------------------


def test_ticking_the_checkbox_marks_it_done_in_place_and_unticking_opens_it(org, manager):
    todo = TodoFactory(organization=org, title="VPN: root cause", owner=manager, due_date=date(2025, 3, 10))
    client = client_for(manager)

    done = client.post(done_url(todo), {"done": "true", "week": "2025-03-10"}, **HTMX)
    html = body(done)
    assert html.lstrip().startswith(f'<li class="todo done" id="todo-{todo.pk}">')
    assert f'id="todo-done-{todo.pk}" checked>' in html
    assert (
        text(html, class_="todo-meta small")
        == "Done Sun 9 Mar · sam · due Mon 10 Mar · VPN · from week of 3 Mar"
    )
    assert stored(todo) == {"done": True, "done_at": NOW}

    reopened = client.post(done_url(todo), {"week": "2025-03-10"}, **HTMX)  # an unticked box sends nothing
    assert "checked" not in body(reopened)
    assert stored(todo) == {"done": False, "done_at": None}


def test_ticking_one_done_on_the_open_list_reloads_the_list_without_it(org, manager):
    todos = [
        TodoFactory(organization=org, title=f"To-do {n}", due_date=date(2025, 3, 10 + n)) for n in range(3)
    ]
    client = client_for(manager)
    listed = body(client.get(LIST))
    assert text(listed, data_role="count") == "3 open to-dos."
    assert 'hx-trigger="todos-changed from:body"' in listed  # the list reloads itself on the event

    done = client.post(done_url(todos[0]), {"done": "true", "next": LIST}, **HTMX)
    assert done.status_code == 200
    assert done["HX-Trigger"] == "todos-changed"
    # What the list then asks for (its own filters): the count follows, the row is gone.
    reloaded = body(client.get(LIST, **HTMX))
    assert text(reloaded, data_role="count") == "2 open to-dos."
    assert texts(reloaded, class_="todo-title") == ["To-do 1", "To-do 2"]

    reopened = client.post(done_url(todos[0]), {"next": LIST}, **HTMX)
    assert reopened["HX-Trigger"] == "todos-changed"
    assert text(body(client.get(LIST, **HTMX)), data_role="count") == "3 open to-dos."


def test_an_open_to_do_past_its_due_date_is_overdue(org, manager):
    todo = TodoFactory(organization=org, due_date=date(2025, 3, 8))
    html = body(client_for(manager).get(LIST))
    assert f'<li class="todo overdue" id="todo-{todo.pk}">' in html
    assert "overdue</span>" in inner(html, id=f"todo-{todo.pk}")


@pytest.mark.parametrize("role", ["viewer", "technician"])
def test_only_founders_and_service_managers_tick_to_dos(request, org, role):
    todo = TodoFactory(organization=org)
    response = client_for(request.getfixturevalue(role)).post(done_url(todo), {"done": "true"}, **HTMX)
    assert response.status_code == 403
    assert stored(todo) == {"done": False, "done_at": None}


def test_viewers_see_done_or_not_without_a_checkbox(org, viewer):
    TodoFactory(organization=org, title="VPN: root cause")
    html = body(client_for(viewer).get(LIST))
    assert "VPN: root cause" in html
    assert 'type="checkbox"' not in inner(html, id="todo-list")


def test_another_organizations_to_do_is_404_and_unchanged(org, manager, other_org):
    foreign = TodoFactory(organization=other_org)
    assert client_for(manager).post(done_url(foreign), {"done": "true"}, **HTMX).status_code == 404
    assert stored(foreign) == {"done": False, "done_at": None}


def test_without_javascript_marking_done_goes_back_with_a_message(org, manager):
    todo = TodoFactory(organization=org, title="VPN: root cause")
    client = client_for(manager)
    response = client.post(done_url(todo), {"done": "true", "next": "/kpis/?week=2025-03-03"})
    assert response.url == "/kpis/?week=2025-03-03"
    assert "“VPN: root cause” done." in body(client.get(LIST))


# --- the list ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status"), [("founder", 200), ("manager", 200), ("viewer", 200), ("technician", 403)]
)
def test_the_list_by_role(request, role, status):
    assert client_for(request.getfixturevalue(role)).get(LIST).status_code == status


def test_the_list_shows_open_ones_first_then_filters_by_state_and_owner(org, manager, founder):
    TodoFactory(organization=org, title="Open, sam's", owner=manager, due_date=date(2025, 3, 12))
    TodoFactory(organization=org, title="Open, fran's", owner=founder, due_date=date(2025, 3, 11))
    TodoFactory(organization=org, title="Done, sam's", owner=manager, done=True, due_date=date(2025, 3, 14))
    client = client_for(manager)

    def titles(**query) -> list[str]:
        return texts(inner(body(client.get(LIST, query)), id="todo-list"), class_="todo-title")

    assert titles() == ["Open, fran's", "Open, sam's"]  # open by default, the oldest due first
    assert titles(status="done") == ["Done, sam's"]
    assert titles(status="all", owner="sam") == ["Open, sam's", "Done, sam's"]
    assert titles(status="open", owner="fran") == ["Open, fran's"]
    assert text(body(client.get(LIST, {"status": "all"})), data_role="count") == "3 to-dos in all."


def test_the_filters_swap_the_list_in_place(org, manager):
    TodoFactory(organization=org, title="VPN: root cause", owner=manager)
    response = client_for(manager).get(LIST, {"owner": "sam"}, **HTMX)
    assert body(response).lstrip().startswith('<section class="card" id="todo-list"')
    assert 'hx-trigger="todos-changed from:body"' in body(response)


@pytest.mark.parametrize("count", [1, 20])
def test_the_list_query_count_does_not_grow(org, manager, count, django_assert_num_queries):
    for n in range(count):
        TodoFactory(organization=org, owner=manager, title=f"To-do {n}")
    client = client_for(manager)
    # session, user, memberships (also base.html's org switcher's), the count and the page of to-dos
    # (with their owners), the owner choices of the filter and of the new-to-do form (twice: a
    # required <select> reads its first choice for the `required` attribute)
    with django_assert_num_queries(8):
        response = client.get(LIST)
    assert len(texts(body(response), class_="todo-title")) == count


# --- carried over until done ------------------------------------------------------------------


def test_an_open_to_do_carries_over_to_each_next_agenda_until_done(org, manager):
    # A: made in the week of 17 Feb, done on Thu 27 Feb; B: made in the week of 24 Feb, open;
    # C: made in the week of 3 March. Today is Sunday 9 March.
    TodoFactory(organization=org, title="A", created_week=date(2025, 2, 17), done=True,
                done_at=datetime(2025, 2, 27, 9, tzinfo=CHI))  # fmt: skip
    b = TodoFactory(organization=org, title="B", created_week=date(2025, 2, 24), owner=manager)
    TodoFactory(organization=org, title="C", created_week=date(2025, 3, 3))
    client = client_for(manager)

    def agenda(week: str) -> tuple[list[str], list[str]]:
        html = body(client.get("/kpis/", {"week": week}))
        return (
            texts(inner(html, id="agenda-todos").split("New this week")[0], class_="todo-title"),
            texts(inner(html, id="agenda-todos").split("New this week")[1], class_="todo-title"),
        )

    # The review of 3 March: what the agenda of 24 February held (A, done that week; B, open).
    assert agenda("2025-03-03") == (["A", "B"], ["C"])
    # 10 March: B is still open, so it is still on the agenda; A is gone.
    assert agenda("2025-03-10") == (["B", "C"], [])
    html = body(client.get("/kpis/", {"week": "2025-03-10"}))
    assert text(inner(html, id=f"todo-{b.pk}"), data_role="carried") == "from week of 24 Feb"

    # Done on Monday 10 March: on that week's agenda (done during it), on none after it.
    with time_machine.travel(datetime(2025, 3, 10, 9, tzinfo=CHI), tick=False):
        client.post(done_url(b), {"done": "true"}, **HTMX)
    assert agenda("2025-03-10") == (["B", "C"], [])
    assert "Done" in text(inner(body(client.get("/kpis/", {"week": "2025-03-10"})), id=f"todo-{b.pk}"),
                          data_role="state")  # fmt: skip
    assert agenda("2025-03-17") == (["B", "C"], [])  # the review of 17 March: the agenda of 10 March
    assert agenda("2025-03-24") == (["C"], [])


def test_the_agenda_to_dos_reload_alone(org, manager):
    TodoFactory(organization=org, title="C", created_week=date(2025, 3, 3))
    response = client_for(manager).get("/kpis/todos/agenda/", {"week": "2025-03-03"}, **HTMX)
    html = body(response)
    assert html.lstrip().startswith('<section id="agenda-todos"')
    assert texts(html, class_="todo-title") == ["C"]
    assert (
        client_for(manager).get("/kpis/todos/agenda/", {"week": "2025-03-03"}).url == "/kpis/?week=2025-03-03"
    )


def test_a_member_of_any_role_may_own_one(org, manager):
    tech = MembershipFactory(organization=org, role=Role.TECHNICIAN, user__username="tina").user
    client_for(manager).post(NEW, {"title": "VPN", "owner": tech.pk}, **HTMX)
    assert Todo.objects.get().owner == tech


def test_make_another_on_the_list_page_goes_back_to_the_list(org, manager):
    client = client_for(manager)
    page = body(client.get(LIST, {"owner": "sam"}))
    assert 'src="/static/js/kpis.js"' in page  # Cancel on the form "Make another" opens
    form = inner(page, id="new-todo-slot")
    assert 'name="next" value="/kpis/todos/?owner=sam"' in form

    made = client.post(NEW, {"title": "VPN", "owner": manager.pk, "next": "/kpis/todos/?owner=sam"}, **HTMX)
    assert made.status_code == 200
    another = re.search(r'hx-get="([^"]+)"', body(made)).group(1).replace("&amp;", "&")
    form = body(client.get(another, **HTMX))
    assert 'name="next" value="/kpis/todos/?owner=sam"' in form
    assert "data-close-todo-form" in form


def test_the_form_on_the_list_page(org, manager):
    html = body(client_for(manager).get(LIST))
    assert 'id="new-todo"' in html
    assert 'name="due_date" value="2025-03-16"' in html
    assert (date(2025, 3, 9) + timedelta(days=7)).isoformat() == "2025-03-16"
