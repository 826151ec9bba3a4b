"""Per-item errors are data: each layer words references to other items in its own terms."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from audits.models import Category, Source, TimeEntry
from msp_ops.orgs.batches import BatchValidationError, ItemMessage, _own_errors, unsaved_object


def test_a_message_names_another_item_in_the_apis_words_by_default():
    message = ItemMessage("Overlaps {other} of {batch}: {activity}", other=2, activity="QBR prep")

    assert message == "Overlaps item 3 of this batch: QBR prep"
    assert (message.template, message.other) == ("Overlaps {other} of {batch}: {activity}", 2)


def test_a_reader_of_a_file_gets_rows_instead_of_items():
    rows = [2, 5, 9]
    message = ItemMessage(
        "external_id '{external_id}' appears twice in {batch} ({other}).", other=1, external_id="x"
    )

    assert message.worded(lambda index: f"row {rows[index]}", "this file") == (
        "external_id 'x' appears twice in this file (row 5)."
    )


def test_client_text_is_never_read_as_a_template():
    message = ItemMessage("Overlaps entry #{pk}: {activity}", pk=7, activity="{other} of {batch} {0}")

    assert message == "Overlaps entry #7: {other} of {batch} {0}"
    assert message.worded(lambda index: "row 1", "this file") == message


def test_a_refused_batch_keeps_plain_messages_as_they_are():
    error = BatchValidationError([{}, {"activity": ["Use {braces} freely."]}])

    assert error.item_errors == [{}, {"activity": ["Use {braces} freely."]}]
    assert isinstance(error.item_errors[1]["activity"][0], ItemMessage)
    assert error.item_errors[1]["activity"][0].worded(str, "this file") == "Use {braces} freely."


AN_HOUR = {
    "started_at": datetime(2025, 3, 3, 15, tzinfo=UTC),
    "ended_at": datetime(2025, 3, 3, 16, tzinfo=UTC),
}


def test_an_unsaved_object_is_what_the_models_keyword_constructor_builds(org, founder):
    category = Category.objects.for_org(org).get(slug="tickets")
    built = unsaved_object(
        TimeEntry,
        {**AN_HOUR, "activity": "Backup check", "source": Source.API, "tag_repetitive": True},
        {"organization": org, "user": founder, "category": category},
    )
    expected = TimeEntry(
        organization=org,
        user=founder,
        category=category,
        activity="Backup check",
        source=Source.API,
        tag_repetitive=True,
        **AN_HOUR,
    )

    fields = TimeEntry._meta.concrete_fields
    assert [getattr(built, f.attname) for f in fields] == [getattr(expected, f.attname) for f in fields]
    assert (built.user, built.category, built.organization) == (founder, category, org)
    assert built._state.adding
    assert built.pk is None
    with pytest.raises(TypeError, match="unexpected field"):
        unsaved_object(TimeEntry, {"tags": ["repetitive"]})


def test_fields_skipped_by_full_clean_are_still_checked_when_their_value_is_not_plain(org, founder):
    category = Category.objects.for_org(org).get(slug="tickets")
    plain = TimeEntry(
        organization=org, user=founder, category=category, activity="a", tag_repetitive=True, **AN_HOUR
    )
    odd = TimeEntry(organization=org, user=founder, category=category, activity="a", **AN_HOUR)
    odd.tag_repetitive, odd.urgent = "maybe", 2

    errors = _own_errors(org, [plain, odd], ["user", "category"])

    assert errors[0] == {}
    assert set(errors[1]) == {"tag_repetitive", "urgent"}
    assert errors[1]["tag_repetitive"] == ["“maybe” value must be either True or False."]
