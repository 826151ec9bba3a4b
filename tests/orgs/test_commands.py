"""Operator commands (SPEC 5): each refuses bad arguments with a clear message and changes nothing."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from audits.models import Category, TimeEntry
from msp_ops.orgs.models import ApiToken, Membership, Organization, Role
from tests.conftest import PASSWORD
from tests.orgs.test_tokens import call as call_api

User = get_user_model()
ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def snapshot() -> dict[str, list]:
    """Everything the commands could change, to compare before and after a refusal."""
    return {
        "orgs": list(Organization.objects.values_list("slug", "name", "timezone", "managed_clients")),
        "users": list(User.objects.values_list("username", "password").order_by("username")),
        "memberships": list(Membership.objects.values_list("organization__slug", "user__username", "role")),
        "tokens": list(ApiToken.objects.values_list("pk", "revoked_at")),
        "categories": list(Category.objects.values_list("organization__slug", "slug").order_by("pk")),
    }


# --- create_org -----------------------------------------------------------------------


def test_create_org_with_every_option(db):
    out = run("create_org", "northwind", "--name", "Northwind IT", "--timezone", "Europe/Berlin",
              "--managed-clients", "31")  # fmt: skip
    assert out == "Created organization 'northwind' (Northwind IT, Europe/Berlin).\n"
    org = Organization.objects.get(slug="northwind")
    assert (org.name, org.timezone, org.managed_clients) == ("Northwind IT", "Europe/Berlin", 31)
    assert Category.objects.for_org(org).count() == 14  # SPEC 1's default categories


def test_create_org_defaults_to_utc_and_no_clients(db):
    run("create_org", "solo", "--name", "Solo IT")
    org = Organization.objects.get(slug="solo")
    assert (org.timezone, org.managed_clients) == ("UTC", 0)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["acme-it", "--name", "Again"], "An organization with slug 'acme-it' already exists."),
        (
            ["new-msp", "--name", "New", "--timezone", "Mars/Olympus"],
            "timezone: Unknown time zone 'Mars/Olympus'; use an IANA name such as America/Chicago.",
        ),
        (["new-msp", "--name", "New", "--managed-clients", "-3"], "--managed-clients must be 0 or more."),
        (
            ["new-msp", "--name", "New", "--managed-clients", "many"],
            "Error: argument --managed-clients: invalid int value: 'many'",
        ),
        (
            ["not a slug", "--name", "New"],
            "slug: Enter a valid “slug” consisting of letters, numbers, underscores or hyphens.",
        ),
        (["new-msp"], "Error: the following arguments are required: --name"),
    ],
)
def test_create_org_refuses_bad_arguments_and_changes_nothing(org, args, message):
    before = snapshot()
    with pytest.raises(CommandError) as refused:
        run("create_org", *args)
    assert str(refused.value) == message
    assert snapshot() == before


def test_a_refused_command_exits_non_zero_with_the_message_on_stderr(db):
    result = subprocess.run(
        [sys.executable, "manage.py", "create_org", "x", "--name", "X", "--managed-clients", "-1"],
        cwd=ROOT,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert result.stderr.strip() == "CommandError: --managed-clients must be 0 or more."


# --- add_member -----------------------------------------------------------------------


def test_add_member_creates_the_user_with_the_password_from_the_environment(org, monkeypatch):
    monkeypatch.setenv("NEW_PW", PASSWORD)
    out = run("add_member", "acme-it", "dana", "--role", "service_manager", "--password-env", "NEW_PW")
    assert out == "Created user and added 'dana' to 'acme-it' as Service manager.\n"
    dana = User.objects.get(username="dana")
    assert dana.check_password(PASSWORD)
    assert Membership.objects.get(user=dana).role == Role.SERVICE_MANAGER


def test_add_member_without_password_gives_an_unusable_one(org):
    run("add_member", "acme-it", "dana", "--role", "viewer")
    assert not User.objects.get(username="dana").has_usable_password()


def test_add_member_changes_the_role_of_an_existing_member_and_keeps_the_password(founder, org):
    out = run("add_member", "acme-it", "fran", "--role", "viewer")
    assert out == "Added 'fran' to 'acme-it' as Viewer.\n"
    assert Membership.objects.get(user=founder).role == Role.VIEWER
    founder.refresh_from_db()
    assert founder.check_password(PASSWORD)


def test_add_member_puts_an_existing_user_in_a_second_organization(founder, other_org):
    run("add_member", "rival-msp", "fran", "--role", "founder")
    assert sorted(Membership.objects.filter(user=founder).values_list("organization__slug", flat=True)) == [
        "acme-it",
        "rival-msp",
    ]


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["nowhere", "dana", "--role", "founder"], {}, "No organization with slug 'nowhere'."),
        (
            ["acme-it", "dana", "--role", "boss"],
            {},
            "Error: argument --role: invalid choice: 'boss' "
            "(choose from 'founder', 'service_manager', 'technician', 'viewer')",
        ),
        (
            ["acme-it", "dana", "--role", "founder", "--password-env", "MSP_OPS_UNSET_PW"],
            {},
            "Environment variable MSP_OPS_UNSET_PW is not set or empty.",
        ),
        (
            ["acme-it", "dana", "--role", "founder", "--password-env", "WEAK_PW"],
            {"WEAK_PW": "12345678"},
            "The password in WEAK_PW is refused: This password is too common. "
            "This password is entirely numeric.",
        ),
        (
            ["acme-it", "dana", "--role", "founder", "--password-env", "WEAK_PW"],
            {"WEAK_PW": "x7#"},
            "The password in WEAK_PW is refused: This password is too short. "
            "It must contain at least 8 characters.",
        ),
        (
            ["acme-it", "fran", "--role", "viewer", "--password-env", "WEAK_PW"],
            {"WEAK_PW": "password"},
            "The password in WEAK_PW is refused: This password is too common.",
        ),
        (
            ["acme-it", "dana smith!", "--role", "founder"],
            {},
            "username: Enter a valid username. This value may contain only letters, numbers, "
            "and @/./+/-/_ characters.",
        ),
    ],
)
def test_add_member_refuses_bad_arguments_and_changes_nothing(founder, monkeypatch, args, env, message):
    monkeypatch.delenv("MSP_OPS_UNSET_PW", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    before = snapshot()
    with pytest.raises(CommandError) as refused:
        run("add_member", *args)
    assert str(refused.value) == message
    assert snapshot() == before


# --- create_api_token -----------------------------------------------------------------


def test_create_api_token_prints_the_key_last_and_the_key_works(founder_membership):
    out = run("create_api_token", "fran", "--org", "acme-it", "--name", "PSA sync")
    lines = out.splitlines()
    assert lines[0] == "Token 'PSA sync' for fran in acme-it. Store the key now; it is shown once:"
    key = lines[-1]
    assert key.startswith("msp_")
    token = ApiToken.objects.get()
    assert (token.name, token.membership) == ("PSA sync", founder_membership)
    response = call_api(key)
    assert response.status_code == 200
    assert response.data == {"user": "fran", "org": "acme-it", "role": "founder"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["fran", "--org", "rival-msp"], "'fran' is not a member of an organization with slug 'rival-msp'."),
        (["fran", "--org", "nowhere"], "'fran' is not a member of an organization with slug 'nowhere'."),
        (["ghost", "--org", "acme-it"], "'ghost' is not a member of an organization with slug 'acme-it'."),
        (["fran"], "Error: the following arguments are required: --org"),
    ],
)
def test_create_api_token_refuses_non_members_and_changes_nothing(founder, other_org, args, message):
    before = snapshot()
    with pytest.raises(CommandError) as refused:
        run("create_api_token", *args)
    assert str(refused.value) == message
    assert snapshot() == before


# --- seed_demo ------------------------------------------------------------------------


def test_seed_demo_creates_the_demo_organization_and_prints_the_logins(db):
    out = run("seed_demo")
    assert out.startswith("Created demo organization 'demo' (Northwind Managed IT).\n")
    assert "Demo logins (password for all: demo-msp-2025):\n  founder    Founder\n" in out
    assert "  manager    Service manager\n" in out
    org = Organization.objects.get(slug="demo")
    assert (org.timezone, org.managed_clients) == ("America/Chicago", 24)
    roles = dict(Membership.objects.for_org(org).values_list("user__username", "role"))
    assert roles == {"founder": Role.FOUNDER, "manager": Role.SERVICE_MANAGER, "tech": Role.TECHNICIAN}
    assert User.objects.get(username="founder").check_password("demo-msp-2025")


def test_seed_demo_is_idempotent(db):
    run("seed_demo")
    first = snapshot()
    entries = TimeEntry.objects.count()
    founder = User.objects.get(username="founder")
    founder.set_password("changed-by-someone-1")
    founder.save()
    out = run("seed_demo")
    assert out.startswith("Demo organization 'demo' already exists; logins refreshed.\n")
    again = snapshot()
    # Same rows; only the password hashes differ (fresh salt), and they check the demo password.
    assert {k: v for k, v in again.items() if k != "users"} == {
        k: v for k, v in first.items() if k != "users"
    }
    assert [u for u, _ in again["users"]] == [u for u, _ in first["users"]]
    assert TimeEntry.objects.count() == entries
    assert User.objects.get(username="founder").check_password("demo-msp-2025")
