"""``import_entries FILE --org SLUG --user USERNAME``: the CSV import of the web page (SPEC 5)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from audits.csvio import MAX_BYTES, CsvFileError, CsvFormat, ImportReport, import_entries
from msp_ops.orgs.commands import membership_or_error


class Command(BaseCommand):
    help = (
        "Imports time entries from a CSV file (msp-ops layout, Toggl Track or Clockify detailed export) "
        "for one member. A file with errors stores nothing unless --skip-bad-rows is given."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", metavar="FILE")
        parser.add_argument("--org", required=True, metavar="SLUG")
        parser.add_argument(
            "--user", required=True, metavar="USERNAME", help="the member the entries belong to"
        )
        parser.add_argument(
            "--format", choices=[f.value for f in CsvFormat], help="default: detected from the header"
        )
        parser.add_argument(
            "--skip-bad-rows", action="store_true", help="store the good rows, report the bad ones"
        )

    def handle(
        self, *args, file: str, org: str, user: str, format: str | None, skip_bad_rows: bool, **options
    ):
        membership = membership_or_error(org_slug=org, username=user)
        try:
            with Path(file).open("rb") as handle:
                data = handle.read(MAX_BYTES + 1)  # enough to refuse an oversized file
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror}.") from None
        try:
            report = import_entries(
                org=membership.organization,
                member=membership.user,
                data=data,
                fmt=format,
                skip_bad_rows=skip_bad_rows,
            )
        except CsvFileError as error:
            raise CommandError(f"{file}: {error}") from None
        self._print_errors(report)
        if report.refused or (report.skipped and not report.created + report.updated):
            raise CommandError(report.summary)  # nothing stored because of errors: status 1
        self.stdout.write(report.summary)

    def _print_errors(self, report: ImportReport) -> None:
        for error in report.errors:
            column = f" [{error.column}]" if error.column else ""
            self.stderr.write(f"row {error.row}{column}: {error.message}")
