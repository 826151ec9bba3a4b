"""The framework (msp_ops/) knows no app: apps plug in through their MspApp config alone."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.apps import apps
from django.urls import reverse

from audits.models import Category
from msp_ops import plugins
from msp_ops.api.urls import router
from msp_ops.orgs.demo.seed import seed_demo
from msp_ops.orgs.services import create_organization

FRAMEWORK = Path(__file__).resolve().parent.parent / "msp_ops"
APPS = {"audits", "delegation", "kpis"}


def _imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_no_framework_module_imports_an_app():
    modules = sorted(FRAMEWORK.rglob("*.py"))
    assert len(modules) > 20  # the walk walks
    offenders = {
        str(path.relative_to(FRAMEWORK.parent)): sorted(
            name for name in _imported_modules(path) if name.split(".")[0] in APPS
        )
        for path in modules
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_every_app_is_an_msp_app_with_its_pages_and_routes():
    assert {app.name for app in plugins.msp_apps()} == APPS
    assert type(apps.get_app_config("audits")).__name__ == "AuditsConfig"
    assert reverse("audits:today") == "/audits/today/"
    assert {prefix for prefix, _, _ in router.registry} >= {"time-entries", "audits"}


@pytest.mark.django_db
def test_a_new_organization_gets_every_apps_defaults(monkeypatch):
    seen = []
    monkeypatch.setattr(
        apps.get_app_config("kpis"), "organization_created", lambda org: seen.append(org.slug)
    )

    org = create_organization(slug="new-msp", name="New MSP")

    assert seen == ["new-msp"]
    assert Category.objects.for_org(org).count() == 14  # audits' hook: SPEC's default categories


@pytest.mark.django_db
def test_seed_demo_asks_each_app_whether_the_org_is_new(monkeypatch):
    calls = []

    def record(org, *, created):
        calls.append((org.slug, created))
        return "Weekly KPIs: nothing yet." if created else None

    monkeypatch.setattr(apps.get_app_config("kpis"), "seed_demo", record)

    first = seed_demo()
    second = seed_demo()

    assert calls == [("demo", True), ("demo", False)]
    assert "Weekly KPIs: nothing yet." in first.summary
    assert "Weekly KPIs" not in second.summary
