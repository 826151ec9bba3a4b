"""``import_entries`` and ``export_entries``: the page's import and export from the command line."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from audits.models import TimeEntry
from tests.factories import TimeEntryFactory

DATA = Path(__file__).parent / "data"
TOGGL = str(DATA / "toggl_detailed.csv")


def _import(*args, **options) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_entries", *args, stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


def _export(*args) -> str:
    out = io.StringIO()
    call_command("export_entries", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.fixture
def bad_file(tmp_path) -> str:
    path = tmp_path / "bad.csv"
    path.write_bytes(
        b"started_at,ended_at,activity,tags\n"
        b"2025-03-03T08:00:00-06:00,2025-03-03T08:30:00-06:00,Triage,repetitive\n"
        b"2025-03-03T09:00:00-06:00,2025-03-03T09:30:00-06:00,Call,weekly\n"
    )
    return str(path)


def test_imports_a_toggl_file_and_prints_the_summary(org, founder):
    out, err = _import(TOGGL, "--org", "acme-it", "--user", "fran")
    assert out == "Toggl Track detailed CSV, 4 rows: 4 created, 0 updated.\n"
    assert err == ""
    assert TimeEntry.objects.filter(user=founder).count() == 4


def test_importing_again_updates(org, founder):
    _import(TOGGL, "--org", "acme-it", "--user", "fran")
    out, _ = _import(TOGGL, "--org", "acme-it", "--user", "fran", "--format", "toggl")
    assert out == "Toggl Track detailed CSV, 4 rows: 0 created, 4 updated.\n"
    assert TimeEntry.objects.count() == 4


def test_a_bad_row_stores_nothing_and_fails(org, founder, bad_file):
    err = io.StringIO()
    with pytest.raises(CommandError) as caught:
        call_command(
            "import_entries", bad_file, "--org", "acme-it", "--user", "fran", stderr=err, stdout=io.StringIO()
        )
    assert str(caught.value) == (
        "msp-ops CSV, 2 rows: nothing was stored because 1 row has errors. "
        "Fix them, or choose to skip bad rows."
    )
    assert err.getvalue() == (
        "row 3 [tags]: Unknown tag 'weekly'; use repetitive, outsourceable, systemizable, owner_by_habit.\n"
    )
    assert not TimeEntry.objects.exists()


def test_an_id_of_a_superscript_digit_is_a_row_error(org, founder, tmp_path):
    path = tmp_path / "ids.csv"
    path.write_text(
        "id,started_at,ended_at,activity\n²,2025-03-03T08:00:00-06:00,2025-03-03T08:30:00-06:00,Triage\n",
        encoding="utf-8",
    )
    err = io.StringIO()
    with pytest.raises(CommandError) as caught:
        call_command(
            "import_entries",
            str(path),
            "--org",
            "acme-it",
            "--user",
            "fran",
            stderr=err,
            stdout=io.StringIO(),
        )
    assert str(caught.value) == (
        "msp-ops CSV, 1 row: nothing was stored because 1 row has errors. "
        "Fix them, or choose to skip bad rows."
    )
    assert err.getvalue() == (
        "row 2 [id]: No entry #² of 'fran' in this organization; clear the id to create it.\n"
    )
    assert not TimeEntry.objects.exists()


def test_skip_bad_rows_with_every_row_bad_stores_nothing_and_fails(org, founder, tmp_path):
    path = tmp_path / "all-bad.csv"
    path.write_bytes(
        b"started_at,ended_at,activity,tags\n2025-03-03T09:00:00-06:00,2025-03-03T09:30:00-06:00,Call,weekly\n"
    )
    err = io.StringIO()
    with pytest.raises(CommandError) as failed:
        call_command(
            "import_entries", str(path), "--org", "acme-it", "--user", "fran", "--skip-bad-rows",
            stdout=io.StringIO(), stderr=err,
        )  # fmt: skip
    assert str(failed.value) == "msp-ops CSV, 1 row: 0 created, 0 updated, 1 skipped."
    assert err.getvalue().startswith("row 2 [tags]: Unknown tag 'weekly'")
    assert not TimeEntry.objects.exists()


def test_skip_bad_rows_stores_the_good_ones(org, founder, bad_file):
    out, err = _import(bad_file, "--org", "acme-it", "--user", "fran", "--skip-bad-rows")
    assert out == "msp-ops CSV, 2 rows: 1 created, 0 updated, 1 skipped.\n"
    assert err.startswith("row 3 [tags]: Unknown tag 'weekly'")
    assert list(TimeEntry.objects.values_list("activity", flat=True)) == ["Triage"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            [TOGGL, "--org", "nope", "--user", "fran"],
            "'fran' is not a member of an organization with slug 'nope'.",
        ),
        (
            [TOGGL, "--org", "acme-it", "--user", "otto"],
            "'otto' is not a member of an organization with slug 'acme-it'.",
        ),
        (
            ["/no/such.csv", "--org", "acme-it", "--user", "fran"],
            "Cannot read /no/such.csv: No such file or directory.",
        ),
        (
            [TOGGL, "--org", "acme-it", "--user", "fran", "--format", "xls"],
            "Error: argument --format: invalid choice: 'xls' (choose from 'ours', 'toggl', 'clockify')",
        ),
        (
            [TOGGL, "--org", "acme-it", "--user", "fran", "--format", "ours"],
            f"{TOGGL}: Missing required column(s) for the msp-ops layout: started_at, ended_at, activity.",
        ),
    ],
    ids=["unknown-org", "foreign-user", "missing-file", "unknown-format", "wrong-format"],
)
def test_bad_arguments_change_nothing(org, founder, stranger, args, message):
    with pytest.raises(CommandError) as caught:
        _import(*args)
    assert str(caught.value) == message
    assert not TimeEntry.objects.exists()


def test_export_to_stdout_filtered_by_user_and_dates(org, founder, technician):
    # 15:00 UTC is 09:00 in Chicago (CST, -06:00) on Monday 2025-01-06.
    TimeEntryFactory(
        organization=org,
        user=founder,
        activity="Quote for Acme",
        started_at=datetime(2025, 1, 6, 15, tzinfo=UTC),
    )
    TimeEntryFactory(
        organization=org,
        user=technician,
        activity="Printer mapping",
        started_at=datetime(2025, 1, 6, 16, tzinfo=UTC),
    )

    everything = _export("--org", "acme-it")
    mine = _export("--org", "acme-it", "--user", "fran", "--from", "2025-01-06", "--to", "2025-01-06")
    later = _export("--org", "acme-it", "--from", "2025-01-07")

    assert everything.startswith("id,external_id,user,started_at,ended_at,activity,")
    assert "Quote for Acme" in everything
    assert "Printer mapping" in everything
    assert "Quote for Acme" in mine
    assert "Printer mapping" not in mine
    assert later.count("\n") == 1


def test_export_to_a_file_then_import_it_back_is_a_no_op(org, founder, tmp_path):
    TimeEntryFactory(organization=org, user=founder, activity="Quote for Acme", external_id="psa-5")
    TimeEntryFactory(organization=org, user=founder, activity="Vendor call")
    path = tmp_path / "out.csv"
    err = io.StringIO()
    call_command("export_entries", "--org", "acme-it", "--output", str(path), stderr=err)
    assert err.getvalue() == f"Wrote 2 entries to {path}.\n"

    out, _ = _import(str(path), "--org", "acme-it", "--user", "fran")

    assert out == "msp-ops CSV, 2 rows: 0 created, 2 updated.\n"
    assert TimeEntry.objects.count() == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--org", "nope"], "No organization with slug 'nope'."),
        (["--org", "acme-it", "--user", "otto"], "'otto' is not a member of 'acme-it'."),
        (["--org", "acme-it", "--from", "03/01/2025"], "'03/01/2025' is not a date in YYYY-MM-DD form."),
        (
            ["--org", "acme-it", "--from", "2025-03-02", "--to", "2025-03-01"],
            "--from must not be after --to.",
        ),
        (["--org", "acme-it", "--category", "golf"], "No category 'golf' in 'acme-it'."),
    ],
)
def test_export_bad_arguments(org, stranger, args, message):
    with pytest.raises(CommandError) as caught:
        _export(*args)
    assert str(caught.value) == message
