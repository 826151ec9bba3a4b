"""Every API endpoint answers 404 for another organization's object, and lists show none (SPEC 1, 4).

The endpoints are found by walking the /api/v1/ router's registry (every app's viewsets) and
each viewset's detail actions, as tests/orgs/test_foreign_objects.py walks the page routes: an
endpoint added later is covered without touching this file. Its objects are built by the
factory in tests/factories.py whose ``Meta.model`` is the viewset's model; a model without
one fails here, so no endpoint is skipped silently.
"""

from __future__ import annotations

import inspect
import json
from dataclasses import dataclass
from typing import Any

import factory
import pytest
from django.db import models
from django.test import Client
from django.urls import get_resolver, reverse

from msp_ops.orgs.models import Role
from msp_ops.orgs.roles import ROLE_PERMISSIONS, Perm
from tests import factories

DETAIL_METHODS = ("get", "patch", "put", "delete")


def registry() -> list[tuple[str, Any, str]]:
    """The router's (prefix, viewset, basename) triples, once the URLconf has filled it."""
    assert get_resolver().url_patterns  # loads msp_ops.api.urls, however the apps' routes get there
    from msp_ops.api.urls import router

    return list(router.registry)


def _router():
    from msp_ops.api.urls import router

    return router


@dataclass(frozen=True)
class Case:
    prefix: str
    viewset: Any
    basename: str
    url_name: str  # "detail" or a detail action's url_name ("report")
    method: str
    allowed: bool  # False: the route exists but the viewset does not take this method

    @property
    def id(self) -> str:
        return f"{self.prefix}-{self.url_name}-{self.method.upper()}"

    def url(self, obj: models.Model) -> str:
        return detail_url(self.viewset, self.basename, self.url_name, obj)


def detail_url(viewset, basename: str, url_name: str, obj: models.Model) -> str:
    lookup = viewset.lookup_url_kwarg or viewset.lookup_field
    return reverse(f"{basename}-{url_name}", kwargs={lookup: getattr(obj, viewset.lookup_field)})


def detail_methods(viewset) -> dict[str, str]:
    """The methods the viewset takes on its detail route ({"get": "retrieve", ...})."""
    (route,) = [r for r in _router().routes if getattr(r, "name", "") == "{basename}-detail"]
    return _router().get_method_map(viewset, route.mapping)


def detail_cases() -> list[Case]:
    """Each detail route with GET, PATCH, PUT and DELETE, and each detail action's methods."""
    cases = []
    for prefix, viewset, basename in registry():
        mapped = detail_methods(viewset)
        if mapped:
            for method in DETAIL_METHODS:
                cases.append(Case(prefix, viewset, basename, "detail", method, method in mapped))
        for extra in viewset.get_extra_actions():
            if extra.detail:
                for method in extra.mapping:
                    if method not in ("head", "options"):
                        cases.append(Case(prefix, viewset, basename, extra.url_name, method, True))
    return cases


def list_cases() -> list[tuple[str, Any, str]]:
    return [
        (prefix, viewset, basename)
        for prefix, viewset, basename in registry()
        if _router().get_method_map(viewset, {"get": "list"})
    ]


# --- objects of any viewset's model -------------------------------------------------------


def _factories() -> dict[type[models.Model], type[factory.django.DjangoModelFactory]]:
    found: dict[type[models.Model], type[factory.django.DjangoModelFactory]] = {}
    for _, value in inspect.getmembers(factories, inspect.isclass):
        if issubclass(value, factory.django.DjangoModelFactory) and value._meta.model is not None:
            found.setdefault(value._meta.model, value)
    return found


def model_of(viewset) -> type[models.Model]:
    model = getattr(viewset, "model", None) or getattr(getattr(viewset, "queryset", None), "model", None)
    assert model is not None, f"{viewset.__name__} names no model (set `model` or `queryset`)"
    return model


def make(viewset, org) -> models.Model:
    """An object of the viewset's model in ``org``, through its factory in tests/factories.py."""
    model = model_of(viewset)
    made = _factories().get(model)
    if made is None:
        pytest.fail(f"no factory for {model._meta.label}: add one to tests/factories.py")
    obj = made(organization=org)
    assert obj.organization_id == org.pk, f"{made.__name__}(organization=...) put the object in another org"
    return obj


def snapshot(obj: models.Model) -> dict[str, Any] | None:
    """The row's stored values (None once it is gone)."""
    return type(obj)._base_manager.filter(pk=obj.pk).values().first()


def send(client: Client, method: str, url: str, body: Any = None):
    if method in ("get", "delete") or body is None:
        return getattr(client, method)(url)
    return getattr(client, method)(url, json.dumps(body), content_type="application/json")


def _json_detail(response) -> Any:
    assert response.headers.get("Content-Type", "").startswith("application/json"), response.headers
    body = response.json()
    assert isinstance(body, dict), body
    assert set(body) == {"detail"}, body
    assert isinstance(body["detail"], str), body
    return body


# --- the walk really walks ----------------------------------------------------------------


def test_the_walk_finds_the_known_endpoints():
    assert registry(), "the /api/v1/ router has no viewsets registered"
    detail = {case.id for case in detail_cases()}
    for method in DETAIL_METHODS:
        assert f"time-entries-detail-{method.upper()}" in detail
        assert f"audits-detail-{method.upper()}" in detail
    assert "audits-report-GET" in detail
    listed = {prefix for prefix, _, _ in list_cases()}
    assert {"time-entries", "audits"} <= listed


def test_the_token_may_do_everything(founder_membership):
    """The walks use the founder's token (``api``): no permission is missing that could turn a
    404 into a 403, or a 403 into a pass."""
    assert founder_membership.role == Role.FOUNDER
    assert ROLE_PERMISSIONS[Role.FOUNDER] == frozenset(Perm)


def test_every_registered_model_has_a_factory():
    missing = [
        model_of(viewset)._meta.label for _, viewset, _ in registry() if model_of(viewset) not in _factories()
    ]
    assert not missing, f"no factory for {', '.join(missing)}: add one to tests/factories.py"


# --- another organization's object: 404, and nothing changes ------------------------------


@pytest.mark.parametrize("case", detail_cases(), ids=lambda case: case.id)
def test_another_organizations_object_is_404(case: Case, api, org, other_org):
    """With the founder's token (every permission), so a 404 is never a 403 in disguise. A
    method the viewset does not take at all (PUT on an audit) answers 405, for every object."""
    mine = make(case.viewset, org)
    foreign = make(case.viewset, other_org)
    before = snapshot(foreign)
    # A valid body: our own object as the API shows it (PUT/PATCH of the foreign one with it
    # would overwrite every field that differs).
    body: Any = {}
    if "get" in detail_methods(case.viewset):
        own_view = api.get(detail_url(case.viewset, case.basename, "detail", mine))
        assert own_view.status_code == 200, (own_view.status_code, own_view.content[:300])
        body = own_view.json()

    response = send(api, case.method, case.url(foreign), body)
    expected = 404 if case.allowed else 405
    assert response.status_code == expected, (
        f"{case.method.upper()} {case.url(foreign)} of another organization's object answered "
        f"{response.status_code}, not {expected}: {response.content[:300]!r}"
    )
    detail = _json_detail(response)
    assert snapshot(foreign) == before, "the other organization's object changed"

    # Indistinguishable from an id that exists nowhere.
    missing = type(foreign)._base_manager.order_by("-pk").values_list("pk", flat=True).first() + 1000
    nowhere = send(api, case.method, case.url(type(foreign)(pk=missing)), body)
    assert (nowhere.status_code, nowhere.json()) == (response.status_code, detail)

    # The same request on our own object gets past the lookup: the 404 is the organization's.
    own = send(api, case.method, case.url(mine), body)
    if case.allowed:
        problem = (
            f"{case.method.upper()} {case.url(mine)} of our own object answered {own.status_code}: "
            f"{own.content[:300]!r}"
        )
        assert own.status_code not in (404, 405), problem
        assert own.status_code < 500, problem
    else:
        assert own.status_code == 405
    assert snapshot(foreign) == before


# --- lists show only the token's organization ---------------------------------------------


@pytest.mark.parametrize(("prefix", "viewset", "basename"), list_cases(), ids=[p for p, _, _ in list_cases()])
def test_lists_never_show_another_organizations_objects(prefix, viewset, basename, api, org, other_org):
    mine = make(viewset, org)
    foreign = make(viewset, other_org)

    response = api.get(reverse(f"{basename}-list"), {"page_size": 1000})

    assert response.status_code == 200, response.content[:300]
    results = response.json()["results"]
    assert all("id" in row for row in results), f"/{prefix}/ list items carry no `id`"
    ids = [row["id"] for row in results]
    assert mine.pk in ids, f"/{prefix}/ does not list our own object: the check below would prove nothing"
    assert foreign.pk not in ids, f"/{prefix}/ lists another organization's object"
