"""The running timer (issue 4): kept server-side, stopped into an entry with source ``timer``."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError

from audits.models import Category, RunningTimer, TimeEntry
from audits.services import save_time_entries, start_timer, stop_timer

NINE = datetime(2025, 3, 4, 15, tzinfo=UTC)  # 09:00 in Chicago


def at(hour: int, minute: int = 0) -> datetime:
    return NINE.replace(hour=hour, minute=minute)


def test_start_then_stop_records_an_entry_from_the_timer(org, founder):
    tickets = Category.objects.get(organization=org, slug="tickets")
    with time_machine.travel(NINE, tick=False):
        start_timer(
            org=org,
            user=founder,
            activity="Backup failures",
            category=tickets,
            tags=["outsourceable", "repetitive"],
        )
    with time_machine.travel(at(15, 40), tick=False):
        saved = stop_timer(org=org, user=founder)
    assert saved.created
    entry = TimeEntry.objects.get()
    assert (entry.started_at, entry.ended_at) == (NINE, at(15, 40))
    assert (entry.activity, entry.category, entry.source) == ("Backup failures", tickets, "timer")
    assert entry.tags == ["repetitive", "outsourceable"]
    assert not RunningTimer.objects.exists()


def test_a_second_start_keeps_the_first_start_time(org, founder):
    with time_machine.travel(NINE, tick=False):
        first = start_timer(org=org, user=founder, activity="Escalation")
    with time_machine.travel(at(15, 20), tick=False):
        second = start_timer(org=org, user=founder, activity="Another tab")
    assert second.pk == first.pk
    assert (second.started_at, second.activity) == (NINE, "Escalation")
    assert RunningTimer.objects.count() == 1


def test_stop_without_a_running_timer_returns_none(org, founder):
    assert stop_timer(org=org, user=founder) is None
    assert TimeEntry.objects.count() == 0


def test_stop_defaults_to_other_and_a_generic_activity(org, founder):
    with time_machine.travel(NINE, tick=False):
        start_timer(org=org, user=founder)
    with time_machine.travel(at(15, 30), tick=False):
        saved = stop_timer(org=org, user=founder)
    assert (saved.entry.activity, saved.entry.category.slug, str(saved.entry.duration_hours)) == (
        "Timed work",
        "other",
        "0.50",
    )


def test_stop_takes_overrides(org, founder):
    sales = Category.objects.get(organization=org, slug="sales")
    with time_machine.travel(NINE, tick=False):
        start_timer(org=org, user=founder, activity="Call", tags=["repetitive"])
    with time_machine.travel(at(16), tick=False):
        saved = stop_timer(
            org=org, user=founder, activity="Quote for Acme", category=sales, tags=[], handling="delegated"
        )
    stored = TimeEntry.objects.get(pk=saved.entry.pk)
    assert (stored.activity, stored.category, stored.tags, stored.handling) == (
        "Quote for Acme",
        sales,
        [],
        "delegated",
    )


def test_an_overlapping_stop_is_refused_and_the_timer_keeps_running(org, founder):
    with time_machine.travel(NINE, tick=False):
        timer = start_timer(org=org, user=founder, activity="Vendor call")
    # Meanwhile the founder logged 15:30-16:00 UTC by hand.
    [logged] = save_time_entries(
        org=org,
        entries=[
            TimeEntry(
                user=founder,
                started_at=at(15, 30),
                ended_at=at(16),
                activity="QBR prep",
                category=Category.objects.get(organization=org, slug="sales"),
            )
        ],
    )
    with time_machine.travel(at(16, 15), tick=False), pytest.raises(ValidationError) as error:
        stop_timer(org=org, user=founder)
    assert error.value.message_dict == {"started_at": [f"Overlaps entry #{logged.entry.pk}: QBR prep"]}
    assert TimeEntry.objects.count() == 1
    still = RunningTimer.objects.get()
    assert (still.pk, still.started_at) == (timer.pk, NINE)


def test_timers_are_per_member(org, founder, manager):
    with time_machine.travel(NINE, tick=False):
        start_timer(org=org, user=founder)
        start_timer(org=org, user=manager)
    with time_machine.travel(at(16), tick=False):
        stop_timer(org=org, user=founder)
    assert list(RunningTimer.objects.values_list("user__username", flat=True)) == ["sam"]


@pytest.mark.parametrize(
    ("kwargs", "errors"),
    [
        ({"tags": ["repetitive", "boring"]}, {"tags": ["Unknown tag(s): boring."]}),
        ({"activity": "x" * 501}, {"activity": ["Ensure this value has at most 500 characters."]}),
    ],
)
def test_a_bad_timer_is_refused(org, founder, kwargs, errors):
    with pytest.raises(ValidationError) as error:
        start_timer(org=org, user=founder, **kwargs)
    assert error.value.message_dict == errors
    assert not RunningTimer.objects.exists()


def test_a_timer_takes_no_foreign_or_archived_category(org, founder, other_org):
    foreign = Category.objects.get(organization=other_org, slug="sales")
    with pytest.raises(ValidationError) as error:
        start_timer(org=org, user=founder, category=foreign)
    assert error.value.message_dict == {"category": ["Unknown category."]}
    archived = Category.objects.get(organization=org, slug="backlog")
    archived.archived = True
    archived.save()
    with pytest.raises(ValidationError) as error:
        start_timer(org=org, user=founder, category=archived)
    assert error.value.message_dict == {"category": ["Archived category."]}
    assert not RunningTimer.objects.exists()
