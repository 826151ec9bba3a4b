"""/time-entries/ and /audits/ (SPEC 4): thin viewsets on the one API framework."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.response import Response

from audits.api.serializers import (
    AuditReportSerializer,
    AuditSerializer,
    TimeEntrySerializer,
)
from audits.filters import TimeAuditFilter, TimeEntryFilter
from audits.models import TimeAudit, TimeEntry
from audits.selectors import audit_report
from audits.services import delete_time_entry, save_time_entries, start_time_audits
from msp_ops.api.viewsets import EditableMixin, OrgScopedViewSet
from msp_ops.orgs.batches import Saved
from msp_ops.orgs.roles import READ_TIME, WRITE_AUDITS, WRITE_TIME_ENTRIES


class TimeEntryViewSet(EditableMixin, OrgScopedViewSet):
    """Time entries of the organization's members (SPEC 1 "Time entries").

    Technicians read and write only their own entries; viewers only read; founders and
    service managers push for any member by naming its `user`. Lists are ordered by
    `started_at`, then `id`.
    """

    model = TimeEntry
    serializer_class = TimeEntrySerializer
    filterset_class = TimeEntryFilter
    read_rule = READ_TIME
    write_rule = WRITE_TIME_ENTRIES
    owner_field = "user"
    ordering = ("started_at", "id")
    select_related = ("user", "category")
    # Every column of the entry, and of its member and category only what the answer shows.
    only = (*(field.name for field in TimeEntry._meta.concrete_fields), "user__username", "category__slug")

    def save_items(self, items: list[TimeEntry]) -> list[Saved]:
        return save_time_entries(
            org=self.request.org,
            entries=items,
            owner=self.own_rows_only(),
            # Read by the serializer in this request: not read again.
            members={user.pk for user in self.lookups["members"].values()},
            categories=self.lookups["categories"].values(),
        )

    def delete_item(self, item: TimeEntry) -> None:
        delete_time_entry(entry=item)


class TimeAuditViewSet(OrgScopedViewSet):
    """7-day time audits (SPEC 1 "Time audit"), newest first, and their report.

    Founders and service managers read and start every member's audits; a technician, like
    on the audit pages, only its own.
    """

    model = TimeAudit
    serializer_class = AuditSerializer
    filterset_class = TimeAuditFilter
    read_rule = READ_TIME
    write_rule = WRITE_AUDITS
    owner_field = "user"
    ordering = ("-start_date", "-id")
    select_related = ("user", "organization")

    def save_items(self, items: list[TimeAudit]) -> list[Saved]:
        return start_time_audits(org=self.request.org, audits=items, owner=self.own_rows_only())

    @extend_schema(
        responses={200: AuditReportSerializer},
        description=(
            "The audit report (SPEC 1), from the same function as the report page. Hours are "
            "JSON numbers with 2 decimal places, inside the 7-day window only."
        ),
    )
    @action(detail=True, methods=["get"])
    def report(self, request, pk=None) -> Response:
        return Response(audit_report(self.get_object()).as_api_dict())
