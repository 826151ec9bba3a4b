"""seed_demo's KPI data (filled in by the KPI issue's demo work)."""

from __future__ import annotations


def seed_kpis(org, *, created: bool) -> str | None:
    return None
