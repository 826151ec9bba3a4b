"""The OpenAPI document (SPEC 4): complete, valid, served with offline docs, and honoured by
the app: schemathesis's engine (what ``st run`` drives) with every check (``--checks all``),
valid and invalid data, finds nothing: no 5xx, no undocumented status or content type, no
response that breaks the schema, no invalid data accepted, no valid data refused."""

from __future__ import annotations

import json
import os
import re
from collections import Counter

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import events, from_schema
from schemathesis.specs.openapi import _auth_retry

from msp_ops.orgs.services import issue_api_token
from tests.factories import TimeAuditFactory, TimeEntryFactory


@pytest.fixture
def schema(db, client) -> dict:
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    return json.loads(response.content)


def test_schema_is_public_and_describes_every_operation(schema):
    operations = {(path, method) for path, item_ in schema["paths"].items() for method in item_}
    assert operations == {
        ("/api/v1/time-entries/", "get"),
        ("/api/v1/time-entries/", "post"),
        ("/api/v1/time-entries/{id}/", "get"),
        ("/api/v1/time-entries/{id}/", "put"),
        ("/api/v1/time-entries/{id}/", "patch"),
        ("/api/v1/time-entries/{id}/", "delete"),
        ("/api/v1/audits/", "get"),
        ("/api/v1/audits/", "post"),
        ("/api/v1/audits/{id}/", "get"),
        ("/api/v1/audits/{id}/report/", "get"),
        ("/api/v1/delegates/", "get"),
        ("/api/v1/delegates/", "post"),
        ("/api/v1/delegates/{id}/", "get"),
        ("/api/v1/delegates/{id}/", "put"),
        ("/api/v1/delegates/{id}/", "patch"),
        ("/api/v1/delegates/{id}/", "delete"),
        ("/api/v1/delegations/", "get"),
        ("/api/v1/delegations/", "post"),
        ("/api/v1/delegations/{id}/", "get"),
        ("/api/v1/delegations/{id}/", "put"),
        ("/api/v1/delegations/{id}/", "patch"),
        ("/api/v1/delegations/{id}/", "delete"),
        ("/api/v1/drills/", "get"),
        ("/api/v1/drills/", "post"),
        ("/api/v1/drills/{id}/", "get"),
        ("/api/v1/drills/{id}/", "put"),
        ("/api/v1/drills/{id}/", "patch"),
        ("/api/v1/drills/{id}/", "delete"),
        ("/api/v1/drills/{id}/complete/", "post"),
        ("/api/v1/drills/{id}/review/", "get"),
        ("/api/v1/escalation-map/", "get"),
        ("/api/v1/escalation-map/", "put"),
        ("/api/v1/escalation-map/", "patch"),
        ("/api/v1/interruptions/", "get"),
        ("/api/v1/interruptions/", "post"),
        ("/api/v1/interruptions/{id}/", "get"),
        ("/api/v1/interruptions/{id}/", "put"),
        ("/api/v1/interruptions/{id}/", "patch"),
        ("/api/v1/interruptions/{id}/", "delete"),
        ("/api/v1/runbooks/", "get"),
        ("/api/v1/runbooks/", "post"),
        ("/api/v1/runbooks/{id}/", "get"),
        ("/api/v1/runbooks/{id}/", "put"),
        ("/api/v1/runbooks/{id}/", "patch"),
        ("/api/v1/runbooks/{id}/", "delete"),
        ("/api/v1/runbooks/{id}/revisions/", "get"),
        ("/api/v1/time-blocks/", "get"),
        ("/api/v1/time-blocks/", "post"),
        ("/api/v1/time-blocks/{id}/", "get"),
        ("/api/v1/time-blocks/{id}/", "put"),
        ("/api/v1/time-blocks/{id}/", "patch"),
        ("/api/v1/time-blocks/{id}/", "delete"),
        ("/api/v1/kpi-targets/", "get"),
        ("/api/v1/kpi-targets/", "put"),
        ("/api/v1/kpi-targets/", "patch"),
        ("/api/v1/kpis/rollup/", "post"),
        ("/api/v1/kpis/weekly/", "get"),
        ("/api/v1/sla-policy/", "get"),
        ("/api/v1/sla-policy/", "put"),
        ("/api/v1/sla-policy/", "patch"),
        ("/api/v1/standup/", "get"),
        ("/api/v1/tickets/", "get"),
        ("/api/v1/tickets/", "post"),
        ("/api/v1/tickets/{id}/", "get"),
        ("/api/v1/tickets/{id}/", "put"),
        ("/api/v1/tickets/{id}/", "patch"),
        ("/api/v1/tickets/{id}/", "delete"),
        ("/api/v1/todos/", "get"),
        ("/api/v1/todos/", "post"),
        ("/api/v1/todos/{id}/", "get"),
        ("/api/v1/todos/{id}/", "put"),
        ("/api/v1/todos/{id}/", "patch"),
        ("/api/v1/todos/{id}/", "delete"),
    }
    assert schema["components"]["securitySchemes"]["TokenAuth"] == {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": schema["components"]["securitySchemes"]["TokenAuth"]["description"],
    }


def test_schema_has_every_field_enum_and_the_batch_form(schema):
    components = schema["components"]["schemas"]
    assert list(components["TimeEntry"]["properties"]) == [
        "id", "user", "started_at", "ended_at", "activity", "category", "tags", "handling", "urgent",
        "important", "client", "ticket_ref", "notes", "external_id", "source", "duration_hours",
    ]  # fmt: skip
    assert components["TagEnum"]["enum"] == ["repetitive", "outsourceable", "systemizable", "owner_by_habit"]
    assert components["HandlingEnum"]["enum"] == ["personal", "delegated"]
    assert components["SourceEnum"]["enum"] == ["web", "api", "import", "timer"]
    assert components["TimeEntryOneOrMany"] == {
        "oneOf": [
            {"$ref": "#/components/schemas/TimeEntry"},
            {
                "type": "array",
                "items": {"$ref": "#/components/schemas/TimeEntry"},
                "minItems": 1,
                "maxItems": 1000,
            },
        ]
    }
    create = schema["paths"]["/api/v1/time-entries/"]["post"]
    assert create["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/TimeEntryOneOrMany"
    }
    assert {"200", "201", "400", "401", "403", "409", "413", "415", "429"} <= set(create["responses"])
    assert list(components["AuditReport"]["properties"]) == [
        "audit", "user", "start_date", "end_date", "logged_hours", "hours_by_day", "empty_days",
        "hours_by_tag", "untagged_hours", "reclaimable_hours", "hours_by_category", "in_business_hours",
        "on_business_hours", "personal_hours", "delegated_hours", "quadrants", "candidates",
    ]  # fmt: skip
    parameters = {p["name"] for p in schema["paths"]["/api/v1/time-entries/"]["get"]["parameters"]}
    assert parameters == {"cursor", "page_size", "from", "to", "user", "tag", "category"}
    tickets = {p["name"]: p for p in schema["paths"]["/api/v1/tickets/"]["get"]["parameters"]}
    assert set(tickets) == {"cursor", "page_size", "from", "to", "category", "team", "open"}
    assert tickets["category"]["schema"] == {"type": "string", "pattern": "^[^\\u0000]*$"}  # no NUL
    assert "case-insensitive" in tickets["category"]["description"]


def test_docs_work_offline(client):
    response = client.get("/api/docs/")

    assert response.status_code == 200
    html = response.content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources
    assert all(source.startswith("/static/") for source in sources), sources
    assert "//" not in " ".join(sources)
    assert "cdn" not in html.lower()


# A refusal of a request the schema allows is a finding of positive_data_acceptance, unless
# the rule refused is one no schema can state: names looked up in the organization, an opaque
# cursor, rules across fields or rows, and the years the app handles (a "date-time" format
# has no range). Every other refusal (a length, a choice, a blank or NUL-holding string, an
# unknown field) is stated in the schema and must not be tolerated here.
RULES_NO_SCHEMA_STATES = [
    r"Unknown user '.*': no member of this organization has that username\.",
    r"Unknown category '.*'; use the slug of one of the organization's categories\.",
    r"Invalid cursor: use the `next` or `previous` URL as given\.",
    r"Give a (time|date) between the years 1900 and 2999\.",
    r"(The|A) \w+ must end after it starts\.",
    r"A ticket cannot be closed before it was opened\.",
    r"An entry lasts at most 24 hours\.",
    r"Overlaps (\w+ #\d+|item \d+ of this batch)\b.*",
    r".* already has an audit starting \d{4}-\d{2}-\d{2}\.",
    r".*external_id.* (twice|more than once).*",
    r"Unknown audit \d+\.",
    r"\d{4}-\d{2}-\d{2} is a \w+; a week is named by its Monday\.",
    r"The drill's window has not ended yet: .*",
    r"\d+ interruption\(s\) still need a follow-up.*",
    r"Drill #\d+ is already complete\.",
    r"Only a drill that has not started yet can be cancelled\.",
    r"A completed drill's window cannot change\.",
    r"A (delegation marked done|done delegation) keeps .*done_override_reason.*",
    r"Link a runbook only with the follow-up runbook_updated\.",
    r"Runbook #\d+ already covers ticket category '.*'\.",
    r"Must be at most \w+\.",
    r"Give \?week=YYYY-MM-DD, or \?from=YYYY-MM-DD&to=YYYY-MM-DD\.",
]
# The suite's run: every operation and every check, valid and invalid data, a few examples
# each (about half a minute). MSP_OPS_SCHEMATHESIS_FULL=1 adds the coverage phase (boundary
# values of every field and parameter, unexpected methods: ~75 requests per operation, minutes
# for the whole API) and more examples, as `st run --checks all` runs by default.
FULL_RUN = os.environ.get("MSP_OPS_SCHEMATHESIS_FULL") == "1"
EXAMPLES_PER_OPERATION = 20 if FULL_RUN else 5


def _messages(body) -> list[str]:
    if isinstance(body, str):
        return [body]
    if isinstance(body, dict):
        return [message for value in body.values() for message in _messages(value)]
    if isinstance(body, list):
        return [message for value in body for message in _messages(value)]
    return []


def _a_rule_no_schema_states(check: str, response) -> bool:
    if check != "positive_data_acceptance" or response is None or response.status_code != 400:
        return False
    try:
        messages = _messages(json.loads(response.content))
    except ValueError:
        return False
    return bool(messages) and all(
        any(re.fullmatch(rule, message, flags=re.DOTALL) for rule in RULES_NO_SCHEMA_STATES)
        for message in messages
    )


@pytest.fixture
def wsgi_probes_without_socket_settings(monkeypatch):
    """schemathesis 4 sends ignored_auth's probes (the request again without the token) with
    requests' socket settings, which its own in-process WSGI transport then passes on to
    werkzeug and fails on (``unexpected keyword argument 'max_redirects'``); drop them."""
    original = _auth_retry.build_retry_transport_kwargs

    def build(*args, **kwargs):
        built = original(*args, **kwargs)
        for name in ("max_redirects", "verify", "cert", "proxies"):
            built.pop(name, None)
        return built

    monkeypatch.setattr(_auth_retry, "build_retry_transport_kwargs", build)


@pytest.mark.django_db(transaction=True)  # the engine calls the app from its own threads
def test_schemathesis_with_every_check_finds_nothing(
    founder_membership, org, wsgi_probes_without_socket_settings, settings
):
    # Far more requests a minute than a token may make (the 429 is tested in test_throttle.py).
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api_token": "1000000/min"},
    }
    key = issue_api_token(membership=founder_membership).key
    TimeEntryFactory(organization=org, user=founder_membership.user)  # something to find
    TimeAuditFactory(organization=org, user=founder_membership.user)
    config = SchemathesisConfig.from_dict(
        {
            "seed": 1,
            "headers": {"Authorization": f"Token {key}"},
            # Every phase (examples, coverage, fuzzing, stateful), valid and invalid data.
            "generation": {"max-examples": EXAMPLES_PER_OPERATION, "mode": "all"},
            "cache": {"enabled": False},  # writes nothing into the working tree
            "phases": {"coverage": {"enabled": FULL_RUN}},
        }
    )
    config.projects.default.checks.update(included_check_names=["all"])  # `st run --checks all`
    loaded = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application(), config=config)

    findings: set[tuple] = set()
    errors: list[str] = []
    statuses: Counter = Counter()
    tested: set[str] = set()
    for event in from_schema(loaded).execute():
        if isinstance(event, events.NonFatalError | events.FatalError):
            errors.append(event.info.format() if hasattr(event, "info") else repr(event.exception))
        if not isinstance(event, events.ScenarioFinished):
            continue
        recorder = event.recorder
        statuses.update(i.response.status_code for i in recorder.interactions.values() if i.response)
        tested.update(node.value.operation.label for node in recorder.cases.values())
        for case_id, checks in recorder.checks.items():
            for check in checks:
                if check.failure_info is None:
                    continue
                case = recorder.cases[case_id].value
                response = recorder.find_response(case_id=case_id)
                message = check.failure_info.failure.message
                if _a_rule_no_schema_states(check.name, response):
                    continue
                findings.add(
                    (
                        check.name,
                        f"{case.method} {case.formatted_path}",
                        response.status_code if response is not None else None,
                        response.content[:300] if response is not None else b"",
                        message[-300:],
                        repr(case.query)[:200],
                        repr(case.body)[:300],
                    )
                )

    for finding in sorted(findings, key=str):
        print(*finding, sep="\n    ", end="\n\n")
    assert errors == []
    assert sorted(findings, key=str) == []
    assert tested == {operation.ok().label for operation in loaded.get_all_operations()}  # all tested
    assert sum(statuses.values()) >= 300
    assert {200, 201, 204, 400, 401, 404} <= set(statuses), statuses


def test_schema_states_every_status_length_and_rule_the_server_enforces(schema):
    from audits.models import MAX_ACTIVITY_LENGTH
    from msp_ops.api.schema import NO_NUL, NOT_BLANK

    paths = schema["paths"]
    assert set(paths["/api/v1/audits/{id}/report/"]["get"]["responses"]) == {
        "200",
        "401",
        "403",
        "404",
        "429",
    }
    assert set(paths["/api/v1/time-entries/{id}/"]["patch"]["responses"]) == {
        "200", "400", "401", "403", "404", "409", "411", "413", "415", "429",
    }  # fmt: skip
    assert set(paths["/api/v1/time-entries/"]["get"]["responses"]) == {"200", "400", "401", "403", "429"}
    assert paths["/api/v1/time-entries/"]["post"]["requestBody"]["required"] is True

    entry = schema["components"]["schemas"]["TimeEntry"]
    assert entry["additionalProperties"] is False  # unknown fields are refused
    activity = entry["properties"]["activity"]
    assert (activity["minLength"], activity["maxLength"]) == (1, MAX_ACTIVITY_LENGTH)
    assert activity["pattern"] == NOT_BLANK
    assert entry["properties"]["notes"]["pattern"] == NO_NUL
    assert schema["components"]["schemas"]["Audit"]["additionalProperties"] is False

    parameters = {p["name"]: p["schema"] for p in paths["/api/v1/time-entries/"]["get"]["parameters"]}
    assert "" not in parameters["tag"]["enum"]  # and the server refuses ?tag= (test_hardening.py)
    assert parameters["user"]["pattern"] == NO_NUL


@pytest.mark.parametrize(
    ("value", "blank_ok"),
    [("x", True), ("", False), (" \t\u3000", False), ("a\x00", None), ("\x1c", False), (" a ", True)],
)
def test_the_string_patterns_say_what_drf_refuses(value, blank_ok):
    from rest_framework import serializers

    from msp_ops.api.schema import NO_NUL, NOT_BLANK

    def accepted(field) -> bool:
        try:
            field.run_validation(value)
        except serializers.ValidationError:
            return False
        return True

    assert bool(re.search(NOT_BLANK, value)) == accepted(serializers.CharField())
    assert bool(re.search(NO_NUL, value)) == accepted(serializers.CharField(allow_blank=True))
    assert blank_ok is None or accepted(serializers.CharField()) == blank_ok
