"""The usual Accept headers are answered without DRF's parse; every other one as DRF does."""

from __future__ import annotations

import pytest

from tests.api.conftest import ENTRIES


@pytest.mark.parametrize("accept", [None, "*/*", "application/json"])
def test_the_usual_accept_headers_get_json(api, accept):
    headers = {} if accept is None else {"HTTP_ACCEPT": accept}
    response = api.get(ENTRIES, **headers)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json()["results"] == []


def test_a_type_the_api_does_not_write_is_a_406(api):
    response = api.get(ENTRIES, HTTP_ACCEPT="text/csv")
    assert response.status_code == 406
    assert response.json() == {"detail": "Could not satisfy the request Accept header."}


def test_json_among_others_and_with_parameters_still_negotiates(api):
    assert (
        api.get(ENTRIES, HTTP_ACCEPT="text/html;q=0.9, application/json")["Content-Type"]
        == "application/json"
    )
    indented = api.get(ENTRIES, HTTP_ACCEPT="application/json; indent=2")  # DRF's parse: indented
    assert indented.content.startswith(b'{\n  "next"')


def test_a_format_the_api_does_not_write_is_a_404(api):
    assert api.get(f"{ENTRIES}?format=xml").status_code == 404
    assert api.get(f"{ENTRIES}?format=json").status_code == 200
