from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from audits.models import Category, TimeAudit, TimeEntry
from audits.selectors import audit_report
from audits.services import save_time_entries

CHI = ZoneInfo("America/Chicago")


def test_report_counts_parts_inside_window(org, founder, django_assert_num_queries):
    tickets = Category.objects.get(organization=org, slug="tickets")
    sales = Category.objects.get(organization=org, slug="sales")
    audit = TimeAudit.objects.create(organization=org, user=founder, start_date=date(2025, 3, 3))
    entries = [
        # Sunday 23:00 before the window to Monday 01:00: 1 h inside.
        TimeEntry(
            user=founder,
            started_at=datetime(2025, 3, 2, 23, tzinfo=CHI),
            ended_at=datetime(2025, 3, 3, 1, tzinfo=CHI),
            activity="Backup failed",
            category=tickets,
        ),
        TimeEntry(
            user=founder,
            started_at=datetime(2025, 3, 4, 9, tzinfo=CHI),
            ended_at=datetime(2025, 3, 4, 10, 30, tzinfo=CHI),
            activity="Quote",
            category=sales,
            handling="delegated",
        ),
    ]
    entries[0].tags = ["repetitive", "outsourceable"]
    save_time_entries(org=org, entries=entries)
    with django_assert_num_queries(2):
        report = audit_report(audit)
    assert report.logged_hours == Decimal("2.50")
    assert report.hours_by_day[date(2025, 3, 3)] == Decimal("1.00")
    assert report.hours_by_day[date(2025, 3, 4)] == Decimal("1.50")
    assert report.hours_by_tag["repetitive"] == Decimal("1.00")
    assert report.reclaimable_hours == Decimal("1.00")
    assert report.untagged_hours == Decimal("1.50")
    assert report.delegated_hours == Decimal("1.50")
    assert report.in_business_hours == Decimal("1.00")
    assert report.on_business_hours == Decimal("1.50")
    assert report.quadrants["unflagged"] == Decimal("2.50")
    assert [c.category for c in report.candidates] == ["tickets"]
    assert report.candidates[0].entries == 1
    assert len(report.empty_days) == 5
