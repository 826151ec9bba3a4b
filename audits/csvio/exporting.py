"""Export of time entries in our CSV layout (docs/csv.md)."""

from __future__ import annotations

import csv
from datetime import date
from typing import Any, TextIO

from django.contrib.auth.models import AbstractBaseUser

from audits.csvio.reading import OUR_COLUMNS
from audits.models import Category, TimeEntry, entry_values
from msp_ops.lib.weeks import day_bounds, local_midnight
from msp_ops.orgs.models import Organization

# --- export ---------------------------------------------------------------------------


def _cell(value: Any) -> str:
    """A field's value as our layout writes it: tags joined by ';', booleans true/false, null empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ";".join(value)
    return str(value)


def export_queryset(
    *,
    org: Organization,
    user: AbstractBaseUser | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    category: Category | None = None,
):
    """The entries an export writes: started within the local dates from..to (inclusive)."""
    entries = TimeEntry.objects.for_org(org).select_related("user", "category").order_by("started_at", "pk")
    if user is not None:
        entries = entries.filter(user=user)
    if date_from is not None:
        entries = entries.filter(started_at__gte=local_midnight(date_from, org.tz))
    if date_to is not None:
        entries = entries.filter(started_at__lt=day_bounds(date_to, org.tz)[1])
    if category is not None:
        entries = entries.filter(category=category)
    return entries


def write_entries_csv(*, org: Organization, out: TextIO, **filters) -> int:
    """Writes our layout (header and one row per entry) to ``out``; returns the rows written."""
    tz = org.tz
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(OUR_COLUMNS)
    count = 0
    for entry in export_queryset(org=org, **filters).iterator(chunk_size=2000):
        values = entry_values(entry, tz)
        writer.writerow([_cell(values[column]) for column in OUR_COLUMNS])
        count += 1
    return count
