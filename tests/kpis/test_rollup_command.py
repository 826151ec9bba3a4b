"""``manage.py rollup_kpis [--org SLUG] [--week YYYY-MM-DD]`` (SPEC 3, 5): the rollup on demand.

Time is pinned to Wednesday 2025-03-05 12:00 CST: every organization's previous week is the one
of 2025-02-24 and its current week the one of 2025-03-03 (Acme IT is in Chicago, the others UTC).
"""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command, execute_from_command_line
from django.core.management.base import CommandError

from audits.models import Handling
from kpis import services
from kpis.models import WeeklyKpi
from tests.factories import OrganizationFactory, TimeEntryFactory

CHI = ZoneInfo("America/Chicago")
NOW = datetime(2025, 3, 5, 12, tzinfo=CHI)
PREVIOUS, CURRENT = date(2025, 2, 24), date(2025, 3, 3)

pytestmark = pytest.mark.usefixtures("pinned")


@pytest.fixture
def pinned():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def orgs(org, other_org):
    third = OrganizationFactory(slug="zeta-it", name="Zeta IT")
    return [org, other_org, third]  # acme-it, rival-msp, zeta-it


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("rollup_kpis", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def rows() -> list[tuple[str, date]]:
    return list(
        WeeklyKpi.objects.order_by("organization__slug", "week").values_list("organization__slug", "week")
    )


def test_without_arguments_every_organizations_previous_and_current_week(orgs, founder):
    TimeEntryFactory(
        organization=orgs[0], user=founder, handling=Handling.DELEGATED,
        started_at=datetime(2025, 3, 4, 9, tzinfo=CHI), ended_at=datetime(2025, 3, 4, 11, tzinfo=CHI),
    )  # fmt: skip

    assert run() == "Rolled up 6 week(s) of 3 organization(s).\n"

    assert rows() == [
        (slug, week) for slug in ("acme-it", "rival-msp", "zeta-it") for week in (PREVIOUS, CURRENT)
    ]
    current = WeeklyKpi.objects.get(organization=orgs[0], week=CURRENT)
    assert (current.delegated_hours, current.final, current.computed_at) == (Decimal("2.00"), False, NOW)
    assert WeeklyKpi.objects.get(organization=orgs[0], week=PREVIOUS).final is True


def test_one_organization_and_one_week(orgs):
    assert run("--org", "rival-msp", "--week", "2025-01-06") == "Rolled up 1 week(s) of 1 organization(s).\n"
    assert rows() == [("rival-msp", date(2025, 1, 6))]
    assert run("--week", "2025-01-13") == "Rolled up 3 week(s) of 3 organization(s).\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--org", "nope"], "No organization with slug 'nope'."),
        (["--org", "nope", "--week", "2025-03-03"], "No organization with slug 'nope'."),
        (["--week", "2025-03-04"], "--week: 2025-03-04 is a Tuesday; a week is named by its Monday."),
        (
            ["--org", "acme-it", "--week", "2025-03-09"],
            "--week: 2025-03-09 is a Sunday; a week is named by its Monday.",
        ),
        (["--week", "2025-3-3"], "--week: '2025-3-3' is not a date in YYYY-MM-DD form."),
        (["--week", "2025-02-30"], "--week: '2025-02-30' is not a date in YYYY-MM-DD form."),
    ],
)
def test_argument_errors_change_nothing(orgs, args, message):
    with pytest.raises(CommandError) as refused:
        run(*args)
    assert str(refused.value) == message
    assert rows() == []


def fail_for(monkeypatch, slug: str) -> None:
    real = services.weeks_figures

    def weeks_figures(org, mondays, *, now, **settings):
        if org.slug == slug:
            raise RuntimeError("canceling statement due to statement timeout")
        return real(org, mondays, now=now, **settings)

    monkeypatch.setattr(services, "weeks_figures", weeks_figures)


# manage.py's own entry point (exit status, "CommandError: ..." on stderr) closes the database
# connections when it returns: a transactional test, so no test transaction is lost with them.
@pytest.mark.django_db(transaction=True)
def test_one_failing_organization_is_named_the_others_roll_up_and_the_exit_status_is_1(
    orgs, monkeypatch, capsys
):
    fail_for(monkeypatch, "acme-it")  # the first in slug order

    with pytest.raises(SystemExit) as exited:
        execute_from_command_line(["manage.py", "rollup_kpis"])

    assert exited.value.code == 1
    out, err = capsys.readouterr()
    assert out == "Rolled up 4 week(s) of 2 organization(s).\n"
    assert err == (
        "acme-it: the rollup failed: RuntimeError: canceling statement due to statement timeout\n"
        "CommandError: The rollup failed for 1 organization(s): acme-it.\n"
    )
    assert rows() == [(slug, week) for slug in ("rival-msp", "zeta-it") for week in (PREVIOUS, CURRENT)]


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_shows_a_progress_bar_and_failures_on_lines_of_their_own(orgs, monkeypatch):
    fail_for(monkeypatch, "rival-msp")
    out, err = Terminal(), io.StringIO()

    with pytest.raises(CommandError, match=r"^The rollup failed for 1 organization\(s\): rival-msp\.$"):
        call_command("rollup_kpis", stdout=out, stderr=err)

    bar = "[" + "#" * 10 + "." * 20 + "] 1/3 acme-it" + " " * 23
    assert out.getvalue() == (
        f"\r{bar}\n"
        f"\r[{'#' * 20}{'.' * 10}] 2/3 rival-msp{' ' * 21}"
        f"\r[{'#' * 30}] 3/3 zeta-it{' ' * 23}\n"
        "Rolled up 4 week(s) of 2 organization(s).\n"
    )
    assert (
        err.getvalue()
        == "rival-msp: the rollup failed: RuntimeError: canceling statement due to statement timeout\n"
    )


def test_one_organization_on_a_terminal_has_no_bar(orgs):
    out = Terminal()
    call_command("rollup_kpis", "--org", "zeta-it", stdout=out)
    assert out.getvalue() == "Rolled up 2 week(s) of 1 organization(s).\n"
