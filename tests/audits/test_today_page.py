"""The Today page: entries of a local day, quick add, the form, edit, delete, tags, the timer."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from audits.models import Category, RunningTimer, Source, TimeEntry
from audits.services import archive_category, record_time_entry, start_timer
from tests.factories import MembershipFactory
from tests.pages import client_for, pinned_clock

CHI = ZoneInfo("America/Chicago")
NOW = datetime(2025, 3, 4, 11, 20, tzinfo=CHI)  # Tuesday 11:20 in Chicago
HTMX = {"HTTP_HX_REQUEST": "true"}
TODAY = "/audits/today/"


_pinned_clock = pinned_clock(NOW)


def category(org, slug="tickets"):
    return Category.objects.get(organization=org, slug=slug)


def entry(org, user, start, end, activity="Password resets", slug="tickets", **fields):
    saved = record_time_entry(
        org=org,
        entry=TimeEntry(
            user=user,
            started_at=start,
            ended_at=end,
            activity=activity,
            category=category(org, slug),
            **fields,
        ),
    )
    return saved.entry


def at(hour, minute=0, day=4):
    return datetime(2025, 3, day, hour, minute, tzinfo=CHI)


# --- the page ---------------------------------------------------------------------------


def test_today_lists_the_local_day_with_its_total(founder_client, org, founder):
    entry(org, founder, at(9), at(9, 45), "Password resets")
    entry(org, founder, at(13), at(14, 30), "QBR prep", slug="client-retention")
    # Monday 23:30 to Tuesday 00:30: half an hour belongs to Tuesday.
    entry(org, founder, at(23, 30, day=3), at(0, 30), "Server migration")
    entry(org, founder, at(9, day=5), at(10, day=5), "Tomorrow's work")

    response = founder_client.get(TODAY)

    assert response.status_code == 200
    body = response.content.decode()
    assert "Tuesday 4 March 2025" in body
    for activity in ("Password resets", "QBR prep", "Server migration"):
        assert activity in body
    assert "Tomorrow&#x27;s work" not in body
    # 0.75 + 1.5 + 0.5 (the part after midnight) = 2.75 h
    assert "Total <strong>2.75 h</strong>" in body
    assert 'href="/audits/today/?day=2025-03-03"' in body
    assert 'href="/audits/today/?day=2025-03-05"' in body


def test_another_day_by_query_string(founder_client, org, founder):
    entry(org, founder, at(9, day=3), at(10, 15, day=3), "Vendor call")
    body = founder_client.get(TODAY, {"day": "2025-03-03"}).content.decode()
    assert "Monday 3 March 2025" in body
    assert "Vendor call" in body
    assert "Total <strong>1.25 h</strong>" in body
    assert "Back to today" in body


def test_a_bad_day_falls_back_to_today(founder_client):
    assert "Tuesday 4 March 2025" in founder_client.get(TODAY, {"day": "yesterday"}).content.decode()


@pytest.mark.parametrize("rows", [1, 12])
def test_query_count_does_not_grow_with_entries(
    rows, founder_client, org, founder, django_assert_num_queries
):
    for n in range(rows):
        entry(org, founder, at(0, 10 + n * 4), at(0, 12 + n * 4), f"Reset {n}")
    # session, user, memberships (also base.html's org switcher's), categories, the day's entries
    # (+category), timer, audit
    with django_assert_num_queries(7):
        response = founder_client.get(TODAY)
    assert response.content.decode().count('class="entry"') == rows


# --- quick add --------------------------------------------------------------------------


def test_quick_add_stores_the_parsed_entry_and_answers_the_day_partial(founder_client, org, founder):
    response = founder_client.post(
        "/audits/today/quick-add/?day=2025-03-04",
        {"line": "9:00-9:45 Password resets for Acme @tickets #repetitive #outsourceable T#1234 !urgent"},
        **HTMX,
    )

    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="day-entries"')
    assert "Total <strong>0.75 h</strong>" in body
    assert '<form id="quick-add" class="quick-add" method="post"' in body  # a fresh, empty line
    assert 'hx-swap-oob="true"' in body
    stored = TimeEntry.objects.get()
    assert (stored.started_at, stored.ended_at) == (at(9), at(9, 45))
    assert stored.activity == "Password resets"
    assert stored.client == "Acme"
    assert stored.category.slug == "tickets"
    assert stored.tags == ["repetitive", "outsourceable"]
    assert stored.ticket_ref == "1234"
    assert (stored.urgent, stored.important) == (True, False)
    assert stored.user == founder
    assert stored.source == Source.WEB


def test_quick_add_duration_on_a_past_day_follows_the_last_entry(founder_client, org, founder):
    entry(org, founder, at(8, day=3), at(10, 15, day=3), "Escalation")
    founder_client.post(
        "/audits/today/quick-add/?day=2025-03-03", {"line": "45m Vendor call @vendor-calls"}, **HTMX
    )
    added = TimeEntry.objects.get(activity="Vendor call")
    assert (added.started_at, added.ended_at) == (at(10, 15, day=3), at(11, day=3))


def test_quick_add_duration_today_ends_now(founder_client, org):
    founder_client.post("/audits/today/quick-add/", {"line": "1h30m Escalation !delegated"}, **HTMX)
    added = TimeEntry.objects.get()
    assert (added.started_at, added.ended_at) == (at(9, 50), at(11, 20))
    assert added.handling == "delegated"
    assert added.category.slug == "other"


def test_quick_add_that_cannot_parse_shows_the_message_and_stores_nothing(founder_client):
    response = founder_client.post("/audits/today/quick-add/", {"line": "Password resets"}, **HTMX)
    assert response.status_code == 422
    assert response["HX-Retarget"] == "#quick-add"
    body = response.content.decode()
    assert "Start with a time range like 9:00-9:45 or a duration like 45m." in body
    assert 'value="Password resets"' in body  # what was typed stays
    assert not TimeEntry.objects.exists()


def test_quick_add_refuses_an_archived_category(founder_client, org):
    archive_category(category=category(org, "backlog"))
    response = founder_client.post("/audits/today/quick-add/", {"line": "45m Old stuff @backlog"}, **HTMX)
    assert response.status_code == 422
    assert "Unknown category @backlog." in response.content.decode()
    assert not TimeEntry.objects.exists()


def test_quick_add_overlap_names_the_entry_and_stores_nothing(founder_client, org, founder):
    first = entry(org, founder, at(9), at(9, 45), "Password resets")
    response = founder_client.post("/audits/today/quick-add/", {"line": "9:30-10:00 Vendor call"}, **HTMX)
    assert response.status_code == 422
    assert f"Overlaps entry #{first.pk}: Password resets" in response.content.decode()
    assert TimeEntry.objects.count() == 1


def test_quick_add_without_htmx_redirects_back_to_the_day(founder_client):
    response = founder_client.post("/audits/today/quick-add/?day=2025-03-03", {"line": "9-10 Standup"})
    assert response.status_code == 302
    assert response["Location"] == "/audits/today/?day=2025-03-03"
    assert TimeEntry.objects.get().started_at == at(9, day=3)


# --- the form ---------------------------------------------------------------------------


def form_data(**changes):
    data = {
        "date": "2025-03-04",
        "start": "10:00",
        "end": "10:30",
        "activity": "Approve quote",
        "category": "approvals",
        "tags": ["owner_by_habit"],
        "handling": "personal",
        "urgent": "unknown",
        "important": "true",
        "client": "Acme",
        "ticket_ref": "",
        "notes": "Could be a rule",
    }
    data.update(changes)
    return data


def test_form_adds_an_entry(founder_client, org):
    response = founder_client.post("/audits/today/entries/?day=2025-03-04", form_data(), **HTMX)
    assert response.status_code == 200
    assert "Approve quote" in response.content.decode()
    stored = TimeEntry.objects.get()
    assert (stored.started_at, stored.ended_at) == (at(10), at(10, 30))
    assert stored.category.slug == "approvals"
    assert stored.tags == ["owner_by_habit"]
    assert (stored.urgent, stored.important) == (None, True)
    assert stored.notes == "Could be a rule"


def test_form_end_before_start_runs_past_midnight(founder_client):
    founder_client.post("/audits/today/entries/", form_data(start="23:00", end="01:00"), **HTMX)
    stored = TimeEntry.objects.get()
    assert (stored.started_at, stored.ended_at) == (at(23), at(1, day=5))


def test_form_overlap_is_refused_with_the_message_in_the_form(founder_client, org, founder):
    first = entry(org, founder, at(10, 15), at(11), "Password resets")
    response = founder_client.post("/audits/today/entries/", form_data(), **HTMX)
    assert response.status_code == 422
    assert response["HX-Retarget"] == "#entry-form"
    assert f"Overlaps entry #{first.pk}: Password resets" in response.content.decode()
    assert TimeEntry.objects.count() == 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"activity": ""}, "This field is required."),
        ({"category": "no-such"}, "Select a valid choice. no-such is not one of the available choices."),
        ({"tags": ["boring"]}, "Select a valid choice. boring is not one of the available choices."),
        ({"start": "25:00"}, "Enter a valid time."),
        ({"end": "10:00"}, "The entry must end after it starts."),
    ],
)
def test_form_refuses_bad_shapes(changes, message, founder_client):
    response = founder_client.post("/audits/today/entries/", form_data(**changes), **HTMX)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not TimeEntry.objects.exists()


def test_form_does_not_offer_archived_categories_for_new_entries(founder_client, org):
    archive_category(category=category(org, "approvals"))
    response = founder_client.post("/audits/today/entries/", form_data(), **HTMX)
    assert response.status_code == 422
    assert not TimeEntry.objects.exists()


def test_form_errors_without_htmx_render_the_whole_page(founder_client):
    response = founder_client.post("/audits/today/entries/", form_data(activity=""))
    assert response.status_code == 422
    assert "<html" in response.content.decode()


# --- edit, delete, tags -----------------------------------------------------------------


def test_edit_shows_the_form_row_and_saves(founder_client, org, founder):
    e = entry(org, founder, at(9), at(9, 45), "Password resets", client="Acme")
    row = founder_client.get(f"/audits/today/entries/{e.pk}/edit/?day=2025-03-04", **HTMX)
    assert row.status_code == 200
    assert f'id="entry-{e.pk}"' in row.content.decode()
    assert 'value="Password resets"' in row.content.decode()

    data = form_data(
        start="09:00", end="10:00", activity="Password resets (bulk)", category="tickets", tags=[]
    )
    response = founder_client.post(f"/audits/today/entries/{e.pk}/edit/?day=2025-03-04", data, **HTMX)
    assert response.status_code == 200
    assert response["HX-Retarget"] == "#day-entries"
    assert "Total <strong>1.00 h</strong>" in response.content.decode()
    e.refresh_from_db()
    assert (e.activity, e.ended_at, e.tags, e.client) == ("Password resets (bulk)", at(10), [], "Acme")
    assert TimeEntry.objects.count() == 1


def test_edit_keeps_an_archived_category(founder_client, org, founder):
    e = entry(org, founder, at(9), at(9, 45), "Old backlog", slug="backlog")
    archive_category(category=category(org, "backlog"))
    data = form_data(start="09:00", end="09:50", activity="Old backlog", category="backlog")
    response = founder_client.post(f"/audits/today/entries/{e.pk}/edit/", data, **HTMX)
    assert response.status_code == 200
    e.refresh_from_db()
    assert (e.category.slug, e.ended_at) == ("backlog", at(9, 50))


def test_edit_overlap_is_refused_and_changes_nothing(founder_client, org, founder):
    first = entry(org, founder, at(9), at(9, 45), "Password resets")
    second = entry(org, founder, at(10), at(10, 30), "Vendor call")
    data = form_data(start="09:30", end="10:30", activity="Vendor call", category="tickets")
    response = founder_client.post(f"/audits/today/entries/{second.pk}/edit/", data, **HTMX)
    assert response.status_code == 422
    assert f"Overlaps entry #{first.pk}: Password resets" in response.content.decode()
    second.refresh_from_db()
    assert second.started_at == at(10)


def test_delete_removes_the_row_and_updates_the_total(founder_client, org, founder):
    e = entry(org, founder, at(9), at(9, 45))
    entry(org, founder, at(10), at(10, 30), "Vendor call")
    response = founder_client.post(f"/audits/today/entries/{e.pk}/delete/?day=2025-03-04", **HTMX)
    assert response.status_code == 200
    body = response.content.decode()
    assert body.strip().startswith('<p id="day-total" class="day-total" hx-swap-oob="true">')
    assert "Total <strong>0.50 h</strong>" in body
    assert list(TimeEntry.objects.values_list("activity", flat=True)) == ["Vendor call"]


def test_deleting_the_last_entry_of_the_day_shows_the_empty_day(founder_client, org, founder):
    e = entry(org, founder, at(9), at(9, 45))
    response = founder_client.post(f"/audits/today/entries/{e.pk}/delete/?day=2025-03-04", **HTMX)
    assert response.status_code == 200
    # The row's target has nothing to show the message in: the whole list replaces itself.
    assert (response["HX-Retarget"], response["HX-Reswap"]) == ("#day-entries", "outerHTML")
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="day-entries"')
    assert "Nothing logged on this day yet." in body
    assert "Total <strong>0.00 h</strong>" in body
    assert not TimeEntry.objects.exists()


def test_tag_toggle_flips_one_tag(founder_client, org, founder):
    e = entry(org, founder, at(9), at(9, 45))
    url = f"/audits/today/entries/{e.pk}/tags/systemizable/?day=2025-03-04"
    response = founder_client.post(url, **HTMX)
    assert response.status_code == 200
    assert 'data-tag="systemizable" aria-pressed="true"' in response.content.decode()
    e.refresh_from_db()
    assert e.tags == ["systemizable"]
    founder_client.post(url, **HTMX)
    e.refresh_from_db()
    assert e.tags == []


def test_unknown_tag_is_404(founder_client, org, founder):
    e = entry(org, founder, at(9), at(9, 45))
    assert founder_client.post(f"/audits/today/entries/{e.pk}/tags/boring/", **HTMX).status_code == 404


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/audits/today/entries/{pk}/"),
        ("get", "/audits/today/entries/{pk}/edit/"),
        ("post", "/audits/today/entries/{pk}/edit/"),
        ("post", "/audits/today/entries/{pk}/delete/"),
        ("post", "/audits/today/entries/{pk}/tags/repetitive/"),
    ],
)
def test_entries_of_another_org_or_member_are_404(method, path, founder_client, org, manager, other_org):
    stranger = MembershipFactory(organization=other_org, user__username="otto").user
    foreign = entry(other_org, stranger, at(9), at(9, 45), "Their reset")
    colleague = entry(org, manager, at(9), at(9, 45), "Sam's reset")
    for target in (foreign, colleague):
        response = getattr(founder_client, method)(path.format(pk=target.pk), **HTMX)
        assert response.status_code == 404
    assert TimeEntry.objects.count() == 2
    assert not any(TimeEntry.objects.values_list("tag_repetitive", flat=True))


# --- roles ------------------------------------------------------------------------------


def test_viewer_cannot_log_time(viewer):
    client = client_for(viewer)
    assert client.get(TODAY).status_code == 403
    assert client.post("/audits/today/quick-add/", {"line": "9-10 Standup"}, **HTMX).status_code == 403
    assert client.post("/audits/today/timer/start/", **HTMX).status_code == 403
    assert not TimeEntry.objects.exists()


def test_technician_logs_own_time(technician):
    client = client_for(technician)
    assert client.get(TODAY).status_code == 200
    assert client.post("/audits/today/quick-add/", {"line": "9-10 Patching"}, **HTMX).status_code == 200
    assert TimeEntry.objects.get().user == technician


def test_anonymous_is_sent_to_login(client):
    response = client.get(TODAY)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


# --- the timer --------------------------------------------------------------------------


def test_timer_starts_survives_a_reload_and_stop_creates_the_entry(founder_client, org, founder):
    response = founder_client.post(
        "/audits/today/timer/start/", {"activity": "Escalation: VPN down", "category": "escalations"}, **HTMX
    )
    assert response.status_code == 200
    assert 'data-started-at="2025-03-04T17:20:00+00:00"' in response.content.decode()

    page = founder_client.get(TODAY).content.decode()  # a reload, or a second tab
    assert "Stop timer" in page
    assert "Escalation: VPN down" in page

    # Starting again (from a stale second tab) keeps the running timer's start.
    with time_machine.travel(NOW + timedelta(minutes=5), tick=False):
        founder_client.post("/audits/today/timer/start/", {"activity": "Other"}, **HTMX)
    assert RunningTimer.objects.get().started_at == NOW

    with time_machine.travel(NOW + timedelta(minutes=50), tick=False):
        response = founder_client.post("/audits/today/timer/stop/?day=2025-03-04", **HTMX)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Start timer" in body
    assert 'aria-label="Entries of the day" hx-swap-oob="true">' in body
    assert "Total <strong>0.83 h</strong>" in body  # 50 min = 0.833 h
    stored = TimeEntry.objects.get()
    assert (stored.started_at, stored.ended_at) == (NOW, NOW + timedelta(minutes=50))
    assert (stored.activity, stored.category.slug, stored.source) == (
        "Escalation: VPN down",
        "escalations",
        "timer",
    )
    assert not RunningTimer.objects.exists()


def test_stopping_when_no_timer_runs_says_so(founder_client):
    response = founder_client.post("/audits/today/timer/stop/", **HTMX)
    assert response.status_code == 200
    assert "No timer was running" in response.content.decode()
    assert not TimeEntry.objects.exists()


def test_timer_stop_overlap_keeps_the_timer(founder_client, org, founder):
    founder_client.post("/audits/today/timer/start/", {"activity": "Quoting"}, **HTMX)
    clash = entry(org, founder, at(11, 30), at(11, 40), "Call")
    with time_machine.travel(NOW + timedelta(minutes=30), tick=False):
        response = founder_client.post("/audits/today/timer/stop/", **HTMX)
    assert response.status_code == 422
    assert f"Overlaps entry #{clash.pk}: Call" in response.content.decode()
    assert RunningTimer.objects.exists()
    assert TimeEntry.objects.count() == 1


def test_timer_state_partial(founder_client):
    assert "Start timer" in founder_client.get("/audits/today/timer/", **HTMX).content.decode()


def test_the_day_after_dst_change_totals_real_hours(founder_client, org, founder):
    # 2025-03-09 has 23 hours in Chicago; 01:00-04:00 wall clock is 2 real hours.
    entry(
        org, founder, datetime(2025, 3, 9, 1, tzinfo=CHI), datetime(2025, 3, 9, 4, tzinfo=CHI), "Patch night"
    )
    body = founder_client.get(TODAY, {"day": date(2025, 3, 9).isoformat()}).content.decode()
    assert "Total <strong>2.00 h</strong>" in body


def test_edit_without_javascript_reloads_the_page_with_the_row_as_a_form(founder_client, org, founder):
    e = entry(org, founder, at(9), at(9, 45), "Password resets")
    response = founder_client.get(f"/audits/today/entries/{e.pk}/edit/?day=2025-03-04")
    assert response.status_code == 302
    assert response["Location"] == f"/audits/today/?day=2025-03-04&edit={e.pk}#entry-{e.pk}"
    page = founder_client.get(f"/audits/today/?day=2025-03-04&edit={e.pk}").content.decode()
    assert f'<li class="entry editing" id="entry-{e.pk}">' in page
    refused = founder_client.post(
        f"/audits/today/entries/{e.pk}/edit/?day=2025-03-04", form_data(activity="")
    )
    assert refused.status_code == 422
    assert f'<li class="entry editing" id="entry-{e.pk}">' in refused.content.decode()
    e.refresh_from_db()
    assert e.activity == "Password resets"


@pytest.mark.parametrize("edit", ["abc", "²", "99999999999999999999", "arabic-indic"])
def test_an_edit_value_that_names_no_entry_shows_the_page_without_a_form_row(
    founder_client, org, founder, edit
):
    # "²".isdigit() holds but int() refuses it (a 500 before); int() would read the entry's id in
    # Arabic-Indic digits as that id; the third is past the bigint range.
    e = entry(org, founder, at(9), at(9, 45), "Password resets")
    if edit == "arabic-indic":
        edit = str(e.pk).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    response = founder_client.get(TODAY, {"day": "2025-03-04", "edit": edit})
    assert response.status_code == 200
    page = response.content.decode()
    assert f'<li class="entry" id="entry-{e.pk}">' in page
    assert "entry editing" not in page


def test_timer_line_takes_category_and_tags(founder_client):
    founder_client.post(
        "/audits/today/timer/start/", {"activity": "Vendor call @vendor-calls #repetitive"}, **HTMX
    )
    timer = RunningTimer.objects.get()
    assert (timer.activity, timer.category.slug, timer.tags) == (
        "Vendor call",
        "vendor-calls",
        ["repetitive"],
    )
    with time_machine.travel(NOW + timedelta(minutes=30), tick=False):
        founder_client.post("/audits/today/timer/stop/", **HTMX)
    stored = TimeEntry.objects.get()
    assert (stored.activity, stored.category.slug, stored.tags) == (
        "Vendor call",
        "vendor-calls",
        ["repetitive"],
    )


def test_timer_with_an_unknown_tag_does_not_start(founder_client):
    response = founder_client.post("/audits/today/timer/start/", {"activity": "Call #boring"}, **HTMX)
    assert response.status_code == 422
    assert "Unknown tag #boring." in response.content.decode()
    assert not RunningTimer.objects.exists()


@pytest.mark.parametrize("role", ["founder", "technician"])
def test_a_refused_timer_start_keeps_the_typed_text_with_the_message(request, role):
    client = client_for(request.getfixturevalue(role))
    typed = "Vendor call with Dell @nosuchcat #repetitive"
    response = client.post("/audits/today/timer/start/", {"activity": typed, "category": "sales"}, **HTMX)
    assert response.status_code == 422
    body = response.content.decode()
    assert "Unknown category @nosuchcat." in body
    assert (
        f'value="{typed}" aria-invalid="true" aria-describedby="timer-errors" autofocus>' in body
    )  # htmx focuses the [autofocus] field it swaps in
    assert '<option value="sales" selected>' in body
    assert not RunningTimer.objects.exists()

    # Without JavaScript: the whole page, the text still in the field.
    page = client.post("/audits/today/timer/start/", {"activity": typed})
    assert page.status_code == 422
    assert "<h1" in page.content.decode()
    assert f'value="{typed}" aria-invalid="true"' in page.content.decode()
    assert "Unknown category @nosuchcat." in page.content.decode()


def test_the_timer_field_is_empty_and_unmarked_without_a_refusal(founder_client):
    body = founder_client.get("/audits/today/timer/", **HTMX).content.decode()
    assert 'placeholder="What are you working on? (@category #tag)" value="">' in body
    stopped = founder_client.post("/audits/today/timer/stop/", **HTMX).content.decode()
    assert "No timer was running" in stopped
    assert "aria-invalid" not in stopped  # not the field's fault


def test_a_timer_forgotten_over_24_hours_can_be_discarded(founder_client, org, founder):
    founder_client.post("/audits/today/timer/start/", {"activity": "Forgot to stop"}, **HTMX)
    with time_machine.travel(NOW + timedelta(hours=30), tick=False):
        refused = founder_client.post("/audits/today/timer/stop/", **HTMX)
        assert refused.status_code == 422
        assert "An entry lasts at most 24 hours." in refused.content.decode()

        response = founder_client.post("/audits/today/timer/discard/", **HTMX)

    assert response.status_code == 200
    assert "Start timer" in response.content.decode()
    assert not RunningTimer.objects.exists()
    assert not TimeEntry.objects.exists()


def test_discarding_only_touches_my_own_timer(founder_client, org, founder, manager):
    start_timer(org=org, user=manager, activity="Manager's work")
    response = founder_client.post("/audits/today/timer/discard/", **HTMX)
    assert "No timer was running." in response.content.decode()
    assert RunningTimer.objects.get().user == manager
