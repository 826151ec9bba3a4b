"""Two requests at once against the real PostgreSQL: replays stay idempotent and overlaps
are refused by the database even when both requests pass the checks (SPEC 4)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from audits.models import TimeEntry
from delegation.models import Interruption
from msp_ops.orgs import batches
from tests.api.conftest import ENTRIES, at, item, post
from tests.conftest import api_client_for
from tests.races import run_in_threads

pytestmark = pytest.mark.django_db(transaction=True)


def _race(clients, bodies) -> list:
    barrier = threading.Barrier(len(clients))
    results: list = [None] * len(clients)

    def run(index: int) -> None:
        try:
            barrier.wait()
            results[index] = post(clients[index], ENTRIES, bodies[index])
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def _batch(prefix: str) -> list[dict]:
    return [
        item(started_at=at(h), ended_at=at(h, 50), external_id=f"{prefix}-{h}", activity=f"Call {h}")
        for h in range(8, 18)
    ]


def test_two_concurrent_replays_store_each_entry_once(founder_membership):
    clients = [api_client_for(founder_membership) for _ in range(2)]

    for replay in range(3):
        responses = _race(clients, [_batch("psa"), _batch("psa")])
        # Exactly one request created the entries (201); the others replayed them (200).
        expected = [200, 201] if replay == 0 else [200, 200]
        assert sorted(r.status_code for r in responses) == expected, [r.content[:400] for r in responses]
        assert all(len(r.json()) == 10 for r in responses)

    assert TimeEntry.objects.count() == 10
    assert sorted(TimeEntry.objects.values_list("external_id", flat=True)) == sorted(
        f"psa-{h}" for h in range(8, 18)
    )


def test_two_concurrent_overlapping_batches_store_one(founder_membership):
    clients = [api_client_for(founder_membership) for _ in range(2)]

    responses = _race(clients, [_batch("first"), _batch("second")])

    assert sorted(r.status_code for r in responses) == [201, 400]
    refused = next(r for r in responses if r.status_code == 400).json()
    assert len(refused) == 10
    assert all(errors["started_at"][0].startswith("Overlaps entry #") for errors in refused)
    assert TimeEntry.objects.count() == 10


@pytest.mark.parametrize("shape", ["object", "array"])
def test_the_same_new_request_sent_four_times_at_once_creates_once(founder_membership, shape):
    clients = [api_client_for(founder_membership) for _ in range(4)]
    one = item(started_at=at(9), ended_at=at(9, 30), external_id="psa-4x", activity="Password reset")
    body = one if shape == "object" else [one]

    responses = _race(clients, [body] * 4)

    assert sorted(r.status_code for r in responses) == [200, 200, 200, 201], [r.content for r in responses]
    ids = {(r.json() if shape == "object" else r.json()[0])["id"] for r in responses}
    assert len(ids) == 1
    assert TimeEntry.objects.filter(external_id="psa-4x").count() == 1


# --- a member allowed only its own rows, racing another member's replay ----------------------

NEW_ENTRY = {"started_at": at(9), "ended_at": at(10), "external_id": "psa-X"}
NEW_INTERRUPTION = {"occurred_at": at(9), "channel": "call", "external_id": "psa-X"}


@pytest.fixture
def founder_writes_first(monkeypatch) -> threading.local:
    """Both requests pass their checks (the external_id is new to each), then the founder's
    write commits, then the technician's goes on: what a tight race can do. The technician's
    request runs in a thread that sets ``technician`` on the returned thread-local."""
    checked = threading.Barrier(2, timeout=30)
    founder_wrote = threading.Event()
    thread = threading.local()
    real_write = batches._write

    def write(*args, **kwargs):
        if getattr(thread, "held", False):  # a write tried again after a lost race
            return real_write(*args, **kwargs)
        thread.held = True
        checked.wait()
        if getattr(thread, "technician", False):
            founder_wrote.wait(30)
            return real_write(*args, **kwargs)
        try:
            return real_write(*args, **kwargs)
        finally:
            founder_wrote.set()

    monkeypatch.setattr(batches, "_write", write)
    return thread


@pytest.mark.parametrize(
    ("url", "founders", "technicians", "noun", "model"),
    [
        (ENTRIES, {**NEW_ENTRY, "activity": "Confidential call"}, {**NEW_ENTRY, "activity": "Mine"}, "entry",
         TimeEntry),
        ("/api/v1/interruptions/", {**NEW_INTERRUPTION, "notes": "Founder's"},
         {**NEW_INTERRUPTION, "channel": "email", "notes": "Mine"}, "interruption", Interruption),
    ],
    ids=["time entry", "interruption"],
)  # fmt: skip
def test_a_technicians_replay_never_overwrites_a_row_another_member_stored_meanwhile(
    founder_membership, tech_membership, founder_writes_first, url, founders, technicians, noun, model
):
    founder_api, tech_api = api_client_for(founder_membership), api_client_for(tech_membership)

    def technician_posts():
        founder_writes_first.technician = True
        return post(tech_api, url, technicians)

    founder_response, tech_response = run_in_threads(
        lambda: post(founder_api, url, founders), technician_posts
    )
    assert founder_response.status_code == 201
    # Checked again against what the founder committed: refused as if it had come after.
    assert tech_response.status_code == 400, tech_response.content
    assert tech_response.json() == {
        "external_id": [
            f"external_id 'psa-X' names another member's {noun}; your role may change only your own."
        ]
    }
    [stored] = model.objects.all()
    assert stored.pk == founder_response.json()["id"]
    owner = stored.user if model is TimeEntry else stored.logged_by
    assert owner == founder_membership.user
    assert (stored.activity if model is TimeEntry else stored.notes) in ("Confidential call", "Founder's")
    if model is Interruption:
        assert stored.channel == "call"
