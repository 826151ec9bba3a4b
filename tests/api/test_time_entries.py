"""/api/v1/time-entries/: create (object or batch), replay, read, filter, edit, delete (SPEC 4)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from audits.models import Category, TimeEntry
from audits.services import archive_category
from tests.api.conftest import ENTRIES, at, item, patch, post, put
from tests.factories import TimeEntryFactory


def test_one_object_is_stored_and_answered_with_every_field(api, founder, org):
    response = post(
        api,
        ENTRIES,
        item(
            tags=["systemizable", "repetitive", "repetitive"],
            category="tickets",
            urgent=True,
            external_id="psa-1",
        ),
    )

    assert response.status_code == 201
    entry = TimeEntry.objects.get()
    assert response.json() == {
        "id": entry.pk,
        "user": "fran",
        "started_at": "2025-03-03T09:00:00-06:00",
        "ended_at": "2025-03-03T10:15:00-06:00",
        "activity": "Backup check",
        "category": "tickets",
        "tags": ["repetitive", "systemizable"],  # the fixed order, each once
        "handling": "personal",
        "urgent": True,
        "important": None,
        "client": "",
        "ticket_ref": "",
        "notes": "",
        "external_id": "psa-1",
        "source": "api",
        "duration_hours": 1.25,  # 09:00 -> 10:15
    }
    assert entry.user == founder
    assert entry.organization == org


def test_defaults_category_other_and_answers_in_the_orgs_zone(api):
    response = post(
        api, ENTRIES, item(started_at="2025-03-03T15:00:00Z", ended_at="2025-03-03T15:20:00+00:00")
    )

    assert response.status_code == 201
    body = response.json()
    assert body["category"] == "other"
    # 15:00 UTC is 09:00 in Chicago (CST, -06:00); 20 minutes = 0.33 h.
    assert body["started_at"] == "2025-03-03T09:00:00-06:00"
    assert body["duration_hours"] == 0.33


def test_a_batch_is_stored_and_answered_as_an_array(api):
    batch = [
        item(started_at=at(9), ended_at=at(10), external_id="a"),
        item(started_at=at(10), ended_at=at(11, 30), external_id="b", user="fran"),  # touching is fine
    ]

    response = post(api, ENTRIES, batch)

    assert response.status_code == 201
    assert [e["external_id"] for e in response.json()] == ["a", "b"]
    assert [e["duration_hours"] for e in response.json()] == [1.0, 1.5]
    assert TimeEntry.objects.count() == 2


def test_a_replayed_batch_updates_instead_of_duplicating_and_answers_200(api):
    batch = [
        item(started_at=at(9), ended_at=at(10), external_id="a"),
        item(started_at=at(11), ended_at=at(12), external_id="b"),
    ]
    first = post(api, ENTRIES, batch)
    batch[1]["activity"] = "Vendor call, renamed"

    second = post(api, ENTRIES, batch)

    assert first.status_code == 201
    assert second.status_code == 200
    assert [e["id"] for e in second.json()] == [e["id"] for e in first.json()]
    assert TimeEntry.objects.count() == 2
    assert TimeEntry.objects.get(external_id="b").activity == "Vendor call, renamed"


def test_a_batch_with_one_new_item_answers_201(api):
    post(api, ENTRIES, [item(started_at=at(9), ended_at=at(10), external_id="a")])

    response = post(
        api,
        ENTRIES,
        [item(started_at=at(9), ended_at=at(10), external_id="a"), item(started_at=at(11), ended_at=at(12))],
    )

    assert response.status_code == 201
    assert TimeEntry.objects.count() == 2


def test_an_invalid_item_refuses_the_whole_batch_with_one_error_object_per_item(api):
    batch = [
        item(started_at=at(9), ended_at=at(10)),
        item(started_at=at(11), ended_at=at(10)),
        item(started_at=at(12), ended_at=at(13), category="nope"),
    ]

    response = post(api, ENTRIES, batch)

    assert response.status_code == 400
    assert response.json() == [
        {},
        {"ended_at": ["The entry must end after it starts."]},
        {"category": ["Unknown category 'nope'; use the slug of one of the organization's categories."]},
    ]
    assert TimeEntry.objects.count() == 0


def test_overlaps_within_the_batch_and_with_stored_entries_are_named(api, founder, org):
    stored = TimeEntryFactory(
        organization=org, user=founder, started_at=at(8), ended_at=at(9, 30), activity="Patch Tuesday"
    )
    batch = [
        item(started_at=at(9), ended_at=at(10), activity="Backup check"),
        item(started_at=at(9, 45), ended_at=at(11), activity="Vendor call"),
    ]

    response = post(api, ENTRIES, batch)

    assert response.status_code == 400
    assert response.json() == [
        {"started_at": [f"Overlaps entry #{stored.pk}: Patch Tuesday"]},
        {"started_at": ["Overlaps item 1 of this batch: Backup check"]},
    ]
    assert TimeEntry.objects.count() == 1


def test_a_single_refused_object_answers_a_plain_error_object(api, founder, org):
    stored = TimeEntryFactory(
        organization=org, user=founder, started_at=at(8), ended_at=at(9, 30), activity="Patching"
    )

    response = post(api, ENTRIES, item(started_at=at(9), ended_at=at(10)))

    assert response.status_code == 400
    assert response.json() == {"started_at": [f"Overlaps entry #{stored.pk}: Patching"]}


def test_duplicate_external_ids_in_one_batch_are_refused(api):
    batch = [
        item(started_at=at(9), ended_at=at(10), external_id="x"),
        item(started_at=at(11), ended_at=at(12), external_id="x"),
    ]

    response = post(api, ENTRIES, batch)

    assert response.status_code == 400
    assert response.json() == [{}, {"external_id": ["external_id 'x' appears twice in this batch (item 1)."]}]
    assert TimeEntry.objects.count() == 0


@pytest.mark.parametrize("as_batch", [False, True])
def test_spaces_around_a_category_slug_are_trimmed_before_the_lookup(api, as_batch):
    # The field trims " tickets "; the batch's lookup of categories must see the same slug.
    body = item(category=" tickets ")

    response = post(api, ENTRIES, [body] if as_batch else body)

    assert response.status_code == 201
    answered = response.json()[0] if as_batch else response.json()
    assert answered["category"] == "tickets"
    assert TimeEntry.objects.get().category.slug == "tickets"


def test_a_category_slug_of_spaces_only_is_blank(api):
    response = post(api, ENTRIES, item(category="   "))

    assert response.status_code == 400
    assert response.json() == {"category": ["This field may not be blank."]}
    assert TimeEntry.objects.count() == 0


def test_an_archived_category_takes_no_new_entries(api, org):
    archive_category(category=Category.objects.get(organization=org, slug="sales"))

    response = post(api, ENTRIES, item(category="sales"))

    assert response.status_code == 400
    assert response.json() == {"category": ["Category 'sales' is archived."]}


def test_a_batch_over_the_limit_is_refused(api, settings):
    settings.API_MAX_BATCH = 3
    batch = [item(started_at=at(h), ended_at=at(h, 30)) for h in range(8, 12)]

    response = post(api, ENTRIES, batch)

    assert response.status_code == 400
    assert response.json() == {
        "non_field_errors": ["Send one object or an array of 1 to 3 objects (this array has 4)."]
    }
    assert TimeEntry.objects.count() == 0


def test_an_empty_array_is_refused(api):
    response = post(api, ENTRIES, [])

    assert response.status_code == 400
    assert response.json() == {
        "non_field_errors": ["Send one object or an array of 1 to 1000 objects (this array has 0)."]
    }


def test_a_full_batch_of_1000_is_accepted(api):
    start = datetime(2025, 1, 1, tzinfo=UTC)
    batch = [
        item(
            started_at=(start + n * timedelta(minutes=5)).isoformat(),
            ended_at=(start + n * timedelta(minutes=5) + timedelta(minutes=4)).isoformat(),
            external_id=f"e{n}",
        )
        for n in range(1000)
    ]

    response = post(api, ENTRIES, batch)

    assert response.status_code == 201, response.content[:500]
    assert len(response.json()) == 1000
    assert TimeEntry.objects.count() == 1000


def test_list_is_ordered_by_start_and_filtered(api, founder, manager, org):
    early = TimeEntryFactory(
        organization=org, user=founder, started_at=at(8), ended_at=at(9), activity="Early"
    )
    early.tags = ["repetitive"]
    early.save()
    late = TimeEntryFactory(
        organization=org, user=founder, started_at=at(13), ended_at=at(14), activity="Late"
    )
    other = TimeEntryFactory(
        organization=org,
        user=manager,
        started_at=at(8, 30),
        ended_at=at(9, 30),
        category=Category.objects.get(organization=org, slug="sales"),
    )

    def ids(query: str) -> list[int]:
        response = api.get(ENTRIES + query)
        assert response.status_code == 200, response.content
        return [e["id"] for e in response.json()["results"]]

    assert ids("") == [early.pk, other.pk, late.pk]
    assert ids("?user=sam") == [other.pk]
    assert ids("?tag=repetitive") == [early.pk]
    assert ids("?category=sales") == [other.pk]
    # Overlapping [09:00, 13:00): "Early" ends at 09:00 and "Late" starts at 13:00 (touching: out).
    assert ids(f"?from={at(9)}&to={at(13)}".replace("+", "%2B")) == [other.pk]
    assert ids("?from=2025-03-03T19:30:00%2B00:00") == [late.pk]  # 13:30 in Chicago
    assert ids("?user=nobody") == []


def test_from_to_overlap_rule(api, founder, org):
    entry = TimeEntryFactory(organization=org, user=founder, started_at=at(8, 30), ended_at=at(9, 30))

    def count(start: str, end: str) -> int:
        response = api.get(ENTRIES, {"from": start, "to": end})
        assert response.status_code == 200
        return len(response.json()["results"])

    assert count(at(9), at(10)) == 1  # the entry crosses "from"
    assert count(at(7), at(8, 45)) == 1  # ... or "to"
    assert count(at(9, 30), at(10)) == 0  # it ends exactly at "from"
    assert count(at(7), at(8, 30)) == 0  # it starts exactly at "to"
    assert entry.pk


def test_filters_refuse_bad_values(api):
    response = api.get(ENTRIES, {"from": "2025-03-03T09:00:00", "tag": "lazy"})

    assert response.status_code == 400
    assert response.json() == {
        "from": ["Give the time with a UTC offset, e.g. 2025-03-03T09:00:00-06:00."],
        "tag": ["Select a valid choice. lazy is not one of the available choices."],
    }


def test_retrieve_patch_put_delete(api, founder, org):
    created = post(api, ENTRIES, item(external_id="k1")).json()
    url = f"{ENTRIES}{created['id']}/"

    assert api.get(url).json() == created

    patched = patch(
        api, url, {"activity": "Backup check, fixed", "tags": ["outsourceable"], "ended_at": at(11)}
    )
    assert patched.status_code == 200
    assert patched.json()["activity"] == "Backup check, fixed"
    assert patched.json()["tags"] == ["outsourceable"]
    assert patched.json()["duration_hours"] == 2.0  # 09:00 -> 11:00
    assert patched.json()["external_id"] == "k1"

    replaced = put(api, url, {**created, "activity": "Whole object", "duration_hours": 99})
    assert replaced.status_code == 200
    assert replaced.json()["activity"] == "Whole object"
    assert replaced.json()["duration_hours"] == 1.25  # read-only field sent back is ignored
    assert TimeEntry.objects.count() == 1

    assert api.delete(url).status_code == 204
    assert TimeEntry.objects.count() == 0
    assert api.get(url).status_code == 404


def test_patch_refusal_leaves_the_entry_unchanged(api, founder, org):
    entry = TimeEntryFactory(
        organization=org, user=founder, started_at=at(9), ended_at=at(10), activity="Keep me"
    )

    response = patch(api, f"{ENTRIES}{entry.pk}/", {"ended_at": at(8), "activity": "Changed"})

    assert response.status_code == 400
    assert response.json() == {"ended_at": ["The entry must end after it starts."]}
    entry.refresh_from_db()
    assert entry.activity == "Keep me"


def test_patch_to_an_overlap_names_the_other_entry(api, founder, org):
    first = TimeEntryFactory(
        organization=org, user=founder, started_at=at(9), ended_at=at(10), activity="First"
    )
    second = TimeEntryFactory(
        organization=org, user=founder, started_at=at(10), ended_at=at(11), activity="Second"
    )

    response = patch(api, f"{ENTRIES}{second.pk}/", {"started_at": at(9, 30)})

    assert response.status_code == 400
    assert response.json() == {"started_at": [f"Overlaps entry #{first.pk}: First"]}


@pytest.mark.parametrize("method", ["put", "patch"])
def test_edit_cannot_take_another_entrys_external_id(api, founder, org, method):
    TimeEntryFactory(organization=org, user=founder, started_at=at(7), ended_at=at(8), external_id="taken")
    entry = TimeEntryFactory(organization=org, user=founder, started_at=at(9), ended_at=at(10))
    body = {"external_id": "taken"}
    if method == "put":
        body |= {"started_at": at(9), "ended_at": at(10), "activity": "x"}

    response = getattr(api, method)(f"{ENTRIES}{entry.pk}/", body, content_type="application/json")

    assert response.status_code == 400
    assert list(response.json()) == ["external_id"]


def test_options_and_head_answer_without_error(api, founder, org):
    entry = TimeEntryFactory(organization=org, user=founder, started_at=at(9), ended_at=at(10))

    assert api.options(ENTRIES).status_code == 200
    assert api.options(f"{ENTRIES}{entry.pk}/").status_code == 200
    assert api.head(ENTRIES).status_code == 200


def test_a_list_body_on_patch_is_refused(api, founder, org):
    entry = TimeEntryFactory(organization=org, user=founder, started_at=at(9), ended_at=at(10))

    response = patch(api, f"{ENTRIES}{entry.pk}/", [{"activity": "x"}])

    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}
