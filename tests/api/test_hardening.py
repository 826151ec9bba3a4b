"""What probing the API as an outside tester found (issue 9, item 10): every odd request is a
4xx with a JSON body and a clear message, never a 500 or an HTML page."""

from __future__ import annotations

import io
import json

import pytest
from django.test import Client

from audits.models import TimeAudit, TimeEntry
from delegation.models import TimeBlock
from msp_ops.api.parsers import MAX_JSON_DEPTH
from tests.api.conftest import AUDITS, ENTRIES, at, item, patch, post
from tests.factories import TimeAuditFactory, TimeEntryFactory

DEPTH = {"detail": f"The JSON body is nested more than {MAX_JSON_DEPTH} levels deep (arrays and objects)."}
NUL = ["Null characters are not allowed."]
NOT_FOUND = {"detail": "Not found."}
BAD_TIME = "Not an ISO 8601 timestamp; give e.g. 2025-03-03T09:00:00-06:00 (with a UTC offset)."


@pytest.fixture
def answers(api) -> Client:
    """The founder's client, answering 500s rather than raising them (as a real client sees it)."""
    api.raise_request_exception = False
    return api


@pytest.fixture
def entry(org, founder) -> TimeEntry:
    return TimeEntryFactory(organization=org, user=founder, started_at=at(9), ended_at=at(10))


# --- JSON nested deeply ---------------------------------------------------------------------


def _nested(levels: int, inner: str = "1", opener: str = "[", closer: str = "]") -> str:
    return opener * levels + inner + closer * levels


@pytest.mark.parametrize("levels", [1_000, 10_000, 100_000])
@pytest.mark.parametrize(
    "body",
    [
        pytest.param(lambda n: _nested(n), id="array"),
        pytest.param(lambda n: _nested(n, "1", '{"a":', "}"), id="object"),
        pytest.param(lambda n: json.dumps(item())[:-1] + ', "tags": ' + _nested(n, "") + "}", id="tags"),
        pytest.param(
            lambda n: "[" + json.dumps(item(tags=[])).replace("[]", _nested(n, "")) + "]", id="batch"
        ),
    ],
)
def test_deeply_nested_json_is_400(answers, body, levels):
    response = answers.post(ENTRIES, body(levels), content_type="application/json")

    assert response.status_code == 400
    assert response.json() == DEPTH
    assert TimeEntry.objects.count() == 0


def test_nesting_just_over_the_limit_is_400_also_where_the_decoder_copes(answers, entry):
    # 33 levels: Python's decoder reads it, the parser's own walk refuses it (also on PATCH).
    deep = {"tags": json.loads(_nested(MAX_JSON_DEPTH, '"repetitive"'))}
    response = patch(answers, f"{ENTRIES}{entry.pk}/", deep)

    assert response.status_code == 400
    assert response.json() == DEPTH


def test_nesting_up_to_the_limit_reaches_validation(answers):
    tags = json.loads(_nested(MAX_JSON_DEPTH - 2, '"repetitive"'))  # + the object and the array: 32
    response = post(answers, ENTRIES, [item(tags=tags)])

    assert response.status_code == 400
    assert set(response.json()[0]) == {"tags"}  # an ordinary refusal of the field


def test_many_brackets_in_strings_and_wide_batches_are_fine(answers):
    items = [item(activity="[[[[{{{{" * 10, started_at=at(9, n), ended_at=at(9, n + 1)) for n in range(40)]

    response = post(answers, ENTRIES, items)

    assert response.status_code == 201
    assert TimeEntry.objects.count() == 40


# --- NUL bytes (and lone surrogates) in values looked up before validation -------------------


@pytest.mark.parametrize("field", ["user", "category"])
def test_nul_in_a_looked_up_field_of_one_entry_is_400_on_that_field(answers, field):
    response = post(answers, ENTRIES, item(**{field: "fr\x00an"}))

    assert response.status_code == 400
    assert response.json() == {field: NUL}


def test_nul_in_a_batch_is_400_on_that_item(answers):
    response = post(answers, ENTRIES, [item(), item(user="\x00", category="tickets\x00", started_at=at(11))])

    assert response.status_code == 400
    assert response.json() == [{}, {"user": NUL, "category": NUL}]
    assert TimeEntry.objects.count() == 0


@pytest.mark.parametrize(
    "method", [patch, lambda c, url, data: c.put(url, json.dumps(data), "application/json")]
)
@pytest.mark.parametrize("field", ["user", "category"])
def test_nul_on_edit_is_400_and_changes_nothing(answers, entry, method, field):
    data = item(**{field: "\x00"}) if method is not patch else {field: "\x00"}

    response = method(answers, f"{ENTRIES}{entry.pk}/", data)

    assert response.status_code == 400
    assert response.json() == {field: NUL}
    entry.refresh_from_db()
    assert entry.category.slug == "tickets"


def test_nul_in_the_user_of_an_audit_is_400(answers):
    single = post(answers, AUDITS, {"user": "fran\x00", "start_date": "2025-03-03"})
    batch = post(
        answers, AUDITS, [{"start_date": "2025-03-03"}, {"user": "\x00", "start_date": "2025-03-10"}]
    )

    assert (single.status_code, single.json()) == (400, {"user": NUL})
    assert (batch.status_code, batch.json()) == (400, [{}, {"user": NUL}])
    assert TimeAudit.objects.count() == 0


def test_a_lone_surrogate_in_a_looked_up_field_is_400(answers):
    response = answers.post(
        ENTRIES, json.dumps(item())[:-1] + ', "user": "\\ud800", "category": "\\udfff"}', "application/json"
    )

    assert response.status_code == 400
    assert response.json() == {
        "user": ["Surrogate characters are not allowed: U+D800."],
        "category": ["Surrogate characters are not allowed: U+DFFF."],
    }


@pytest.mark.parametrize(
    ("url", "query", "errors"),
    [
        (ENTRIES, "user=fr%00an", {"user": NUL}),
        (ENTRIES, "category=%00", {"category": NUL}),
        (ENTRIES, "tag=%00", {"tag": ["Select a valid choice. \x00 is not one of the available choices."]}),
        (ENTRIES, "from=%00", {"from": NUL}),
        (ENTRIES, "cursor=%00", {"cursor": ["Invalid cursor: use the `next` or `previous` URL as given."]}),
        (AUDITS, "user=%00", {"user": NUL}),
    ],
)  # fmt: skip
def test_nul_in_a_filter_is_400_naming_it(answers, url, query, errors):
    response = answers.get(f"{url}?{query}")

    assert response.status_code == 400
    assert response.json() == errors


@pytest.mark.parametrize("name", ["from", "to"])
def test_an_empty_time_filter_is_refused_like_a_malformed_one(answers, name):
    response = answers.get(f"{ENTRIES}?{name}=")

    assert response.status_code == 400
    assert response.json() == {name: [BAD_TIME]}


def test_an_empty_tag_filter_is_refused_like_an_unknown_tag(answers, entry):
    empty = answers.get(f"{ENTRIES}?tag=")
    unknown = answers.get(f"{ENTRIES}?tag=lazy")

    assert empty.status_code == unknown.status_code == 400
    assert empty.json() == {"tag": ["Select a valid choice. '' is not one of the available choices."]}
    assert unknown.json() == {"tag": ["Select a valid choice. lazy is not one of the available choices."]}
    assert [e["id"] for e in answers.get(ENTRIES).json()["results"]] == [entry.pk]  # no tag: no filter


# --- JSON everywhere under /api/ -------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        f"{ENTRIES}0.5/",
        f"{ENTRIES}1e3/",
        f"{ENTRIES}-1/",
        f"{ENTRIES}99999999999999999999/",
        f"{AUDITS}abc/",
        f"{AUDITS}abc/report/",
        f"{AUDITS}0.5/report/",
        f"{ENTRIES}1/2/",
        "/api/v1/nope/",
        "/api/v1/",
        "/api/",
        "/api/v2/time-entries/",
    ],
)
def test_ids_that_are_no_whole_number_and_unknown_paths_answer_json_404(answers, entry, path):
    response = answers.get(path)

    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == NOT_FOUND


@pytest.mark.parametrize("path", [f"{ENTRIES}0.5/", f"{AUDITS}0.5/report/", "/api/v1/nope/", "/api/x"])
@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
def test_unknown_paths_answer_json_404_whatever_the_method(answers, path, method):
    response = answers.generic(method, path, "{}", content_type="application/json")

    assert response.status_code == 404
    assert response.json() == NOT_FOUND


def test_an_id_with_a_dot_is_json_404_without_a_token_too(db):
    response = Client().get(f"{ENTRIES}0.5/")

    assert response.status_code == 404
    assert response.json() == NOT_FOUND


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_missing_trailing_slash_is_json_404_saying_so(answers, method):
    response = answers.generic(method, "/api/v1/time-entries", "{}", content_type="application/json")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found. The API's paths end with a slash: /api/v1/time-entries/"}


def test_an_unsupported_method_is_json_405(answers, entry):
    response = answers.put(ENTRIES, "{}", content_type="application/json")

    assert response.status_code == 405
    assert response.json() == {"detail": 'Method "PUT" not allowed.'}


def test_a_disallowed_host_is_json_400_under_api_and_a_page_elsewhere(api):
    under_api = api.get(ENTRIES, headers={"Host": "evil.example"})
    page = api.get("/login/", headers={"Host": "evil.example"})

    assert under_api.status_code == page.status_code == 400
    assert under_api.json() == {"detail": "Bad request."}
    assert page.headers["Content-Type"].startswith("text/html")


def test_a_server_error_is_json_under_api_and_the_page_elsewhere(settings, db):
    settings.ROOT_URLCONF = "tests.api.failing_urls"
    client = Client(raise_request_exception=False)

    under_api = client.get("/api/fail/")
    page = client.get("/fail/")

    assert under_api.status_code == page.status_code == 500
    assert under_api.json() == {"detail": "Server error: the request failed and was logged."}
    assert page.headers["Content-Type"].startswith("text/html")


# --- no token: what docs/api.md promises -----------------------------------------------------


@pytest.mark.parametrize(
    ("header", "detail"),
    [
        (None, "Authentication credentials were not provided."),
        ("Bearer msp_whatever", "Authentication credentials were not provided."),
        ("Token msp_not-a-key", "Invalid or revoked token."),
        ("Token", "Send the header as 'Authorization: Token <key>'."),
    ],
)
@pytest.mark.parametrize("path", [ENTRIES, f"{AUDITS}1/report/"])
def test_401_bodies_are_the_documented_ones(db, header, detail, path):
    client = Client(headers={"Authorization": header} if header else {})

    response = client.get(path)

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Token"
    assert response.json() == {"detail": detail}


def test_the_documented_401_bodies_are_in_docs_api_md():
    from pathlib import Path

    docs = (Path(__file__).parents[2] / "docs" / "api.md").read_text()
    for detail in [
        "Authentication credentials were not provided.",
        "Invalid or revoked token.",
        "Send the header as 'Authorization: Token <key>'.",
    ]:
        assert f'{{"detail": "{detail}"}}' in docs, detail


# --- bodies sent without Content-Length (Transfer-Encoding: chunked) -------------------------


def _chunked(client: Client, method: str, path: str, body: bytes, *, terminated: bool = True):
    """A request as a WSGI server hands over a chunked body: decoded, and no CONTENT_LENGTH."""
    extra = {
        "CONTENT_TYPE": "application/json",
        "HTTP_TRANSFER_ENCODING": "chunked",
        "wsgi.input": io.BytesIO(body),
    }
    if terminated:
        extra["wsgi.input_terminated"] = True  # the server ends the stream after the last chunk
    return client.generic(method, path, **extra)


def test_a_chunked_body_is_read(answers, founder):
    response = _chunked(
        answers, "POST", ENTRIES, json.dumps([item(), item(started_at=at(11), ended_at=at(12))]).encode()
    )

    assert response.status_code == 201
    assert [e["activity"] for e in response.json()] == ["Backup check", "Backup check"]
    assert founder.time_entries.count() == 2


def test_a_chunked_patch_is_read(answers, entry):
    response = _chunked(answers, "PATCH", f"{ENTRIES}{entry.pk}/", b'{"tags": ["repetitive"]}')

    assert response.status_code == 200
    assert response.json()["tags"] == ["repetitive"]


def test_a_chunked_body_over_the_limit_is_413(answers, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json.dumps([item(notes="n" * 300) for _ in range(5)]).encode()

    response = _chunked(answers, "POST", ENTRIES, body)

    assert response.status_code == 413
    assert response.json() == {
        "detail": "The request body is larger than 1000 bytes; send fewer items per request (at most 1000)."
    }
    assert TimeEntry.objects.count() == 0


def test_a_chunked_body_on_a_server_that_does_not_end_the_stream_is_411(answers):
    response = _chunked(answers, "POST", ENTRIES, json.dumps(item()).encode(), terminated=False)

    assert response.status_code == 411
    assert response.json() == {
        "detail": "This server cannot read a body sent without Content-Length (Transfer-Encoding: chunked); "
        "send the Content-Length header."
    }


def test_reads_still_need_no_body(answers, entry):
    TimeAuditFactory(organization=entry.organization, user=entry.user)
    assert answers.get(ENTRIES).status_code == 200
    assert answers.get(AUDITS).status_code == 200


# --- JSON types and offsets the schema allows ------------------------------------------------


def test_a_number_for_a_text_field_is_refused_not_turned_into_text(answers):
    single = post(answers, ENTRIES, item(activity=5))
    batch = post(answers, ENTRIES, [item(), item(activity=1.5, user=7, started_at=at(11), ended_at=at(12))])

    assert (single.status_code, single.json()) == (400, {"activity": ["Not a valid string."]})
    assert batch.status_code == 400
    assert batch.json() == [{}, {"activity": ["Not a valid string."], "user": ["Not a valid string."]}]
    assert TimeEntry.objects.count() == 0


TIME_BLOCKS = "/api/v1/time-blocks/"
INTEGER = ["A valid integer is required."]


def _block(**overrides) -> dict:
    return {"kind": "team", "weekday": 3, "start_time": "09:00", "end_time": "10:00", **overrides}


def test_a_string_for_an_integer_choice_is_refused_as_for_an_integer_field(answers):
    # DRF matches a choice by str(value), so it took "3" for Wednesday; strict JSON refuses it
    # as it refuses "3" for an integer field (and true, which DRF would have called a bad choice).
    single = post(answers, TIME_BLOCKS, _block(weekday="3"))
    batch = post(answers, TIME_BLOCKS, [_block(weekday=1), _block(weekday=True), _block(weekday=2.0)])
    edited = post(answers, TIME_BLOCKS, _block(weekday=4))
    patched = patch(answers, f"{TIME_BLOCKS}{edited.json()['id']}/", {"weekday": "5"})

    assert (single.status_code, single.json()) == (400, {"weekday": INTEGER})
    assert (batch.status_code, batch.json()) == (400, [{}, {"weekday": INTEGER}, {"weekday": INTEGER}])
    assert (patched.status_code, patched.json()) == (400, {"weekday": INTEGER})
    assert list(TimeBlock.objects.values_list("weekday", flat=True)) == [4]


def test_an_integer_choice_still_takes_a_json_integer_and_names_a_bad_one(answers):
    taken = post(answers, TIME_BLOCKS, [_block(weekday=1), _block(weekday=7)])
    refused = post(answers, TIME_BLOCKS, _block(weekday=8))

    assert taken.status_code == 201
    assert [block["weekday"] for block in taken.json()] == [1, 7]
    assert (refused.status_code, refused.json()) == (400, {"weekday": ['"8" is not a valid choice.']})
    assert TimeBlock.objects.count() == 2


def test_a_number_for_a_text_choice_is_still_refused_as_no_choice(answers):
    response = post(answers, TIME_BLOCKS, _block(kind=1))

    assert (response.status_code, response.json()) == (400, {"kind": ['"1" is not a valid choice.']})
    assert TimeBlock.objects.count() == 0


def test_any_iso_offset_is_taken_as_the_same_instant(answers):
    # ISO 8601 and the schema's date-time allow offsets up to 23:59; PostgreSQL stores up to 15:59.
    response = post(
        answers, ENTRIES, item(started_at="2025-03-03T23:00:00+22:30", ended_at="2025-03-03T01:00:00+00:00")
    )

    assert response.status_code == 201
    assert response.json()["started_at"] == "2025-03-02T18:30:00-06:00"
    assert response.json()["duration_hours"] == 0.5


# --- NUL bytes in timestamps, which Python's ISO parser would read up to the NUL ------------------


@pytest.mark.parametrize(
    ("url", "body", "field"),
    [
        (ENTRIES, '{"started_at": "2025-03-03T09:00:00-06:00\\u0000",'
         ' "ended_at": "2025-03-03T10:00:00-06:00", "activity": "Triage"}', "started_at"),
        ("/api/v1/drills/", '{"starts_at": "2031-01-01T00:00:00Z\\u0000x"}', "starts_at"),
    ],
    ids=["entry", "drill"],
)  # fmt: skip
def test_nul_in_a_timestamp_is_400_and_stores_nothing(answers, url, body, field):
    response = answers.post(url, body, content_type="application/json")

    assert (response.status_code, response.json()) == (400, {field: NUL})
    assert not TimeEntry.objects.exists()


@pytest.mark.parametrize(
    "query",
    [
        f"{ENTRIES}?from=2025-03-03T09:00:00Z%00x",
        "/api/v1/interruptions/?to=2025-03-03T09:00:00Z%00",
        "/api/v1/tickets/?from=2025-03-03T09:00:00Z%00",
        "/api/v1/standup/?at=2025-03-03T09:00:00Z%00x",
    ],
)
def test_nul_in_a_time_filter_is_400_naming_it(answers, query):
    name = query.split("?")[1].split("=")[0]

    response = answers.get(query)

    assert (response.status_code, response.json()) == (400, {name: NUL})


# --- a lone surrogate echoed back in an error message ------------------------------------------


def test_a_lone_surrogate_in_a_choice_is_400_echoed_escaped(answers):
    body = '{"external_id": "T-1", "title": "x", "severity": "\\ud800", "opened_at": "2025-03-03T09:00:00Z"}'

    response = answers.post("/api/v1/tickets/", body, content_type="application/json")

    assert response.status_code == 400
    # The one way JSON writes a lone surrogate (it has no UTF-8): escaped, as the client sent it.
    assert response.content == b'{"severity":["\\"\\ud800\\" is not a valid choice."]}'
    assert json.loads(response.content) == {"severity": ['"\ud800" is not a valid choice.']}


def test_a_lone_surrogate_as_an_unknown_key_is_400_naming_it(answers):
    body = json.dumps(item())[:-1] + ', "\\ud800": 1}'

    response = answers.post(ENTRIES, body, content_type="application/json")

    assert response.status_code == 400
    assert list(json.loads(response.content)) == ["\ud800"]
    assert not TimeEntry.objects.exists()
