"""The delegation endpoints (SPEC 4): thin viewsets on the one API framework."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import ProtectedError, RestrictedError
from django.utils import timezone
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from delegation import services
from delegation.api.serializers import (
    DelegateSerializer,
    DelegationSerializer,
    DrillSerializer,
    EscalationMapSerializer,
    InterruptionSerializer,
    RunbookRevisionSerializer,
    RunbookSerializer,
    TimeBlockSerializer,
)
from delegation.filters import (
    DelegateFilter,
    DelegationFilter,
    InterruptionFilter,
    RunbookFilter,
    TimeBlockFilter,
)
from delegation.models import Delegate, Delegation, Drill, EscalationStep, Interruption, Runbook, TimeBlock
from delegation.selectors import drill_review, hours_freed, with_flags
from msp_ops.api.permissions import READ_ALL
from msp_ops.api.viewsets import EditableMixin, OrgScopedViewSet, OrgSettingsView
from msp_ops.orgs.batches import Saved
from msp_ops.orgs.roles import (
    READ_INTERRUPTIONS,
    READ_RUNBOOKS,
    WRITE_DELEGATION,
    WRITE_INTERRUPTIONS,
    WRITE_RUNBOOKS,
)

_FLAGS = ("flag_out_of_window", "flag_drill")  # the annotations of ``with_flags``


class InterruptionViewSet(EditableMixin, OrgScopedViewSet):
    """Owner interruptions (SPEC 1): each time the owner is contacted directly.

    Founders and service managers log and read all (a service manager logs on the founder's
    behalf); a technician logs and reads only the ones it logged; viewers read. Lists are
    ordered by `occurred_at`, then `id`.
    """

    model = Interruption
    serializer_class = InterruptionSerializer
    filterset_class = InterruptionFilter
    read_rule = READ_INTERRUPTIONS
    write_rule = WRITE_INTERRUPTIONS
    owner_field = "logged_by"
    ordering = ("occurred_at", "id")

    def get_queryset(self):
        queryset = super().get_queryset()
        return (
            queryset if getattr(self, "swagger_fake_view", False) else with_flags(queryset, self.request.org)
        )

    def prepare(self, objects: list[Interruption]) -> list[Interruption]:
        if all(hasattr(item, "flag_drill") for item in objects):
            return objects  # read with the flags (a list, a retrieve)
        # Stored just now: read back with the flags, in the same order (one query).
        flagged = with_flags(Interruption.objects.for_org(self.request.org), self.request.org).in_bulk(
            [item.pk for item in objects]
        )
        return [flagged[item.pk] for item in objects]

    def save_items(self, items: list[Interruption]) -> list[Saved]:
        saved = services.save_interruptions(
            org=self.request.org,
            interruptions=items,
            owner=self.own_rows_only(),
            members=[self.request.user.pk],  # who logs a new item: a member, read with the token
        )
        for item in saved:
            # An edited instance (``get_object``) carries the flags read before the edit: the
            # answer reads them again from what is stored now (``prepare``), as a GET would.
            for name in _FLAGS:
                vars(item.obj).pop(name, None)
        return saved

    def delete_item(self, item: Interruption) -> None:
        services.delete_interruption(interruption=item)


class _ManagedViewSet(EditableMixin, OrgScopedViewSet):
    read_rule = READ_ALL  # every member who may view reads
    write_rule = WRITE_DELEGATION

    def delete_item(self, item) -> None:
        try:
            services.delete_row(row=item)
        except (ProtectedError, RestrictedError):
            raise ValidationError(self.protected_message(item)) from None

    def protected_message(self, item) -> str:
        return f"{item._meta.verbose_name.capitalize()} #{item.pk} is still in use."


class DelegateViewSet(_ManagedViewSet):
    """Who takes work off the founder (SPEC 1). A delegate with delegations cannot be deleted:
    set `active` to false instead."""

    model = Delegate
    serializer_class = DelegateSerializer
    filterset_class = DelegateFilter
    ordering = ("name", "id")

    def save_items(self, items: list[Delegate]) -> list[Saved]:
        return services.save_delegates(org=self.request.org, delegates=items)

    def protected_message(self, item) -> str:
        return f"Delegate #{item.pk} has delegations; set active to false instead."


class DelegationViewSet(_ManagedViewSet):
    """Delegation wins (SPEC 1) with SPEC's status moves; a refused move is a 400 on `status`
    and changes nothing."""

    model = Delegation
    serializer_class = DelegationSerializer
    filterset_class = DelegationFilter
    select_related = ("category", "organization")

    def prepare(self, objects: list[Delegation]) -> list[Delegation]:
        for item in objects:
            item.organization = self.request.org
        freed = hours_freed(objects)
        for item in objects:
            item.hours_freed_per_week = freed.get(item.pk)
        return objects

    def save_items(self, items: list[Delegation]) -> list[Saved]:
        return services.save_delegations(org=self.request.org, delegations=items)


class RunbookViewSet(_ManagedViewSet):
    """Runbooks, one per ticket category (SPEC 1), each change kept as a revision. Technicians
    and viewers read them."""

    model = Runbook
    serializer_class = RunbookSerializer
    filterset_class = RunbookFilter
    read_rule = READ_RUNBOOKS
    write_rule = WRITE_RUNBOOKS
    ordering = ("ticket_category", "id")
    select_related = ("updated_by",)

    def save_items(self, items: list[Runbook]) -> list[Saved]:
        return services.save_runbooks(org=self.request.org, runbooks=items, user=self.request.user)

    @extend_schema(
        responses={200: RunbookRevisionSerializer(many=True)},
        description="Every earlier revision of the runbook, newest first, with its text as it was.",
    )
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def revisions(self, request, pk=None) -> Response:
        runbook = self.get_object()
        revisions = runbook.revisions.select_related("changed_by").order_by("-revision")
        return Response(
            RunbookRevisionSerializer(revisions, many=True, context=self.get_serializer_context()).data
        )


class DrillViewSet(_ManagedViewSet):
    """Owner offline drills (SPEC 1): windows that never overlap within the organization. Only a
    drill that has not started yet can be deleted (cancelled); one that started keeps its review."""

    model = Drill
    serializer_class = DrillSerializer
    ordering = ("-starts_at", "-id")

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "now": timezone.now()}

    def save_items(self, items: list[Drill]) -> list[Saved]:
        return services.save_drills(org=self.request.org, drills=items)

    def delete_item(self, item: Drill) -> None:
        services.cancel_drill(drill=item)  # only one that has not started yet, as on the page

    @extend_schema(
        responses={
            200: inline_serializer(
                "DrillReview",
                {
                    "drill": DrillSerializer(),
                    "interruptions": InterruptionSerializer(many=True),
                    "pending": serializers.ListField(child=serializers.IntegerField()),
                    "by_day": serializers.DictField(child=serializers.IntegerField()),
                    "by_category": serializers.DictField(child=serializers.IntegerField()),
                },
            )
        },
        description="Every interruption inside the window (oldest first), those still pending a follow-up, "
        "and counts per local day and per category.",
    )
    @action(detail=True, methods=["get"])
    def review(self, request, pk=None) -> Response:
        drill = self.get_object()
        drill.organization = request.org
        review = drill_review(drill)
        context = self.get_serializer_context()
        flagged = with_flags(Interruption.objects.for_org(request.org), request.org).in_bulk(
            [item.pk for item in review.interruptions]
        )
        return Response(
            {
                "drill": DrillSerializer(drill, context=context).data,
                "interruptions": InterruptionSerializer(
                    [flagged[item.pk] for item in review.interruptions], many=True, context=context
                ).data,
                "pending": review.pending,
                "by_day": {day.isoformat(): count for day, count in review.by_day.items()},
                "by_category": review.by_category,
            }
        )

    @extend_schema(
        request=None,
        responses={200: DrillSerializer},
        description="Completes the drill: only after its window ended and when every interruption in it "
        "has a follow-up or the owner-level mark; else 400 naming what is pending, changing nothing.",
    )
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None) -> Response:
        drill = self.get_object()
        drill.organization = request.org
        services.complete_drill(drill=drill)
        return Response(DrillSerializer(drill, context=self.get_serializer_context()).data)


class TimeBlockViewSet(_ManagedViewSet):
    """The founder's weekly plan (SPEC 1): blocks of one member on one weekday never overlap."""

    model = TimeBlock
    serializer_class = TimeBlockSerializer
    filterset_class = TimeBlockFilter
    ordering = ("weekday", "start_time", "id")
    select_related = ("user",)

    def save_items(self, items: list[TimeBlock]) -> list[Saved]:
        return services.save_time_blocks(org=self.request.org, blocks=items)


class EscalationMapView(OrgSettingsView):
    """The escalation map (SPEC 1): for each level the criteria and the approval limit under
    which no escalation is needed. Technicians and viewers read it."""

    serializer_class = EscalationMapSerializer
    read_rule = READ_RUNBOOKS
    write_rule = WRITE_RUNBOOKS

    def get_object(self) -> list[EscalationStep]:
        steps = {step.level: step for step in EscalationStep.objects.for_org(self.request.org)}
        if len(steps) < 3:
            services.create_escalation_map(org=self.request.org)
            steps = {step.level: step for step in EscalationStep.objects.for_org(self.request.org)}
        return [steps[level] for level in ("L1", "L2", "owner_only")]

    def save(self, data: dict[str, Any], *, partial: bool) -> list[EscalationStep]:
        return services.update_escalation_map(org=self.request.org, levels=data)
