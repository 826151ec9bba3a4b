"""Base fixtures: an organization with a member of each role, and a stranger elsewhere.

The real PostgreSQL and Redis are started by ``tests/harness.py`` (loaded with ``-p``)."""

from __future__ import annotations

import threading

import pytest
from django.test import Client

from msp_ops.orgs import batches
from msp_ops.orgs.models import Membership, Organization, Role
from msp_ops.orgs.services import issue_api_token
from tests.factories import MembershipFactory, OrganizationFactory

PASSWORD = "correct horse battery staple"


def pytest_configure(config: pytest.Config) -> None:
    from django.conf import settings

    # The suite creates hundreds of users; the production hasher's deliberate slowness only
    # costs CI time here.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Ends stray sessions on the test database (live-server and worker threads) before it is
    dropped, so teardown does not trip over "database is being accessed by other users"."""
    yield
    from django.db import connection

    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


@pytest.fixture
def org(db) -> Organization:
    return OrganizationFactory(slug="acme-it", name="Acme IT", timezone="America/Chicago", managed_clients=24)


@pytest.fixture
def other_org(db) -> Organization:
    return OrganizationFactory(slug="rival-msp", name="Rival MSP")


def _member(org: Organization, username: str, role: str) -> Membership:
    return MembershipFactory(organization=org, user__username=username, role=role)


@pytest.fixture
def founder_membership(org) -> Membership:
    return _member(org, "fran", Role.FOUNDER)


@pytest.fixture
def founder(founder_membership):
    return founder_membership.user


@pytest.fixture
def manager_membership(org) -> Membership:
    return _member(org, "sam", Role.SERVICE_MANAGER)


@pytest.fixture
def manager(manager_membership):
    return manager_membership.user


@pytest.fixture
def tech_membership(org) -> Membership:
    return _member(org, "tess", Role.TECHNICIAN)


@pytest.fixture
def technician(tech_membership):
    return tech_membership.user


@pytest.fixture
def viewer_membership(org) -> Membership:
    return _member(org, "vic", Role.VIEWER)


@pytest.fixture
def viewer(viewer_membership):
    return viewer_membership.user


@pytest.fixture
def stranger_membership(other_org) -> Membership:
    return _member(other_org, "otto", Role.FOUNDER)


@pytest.fixture
def stranger(stranger_membership):
    return stranger_membership.user


@pytest.fixture
def founder_client(founder) -> Client:
    client = Client()
    client.force_login(founder)
    return client


def api_client_for(membership: Membership) -> Client:
    """A Django test client that sends the member's new API token on every request."""
    key = issue_api_token(membership=membership).key
    return Client(headers={"Authorization": f"Token {key}"})


@pytest.fixture
def api(founder_membership) -> Client:
    return api_client_for(founder_membership)


# --- browser --------------------------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the whole session (Debian's, driven by Playwright)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, live_server):
    """A fresh browser context (no cookies) per test, with the live server as base URL."""
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    tab = context.new_page()
    yield tab
    context.close()


def log_in(page, username: str, password: str = PASSWORD) -> None:
    page.goto("/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()


# --- races on the real PostgreSQL (tests/races.py) ----------------------------------


@pytest.fixture
def write_together(monkeypatch):
    """Holds each thread's first write until both threads have passed their checks."""
    barrier = threading.Barrier(2, timeout=30)
    waited = threading.local()
    real_write = batches._write

    def write_after_both_checked(*args, **kwargs):
        if not getattr(waited, "done", False):
            waited.done = True
            barrier.wait()
        return real_write(*args, **kwargs)

    monkeypatch.setattr(batches, "_write", write_after_both_checked)
    return barrier


@pytest.fixture
def lost_races(monkeypatch) -> list[int]:
    """Records each write PostgreSQL refused (an IntegrityError the framework caught)."""
    lost: list[int] = []
    real_forget = batches._forget_pks

    def forget(unsaved):
        lost.append(len(unsaved))
        real_forget(unsaved)

    monkeypatch.setattr(batches, "_forget_pks", forget)
    return lost
