"""How an app plugs into the framework: its ``AppConfig`` subclasses ``MspApp`` (README, "A new app").

The framework never imports an app. It asks the installed ``MspApp`` configs, in
``INSTALLED_APPS`` order, for four things, each optional::

    from msp_ops import plugins  # not "from ... import MspApp": Django would see two configs

    class DelegationConfig(plugins.MspApp):
        name = "delegation"
        pages = "delegation/"               # <app>/urls.py, included at /delegation/
        beat_schedule = {"nightly": {"task": "...", "schedule": 3600.0}}  # periodic tasks
        api_routes = "delegation.api.urls"  # routes = [(prefix, viewset, basename)] for the router,
                                            # and urlpatterns (optional) for one-object endpoints

        def organization_created(self, org):  # inside create_organization's transaction
            create_escalation_map(org=org)

        def seed_demo(self, org, *, created):  # its part of manage.py seed_demo
            return "12 weeks of interruptions."  # a line for the command's output, or None

Adding an app is then ``INSTALLED_APPS`` and nothing else in ``msp_ops/``.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from django.apps import AppConfig, apps
from django.urls import URLPattern, URLResolver, include, path

if TYPE_CHECKING:
    from msp_ops.orgs.models import Organization


class MspApp(AppConfig):
    """An app of msp-ops; override what the app has."""

    pages: str | None = None  # URL prefix of the app's pages (its ``urls`` module), e.g. "audits/"
    api_routes: str | None = None  # dotted module holding ``routes`` for the /api/v1/ router
    beat_schedule: dict[str, dict] = {}  # Celery beat entries of the app's periodic tasks

    def organization_created(self, org: Organization) -> None:
        """Creates the app's defaults for a new organization (categories, SLA policy ...)."""

    def seed_demo(self, org: Organization, *, created: bool) -> str | None:
        """The app's demo data; ``created`` is false when the demo organization existed already
        (keep its data, top up what a new day needs). Returns a line for the output, or None."""
        return None


def msp_apps() -> list[MspApp]:
    return [config for config in apps.get_app_configs() if isinstance(config, MspApp)]


def page_urls() -> list[URLPattern | URLResolver]:
    return [path(app.pages, include(f"{app.name}.urls")) for app in msp_apps() if app.pages is not None]


def api_routes() -> list[tuple[str, Any, str]]:
    """Every app's (prefix, viewset, basename) triples, in app order."""
    return [route for app in msp_apps() if app.api_routes for route in import_module(app.api_routes).routes]


def api_paths() -> list[URLPattern | URLResolver]:
    """Every app's own ``urlpatterns`` under /api/v1/ (objects that are no collection, e.g. the
    escalation map), from the same module as its routes."""
    return [
        pattern
        for app in msp_apps()
        if app.api_routes
        for pattern in getattr(import_module(app.api_routes), "urlpatterns", [])
    ]


def beat_schedule() -> dict[str, dict]:
    """Every app's periodic tasks, for Celery beat (``msp_ops.celery``)."""
    return {name: entry for app in msp_apps() for name, entry in app.beat_schedule.items()}


def organization_created(org: Organization) -> None:
    for app in msp_apps():
        app.organization_created(org)


def seed_demo(org: Organization, *, created: bool) -> list[str]:
    return [note for app in msp_apps() if (note := app.seed_demo(org, created=created))]
