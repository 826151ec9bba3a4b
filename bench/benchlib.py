"""What the benchmarks of this folder share: percentiles, the machine they ran on, hours as the
app shows them, and writing a run's block into bench/README.md."""

from __future__ import annotations

import os
import platform
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

README = Path(__file__).resolve().parent / "README.md"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def hours(seconds) -> Decimal:
    """Seconds (an exact numeric from EXTRACT(EPOCH ...), or an interval) as hours with 2 places,
    half up."""
    if seconds is None:
        return Decimal("0.00")
    if isinstance(seconds, timedelta):
        seconds = seconds // timedelta(microseconds=1) / Decimal(1_000_000)
    return (Decimal(str(seconds)) / 3600).quantize(Decimal("0.01"), ROUND_HALF_UP)


def machine() -> str:
    """Cores, CPU model, Python and the PostgreSQL server of Django's default connection."""
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg = cursor.fetchone()[0]
    return f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, PostgreSQL {pg}"


def write_readme(section: str, *, start: str, end: str, heading: str) -> None:
    """Replaces the block between ``start`` and ``end`` in README.md with ``section`` (or adds
    it under ``heading`` at the end)."""
    block = f"{start}\n{section}\n{end}"
    text = README.read_text() if README.exists() else "# Benchmarks\n"
    if start in text and end in text:
        before, rest = text.split(start, 1)
        README.write_text(before + block + rest.split(end, 1)[1])
    else:
        README.write_text(text.rstrip("\n") + f"\n\n{heading}\n\n{block}\n")
