"""Racing two requests on the real PostgreSQL: both pass the Python checks, then write at once.

``write_together`` (tests/conftest.py) holds each thread's first write of the framework's
upsert (``msp_ops.orgs.batches._write``) until both threads have passed their checks, so only
the database can refuse the loser; ``lost_races`` records each write it refused.
"""

from __future__ import annotations

import threading

from django.db import connections


def run_in_threads(*jobs) -> list:
    """Runs each job in its own thread (own DB connection); returns each result or exception."""
    results: list = [None] * len(jobs)

    def run(index, job):
        try:
            results[index] = job()
        except Exception as error:
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results
