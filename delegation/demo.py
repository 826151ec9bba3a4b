"""seed_demo's delegation data (filled in by the delegation issue's demo work)."""

from __future__ import annotations


def seed_delegation(org) -> str | None:
    return None
