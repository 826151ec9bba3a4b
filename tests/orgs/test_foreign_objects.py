"""Every page route that takes an id answers 404 for another organization's object (SPEC 1).

The routes are found by walking the URL configuration, so a page added later is covered
without touching this test; the API has its own walk, of the router, in tests/api/test_foreign_objects.py.
"""

from __future__ import annotations

import inspect
from datetime import date

import factory
import pytest
from django.apps import apps
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse
from django.urls.converters import IntConverter

from audits.models import TimeAudit, TimeEntry
from msp_ops.orgs.models import ApiToken, Membership
from msp_ops.orgs.services import issue_api_token
from tests import factories
from tests.factories import TimeAuditFactory, TimeEntryFactory

SKIPPED_NAMESPACES = {"admin"}
STRING_ARGUMENTS = {"tag": "repetitive"}


def page_routes() -> list[tuple[str, list[str]]]:
    """(qualified name, int keyword names) of every non-admin, non-API route with an id."""
    found = []

    def walk(patterns, namespace: str, prefix: str) -> None:
        for entry in patterns:
            route = prefix + str(entry.pattern)
            if isinstance(entry, URLResolver):
                if entry.namespace in SKIPPED_NAMESPACES or route.startswith("api/"):
                    continue
                inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
                walk(entry.url_patterns, inner, route)
            elif isinstance(entry, URLPattern) and entry.name:
                ints = [k for k, c in entry.pattern.converters.items() if isinstance(c, IntConverter)]
                if ints:
                    found.append((namespace + entry.name, ints))

    walk(get_resolver().url_patterns, "", "")
    return sorted(found)


def test_the_walk_finds_the_known_routes():
    names = [name for name, _ in page_routes()]
    assert "orgs:revoke_token" in names
    assert "audits:audit_detail" in names


def _org_scoped_pks(org) -> set[int]:
    pks: set[int] = set()
    for model in apps.get_models():
        if any(f.name == "organization" for f in model._meta.get_fields()):
            pks |= set(model._default_manager.filter(organization=org).values_list("pk", flat=True))
    pks |= set(ApiToken.objects.filter(membership__organization=org).values_list("pk", flat=True))
    return pks


def _org_factories() -> list[type[factory.django.DjangoModelFactory]]:
    """The factories of org-scoped models in tests/factories.py, but those built above."""
    found = []
    for _, made in inspect.getmembers(factories, inspect.isclass):
        model = getattr(getattr(made, "_meta", None), "model", None)
        if (
            issubclass(made, factory.django.DjangoModelFactory)
            and model is not None
            and model not in (TimeEntry, TimeAudit, Membership)
            and any(f.name == "organization" for f in model._meta.get_fields())
        ):
            found.append(made)
    return found


@pytest.fixture
def foreign_pks(org, other_org, founder, founder_membership, stranger, stranger_membership) -> list[int]:
    """Ids of rows of the other organization that are no row's id in ours (of any model)."""
    TimeEntryFactory(organization=org, user=founder)
    TimeEntryFactory(organization=other_org, user=stranger)
    TimeAuditFactory(organization=org, user=founder, start_date=date(2025, 3, 3))
    TimeAuditFactory(organization=other_org, user=stranger, start_date=date(2025, 3, 3))
    issue_api_token(membership=founder_membership)
    issue_api_token(membership=stranger_membership)
    for made in _org_factories():  # a row of every other factory's model in each organization
        made(organization=org)
    ours = _org_scoped_pks(org)
    for made in _org_factories():
        # Ids are per table: a foreign row whose id is also one of ours (of any model) cannot be
        # walked, so make rows until one has an id of its own; every model is then walked.
        for _ in range(200):
            if made(organization=other_org).pk not in ours:
                break
        else:
            pytest.fail(f"no {made._meta.model.__name__} of the other organization with an id of its own")
    pks = sorted(_org_scoped_pks(other_org) - ours)
    assert pks
    return pks


@pytest.mark.parametrize(("name", "int_kwargs"), page_routes(), ids=[name for name, _ in page_routes()])
def test_another_organizations_id_is_404_on_every_page_route(name, int_kwargs, founder_client, foreign_pks):
    statuses = set()
    for pk in foreign_pks:
        kwargs = dict.fromkeys(int_kwargs, pk)
        try:
            url = reverse(name, kwargs=kwargs)
        except NoReverseMatch:  # a route with further arguments
            url = reverse(name, kwargs={**kwargs, **STRING_ARGUMENTS})
        for method in ("get", "post"):
            status = getattr(founder_client, method)(url).status_code
            assert status in (404, 405), f"{method.upper()} {url} answered {status}"
            statuses.add(status)
    assert 404 in statuses
