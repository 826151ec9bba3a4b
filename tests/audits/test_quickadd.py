"""The quick-add line parser: a table of lines and what they become (docs/time-audit.md)."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from audits.quickadd import START_HINT, QuickAddError, TimerLine, parse_quick_add, parse_timer_line
from msp_ops.lib.weeks import as_utc, elapsed

CHI = ZoneInfo("America/Chicago")
DAY = date(2025, 3, 4)  # a Tuesday
NOW = datetime(2025, 3, 4, 11, 20, 37, tzinfo=CHI)
CATEGORIES = {"tickets", "escalations", "vendor-calls", "sales", "other", "billing-admin", "team"}


def parse(text, *, day=DAY, now=NOW, last_end=None):
    return parse_quick_add(text, day=day, tz=CHI, now=now, categories=CATEGORIES, last_end=last_end)


def at(hour, minute=0, day=DAY):
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=CHI)


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("9:00-9:45 Password resets", at(9), at(9, 45)),
        ("9:00 - 9:45 Password resets", at(9), at(9, 45)),
        ("13:30-15:00 QBR prep", at(13, 30), at(15)),
        ("9-10 Standup", at(9), at(10)),
        ("9am-10:15am Standup", at(9), at(10, 15)),
        ("9-10am Standup", at(9), at(10)),
        ("11-1pm Lunch and learn", at(11), at(13)),  # start takes am: 11pm would be after 1pm
        ("11:30am-12:15pm Vendor call", at(11, 30), at(12, 15)),
        ("12am-1am Backup restore", at(0), at(1)),
        ("1pm-2:30PM Quoting", at(13), at(14, 30)),
        ("9.30-10.00 Approvals", at(9, 30), at(10)),
        ("9:00–9:45 En dash", at(9), at(9, 45)),
        ("9 to 10 Standup", at(9), at(10)),
        # An end before the start runs past midnight into the next day.
        ("23:00-1:00 Server migration", at(23), at(1, day=date(2025, 3, 5))),
        # Durations on today end now (11:20, seconds dropped).
        ("45m Vendor call", at(10, 35), at(11, 20)),
        ("45min Vendor call", at(10, 35), at(11, 20)),
        ("1h30m Escalation", at(9, 50), at(11, 20)),
        ("1h 30m Escalation", at(9, 50), at(11, 20)),
        ("1.5h Escalation", at(9, 50), at(11, 20)),
        ("2h Escalation", at(9, 20), at(11, 20)),
        ("0.25h Approvals", at(11, 5), at(11, 20)),
    ],
)
def test_times(text, start, end):
    parsed = parse(text)
    assert (parsed.started_at, parsed.ended_at) == (start, end)


def test_duration_on_another_day_starts_where_that_day_last_entry_ends():
    monday = date(2025, 3, 3)
    parsed = parse("45m Vendor call", day=monday, last_end=at(16, 10, day=monday))
    assert (parsed.started_at, parsed.ended_at) == (at(16, 10, day=monday), at(16, 55, day=monday))


def test_duration_on_another_day_without_entries_starts_at_nine():
    monday = date(2025, 3, 3)
    parsed = parse("1h30m Quoting", day=monday)
    assert (parsed.started_at, parsed.ended_at) == (at(9, day=monday), at(10, 30, day=monday))


def test_the_full_example_line():
    parsed = parse("9:00-9:45 Password resets for Acme @tickets #repetitive #outsourceable")
    assert parsed.activity == "Password resets"
    assert parsed.client == "Acme"
    assert parsed.category == "tickets"
    assert parsed.tags == ["repetitive", "outsourceable"]
    assert parsed.handling == "personal"
    assert (parsed.urgent, parsed.important) == (None, None)
    assert parsed.ticket_ref == ""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("45m Call", {"activity": "Call", "client": "", "category": None, "tags": []}),
        # Tokens may sit anywhere; tags come back in the fixed order.
        (
            "45m #owner_by_habit Call @sales #repetitive for Big Dental Co",
            {"activity": "Call", "client": "Big Dental Co", "category": "sales"},
        ),
        ("45m Call #owner-by-habit #repetitive", {"tags": ["repetitive", "owner_by_habit"]}),
        ("45m Call #Repetitive #repetitive", {"tags": ["repetitive"]}),
        ("45m Call @Tickets", {"category": "tickets"}),
        ("45m Review patching !delegated", {"handling": "delegated"}),
        # One quadrant flag assesses the entry: the other one is "no".
        ("45m Outage !urgent", {"urgent": True, "important": False}),
        ("45m Hiring plan !important", {"urgent": False, "important": True}),
        ("45m Outage !urgent !important", {"urgent": True, "important": True}),
        ("45m Outage !not-urgent !not-important", {"urgent": False, "important": False}),
        ("45m VPN down T#1234 for Acme", {"ticket_ref": "1234", "client": "Acme", "activity": "VPN down"}),
        # "for" needs words on both sides; the last one starts the client.
        ("45m Prep for QBR for Acme", {"activity": "Prep for QBR", "client": "Acme"}),
        ("45m Paperwork for", {"activity": "Paperwork for", "client": ""}),
        ("45m for Acme", {"activity": "for Acme", "client": ""}),
        ("45m  lots   of   spaces ", {"activity": "lots of spaces"}),
    ],
)
def test_fields(text, expected):
    parsed = parse(text)
    for name, value in expected.items():
        assert getattr(parsed, name) == value, name


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", f"Type what you did. {START_HINT}"),
        ("   ", f"Type what you did. {START_HINT}"),
        ("Password resets", START_HINT),
        ("@tickets 9:00-9:45 resets", START_HINT),
        ("9:00-9:45Password", START_HINT),
        ("25:00-26:00 Night", f"'25:00-26:00' is not a time range. {START_HINT}"),
        ("9:75-10:00 Typo", f"'9:75-10:00' is not a time range. {START_HINT}"),
        ("13pm-14pm Typo", f"'13pm-14pm' is not a time range. {START_HINT}"),
        ("9:00-9:00 Nothing", "'9:00-9:00' starts and ends at the same time."),
        ("25h Marathon", "An entry lasts at most 24 hours."),
        # Past what a timedelta holds: the same answer, not an OverflowError (a 500).
        ("99999999999999999m backup", "An entry lasts at most 24 hours."),
        ("99999999999999999h backup", "An entry lasts at most 24 hours."),
        ("1h99999999999999999m backup", "An entry lasts at most 24 hours."),
        ("0m Nothing", "A duration must be at least one minute."),
        ("45m", "Say what you did after the time, e.g. '45m Vendor call'."),
        ("45m @tickets #repetitive", "Say what you did after the time, e.g. '45m Vendor call'."),
        (
            "45m Call @meetings",
            "Unknown category @meetings. Try one of: @billing-admin, @escalations, @other, @sales, "
            "@team, @tickets ...",
        ),
        (
            "45m Call #boring",
            "Unknown tag #boring. Tags are: #repetitive, #outsourceable, #systemizable, #owner_by_habit.",
        ),
        ("45m Call !asap", "Unknown flag !asap. Flags are: !delegated, !urgent, !important."),
        ("45m " + "x" * 501, "Keep the activity under 500 characters."),
    ],
)
def test_errors(text, message):
    with pytest.raises(QuickAddError) as caught:
        parse(text)
    assert str(caught.value) == message


def test_a_range_on_a_dst_change_day_is_real_elapsed_time():
    # 2025-03-09: Chicago jumps from 02:00 CST to 03:00 CDT, so 1:30-3:30 is one real hour.
    parsed = parse("1:30-3:30 Patch night", day=date(2025, 3, 9))
    assert elapsed(parsed.started_at, parsed.ended_at) == timedelta(hours=1)


@pytest.mark.parametrize(
    ("text", "activity", "category", "tags"),
    [
        ("", "", None, []),
        ("Vendor call", "Vendor call", None, []),
        ("Vendor call @vendor-calls #repetitive", "Vendor call", "vendor-calls", ["repetitive"]),
        (
            "#owner_by_habit Quote for Acme #repetitive",
            "Quote for Acme",
            None,
            ["repetitive", "owner_by_habit"],
        ),
        ("Outage !urgent T#12", "Outage !urgent T#12", None, []),  # only @ and # are markers here
    ],
)
def test_timer_line(text, activity, category, tags):
    assert parse_timer_line(text, categories=CATEGORIES) == TimerLine(activity, category, tags)


def test_timer_line_errors():
    with pytest.raises(QuickAddError, match=r"^Unknown tag #boring\."):
        parse_timer_line("Call #boring", categories=CATEGORIES)
    with pytest.raises(QuickAddError, match=r"^Unknown category @nope\."):
        parse_timer_line("Call @nope", categories=CATEGORIES)


# --- DST in America/Chicago (2026-03-08 springs forward at 2:00, 2026-11-01 falls back at 2:00) ---

SPRING, FALL = date(2026, 3, 8), date(2026, 11, 1)


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def instants(parsed):
    return as_utc(parsed.started_at), as_utc(parsed.ended_at)


def test_a_duration_typed_after_the_spring_forward_is_real_minutes():
    # 3:10 CDT = 08:10 UTC; 45 real minutes earlier is 1:25 CST (07:25 UTC), not "2:25".
    parsed = parse("45m Vendor call", day=SPRING, now=datetime(2026, 3, 8, 3, 10, 30, tzinfo=CHI))
    assert instants(parsed) == (utc(2026, 3, 8, 7, 25), utc(2026, 3, 8, 8, 10))
    assert parsed.started_at.strftime("%H:%M %Z") == "01:25 CST"
    assert elapsed(parsed.started_at, parsed.ended_at) == timedelta(minutes=45)


def test_a_duration_typed_in_the_repeated_hour_is_real_minutes():
    # Now is the second 1:10 (CST, 07:10 UTC): 45 minutes earlier is 1:25 CDT, the first 1:25.
    parsed = parse("45m Vendor call", day=FALL, now=utc(2026, 11, 1, 7, 10))
    assert instants(parsed) == (utc(2026, 11, 1, 6, 25), utc(2026, 11, 1, 7, 10))
    assert elapsed(parsed.started_at, parsed.ended_at) == timedelta(minutes=45)


def test_a_duration_on_another_day_runs_on_from_the_last_end_in_real_time():
    # Caught up later: the day's last entry ended at 1:40 CST; 45 minutes on is 3:25 CDT.
    parsed = parse("45m Patching", day=SPRING, now=NOW, last_end=utc(2026, 3, 8, 7, 40))
    assert instants(parsed) == (utc(2026, 3, 8, 7, 40), utc(2026, 3, 8, 8, 25))
    # Without entries: 9:00 local (CDT that day).
    parsed = parse("1h Patching", day=SPRING, now=NOW)
    assert instants(parsed) == (utc(2026, 3, 8, 14), utc(2026, 3, 8, 15))


@pytest.mark.parametrize(
    ("text", "day", "start", "end", "length"),
    [
        # 1:00 CDT to 3:00 CST: the repeated hour counts twice.
        ("1:00-3:00 Patch night", FALL, utc(2026, 11, 1, 6), utc(2026, 11, 1, 9), timedelta(hours=3)),
        ("1am-3am Patch night", FALL, utc(2026, 11, 1, 6), utc(2026, 11, 1, 9), timedelta(hours=3)),
        # A time of the repeated hour is its first occurrence (CDT).
        ("1:30-2:30 Patch night", FALL, utc(2026, 11, 1, 6, 30), utc(2026, 11, 1, 8, 30), timedelta(hours=2)),
        ("0:30-1:30 Patch night", FALL, utc(2026, 11, 1, 5, 30), utc(2026, 11, 1, 6, 30), timedelta(hours=1)),
        # 1:00 CST to 4:00 CDT: the skipped hour does not count.
        ("1:00-4:00 Patch night", SPRING, utc(2026, 3, 8, 7), utc(2026, 3, 8, 9), timedelta(hours=2)),
        # Past midnight into a DST change.
        (
            "11pm-3am Migration",
            date(2026, 3, 7),
            utc(2026, 3, 8, 5),
            utc(2026, 3, 8, 8),
            timedelta(hours=3),
        ),
        (
            "11pm-1:30am Migration",
            date(2026, 10, 31),
            utc(2026, 11, 1, 4),
            utc(2026, 11, 1, 6, 30),
            timedelta(hours=2, minutes=30),
        ),
    ],
)
def test_a_range_on_a_dst_night_is_real_time(text, day, start, end, length):
    parsed = parse(text, day=day)
    assert instants(parsed) == (start, end)
    assert elapsed(parsed.started_at, parsed.ended_at) == length


GAP = (
    "does not exist on 2026-03-08 in America/Chicago: clocks jump from 2:00 to 3:00 "
    "(daylight saving time starts)."
)


@pytest.mark.parametrize(
    ("text", "day", "message"),
    [
        ("2:15-2:45 Patch night", SPRING, f"2:15 {GAP}"),
        ("2:30-4:00 Patch night", SPRING, f"2:30 {GAP}"),
        ("2:30-3:15 Patch night", SPRING, f"2:30 {GAP}"),  # once stored as ending before it started
        ("1:30-2:30 Patch night", SPRING, f"2:30 {GAP}"),
        ("2am-3am Patch night", SPRING, f"2:00 {GAP}"),
        ("11pm-2:30am Migration", date(2026, 3, 7), f"2:30 {GAP}"),
    ],
)
def test_a_time_in_the_spring_forward_gap_is_refused(text, day, message):
    with pytest.raises(QuickAddError) as caught:
        parse(text, day=day)
    assert str(caught.value) == message
