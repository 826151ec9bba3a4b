"""The peer of the API benchmark: TimeTagger (PyPI ``timetagger``, a self-hosted Python time
tracker: ASGI on uvicorn, one SQLite database per user) served on loopback and driven with the
request shapes ``bench/api_bench.py`` sends msp-ops, through the same client (``httpbench``).

Runs inside the throwaway virtual environment ``bench/api_bench.py`` makes for it under
``$TMPDIR`` (never the app's), and prints its figures as one JSON object on the last line::

    $TMPDIR/msp-ops-peer/venv/bin/python bench/peer_timetagger.py [--singles 2000] [--quick]

- single-record writes: ``--singles`` PUTs of one record, one after the other;
- batches: ``--batch-records`` records in PUTs of ``--batch`` (and of 1000, its largest), with
  ``--threads`` client threads, as msp-ops's batches are sent;
- reads: a fresh server holding 15,000 records over 70 days, then ``--reads`` GETs of a random
  7-day range (about 1,500 records each);
- memory: the server process's resident memory (VmRSS after, VmHWM at its peak) from /proc.

Authentication as a script does it: the stock server hands a web token to the local user
(``bootstrap_authentication`` with method ``localhost``, loopback only), exchanged once for
an API token sent in the ``authtoken`` header.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from httpbench import memory_kib, percentile, send_all, timed_get

API = "/timetagger/api/v2"
DAY = 86_400
WORDS = [
    *("printer", "onboarding", "laptop", "vpn", "backup", "restore", "ticket", "triage", "vendor"),
    *("call", "invoice", "review", "patching", "firewall", "email", "migration", "password"),
    *("reset", "license", "quote", "client", "meeting", "runbook"),
]
TAGS = ["#repetitive", "#outsourceable", "#systemizable", "#owner_by_habit"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Peer:
    """One TimeTagger server process with a fresh data directory."""

    def __init__(self, root: Path, name: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(root / f"{name}.log", "wb")  # noqa: SIM115 (kept open for the server)
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "timetagger",
                f"--bind=127.0.0.1:{self.port}",
                f"--datadir={root / name}",
                "--log_level=warning",
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            cwd=root,
        )
        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None:
                raise SystemExit(f"timetagger exited early (see {root / name}.log)")
            try:
                if httpx.get(f"{self.url}/timetagger/status", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise SystemExit("timetagger did not come up in 60 s")
            time.sleep(0.1)
        body = base64.b64encode(json.dumps({"method": "localhost"}).encode())
        web = httpx.post(f"{self.url}{API}/bootstrap_authentication", content=body).json()["token"]
        key = httpx.get(f"{self.url}{API}/apitoken", headers={"authtoken": web}).json()["token"]
        self.headers = {"authtoken": key, "Content-Type": "application/json"}

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(15)
        self.log.close()


def records(count: int, start: int, span: int, prefix: str, rng: random.Random) -> list[dict]:
    """``count`` records end to end over ``span`` seconds from ``start`` (never overlapping)."""
    step = span / count
    now = int(time.time())
    items = []
    for n in range(count):
        text = " ".join(rng.sample(WORDS, 3) + [tag for tag in TAGS if rng.random() < 0.3])
        items.append(
            {
                "key": f"{prefix}{n:07d}",
                "t1": int(start + n * step),
                "t2": int(start + (n + 1) * step) - 1,
                "ds": text,
                "mt": now,
                "st": 0.0,
            }
        )
    return items


def accepted(response: httpx.Response) -> None:
    body = response.json()
    if response.status_code != 200 or body.get("failed"):
        raise RuntimeError(f"PUT {response.status_code}: {response.text[:200]}")


def bodies(items: list[dict], size: int) -> list[bytes]:
    return [json.dumps(items[i : i + size]).encode() for i in range(0, len(items), size)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--singles", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=500, help="records per PUT (msp-ops's batch size)")
    parser.add_argument("--batch-records", type=int, default=20_000)
    parser.add_argument("--threads", type=int, default=2, help="client threads sending batches")
    parser.add_argument("--stored", type=int, default=15_000, help="records held for the reads")
    parser.add_argument("--reads", type=int, default=200)
    parser.add_argument("--quick", action="store_true", help="a smoke run: few requests")
    args = parser.parse_args()
    if args.quick:
        args.singles, args.batch_records, args.reads = 200, 4000, 30

    import timetagger

    rng = random.Random(42)
    result: dict = {"timetagger": timetagger.__version__, "python": sys.version.split()[0]}
    with tempfile.TemporaryDirectory(prefix="msp-ops-peer-") as tmp:
        root = Path(tmp)
        # Writes: singles, then batches of msp-ops's size and of the peer's largest (1000).
        peer = Peer(root, "ingest")
        try:
            result["memory_idle_kib"] = memory_kib(peer.proc.pid)
            start = 1_700_000_000
            singles = records(args.singles, start, args.singles * 600, "s-", rng)
            start += args.singles * 600
            _, latencies = send_all(
                peer.url, peer.headers, "PUT", f"{API}/records", bodies(singles, 1), check=accepted
            )
            result["single_p50_ms"] = statistics.median(latencies) * 1000
            result["single_p95_ms"] = percentile(latencies, 0.95) * 1000
            result["singles"] = len(latencies)
            result["batches"] = {}
            for size in sorted({args.batch, 1000}):
                items = records(args.batch_records, start, args.batch_records * 600, f"b{size}-", rng)
                start += args.batch_records * 600
                wall, latencies = send_all(
                    peer.url,
                    peer.headers,
                    "PUT",
                    f"{API}/records",
                    bodies(items, size),
                    threads=args.threads,
                    check=accepted,
                )
                result["batches"][str(size)] = {
                    "records": len(items),
                    "records_per_s": len(items) / wall,
                    "request_p50_ms": statistics.median(latencies) * 1000,
                }
            result["memory_writes_kib"] = memory_kib(peer.proc.pid)
        finally:
            peer.stop()
        # Reads: a fresh server holding --stored records over 70 days; random 7-day ranges.
        peer = Peer(root, "read")
        try:
            start = 1_700_000_000
            items = records(args.stored, start, 70 * DAY, "r-", rng)
            send_all(peer.url, peer.headers, "PUT", f"{API}/records", bodies(items, 1000), check=accepted)
            latencies, sizes = [], []
            with httpx.Client(base_url=peer.url, headers=peer.headers, timeout=120) as http:
                for n in range(args.reads + 5):
                    first = start + rng.randrange(0, 70 - 7) * DAY
                    week = {"timerange": f"{first}-{first + 7 * DAY}"}
                    elapsed, body = timed_get(http, f"{API}/records", week)
                    if n >= 5:  # the first five warm up
                        latencies.append(elapsed)
                        sizes.append(len(body["records"]))
            result["read_p50_ms"] = statistics.median(latencies) * 1000
            result["read_p95_ms"] = percentile(latencies, 0.95) * 1000
            result["read_records"] = statistics.median(sizes)
            result["reads"] = len(latencies)
            result["memory_reads_kib"] = memory_kib(peer.proc.pid)
        finally:
            peer.stop()
    print(json.dumps(result))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
