"""Every rule of a time entry (SPEC 1 "Time entries") through ``save_time_entries``.

Each refusal asserts the exact message and that nothing was stored.
"""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, transaction

from audits.models import NAIVE_TIME_MESSAGE, Category, Source, TimeEntry
from audits.services import (
    BatchValidationError,
    archive_category,
    record_time_entry,
    save_time_entries,
)
from tests.factories import MembershipFactory

CHI = ZoneInfo("America/Chicago")


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment of March 2025 in Chicago (UTC-6 until the 9th at 02:00, then UTC-5)."""
    return datetime(2025, 3, day, hour, minute, tzinfo=CHI)


def category(org, slug: str = "tickets") -> Category:
    return Category.objects.get(organization=org, slug=slug)


def make(org, user, start=None, end=None, **fields) -> TimeEntry:
    fields.setdefault("activity", "Password resets for Acme")
    fields.setdefault("category", category(org))
    return TimeEntry(user=user, started_at=start or at(4, 9), ended_at=end or at(4, 9, 45), **fields)


def refused(org, *entries) -> list[dict]:
    """Saves, expects a refusal, checks nothing of the batch was stored; returns the item errors."""
    before = TimeEntry.objects.count()
    with pytest.raises(BatchValidationError) as error:
        save_time_entries(org=org, entries=list(entries))
    assert TimeEntry.objects.count() == before
    return error.value.item_errors


# --- one entry's fields ------------------------------------------------------------------


def test_a_valid_entry_is_stored_with_every_field(org, founder):
    entry = make(
        org,
        founder,
        handling="delegated",
        urgent=True,
        important=False,
        client="Acme Dental",
        ticket_ref="T-1042",
        notes="Three users locked out after the password policy change.",
        external_id="psa-1",
        source=Source.API,
    )
    entry.tags = ["outsourceable", "repetitive"]
    [saved] = save_time_entries(org=org, entries=[entry])
    assert saved.created
    stored = TimeEntry.objects.get(pk=saved.entry.pk)
    assert (stored.organization, stored.user, stored.category.slug) == (org, founder, "tickets")
    assert stored.started_at == datetime(2025, 3, 4, 15, tzinfo=UTC)  # 09:00 CST = 15:00 UTC
    assert stored.tags == ["repetitive", "outsourceable"]  # the fixed order
    assert (stored.handling, stored.urgent, stored.important) == ("delegated", True, False)
    assert (stored.client, stored.ticket_ref, stored.external_id, stored.source) == (
        "Acme Dental",
        "T-1042",
        "psa-1",
        "api",
    )
    assert str(stored.duration_hours) == "0.75"


def test_defaults_personal_web_unflagged_and_category_other(org, founder):
    entry = make(org, founder, category=None)
    [saved] = save_time_entries(org=org, entries=[entry])
    stored = TimeEntry.objects.get(pk=saved.entry.pk)
    assert (stored.handling, stored.source, stored.urgent, stored.important) == (
        "personal",
        "web",
        None,
        None,
    )
    assert stored.category.slug == "other"
    assert stored.tags == []
    assert stored.external_id is None


@pytest.mark.parametrize("naive", ["started_at", "ended_at"])
def test_naive_times_are_refused(org, founder, naive):
    entry = make(org, founder)
    setattr(entry, naive, getattr(entry, naive).replace(tzinfo=None))
    assert refused(org, entry) == [{naive: [NAIVE_TIME_MESSAGE]}]


@pytest.mark.parametrize("minutes", [0, -30])
def test_the_end_must_come_after_the_start(org, founder, minutes):
    entry = make(org, founder, at(4, 9), at(4, 9) + timedelta(minutes=minutes))
    assert refused(org, entry) == [{"ended_at": ["The entry must end after it starts."]}]


def test_an_entry_lasts_at_most_24_hours(org, founder):
    long = make(org, founder, at(4, 9), at(5, 9, 1))
    assert refused(org, long) == [{"ended_at": ["An entry lasts at most 24 hours."]}]
    exactly = make(org, founder, at(4, 9), at(5, 9))
    assert save_time_entries(org=org, entries=[exactly])[0].created


def test_24_wall_clock_hours_over_fall_back_are_25_real_hours_and_refused(org, founder):
    # Sat 2025-11-01 12:00 CDT to Sun 12:00 CST: 24 h on the wall, 25 h elapsed.
    entry = make(
        org,
        founder,
        datetime(2025, 11, 1, 12, tzinfo=CHI),
        datetime(2025, 11, 2, 12, tzinfo=CHI),
    )
    assert refused(org, entry) == [{"ended_at": ["An entry lasts at most 24 hours."]}]


def test_24_wall_clock_hours_over_spring_forward_are_23_real_hours_and_accepted(org, founder):
    entry = make(org, founder, at(8, 12), at(9, 12))
    [saved] = save_time_entries(org=org, entries=[entry])
    assert str(saved.entry.duration_hours) == "23.00"


@pytest.mark.parametrize(
    ("activity", "message"),
    [
        ("", "This field cannot be blank."),
        ("   ", "Say what you did (1 to 500 characters)."),
        ("x" * 501, "Ensure this value has at most 500 characters (it has 501)."),
    ],
)
def test_activity_is_1_to_500_characters(org, founder, activity, message):
    assert refused(org, make(org, founder, activity=activity)) == [{"activity": [message]}]


def test_activity_of_1_and_500_characters_is_accepted(org, founder):
    saved = save_time_entries(
        org=org,
        entries=[
            make(org, founder, activity="x"),
            make(org, founder, at(4, 10), at(4, 11), activity="y" * 500),
        ],
    )
    assert [len(s.entry.activity) for s in saved] == [1, 500]


def test_only_the_four_tags_exist(org, founder):
    entry = make(org, founder)
    with pytest.raises(ValidationError) as error:
        entry.tags = ["repetitive", "urgent", "boring"]
    assert error.value.message_dict == {"tags": ["Unknown tag(s): boring, urgent."]}
    assert TimeEntry.objects.count() == 0


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("handling", "outsourced", "Value 'outsourced' is not a valid choice."),
        ("source", "email", "Value 'email' is not a valid choice."),
        ("client", "c" * 201, "Ensure this value has at most 200 characters (it has 201)."),
        ("ticket_ref", "t" * 101, "Ensure this value has at most 100 characters (it has 101)."),
        ("notes", "n" * 10_001, "Ensure this value has at most 10000 characters (it has 10001)."),
    ],
)
def test_choices_and_lengths_are_checked(org, founder, field, value, message):
    assert refused(org, make(org, founder, **{field: value})) == [{field: [message]}]


def test_the_user_must_be_a_member_of_the_org(org, founder, stranger):
    assert refused(org, make(org, stranger)) == [{"user": ["Not a member of this organization."]}]


def test_another_orgs_category_is_unknown(org, founder, other_org):
    entry = make(org, founder, category=category(other_org))
    assert refused(org, entry) == [{"category": ["Unknown category."]}]


# --- archived categories -------------------------------------------------------------------


def test_an_archived_category_takes_no_new_entries(org, founder):
    archive_category(category=category(org, "backlog"))
    entry = make(org, founder, category=category(org, "backlog"))
    assert refused(org, entry) == [{"category": ["Category 'backlog' is archived."]}]


def test_an_archived_category_stays_valid_on_old_entries(org, founder):
    [saved] = save_time_entries(
        org=org, entries=[make(org, founder, category=category(org, "backlog"), external_id="e1")]
    )
    archive_category(category=category(org, "backlog"))
    # An edit of the entry keeping its category...
    entry = TimeEntry.objects.get(pk=saved.entry.pk)
    entry.activity = "Backlog grooming"
    save_time_entries(org=org, entries=[entry])
    # ... and a replay of its external_id both keep it.
    replay = make(org, founder, category=category(org, "backlog"), external_id="e1", activity="Replayed")
    [again] = save_time_entries(org=org, entries=[replay])
    assert not again.created
    stored = TimeEntry.objects.get()
    assert (stored.category.slug, stored.activity) == ("backlog", "Replayed")
    # Moving another entry into it is still refused.
    other = save_time_entries(org=org, entries=[make(org, founder, at(5, 9), at(5, 10))])[0].entry
    other.category = category(org, "backlog")
    assert refused(org, other) == [{"category": ["Category 'backlog' is archived."]}]


# --- external_id ---------------------------------------------------------------------------


def test_a_replayed_external_id_updates_instead_of_duplicating(org, founder):
    [first] = save_time_entries(org=org, entries=[make(org, founder, external_id="toggl-7")])
    replay = make(
        org, founder, at(4, 9), at(4, 10), activity="Password resets (fixed)", external_id="toggl-7"
    )
    [second] = save_time_entries(org=org, entries=[replay])
    assert (first.created, second.created) == (True, False)
    assert second.entry.pk == first.entry.pk
    stored = TimeEntry.objects.get()
    assert (stored.activity, str(stored.duration_hours)) == ("Password resets (fixed)", "1.00")


def test_external_id_is_unique_per_org_only(org, founder, other_org, stranger):
    save_time_entries(org=org, entries=[make(org, founder, external_id="x-1")])
    theirs = make(other_org, stranger, category=category(other_org), external_id="x-1")
    [saved] = save_time_entries(org=other_org, entries=[theirs])
    assert saved.created
    assert TimeEntry.objects.filter(external_id="x-1").count() == 2


def test_an_external_id_twice_in_one_batch_is_refused(org, founder):
    errors = refused(
        org,
        make(org, founder, external_id="dup"),
        make(org, founder, at(4, 10), at(4, 11), external_id="dup"),
    )
    assert errors == [{}, {"external_id": ["external_id 'dup' appears twice in this batch (item 1)."]}]


def test_an_edit_cannot_take_another_entrys_external_id(org, founder):
    a, b = save_time_entries(
        org=org,
        entries=[
            make(org, founder, external_id="a"),
            make(org, founder, at(4, 10), at(4, 11), external_id="b"),
        ],
    )
    b.entry.external_id = "a"
    assert refused(org, b.entry) == [
        {"external_id": [f"external_id 'a' already belongs to entry #{a.entry.pk}."]}
    ]
    assert TimeEntry.objects.get(pk=b.entry.pk).external_id == "b"


def test_the_database_refuses_a_duplicate_external_id_too(org, founder):
    save_time_entries(org=org, entries=[make(org, founder, external_id="db")])
    with pytest.raises(IntegrityError), transaction.atomic():
        make(org, founder, at(5, 9), at(5, 10), external_id="db", organization=org).save()
    assert TimeEntry.objects.count() == 1


# --- overlaps ------------------------------------------------------------------------------


def test_an_overlapping_entry_is_refused_naming_the_collision(org, founder):
    [first] = save_time_entries(org=org, entries=[make(org, founder, at(4, 9), at(4, 10))])
    clash = make(org, founder, at(4, 9, 30), at(4, 10, 30), activity="Vendor call")
    assert refused(org, clash) == [
        {"started_at": [f"Overlaps entry #{first.entry.pk}: Password resets for Acme"]}
    ]
    assert TimeEntry.objects.count() == 1


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (at(4, 8), at(4, 11)),  # contains the stored entry
        (at(4, 9, 15), at(4, 9, 30)),  # inside it
        (at(4, 9), at(4, 10)),  # the same times
        (at(4, 8), at(4, 9, 1)),  # one minute into it
    ],
)
def test_every_kind_of_overlap_is_refused(org, founder, start, end):
    [first] = save_time_entries(org=org, entries=[make(org, founder, at(4, 9), at(4, 10))])
    errors = refused(org, make(org, founder, start, end))
    assert errors == [{"started_at": [f"Overlaps entry #{first.entry.pk}: Password resets for Acme"]}]


def test_touching_entries_are_fine(org, founder):
    save_time_entries(org=org, entries=[make(org, founder, at(4, 9), at(4, 10))])
    save_time_entries(
        org=org,
        entries=[make(org, founder, at(4, 8), at(4, 9)), make(org, founder, at(4, 10), at(4, 11))],
    )
    assert TimeEntry.objects.count() == 3


def test_other_members_may_overlap(org, founder, manager):
    save_time_entries(
        org=org, entries=[make(org, founder, at(4, 9), at(4, 10)), make(org, manager, at(4, 9), at(4, 10))]
    )
    assert TimeEntry.objects.count() == 2


def test_an_overlap_given_in_utc_is_found_against_local_times(org, founder):
    [first] = save_time_entries(org=org, entries=[make(org, founder, at(4, 9), at(4, 10))])
    # 09:30 CST is 15:30 UTC.
    clash = make(
        org, founder, datetime(2025, 3, 4, 15, 30, tzinfo=UTC), datetime(2025, 3, 4, 16, 30, tzinfo=UTC)
    )
    assert refused(org, clash)[0]["started_at"] == [
        f"Overlaps entry #{first.entry.pk}: Password resets for Acme"
    ]


def test_overlaps_within_a_batch_name_the_item_and_refuse_the_batch(org, founder):
    errors = refused(
        org,
        make(org, founder, at(4, 9), at(4, 10), activity="Standup"),
        make(org, founder, at(4, 11), at(4, 12), activity="Quoting"),
        make(org, founder, at(4, 9, 30), at(4, 9, 45), activity="Call"),
    )
    assert errors == [{}, {}, {"started_at": ["Overlaps item 1 of this batch: Standup"]}]


def test_one_bad_item_stores_nothing_of_the_batch(org, founder):
    errors = refused(
        org,
        make(org, founder, at(4, 9), at(4, 10)),
        make(org, founder, at(4, 11), at(4, 10)),
    )
    assert errors == [{}, {"ended_at": ["The entry must end after it starts."]}]


def test_an_edit_does_not_collide_with_its_own_old_times(org, founder):
    [saved] = save_time_entries(org=org, entries=[make(org, founder, at(4, 9), at(4, 10))])
    entry = TimeEntry.objects.get(pk=saved.entry.pk)
    entry.started_at, entry.ended_at = at(4, 9, 30), at(4, 10, 30)
    [edited] = save_time_entries(org=org, entries=[entry])
    assert not edited.created
    assert TimeEntry.objects.get().started_at == at(4, 9, 30)


def test_an_edit_of_another_orgs_entry_is_refused(org, founder, other_org, stranger):
    [theirs] = save_time_entries(
        org=other_org, entries=[make(other_org, stranger, category=category(other_org), activity="Theirs")]
    )
    intruder = make(org, founder, activity="Mine now")
    intruder.pk = theirs.entry.pk
    assert refused(org, intruder) == [{NON_FIELD_ERRORS: [f"Entry #{theirs.entry.pk} does not exist."]}]
    stored = TimeEntry.objects.get(pk=theirs.entry.pk)
    assert (stored.organization, stored.activity) == (other_org, "Theirs")


def test_the_database_itself_refuses_an_overlap(org, founder):
    """The exclusion constraint (migration 0002), what holds under concurrent requests."""
    save_time_entries(org=org, entries=[make(org, founder, at(4, 9), at(4, 10))])
    with pytest.raises(IntegrityError, match="entry_no_overlap_per_member"), transaction.atomic():
        make(org, founder, at(4, 9, 30), at(4, 10, 30), organization=org).save()
    assert TimeEntry.objects.count() == 1


def test_the_database_refuses_an_entry_ending_before_it_starts(org, founder):
    with pytest.raises(IntegrityError, match="entry_ends_after_start"), transaction.atomic():
        make(org, founder, at(4, 10), at(4, 9), organization=org).save()
    assert TimeEntry.objects.count() == 0


# --- one entry, and the number of queries ---------------------------------------------------


def test_record_time_entry_raises_a_plain_field_keyed_error(org, founder):
    [first] = save_time_entries(org=org, entries=[make(org, founder)])
    with pytest.raises(ValidationError) as error:
        record_time_entry(org=org, entry=make(org, founder))
    assert error.value.message_dict == {
        "started_at": [f"Overlaps entry #{first.entry.pk}: Password resets for Acme"]
    }
    assert TimeEntry.objects.count() == 1


@pytest.mark.parametrize("size", [1, 200])
def test_a_batch_costs_the_same_queries_whatever_its_size(org, founder, django_assert_num_queries, size):
    tickets = category(org)
    start = at(3, 0)
    entries = []
    for n in range(size):
        entry = make(
            org,
            founder,
            start + timedelta(minutes=30 * n),
            start + timedelta(minutes=30 * n + 25),
            category=None,
            external_id=f"ext-{n}",
        )
        entry.category_id = tickets.pk if n % 2 == 0 else None  # an id only, or the default
        entries.append(entry)
    # members, external ids, categories; savepoint, one upsert, release (the exclusion
    # constraint checks overlaps with stored entries: their query runs only on a refusal).
    with django_assert_num_queries(6):
        saved = save_time_entries(org=org, entries=entries)
    assert TimeEntry.objects.count() == size
    assert all(s.created for s in saved)
    assert TimeEntry.objects.filter(category__slug="other").count() == size // 2


@pytest.mark.parametrize("size", [1, 200])
def test_new_entries_without_external_id_cost_the_same_queries(org, founder, django_assert_num_queries, size):
    start = at(3, 0)
    entries = [
        make(org, founder, start + timedelta(minutes=30 * n), start + timedelta(minutes=30 * n + 25))
        for n in range(size)
    ]
    # members, categories; savepoint, one insert, release (no external ids to look up; the
    # exclusion constraint checks overlaps).
    with django_assert_num_queries(5):
        save_time_entries(org=org, entries=entries)
    assert TimeEntry.objects.count() == size


@pytest.mark.parametrize("size", [1, 200])
def test_editing_a_batch_costs_the_same_queries_whatever_its_size(
    org, founder, django_assert_num_queries, size
):
    start = at(3, 0)
    save_time_entries(
        org=org,
        entries=[
            make(org, founder, start + timedelta(minutes=30 * n), start + timedelta(minutes=30 * n + 25))
            for n in range(size)
        ],
    )
    entries = list(TimeEntry.objects.all())
    for entry in entries:
        entry.activity = "Edited"
    # members, categories, edited originals; savepoint, UPDATE, release (overlaps: the
    # exclusion constraint).
    with django_assert_num_queries(6):
        save_time_entries(org=org, entries=entries)
    assert set(TimeEntry.objects.values_list("activity", flat=True)) == {"Edited"}


def test_a_member_of_two_orgs_logs_in_each(org, founder, other_org):
    MembershipFactory(organization=other_org, user=founder)
    save_time_entries(org=org, entries=[make(org, founder)])
    # The same times in the other org: entries of one user in different orgs don't collide.
    [saved] = save_time_entries(
        org=other_org, entries=[make(other_org, founder, category=category(other_org))]
    )
    assert saved.created
