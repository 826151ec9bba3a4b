"""Strict input (SPEC 4): every refusal is a 4xx with a message a client developer understands,
and nothing is stored afterwards."""

from __future__ import annotations

import json

import pytest

from audits.models import TimeEntry
from tests.api.conftest import ENTRIES, item, post

KNOWN = (
    "Unknown field. Known fields: user, started_at, ended_at, activity, category, tags, handling, "
    "urgent, important, client, ticket_ref, notes, external_id, source."
)


@pytest.fixture(autouse=True)
def _nothing_stored(db):
    yield
    assert TimeEntry.objects.count() == 0


@pytest.mark.parametrize(
    ("overrides", "errors"),
    [
        (
            {"started_at": "2025-03-03T09:00:00"},
            {"started_at": ["Give the time with a UTC offset, e.g. 2025-03-03T09:00:00-06:00."]},
        ),
        (
            {"ended_at": "tomorrow"},
            {
                "ended_at": [
                    "Not an ISO 8601 timestamp; give e.g. 2025-03-03T09:00:00-06:00 (with a UTC offset)."
                ]
            },
        ),
        ({"ended_at": "2025-03-04T10:00:00-06:00"}, {"ended_at": ["An entry lasts at most 24 hours."]}),
        ({"activity": ""}, {"activity": ["This field may not be blank."]}),
        ({"activity": "x" * 501}, {"activity": ["Ensure this field has no more than 500 characters."]}),
        ({"client": "c" * 201}, {"client": ["Ensure this field has no more than 200 characters."]}),
        ({"notes": "n" * 10_001}, {"notes": ["Ensure this field has no more than 10000 characters."]}),
        ({"handling": "outsourced"}, {"handling": ['"outsourced" is not a valid choice.']}),
        ({"source": "fax"}, {"source": ['"fax" is not a valid choice.']}),
        ({"urgent": "yes"}, {"urgent": ["Must be true or false."]}),
        (
            {"tags": ["repetitive", "boring"]},
            {
                "tags": [
                    "Unknown tag(s) 'boring'; the tags are repetitive, outsourceable, systemizable, "
                    "owner_by_habit."
                ]
            },
        ),
        ({"tags": "repetitive"}, {"tags": ['Expected a list of items but got type "str".']}),
        (
            {"category": "Tickets"},
            {
                "category": [
                    "Unknown category 'Tickets'; use the slug of one of the organization's categories."
                ]
            },
        ),
        (
            {"user": "otto"},
            {"user": ["Unknown user 'otto': no member of this organization has that username."]},
        ),
        ({"duration": 2, "comment": "x"}, {"duration": [KNOWN], "comment": [KNOWN]}),
    ],
)
def test_refused_fields(api, stranger, overrides, errors):
    # "otto" exists, in another organization: answered exactly like a name nobody has.
    response = post(api, ENTRIES, item(**overrides))

    assert response.status_code == 400
    assert response.json() == errors


def test_missing_required_fields(api):
    response = post(api, ENTRIES, {})

    assert response.status_code == 400
    assert response.json() == {
        "started_at": ["This field is required."],
        "ended_at": ["This field is required."],
        "activity": ["This field is required."],
    }


def test_not_an_object(api):
    response = post(api, ENTRIES, [item(), "hello"])

    assert response.status_code == 400
    assert response.json() == [
        {},
        {"non_field_errors": ["Invalid data. Expected a dictionary, but got str."]},
    ]


def test_malformed_json(api):
    response = api.post(ENTRIES, '{"activity": "x",', content_type="application/json")

    assert response.status_code == 400
    assert response.json() == {
        "detail": "Malformed JSON: Expecting property name enclosed in double quotes: "
        "line 1 column 18 (char 17)."
    }


def test_nan_is_not_json(api):
    response = api.post(ENTRIES, '{"urgent": NaN}', content_type="application/json")

    assert response.status_code == 400
    assert response.json() == {"detail": "Malformed JSON: NaN is not valid JSON."}


def test_wrong_content_type(api):
    response = api.post(ENTRIES, json.dumps(item()), content_type="text/plain")

    assert response.status_code == 415
    assert response.json() == {
        "detail": 'Send JSON with the header "Content-Type: application/json" '
        '(this request has "text/plain").'
    }


def test_form_posts_are_refused(api):
    response = api.post(ENTRIES, {"activity": "x"})  # multipart/form-data

    assert response.status_code == 415


def test_body_over_the_limit(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json.dumps([item(notes="n" * 300) for _ in range(5)])

    response = api.post(ENTRIES, body, content_type="application/json")

    assert response.status_code == 413
    assert response.json() == {
        "detail": "The request body is larger than 1000 bytes; send fewer items per request (at most 1000)."
    }
