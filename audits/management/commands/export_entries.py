"""``export_entries --org SLUG``: time entries in the msp-ops CSV layout (SPEC 5, docs/csv.md)."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError, CommandParser

from audits.csvio import write_entries_csv
from audits.models import Category
from msp_ops.lib.weeks import parse_date
from msp_ops.orgs.commands import organization_or_error
from msp_ops.orgs.models import Membership


def _date(value: str) -> date:
    try:
        return parse_date(value)
    except ValueError as error:
        raise CommandError(str(error)) from None


class Command(BaseCommand):
    help = "Exports time entries as CSV (msp-ops layout), to stdout or --output FILE."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", required=True, metavar="SLUG")
        parser.add_argument("--user", metavar="USERNAME", help="only this member's entries")
        parser.add_argument("--from", dest="date_from", metavar="DATE", help="first local date (YYYY-MM-DD)")
        parser.add_argument("--to", dest="date_to", metavar="DATE", help="last local date, inclusive")
        parser.add_argument("--category", metavar="SLUG")
        parser.add_argument("--output", metavar="FILE", help="default: standard output")

    def handle(self, *args, org: str, user, date_from, date_to, category, output, **options):
        organization = organization_or_error(org)
        filters = {}
        if user:
            membership = Membership.objects.select_related("user").filter(
                organization=organization, user__username=user
            )
            if not (found := membership.first()):
                raise CommandError(f"'{user}' is not a member of '{org}'.")
            filters["user"] = found.user
        if date_from:
            filters["date_from"] = _date(date_from)
        if date_to:
            filters["date_to"] = _date(date_to)
        if date_from and date_to and filters["date_from"] > filters["date_to"]:
            raise CommandError("--from must not be after --to.")
        if category:
            filters["category"] = Category.objects.for_org(organization).filter(slug=category).first()
            if filters["category"] is None:
                raise CommandError(f"No category '{category}' in '{org}'.")
        if output:
            try:
                with open(output, "w", encoding="utf-8", newline="") as out:
                    count = write_entries_csv(org=organization, out=out, **filters)
            except OSError as error:
                raise CommandError(f"Cannot write {output}: {error.strerror}.") from None
            self.stderr.write(f"Wrote {count} entries to {output}.")
        else:
            write_entries_csv(org=organization, out=self.stdout, **filters)
