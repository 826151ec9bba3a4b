"""A list refuses a query parameter it does not know (400, naming the ones it knows), as a body
refuses an unknown field: a misspelled filter must not answer every row as if none were given.

The lists are found by walking the router (tests/api/test_foreign_objects.py's ``list_cases``),
and each list's known parameters are held equal to the ones its OpenAPI schema documents.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.api.test_foreign_objects import list_cases
from tests.factories import TimeEntryFactory

LISTS = list_cases()


@pytest.fixture(scope="module")
def documented(django_db_blocker) -> dict[str, list[str]]:
    """Each list path's query parameters as /api/schema/ documents them, in its (sorted) order."""
    from django.test import Client

    with django_db_blocker.unblock():
        schema = Client().get("/api/schema/?format=json").json()
    return {
        path: [parameter["name"] for parameter in operations["get"].get("parameters", [])]
        for path, operations in schema["paths"].items()
        if "get" in operations and "{" not in path
    }


@pytest.mark.parametrize(("prefix", "viewset", "basename"), LISTS, ids=[case[0] for case in LISTS])
def test_every_list_names_the_parameters_it_knows(api, documented, prefix, viewset, basename):
    path = reverse(f"{basename}-list")

    response = api.get(path, {"bogus": "1"})

    assert response.status_code == 400
    known = documented[path]
    assert known, f"{path} documents no parameter"
    assert response.json() == {"bogus": [f"Unknown query parameter. Known parameters: {', '.join(known)}."]}


@pytest.mark.parametrize(("prefix", "viewset", "basename"), LISTS, ids=[case[0] for case in LISTS])
def test_every_documented_parameter_and_format_are_taken(api, documented, prefix, viewset, basename):
    path = reverse(f"{basename}-list")
    names = set(documented[path]) - {"cursor"}  # a cursor is only ever the one a page gave

    # Each parameter is known (empty values may be refused by their filter, never as unknown).
    for name in names:
        response = api.get(path, {name: ""})
        assert "Unknown query parameter" not in response.content.decode(), name
    assert api.get(path, {"format": "json"}).status_code == 200


def test_a_misspelled_filter_is_refused_instead_of_answering_every_entry(api, founder, org):
    TimeEntryFactory(organization=org, user=founder)

    response = api.get("/api/v1/time-entries/", {"categroy": "tickets", "usr": "fran"})

    known = "category, cursor, from, page_size, tag, to, user"
    assert response.status_code == 400
    assert response.json() == {
        "categroy": [f"Unknown query parameter. Known parameters: {known}."],
        "usr": [f"Unknown query parameter. Known parameters: {known}."],
    }


def test_the_known_parameters_still_filter(api, founder, org):
    TimeEntryFactory(organization=org, user=founder)

    response = api.get("/api/v1/time-entries/", {"user": "fran", "page_size": "10"})

    assert response.status_code == 200
    assert len(response.json()["results"]) == 1
