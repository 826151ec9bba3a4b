"""A long-lived process's startup objects kept out of the garbage collector's passes.

A web or Celery worker holds ~100,000 to 150,000 objects of code and configuration as long as
it lives. Each full pass of the collector walks all of them (50 to 100 ms), and a busy worker
runs one every few thousand allocations: every twenty-odd API list pages, or every few
organizations of a rollup (about 2.5 ms of an organization's 52-week rollup). Frozen, they are
never walked again; young objects are collected after 10,000 allocations, not 700, so a page
of 1000 rows or a year of weekly figures (tens of thousands of short-lived tuples and dicts,
freed by reference counting) no longer runs dozens of passes (issue 12, issue 11).
"""

from __future__ import annotations

import gc


def freeze_startup_heap() -> None:
    """Call once the process has loaded what it will use (after Django's setup and its URLconf
    or its tasks): what exists now is frozen, and young passes run less often."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)
