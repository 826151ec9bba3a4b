"""The KPI endpoints (SPEC 4) on the one API framework."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from delegation.api.serializers import InterruptionSerializer
from delegation.models import Interruption
from delegation.selectors import with_flags
from kpis import services
from kpis.api.serializers import (
    KpiTargetsSerializer,
    SlaPolicySerializer,
    StandupTeamSerializer,
    TicketSerializer,
    TodoSerializer,
    WeeklyKpiSerializer,
)
from kpis.filters import TicketFilter, TodoFilter
from kpis.models import KpiTargets, SlaPolicy, Ticket, Todo, WeeklyKpi
from kpis.selectors import kpi_targets, sla_policy, standup, weekly_row
from msp_ops.api.permissions import READ_ALL, RolePermission
from msp_ops.api.serializers import parse_aware_datetime
from msp_ops.api.throttling import TokenRateThrottle
from msp_ops.api.viewsets import EditableMixin, OrgScopedViewSet, OrgSettingsView
from msp_ops.lib import weeks
from msp_ops.orgs.batches import Saved
from msp_ops.orgs.roles import Perm, RowRule

WRITE_TICKETS = RowRule(all=Perm.MANAGE_TICKETS)  # tickets, SLA policy, to-dos
WRITE_ORG = RowRule(all=Perm.MANAGE_ORG)  # KPI targets: the founder only
READ_SETTINGS = RowRule(all=Perm.USE_API)  # every member reads the settings
RUN_ROLLUP = RowRule(all=Perm.RUN_ROLLUP)


class TicketViewSet(EditableMixin, OrgScopedViewSet):
    """Tickets pushed by a PSA (SPEC 1): `external_id` is required and pushes upsert on it.
    Lists are ordered by `opened_at`, then `id`."""

    model = Ticket
    serializer_class = TicketSerializer
    filterset_class = TicketFilter
    write_rule = WRITE_TICKETS
    ordering = ("opened_at", "id")

    def save_items(self, items: list[Ticket]) -> list[Saved]:
        return services.save_tickets(org=self.request.org, tickets=items)

    def delete_item(self, item: Ticket) -> None:
        services.delete_ticket(ticket=item)


class TodoViewSet(EditableMixin, OrgScopedViewSet):
    """Level-10 to-dos (SPEC 1): open ones carry over to each next week's agenda until done."""

    model = Todo
    serializer_class = TodoSerializer
    filterset_class = TodoFilter
    write_rule = WRITE_TICKETS
    ordering = ("due_date", "id")
    select_related = ("owner",)

    def save_items(self, items: list[Todo]) -> list[Saved]:
        return services.save_todos(org=self.request.org, todos=items)

    def delete_item(self, item: Todo) -> None:
        services.delete_todo(todo=item)


class SlaPolicyView(OrgSettingsView):
    """Resolution targets in hours per severity (SPEC 1); service managers and founders write."""

    serializer_class = SlaPolicySerializer
    read_rule = READ_SETTINGS
    write_rule = WRITE_TICKETS

    def get_object(self) -> SlaPolicy:
        return sla_policy(self.request.org)

    def save(self, data: dict[str, Any], *, partial: bool) -> SlaPolicy:
        return services.update_settings(row=sla_policy(self.request.org), values=data)


class KpiTargetsView(OrgSettingsView):
    """The targets behind the KPI status colours (SPEC 2); only the founder writes them."""

    serializer_class = KpiTargetsSerializer
    read_rule = READ_SETTINGS
    write_rule = WRITE_ORG

    def get_object(self) -> KpiTargets:
        return kpi_targets(self.request.org)

    def save(self, data: dict[str, Any], *, partial: bool) -> KpiTargets:
        return services.update_settings(row=kpi_targets(self.request.org), values=data)


class _OrgApiView(APIView):
    permission_classes = [RolePermission]
    throttle_classes = [TokenRateThrottle]
    read_rule = READ_ALL


def _monday(value: str | None, name: str):
    try:
        return weeks.parse_week(value)
    except ValueError as error:
        raise ValidationError({name: [str(error)]}) from None


class WeeklyKpiView(_OrgApiView):
    """The rolled-up weekly rows (SPEC 2): `?week=` one row (404 when not rolled up), or
    `?from=&to=` every rolled-up week between those Mondays, oldest first (a JSON array)."""

    @extend_schema(
        parameters=[
            OpenApiParameter("week", OpenApiTypes.DATE, description="A Monday: that week's row."),
            OpenApiParameter("from", OpenApiTypes.DATE, description="A Monday: the first week of the list."),
            OpenApiParameter("to", OpenApiTypes.DATE, description="A Monday: the last week of the list."),
        ],
        responses={200: WeeklyKpiSerializer},
        description="One row with `?week=`; with `?from=` and `?to=` a JSON array of rows.",
    )
    def get(self, request, *args, **kwargs) -> Response:
        org, params = request.org, request.query_params
        rows = WeeklyKpi.objects.for_org(org)
        if "week" in params:
            row = rows.filter(week=_monday(params["week"], "week")).first()
            if row is None:
                raise NotFound("That week has not been rolled up yet.")
            return Response(weekly_row(row, org.tz))
        if "from" not in params or "to" not in params:
            raise ValidationError({"week": ["Give ?week=YYYY-MM-DD, or ?from=YYYY-MM-DD&to=YYYY-MM-DD."]})
        first, last = _monday(params["from"], "from"), _monday(params["to"], "to")
        if first > last:
            raise ValidationError({"to": ["The last week is before the first."]})
        selected = rows.filter(week__gte=first, week__lte=last).order_by("week")
        return Response([weekly_row(row, org.tz) for row in selected])


class RollupView(_OrgApiView):
    """Recomputes the organization's previous and current week now (SPEC 3), in the background."""

    write_rule = RUN_ROLLUP

    @extend_schema(
        request=None,
        responses={
            202: inline_serializer(
                "RollupAccepted", {"detail": serializers.CharField(), "run": serializers.IntegerField()}
            )
        },
    )
    def post(self, request, *args, **kwargs) -> Response:
        run = services.request_rollup(org=request.org, user=request.user)
        return Response(
            {"detail": "The rollup of the previous and the current week is queued.", "run": run.pk},
            status=status.HTTP_202_ACCEPTED,
        )


class StandupView(_OrgApiView):
    """The daily SLA stand-up (SPEC 1): per team the open tickets past their target and those
    passing it within 24 h, oldest first, and the previous local day's interruptions."""

    @extend_schema(
        parameters=[
            OpenApiParameter("at", OpenApiTypes.DATETIME, description="Default now (ISO 8601 with offset).")
        ],
        responses={
            200: inline_serializer(
                "Standup",
                {
                    "at": serializers.DateTimeField(),
                    "teams": StandupTeamSerializer(many=True),
                    "interruptions_yesterday": InterruptionSerializer(many=True),
                },
            )
        },
    )
    def get(self, request, *args, **kwargs) -> Response:
        org = request.org
        at = timezone.now()
        if "at" in request.query_params:
            try:
                at = parse_aware_datetime(request.query_params["at"])
            except serializers.ValidationError as error:
                raise ValidationError({"at": error.detail}) from None
        found = standup(org, at)
        context = {"request": request, "org": org, "tz": org.tz}
        tickets = TicketSerializer(context=context)

        def ticket_rows(rows):
            return [
                {**tickets.to_representation(row.ticket), "age_hours": float(row.age_hours),
                 "target_hours": float(row.target_hours)}
                for row in rows
            ]  # fmt: skip

        flagged = with_flags(Interruption.objects.for_org(org), org).in_bulk(
            [i.pk for i in found.interruptions_yesterday]
        )
        return Response(
            {
                "at": weeks.to_local(at, org.tz).isoformat(),
                "teams": [
                    {
                        "team": team.team,
                        "breached": ticket_rows(team.breached),
                        "due_within_24h": ticket_rows(team.due_within_24h),
                    }
                    for team in found.teams
                ],
                "interruptions_yesterday": InterruptionSerializer(
                    [flagged[i.pk] for i in found.interruptions_yesterday], many=True, context=context
                ).data,
            }
        )
