"""``python manage.py rollup_kpis [--org SLUG] [--week YYYY-MM-DD]`` (SPEC 5): the nightly rollup now.

Without ``--week`` each organization's previous and current week; without ``--org`` every
organization, one after another, with a progress bar on a terminal. One organization's
failure is reported and the others still roll up; the command then exits with status 1.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, OutputWrapper

from kpis.services import roll_up_weeks
from msp_ops.lib import weeks
from msp_ops.orgs.commands import organization_or_error
from msp_ops.orgs.models import Organization


class Command(BaseCommand):
    help = "Recomputes the weekly KPI rows (default: every organization's previous and current week)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--org", metavar="SLUG", help="only this organization")
        parser.add_argument("--week", metavar="YYYY-MM-DD", help="only the week of this Monday")

    def handle(self, *args, org: str | None = None, week: str | None = None, **options) -> None:
        mondays = None
        if week is not None:
            try:
                mondays = [weeks.parse_week(week)]
            except ValueError as error:
                raise CommandError(f"--week: {error}") from None
        orgs = [organization_or_error(org)] if org else list(Organization.objects.order_by("slug"))
        bar = _Progress(self.stdout, len(orgs), enabled=self.stdout.isatty() and len(orgs) > 1)
        failed = []
        rows = 0
        for index, organization in enumerate(orgs, start=1):
            try:
                rows += roll_up_weeks(org=organization, mondays=mondays)
            except Exception as error:  # one organization's failure stops no other
                failed.append(organization.slug)
                bar.close()  # the message on a line of its own, not after the bar
                self.stderr.write(f"{organization.slug}: the rollup failed: {type(error).__name__}: {error}")
            bar.show(index, organization.slug)
        bar.close()
        self.stdout.write(f"Rolled up {rows} week(s) of {len(orgs) - len(failed)} organization(s).")
        if failed:
            raise CommandError(f"The rollup failed for {len(failed)} organization(s): {', '.join(failed)}.")


class _Progress:
    """``[#####.....] 12/200 acme-it`` redrawn in place, on a terminal only."""

    WIDTH = 30

    def __init__(self, out: OutputWrapper, total: int, *, enabled: bool):
        # The command's own stdout (the terminal it checked), not sys.stdout.
        self.out, self.total, self.enabled = out, total, enabled
        self.drawn = False

    def show(self, done: int, label: str) -> None:
        if not self.enabled:
            return
        filled = self.WIDTH * done // self.total
        self.out.write(
            f"\r[{'#' * filled}{'.' * (self.WIDTH - filled)}] {done}/{self.total} {label[:30]:<30}", ending=""
        )
        self.out.flush()
        self.drawn = True

    def close(self) -> None:
        """Ends the bar's line (once, after it was drawn)."""
        if self.drawn:
            self.out.write("")
            self.drawn = False
