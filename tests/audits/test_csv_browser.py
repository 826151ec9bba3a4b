"""The Import/export page in Chromium: the htmx upload swaps in the report without a reload."""

from __future__ import annotations

import pytest

from audits.models import TimeEntry
from tests.conftest import log_in

pytestmark = pytest.mark.browser

BAD = (
    "started_at,ended_at,activity,tags\n"
    "2025-04-03T08:00:00-06:00,2025-04-03T08:30:00-06:00,Triage,repetitive\n"
    "2025-04-03T09:00:00-06:00,2025-04-03T09:30:00-06:00,Call,weekly\n"
)


def test_upload_shows_the_error_table_then_skipping_stores_the_good_row(page, founder, tmp_path):
    path = tmp_path / "week.csv"
    path.write_text(BAD)
    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    log_in(page, "fran")
    page.goto("/audits/csv/")
    page.evaluate("window.marker = 'same page'")

    page.set_input_files("#id_file", str(path))
    page.click("#csv-import button[type=submit]")
    page.wait_for_selector("#csv-errors")

    assert page.locator("#csv-errors tbody tr").inner_text().split("\t") == [
        "3",
        "tags",
        "Unknown tag 'weekly'; use repetitive, outsourceable, systemizable, owner_by_habit.",
    ]
    assert not TimeEntry.objects.exists()

    page.check("#id_skip_bad_rows")
    page.click("#csv-import button[type=submit]")
    page.wait_for_selector("[data-figure=skipped]")
    assert page.locator("#csv-report [role=status]").inner_text() == (
        "msp-ops CSV, 2 rows: 1 created, 0 updated, 1 skipped."
    )
    assert page.evaluate("window.marker") == "same page"  # no full reload
    assert list(TimeEntry.objects.values_list("activity", flat=True)) == ["Triage"]
