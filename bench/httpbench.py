"""The HTTP client side of the API benchmark, the same for msp-ops and for its peer (issue 12).

``bench/api_bench.py`` (in the app's virtual environment) and ``bench/peer_timetagger.py``
(in the peer's throwaway one) both drive their server with these functions, so each side
pays the same client cost: httpx, one keep-alive ``httpx.Client`` per client thread, the
answer's JSON decoded inside the timed span. Needs only the standard library and httpx.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import httpx

TIMEOUT = 120


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile, ``q`` from 0 to 1."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q * len(ordered) + 0.5)))
    return ordered[rank - 1]


def client(base_url: str, headers: dict[str, str]) -> httpx.Client:
    return httpx.Client(base_url=base_url, headers=headers, timeout=TIMEOUT)


def send_all(
    base_url: str,
    headers: dict[str, str],
    method: str,
    path: str,
    bodies: Sequence[bytes],
    threads: int = 1,
    check: Callable[[httpx.Response], None] | None = None,
) -> tuple[float, list[float]]:
    """Sends every body (in order, shared by ``threads`` client threads); returns the wall
    time and each request's latency (the answer read and decoded). ``check`` raises on a
    refused answer."""
    queue = list(reversed(bodies))
    lock = threading.Lock()
    latencies: list[float] = []
    failures: list[str] = []

    def work() -> None:
        with client(base_url, headers) as http:
            while True:
                with lock:
                    if not queue or failures:
                        return
                    body = queue.pop()
                started = time.perf_counter()
                response = http.request(method, path, content=body)
                response.json()
                elapsed = time.perf_counter() - started
                try:
                    if check:
                        check(response)
                except Exception as error:  # reported once all threads stop
                    failures.append(str(error))
                with lock:
                    latencies.append(elapsed)

    started = time.perf_counter()
    pool = [threading.Thread(target=work) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    wall = time.perf_counter() - started
    if failures:
        raise SystemExit(f"{len(failures)} request(s) refused, first: {failures[0]}")
    return wall, latencies


def timed_get(http: httpx.Client, url: str, params: dict[str, Any] | None = None) -> tuple[float, Any]:
    """One GET: its latency with the JSON decoded, and the decoded answer."""
    started = time.perf_counter()
    response = http.get(url, params=params)
    body = response.json()
    elapsed = time.perf_counter() - started
    response.raise_for_status()
    return elapsed, body


def memory_kib(pid: int) -> dict[str, int]:
    """A process's resident memory now (VmRSS) and at its peak (VmHWM), in KiB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0])
    return {"rss": values["VmRSS"], "peak": values["VmHWM"]}


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()] if path.exists() else []
