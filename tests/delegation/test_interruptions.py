"""Owner interruptions: the idempotent upsert by external_id, who may replace whose, the runbook
link, and the out-of-window and drill flags (local time, DST)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q

from delegation import selectors
from delegation.models import BlockKind, Channel, Drill, FollowUp, Interruption, Runbook, TimeBlock
from delegation.selectors import flags_at, with_flags
from delegation.services import record_interruption, save_interruptions, set_follow_up
from msp_ops.lib import weeks
from msp_ops.orgs.batches import BatchValidationError
from tests.factories import MembershipFactory, OrganizationFactory

CHI = ZoneInfo("America/Chicago")
_MICRO = timedelta(microseconds=1)
NOT_MINE = "external_id 'psa-4411' names another member's interruption; your role may change only your own."


def at(day: date, hour: int, minute: int = 0, fold: int = 0) -> datetime:
    return weeks.local_moment(day, time(hour, minute), CHI, fold=fold)


def ping(user, external_id: str | None = "psa-4411", **fields) -> Interruption:
    values = {
        "occurred_at": at(date(2026, 3, 3), 10, 15),
        "channel": Channel.CALL,
        "ticket_ref": "T-4411",
        "client": "Lakeside Dental",
        "category": "VPN",
        "requested_by": "Dana (L1)",
        **fields,
    }
    return Interruption(external_id=external_id, logged_by=user, **values)


def row(interruption: Interruption) -> dict:
    return Interruption.objects.filter(pk=interruption.pk).values().get()


def make_runbook(org, category: str = "VPN") -> Runbook:
    return Runbook.objects.create(organization=org, ticket_category=category, updated_at=datetime.now(UTC))


# --- the upsert -----------------------------------------------------------------------------


def test_a_replay_updates_the_stored_interruption(org, founder):
    [first] = save_interruptions(org=org, interruptions=[ping(founder)])
    [again] = save_interruptions(org=org, interruptions=[ping(founder, notes="Called back at 10:40")])

    assert (first.created, again.created) == (True, False)
    assert again.obj.pk == first.obj.pk
    assert list(Interruption.objects.values_list("notes", flat=True)) == ["Called back at 10:40"]


def test_a_replay_keeps_who_logged_it(org, founder, manager):
    [first] = save_interruptions(org=org, interruptions=[ping(founder)])

    [again] = save_interruptions(org=org, interruptions=[ping(manager, owner_level=True)])

    stored = Interruption.objects.get()
    assert (stored.logged_by, stored.owner_level) == (founder, True)
    assert again.obj.logged_by_id == founder.pk  # the object answered says so too
    assert again.obj.pk == first.obj.pk


def test_a_technician_cannot_replace_another_members_interruption(org, founder, technician):
    [stored] = save_interruptions(org=org, interruptions=[ping(founder)])
    as_before = row(stored.obj)

    with pytest.raises(BatchValidationError) as refused:
        save_interruptions(org=org, interruptions=[ping(technician, notes="Mine now")], owner=technician)

    assert refused.value.item_errors == [{"external_id": [NOT_MINE]}]
    assert row(stored.obj) == as_before


def test_a_technician_cannot_edit_another_members_interruption_by_id(org, founder, technician):
    [stored] = save_interruptions(org=org, interruptions=[ping(founder)])
    as_before = row(stored.obj)
    copy = Interruption.objects.get(pk=stored.obj.pk)
    copy.notes = "Edited by the tech"

    with pytest.raises(BatchValidationError) as refused:
        save_interruptions(org=org, interruptions=[copy], owner=technician)

    assert refused.value.item_errors == [
        {
            "__all__": [
                f"Interruption #{copy.pk} belongs to another member; your role may change only your own."
            ]
        }
    ]
    assert row(stored.obj) == as_before


def test_a_technician_replays_its_own(org, technician):
    save_interruptions(org=org, interruptions=[ping(technician)], owner=technician)

    [again] = save_interruptions(
        org=org, interruptions=[ping(technician, channel=Channel.CHAT)], owner=technician
    )

    assert again.created is False
    assert Interruption.objects.get().channel == Channel.CHAT


def test_the_logger_must_be_a_member(org, stranger):
    with pytest.raises(BatchValidationError) as refused:
        save_interruptions(org=org, interruptions=[ping(stranger)])

    assert refused.value.item_errors == [{"logged_by": ["Not a member of this organization."]}]
    assert not Interruption.objects.exists()


def test_a_batch_with_one_bad_item_stores_nothing(org, founder, technician):
    [stored] = save_interruptions(org=org, interruptions=[ping(founder)])
    as_before = row(stored.obj)

    with pytest.raises(BatchValidationError) as refused:
        save_interruptions(
            org=org,
            interruptions=[
                ping(founder, "psa-4412"),
                ping(founder, notes="Replayed in a refused batch"),
                ping(founder, "psa-4413", channel="pager"),
            ],
        )

    assert refused.value.item_errors == [{}, {}, {"channel": ["Value 'pager' is not a valid choice."]}]
    assert list(Interruption.objects.values_list("pk", flat=True)) == [stored.obj.pk]
    assert row(stored.obj) == as_before


def test_an_external_id_twice_in_a_batch(org, founder):
    with pytest.raises(BatchValidationError) as refused:
        save_interruptions(org=org, interruptions=[ping(founder), ping(founder)])

    assert refused.value.item_errors == [
        {},
        {"external_id": ["external_id 'psa-4411' appears twice in this batch (item 1)."]},
    ]


def test_a_time_without_an_offset_is_refused(org, founder):
    with pytest.raises(BatchValidationError) as refused:
        save_interruptions(org=org, interruptions=[ping(founder, occurred_at=datetime(2026, 3, 3, 10, 15))])

    assert refused.value.item_errors == [
        {"occurred_at": ["Give the time with a UTC offset, e.g. 2025-03-03T09:00:00-06:00."]}
    ]


def test_the_ticket_category_is_trimmed(org, founder):
    saved = record_interruption(org=org, interruption=ping(founder, None, category="  Backup missing "))

    assert Interruption.objects.get(pk=saved.pk).category == "Backup missing"


# --- the runbook link -----------------------------------------------------------------------


def test_a_runbook_of_another_organization_is_refused(org, other_org, founder):
    theirs = make_runbook(other_org)

    with pytest.raises(BatchValidationError) as refused:
        save_interruptions(
            org=org, interruptions=[ping(founder, follow_up=FollowUp.RUNBOOK_UPDATED, runbook_id=theirs.pk)]
        )

    assert refused.value.item_errors == [{"runbook": ["Unknown runbook."]}]
    assert not Interruption.objects.exists()


@pytest.mark.parametrize("follow_up", [FollowUp.NONE, FollowUp.RULE_TIGHTENED])
def test_a_runbook_only_with_the_follow_up_runbook_updated(org, founder, follow_up):
    [stored] = save_interruptions(org=org, interruptions=[ping(founder)])
    as_before = row(stored.obj)
    copy = Interruption.objects.get(pk=stored.obj.pk)
    copy.follow_up, copy.runbook = follow_up, make_runbook(org)

    with pytest.raises(ValidationError) as refused:
        record_interruption(org=org, interruption=copy)

    assert refused.value.message_dict == {
        "runbook": ["Link a runbook only with the follow-up runbook_updated."]
    }
    assert row(stored.obj) == as_before


def test_the_database_holds_the_runbook_rule_too(org, founder):
    with pytest.raises(IntegrityError), transaction.atomic():
        Interruption.objects.create(
            organization=org,
            occurred_at=at(date(2026, 3, 3), 10),
            channel=Channel.CALL,
            logged_by=founder,
            runbook=make_runbook(org),
            follow_up=FollowUp.NONE,
        )
    assert not Interruption.objects.exists()


def test_set_follow_up_links_and_unlinks_the_runbook(org, founder):
    interruption = record_interruption(org=org, interruption=ping(founder))
    runbook = make_runbook(org)

    set_follow_up(interruption=interruption, follow_up=FollowUp.RUNBOOK_UPDATED, runbook=runbook)
    stored = Interruption.objects.get(pk=interruption.pk)
    assert (stored.follow_up, stored.runbook) == (FollowUp.RUNBOOK_UPDATED, runbook)

    set_follow_up(interruption=stored, follow_up=FollowUp.RULE_TIGHTENED, runbook=runbook)
    stored = Interruption.objects.get(pk=interruption.pk)
    assert (stored.follow_up, stored.runbook) == (FollowUp.RULE_TIGHTENED, None)


def test_set_follow_up_marks_owner_level_and_keeps_it(org, founder):
    interruption = record_interruption(org=org, interruption=ping(founder))

    set_follow_up(interruption=interruption, owner_level=True)
    set_follow_up(
        interruption=Interruption.objects.get(pk=interruption.pk), follow_up=FollowUp.RULE_TIGHTENED
    )

    stored = Interruption.objects.get(pk=interruption.pk)
    assert (stored.owner_level, stored.follow_up, stored.needs_follow_up) == (
        True,
        FollowUp.RULE_TIGHTENED,
        False,
    )
    set_follow_up(interruption=stored, owner_level=None, keep_owner_level=False)
    assert Interruption.objects.get(pk=interruption.pk).owner_level is None


def is_out(org, moment) -> bool:
    return flags_at(org, moment).out_of_window


def drill_at(org, moment):
    return flags_at(org, moment).drill


# --- out of window --------------------------------------------------------------------------


def block(org, user, weekday: int, start: time, end: time, kind=BlockKind.OWNER_ESCALATIONS) -> TimeBlock:
    return TimeBlock.objects.create(
        organization=org, user=user, kind=kind, weekday=weekday, start_time=start, end_time=end
    )


MONDAY, TUESDAY, SUNDAY = 1, 2, 7


def test_without_an_owner_escalations_block_nothing_is_flagged(org, founder):
    block(org, founder, MONDAY, time(9), time(12), kind=BlockKind.SALES_RETENTION)

    assert is_out(org, at(date(2026, 3, 2), 3)) is False
    assert is_out(org, at(date(2026, 3, 2), 10)) is False


def test_blocks_of_members_who_are_not_founders_do_not_count(org, manager, technician, other_org, stranger):
    block(org, manager, MONDAY, time(13), time(14))
    block(org, technician, MONDAY, time(13), time(14))
    block(other_org, stranger, MONDAY, time(13), time(14))  # a founder, of another organization

    assert is_out(org, at(date(2026, 3, 2), 3)) is False


def test_the_founders_window_in_local_time(org, founder):
    block(org, founder, MONDAY, time(13), time(14))
    block(org, founder, MONDAY, time(9), time(12), kind=BlockKind.SALES_RETENTION)
    monday = date(2026, 3, 2)

    assert is_out(org, at(monday, 13)) is False  # the start is inside
    assert is_out(org, at(monday, 13, 59) + timedelta(seconds=59)) is False
    assert is_out(org, at(monday, 14)) is True  # the end is not
    assert is_out(org, at(monday, 12, 59)) is True
    assert is_out(org, at(monday, 10)) is True  # a sales block is no escalation window
    assert is_out(org, at(date(2026, 3, 3), 13, 30)) is True  # Tuesday


def test_every_founders_window_counts(org, founder):
    cofounder = MembershipFactory(organization=org, user__username="cora", role="founder").user
    block(org, founder, MONDAY, time(13), time(14))
    block(org, cofounder, TUESDAY, time(8), time(9))

    assert is_out(org, at(date(2026, 3, 3), 8, 30)) is False
    assert is_out(org, at(date(2026, 3, 2), 8, 30)) is True


def test_the_window_follows_the_local_clock_across_dst(org, founder):
    """13:00-14:00 Chicago is 19:00-20:00 UTC in CST and 18:00-19:00 UTC in CDT (from 2026-03-08)."""
    block(org, founder, MONDAY, time(13), time(14))

    assert is_out(org, datetime(2026, 3, 2, 19, 30, tzinfo=UTC)) is False  # 13:30 CST
    assert is_out(org, datetime(2026, 3, 9, 18, 30, tzinfo=UTC)) is False  # 13:30 CDT
    assert is_out(org, datetime(2026, 3, 9, 19, 30, tzinfo=UTC)) is True  # 14:30 CDT
    assert is_out(org, datetime(2026, 3, 2, 18, 30, tzinfo=UTC)) is True  # 12:30 CST


def test_both_readings_of_the_repeated_hour_are_inside_a_window_covering_it(org, founder):
    block(org, founder, SUNDAY, time(1), time(2))
    fall_back = date(2026, 11, 1)

    assert is_out(org, at(fall_back, 1, 30, fold=0)) is False  # 06:30 UTC, CDT
    assert is_out(org, at(fall_back, 1, 30, fold=1)) is False  # 07:30 UTC, CST
    assert is_out(org, at(fall_back, 2, 30)) is True


def test_the_weekday_is_the_local_one(org, founder):
    """Sunday 20:00 CST is already Monday 02:00 in UTC."""
    block(org, founder, SUNDAY, time(19), time(21))

    assert is_out(org, datetime(2026, 3, 2, 2, 0, tzinfo=UTC)) is False


def by_the_orm_rule(scope, org, flag: str):
    """``scope`` with the rule's annotations, ``flag`` read by the ORM's rule (as on any database
    but PostgreSQL) instead of its PostgreSQL reading."""
    annotations = selectors._flag_annotations(org, F("occurred_at"))
    return scope.annotate(**{**annotations, flag: annotations[flag].rule})


def test_postgresql_reads_the_window_as_the_orm_rule_does_on_a_grid_of_moments(org, founder, stranger):
    """``_OutOfWindow`` on PostgreSQL (one multirange of seconds since Monday) against the ORM's
    rule (``NOT EXISTS`` of a block holding the local weekday and time), in zones with DST both
    ways, a half-hour offset and none: moments every 17 minutes through both DST weeks of the
    year, and each block's edges to the microsecond."""
    cofounder = MembershipFactory(organization=org, user__username="cora", role="founder").user
    manager = MembershipFactory(organization=org, user__username="sam", role="service_manager").user
    zones = ["America/Chicago", "Asia/Kolkata", "Pacific/Auckland", "UTC"]
    orgs = [org] + [
        OrganizationFactory(slug=f"zone-{n}", timezone=zone) for n, zone in enumerate(zones[1:], start=1)
    ]
    spans = [(date(2026, 3, 1), 10), (date(2026, 4, 3), 5), (date(2026, 9, 25), 6), (date(2026, 10, 30), 5)]
    for n, where in enumerate(orgs):
        owner = founder if where == org else MembershipFactory(organization=where, role="founder").user
        local_blocks = [
            (owner, MONDAY, time(9), time(12)),
            (owner, MONDAY, time(12), time(13)),  # adjacent to the first
            (owner, SUNDAY, time(1), time(3)),  # over both DST changes of Chicago and Auckland
            (owner, TUESDAY, time(13, 30), time(23, 59, 59, 999999)),
        ]
        if where == org:
            local_blocks.append((cofounder, 3, time(8), time(8, 30)))
            block(org, manager, 4, time(10), time(11))  # not a founder's: no window
            block(org, founder, 5, time(10), time(11), kind=BlockKind.SALES_RETENTION)
        for owner_, weekday, start, end in local_blocks:
            block(where, owner_, weekday, start, end)
        moments = [
            datetime.combine(first, time(), tzinfo=UTC) + timedelta(minutes=17 * k + n)
            for first, days in spans
            for k in range(days * 24 * 60 // 17)
        ]
        for first, days in spans:
            for offset in range(days):
                day = first + timedelta(days=offset)
                for _, weekday, start, end in local_blocks:
                    if day.isoweekday() == weekday:
                        for edge in (start, end):
                            moment = weeks.local_moment(day, edge, where.tz)
                            moments += [moment, moment - timedelta(microseconds=1)]
        Interruption.objects.bulk_create(
            [ping(owner, None, organization=where, occurred_at=moment) for moment in moments]
        )
    block(stranger.memberships.get().organization, stranger, 5, time(0), time(23))  # another org's founder

    def flags(queryset):
        return dict(queryset.values_list("pk", "flag_out_of_window"))

    for where in orgs:
        scope = Interruption.objects.for_org(where)
        fast, rule = (
            flags(with_flags(scope, where)),
            flags(by_the_orm_rule(scope, where, "flag_out_of_window")),
        )
        assert fast == rule, where.timezone
        assert set(rule.values()) == {True, False}, where.timezone
    TimeBlock.objects.filter(organization=org, user__in=[founder, cofounder]).delete()
    scope = Interruption.objects.for_org(org)
    assert set(flags(with_flags(scope, org)).values()) == {False}  # the manager's block is no window


# --- the drill flag -------------------------------------------------------------------------


def test_the_drill_whose_window_holds_the_moment(org, other_org):
    start, end = at(date(2026, 3, 6), 9), at(date(2026, 3, 9), 9)
    drill = Drill.objects.create(organization=org, starts_at=start, ends_at=end)
    Drill.objects.create(organization=other_org, starts_at=start - timedelta(days=30), ends_at=end)

    assert drill_at(org, start) == drill.pk
    assert drill_at(org, end - timedelta(microseconds=1)) == drill.pk
    assert drill_at(org, end) is None
    assert drill_at(org, start - timedelta(microseconds=1)) is None


def test_postgresql_finds_the_drill_as_the_orm_rule_does(org, founder, other_org, stranger):
    """``_DrillAt`` on PostgreSQL (the drills read once into arrays, ``width_bucket``) against the
    ORM's subquery a row: before the first drill, at each drill's edges to the microsecond, where
    one drill ends as the next begins, between drills, after the last, and none at all."""
    spans = [
        (at(date(2026, 3, 2), 9), at(date(2026, 3, 3), 9)),
        (at(date(2026, 3, 3), 9), at(date(2026, 3, 4), 17)),  # begins as the one before ends
        (at(date(2026, 3, 9), 8), at(date(2026, 3, 9), 12)),  # across the DST change of Mar 8
    ]
    ids = [Drill.objects.create(organization=org, starts_at=s, ends_at=e).pk for s, e in spans]
    Drill.objects.create(
        organization=other_org, starts_at=at(date(2026, 3, 1), 0), ends_at=at(date(2026, 3, 20), 0)
    )
    first = datetime(2026, 2, 28, tzinfo=UTC)
    moments = [first + timedelta(minutes=97 * k) for k in range(13 * 24 * 60 // 97)]
    moments += [edge + delta for span in spans for edge in span for delta in (timedelta(0), -_MICRO, _MICRO)]
    Interruption.objects.bulk_create(
        [ping(founder, None, organization=org, occurred_at=moment) for moment in moments]
    )
    Interruption.objects.bulk_create(
        [ping(stranger, None, organization=other_org, occurred_at=moment) for moment in moments[:50]]
    )

    def drills(queryset):
        return dict(queryset.values_list("pk", "flag_drill"))

    for where in (org, other_org):
        scope = Interruption.objects.for_org(where)
        assert drills(with_flags(scope, where)) == drills(by_the_orm_rule(scope, where, "flag_drill"))
    assert set(drills(with_flags(Interruption.objects.for_org(org), org)).values()) == {None, *ids}
    Drill.objects.filter(organization=org).delete()
    assert set(drills(with_flags(Interruption.objects.for_org(org), org)).values()) == {None}


def test_with_flags_flags_a_page_of_interruptions_in_one_query(org, founder, django_assert_num_queries):
    near = Drill.objects.create(
        organization=org, starts_at=at(date(2026, 3, 6), 9), ends_at=at(date(2026, 3, 9), 9)
    )
    Drill.objects.create(
        organization=org, starts_at=at(date(2026, 1, 9), 9), ends_at=at(date(2026, 1, 12), 9)
    )
    pings = [ping(founder, None, occurred_at=at(date(2026, 3, day), 10)) for day in (5, 7, 9)]
    save_interruptions(org=org, interruptions=pings)

    with django_assert_num_queries(1):
        flagged = list(
            with_flags(Interruption.objects.for_org(org).filter(pk__in=[p.pk for p in pings]), org)
        )

    assert [row.flag_drill for row in sorted(flagged, key=lambda row: row.occurred_at)] == [
        None,
        near.pk,
        None,
    ]


def test_the_flags_compiled_once_read_as_the_rule_in_every_zone_and_query(
    org, founder, other_org, stranger, manager
):
    """``with_flags`` puts SQL compiled once per zone (``_CompiledFlag``) where the rule's own
    annotations (``_flag_annotations``) were: the same flags for each organization, in a filter,
    an aggregate and a queryset used inside another query."""
    other_org.timezone = "Asia/Kolkata"  # +05:30
    other_org.save()
    for owner, where in ((founder, org), (stranger, other_org)):
        block(where, owner, MONDAY, time(9), time(12))
        block(where, owner, TUESDAY, time(13), time(14))
        Drill.objects.create(
            organization=where, starts_at=at(date(2026, 3, 2), 11), ends_at=at(date(2026, 3, 3), 9)
        )
    block(org, manager, MONDAY, time(12), time(13))  # no founder's: no window
    for where, logger in ((org, founder), (other_org, stranger)):
        local = [
            weeks.local_moment(date(2026, 3, day), time(hour, minute), where.tz)
            for day in (2, 3)
            for hour in (3, 9, 11, 12, 13)
            for minute in (0, 30)
        ]
        Interruption.objects.bulk_create(
            [ping(logger, None, organization=where, occurred_at=moment) for moment in local]
        )
    compiled_before = selectors._compiled_flags.cache_info().misses

    def rows(queryset):
        return sorted(queryset.values_list("pk", "flag_out_of_window", "flag_drill"))

    for where in (org, other_org):
        scope = Interruption.objects.for_org(where)
        rule = scope.annotate(**selectors._flag_annotations(where, F("occurred_at")))
        assert rows(with_flags(scope, where)) == rows(rule)
        assert {flag for _, flag, _ in rows(rule)} == {True, False}
        assert rows(with_flags(scope, where).filter(flag_out_of_window=True)) == rows(
            rule.filter(flag_out_of_window=True)
        )
        counted = Count("pk", filter=Q(flag_out_of_window=True))
        assert with_flags(scope, where).aggregate(n=counted) == rule.aggregate(n=counted)
        inside = Interruption.objects.filter(
            pk__in=with_flags(scope, where)
            .filter(flag_out_of_window=False, flag_drill__isnull=False)
            .values("pk")
        )
        expected = rule.filter(flag_out_of_window=False, flag_drill__isnull=False).values_list(
            "pk", flat=True
        )
        assert sorted(inside.values_list("pk", flat=True)) == sorted(expected) != []
    # Chicago and Kolkata, in queries and in another query's subquery: compiled once each, not per query.
    with_flags(Interruption.objects.for_org(org), org).count()
    assert selectors._compiled_flags.cache_info().misses - compiled_before <= 4
