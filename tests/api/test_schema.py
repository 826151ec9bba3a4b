"""The OpenAPI document (SPEC 4): complete, valid, served with offline docs, and honoured by
the app: schemathesis generates requests from it and finds no 5xx and no response that
breaks it."""

from __future__ import annotations

import json
import re

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from msp_ops.orgs.services import issue_api_token
from tests.factories import TimeAuditFactory, TimeEntryFactory

EXAMPLES_PER_OPERATION = 20


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
            {"type": "array", "items": {"$ref": "#/components/schemas/TimeEntry"}},
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


def test_docs_work_offline(client):
    response = client.get("/api/docs/")

    assert response.status_code == 200
    html = response.content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources
    assert all(source.startswith("/static/") for source in sources), sources
    assert "//" not in " ".join(sources)
    assert "cdn" not in html.lower()


@pytest.fixture
def wsgi_app():
    """The project's WSGI app, keeping the test's database connection (and transaction)
    open between requests, as Django's test client does."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def test_schemathesis_finds_no_server_error_and_no_schema_breaking_response(
    wsgi_app, founder_membership, org
):
    key = issue_api_token(membership=founder_membership).key
    headers = {"Authorization": f"Token {key}"}
    # Something to find (generated paths use small ids). Not through Django's test Client:
    # it would connect close_old_connections again (see wsgi_app).
    TimeEntryFactory(organization=org, user=founder_membership.user)
    TimeAuditFactory(organization=org, user=founder_membership.user)

    loaded = schemathesis.openapi.from_wsgi("/api/schema/?format=json", wsgi_app)
    operations = [result.ok() for result in loaded.get_all_operations()]
    assert len(operations) == sum(len(item) for item in loaded.raw_schema["paths"].values()) > 50

    statuses: list[int] = []
    for operation in operations:

        @given(case=operation.as_strategy())
        @hypothesis_settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def run(case) -> None:
            response = case.call(headers=headers)
            statuses.append(response.status_code)
            case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])

        run()

    # Enough requests, and both accepted and refused ones among them.
    assert len(statuses) >= 5 * len(operations)
    assert any(200 <= status < 300 for status in statuses)
    assert any(400 <= status < 500 for status in statuses)
    print(sorted(__import__("collections").Counter(statuses).items()))
