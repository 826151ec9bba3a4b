"""Shapes of the delegation endpoints (SPEC 4), field for field.

Serializers check shape and resolve slugs, usernames and audits inside the organization;
the services of ``delegation.services`` apply the rules across rows and write.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework import serializers

from audits.api.serializers import known_category
from audits.models import Category, TimeAudit
from delegation.models import (
    BlockKind,
    Channel,
    Delegate,
    DelegateKind,
    Delegation,
    DelegationStatus,
    Drill,
    DrillStatus,
    EscalationLevel,
    FollowUp,
    Interruption,
    Runbook,
    TimeBlock,
    Weekday,
)
from delegation.services import candidate_from_audit
from msp_ops.api.fastread import Computed
from msp_ops.api.serializers import (
    AwareDateTimeField,
    BoundedDateField,
    HourMinuteField,
    JsonNumberField,
    StrictBooleanField,
    StrictSerializer,
    lookup_values,
    members_by_username,
    resolve_member,
)
from msp_ops.lib import weeks
from msp_ops.lib.ids import MAX_ID


def _text(max_length: int, **kwargs: Any) -> serializers.CharField:
    return serializers.CharField(required=False, allow_blank=True, max_length=max_length, **kwargs)


def _id_field(**kwargs: Any) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, **kwargs)


class _ModelShape(StrictSerializer):
    """to_object: a changed copy of the instance (or a new one) from the validated data."""

    def new_object(self) -> Any:
        raise NotImplementedError

    def to_object(self, data: dict[str, Any], instance: Any = None) -> Any:
        instance = instance if instance is not None else self.new_object()
        for name, value in data.items():
            setattr(instance, name, value)
        return instance


# --- interruptions ------------------------------------------------------------------------


class InterruptionSerializer(_ModelShape):
    id = serializers.IntegerField(read_only=True)
    occurred_at = AwareDateTimeField(help_text="ISO 8601 with a UTC offset; answered in the org's zone.")
    channel = serializers.ChoiceField(choices=Channel.choices)
    about_ticket = StrictBooleanField(required=False, help_text="Default true: the KPI counts only these.")
    ticket_ref = _text(100)
    client = _text(200)
    category = _text(100, help_text="Ticket category (free text, compared case-insensitively).")
    requested_by = _text(200, help_text="Who asked the owner.")
    owner_level = StrictBooleanField(required=False, allow_null=True, help_text="Was it truly owner-level?")
    follow_up = serializers.ChoiceField(choices=FollowUp.choices, required=False, help_text="Default `none`.")
    runbook = _id_field(
        required=False, allow_null=True, help_text="Id of the runbook a `runbook_updated` follow-up changed."
    )
    notes = _text(10_000)
    external_id = serializers.CharField(
        required=False,
        allow_null=True,
        allow_blank=True,
        max_length=200,
        help_text="Unique per organization: sending it again updates that interruption.",
    )
    out_of_window = serializers.BooleanField(
        read_only=True, help_text="Outside every owner-escalations block of the founders (SPEC 1)."
    )
    drill = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="Id of the drill whose window holds it."
    )

    read_sources = {"out_of_window": "flag_out_of_window", "drill": "flag_drill"}  # with_flags()

    def new_object(self) -> Interruption:
        return Interruption(organization=self.context["org"], logged_by=self.context["request"].user)

    def to_object(self, data: dict[str, Any], instance: Interruption | None = None) -> Interruption:
        data = dict(data)
        if "runbook" in data:
            data["runbook_id"] = data.pop("runbook")
        return super().to_object(data, instance)

    def to_representation(self, item: Interruption) -> dict[str, Any]:
        return {
            "id": item.pk,
            "occurred_at": weeks.to_local(item.occurred_at, self.context["tz"]).isoformat(),
            "channel": item.channel,
            "about_ticket": item.about_ticket,
            "ticket_ref": item.ticket_ref,
            "client": item.client,
            "category": item.category,
            "requested_by": item.requested_by,
            "owner_level": item.owner_level,
            "follow_up": item.follow_up,
            "runbook": item.runbook_id,
            "notes": item.notes,
            "external_id": item.external_id,
            "out_of_window": item.flag_out_of_window,
            "drill": item.flag_drill,
        }


# --- delegates and delegations ------------------------------------------------------------


class DelegateSerializer(_ModelShape):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(max_length=200)
    kind = serializers.ChoiceField(choices=DelegateKind.choices)
    email = serializers.EmailField(required=False, allow_null=True, max_length=254)
    hourly_cost = JsonNumberField(required=False, allow_null=True)
    active = StrictBooleanField(required=False, help_text="Default true.")

    read_sources = {"email": Computed(("email",), lambda email: email or None)}

    def new_object(self) -> Delegate:
        return Delegate(organization=self.context["org"])

    def to_representation(self, delegate: Delegate) -> dict[str, Any]:
        return {
            "id": delegate.pk,
            "name": delegate.name,
            "kind": delegate.kind,
            "email": delegate.email or None,  # a page may have stored it blank
            "hourly_cost": None if delegate.hourly_cost is None else float(delegate.hourly_cost),
            "active": delegate.active,
        }


class ChecklistItemSerializer(StrictSerializer):
    text = serializers.CharField(max_length=500)
    done = StrictBooleanField(required=False, help_text="Default false.")


class DelegationSerializer(_ModelShape):
    id = serializers.IntegerField(read_only=True)
    title = serializers.CharField(max_length=200, required=False, help_text="Required unless `from_audit`.")
    category = serializers.CharField(max_length=50, help_text="Slug of a time-entry category.")
    delegate = _id_field(required=False, allow_null=True, help_text="A delegate id, or null.")
    status = serializers.ChoiceField(
        choices=DelegationStatus.choices,
        required=False,
        help_text="Default `candidate`; SPEC 1's moves only.",
    )
    definition_of_done = ChecklistItemSerializer(many=True, required=False)
    decision_boundary = _text(10_000, help_text="What the delegate may decide alone.")
    approval_limit_amount = JsonNumberField(required=False, allow_null=True)
    approval_limit_hours = JsonNumberField(max_digits=7, required=False, allow_null=True)
    escalation_triggers = _text(10_000)
    expected_hours_per_week = JsonNumberField(max_digits=7, required=False, help_text="Default 0.")
    handoff_date = BoundedDateField(required=False, allow_null=True)
    review_date = BoundedDateField(required=False, allow_null=True)
    done_override_reason = _text(10_000)
    hours_freed_per_week = serializers.FloatField(
        read_only=True,
        allow_null=True,
        help_text="Founder hours per week actually freed (SPEC 1); null without a figure.",
    )
    from_audit = _id_field(
        required=False,
        write_only=True,
        help_text="An audit id: title and expected_hours_per_week come from its report, unless given.",
    )

    @classmethod
    def batch_context(cls, items: list[Any], request) -> dict[str, Any]:
        slugs = lookup_values(items, "category")
        audits = {
            i["from_audit"] for i in items if isinstance(i, Mapping) and type(i.get("from_audit")) is int
        }
        return {
            "categories": {c.slug: c for c in Category.objects.for_org(request.org).filter(slug__in=slugs)}
            if slugs
            else {},
            "audits": TimeAudit.objects.for_org(request.org)
            .select_related("organization")
            .in_bulk([a for a in audits if 0 < a <= MAX_ID])
            if audits
            else {},
        }

    def validate_category(self, value: str) -> Category:
        return known_category(self.context, value)

    def validate_from_audit(self, value: int) -> TimeAudit:
        try:
            return self.context["audits"][value]
        except KeyError:
            raise serializers.ValidationError(f"Unknown audit {value}.") from None

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if self.instance is None and "title" not in attrs and "from_audit" not in attrs:
            raise serializers.ValidationError({"title": ["This field is required."]})
        if "from_audit" in attrs and self.instance is not None:
            raise serializers.ValidationError({"from_audit": ["Only when creating a delegation."]})
        return attrs

    def new_object(self) -> Delegation:
        return Delegation(organization=self.context["org"])

    def to_object(self, data: dict[str, Any], instance: Delegation | None = None) -> Delegation:
        data = dict(data)
        audit = data.pop("from_audit", None)
        if "delegate" in data:
            data["delegate_id"] = data.pop("delegate")
        if "definition_of_done" in data:
            data["definition_of_done"] = [
                {"text": item["text"], "done": item.get("done", False)} for item in data["definition_of_done"]
            ]
        if audit is not None:
            return candidate_from_audit(audit=audit, category=data.pop("category"), **data)
        return super().to_object(data, instance)

    def to_representation(self, delegation: Delegation) -> dict[str, Any]:
        def number(value):
            return None if value is None else float(value)

        freed = getattr(delegation, "hours_freed_per_week", None)
        return {
            "id": delegation.pk,
            "title": delegation.title,
            "category": delegation.category.slug,
            "delegate": delegation.delegate_id,
            "status": delegation.status,
            "definition_of_done": delegation.definition_of_done,
            "decision_boundary": delegation.decision_boundary,
            "approval_limit_amount": number(delegation.approval_limit_amount),
            "approval_limit_hours": number(delegation.approval_limit_hours),
            "escalation_triggers": delegation.escalation_triggers,
            "expected_hours_per_week": number(delegation.expected_hours_per_week),
            "handoff_date": delegation.handoff_date.isoformat() if delegation.handoff_date else None,
            "review_date": delegation.review_date.isoformat() if delegation.review_date else None,
            "done_override_reason": delegation.done_override_reason,
            "hours_freed_per_week": number(freed),
        }


# --- runbooks and the escalation map ------------------------------------------------------


class RunbookSerializer(_ModelShape):
    id = serializers.IntegerField(read_only=True)
    ticket_category = serializers.CharField(
        max_length=100, help_text="One runbook per ticket category, compared case-insensitively."
    )
    title = _text(200)
    first_checks = _text(20_000)
    decision_points = _text(20_000)
    standard_fix = _text(20_000)
    edge_cases = _text(20_000)
    sign_off_rules = _text(20_000)
    client_message_template = _text(20_000)
    escalation_level = serializers.ChoiceField(
        choices=EscalationLevel.choices, required=False, help_text="Default `L1`."
    )
    last_reviewed = BoundedDateField(required=False, allow_null=True)
    revision = serializers.IntegerField(read_only=True, help_text="1 when created, +1 on every change.")
    updated_at = serializers.DateTimeField(read_only=True)
    updated_by = serializers.CharField(read_only=True, allow_null=True, help_text="Username.")

    def new_object(self) -> Runbook:
        return Runbook(organization=self.context["org"])

    def to_representation(self, runbook: Runbook) -> dict[str, Any]:
        return {
            "id": runbook.pk,
            **{name: getattr(runbook, name) for name in ("ticket_category", *_RUNBOOK_TEXT)},
            "escalation_level": runbook.escalation_level,
            "last_reviewed": runbook.last_reviewed.isoformat() if runbook.last_reviewed else None,
            "revision": runbook.revision,
            "updated_at": weeks.to_local(runbook.updated_at, self.context["tz"]).isoformat(),
            "updated_by": runbook.updated_by.get_username() if runbook.updated_by_id else None,
        }


_RUNBOOK_TEXT = (
    "title",
    "first_checks",
    "decision_points",
    "standard_fix",
    "edge_cases",
    "sign_off_rules",
    "client_message_template",
)


class RunbookRevisionSerializer(serializers.Serializer):
    """Schema of a revision (the body is built in ``to_representation``): the text as it was."""

    revision = serializers.IntegerField()
    changed_at = serializers.DateTimeField()
    changed_by = serializers.CharField(allow_null=True, help_text="Username.")
    ticket_category = serializers.CharField()
    title = serializers.CharField(allow_blank=True)
    first_checks = serializers.CharField(allow_blank=True)
    decision_points = serializers.CharField(allow_blank=True)
    standard_fix = serializers.CharField(allow_blank=True)
    edge_cases = serializers.CharField(allow_blank=True)
    sign_off_rules = serializers.CharField(allow_blank=True)
    client_message_template = serializers.CharField(allow_blank=True)
    escalation_level = serializers.ChoiceField(choices=EscalationLevel.choices)
    last_reviewed = serializers.DateField(allow_null=True)

    def to_representation(self, revision) -> dict[str, Any]:
        return {
            "revision": revision.revision,
            "changed_at": weeks.to_local(revision.changed_at, self.context["tz"]).isoformat(),
            "changed_by": revision.changed_by.get_username() if revision.changed_by_id else None,
            **{name: getattr(revision, name) for name in ("ticket_category", *_RUNBOOK_TEXT)},
            "escalation_level": revision.escalation_level,
            "last_reviewed": revision.last_reviewed.isoformat() if revision.last_reviewed else None,
        }


class EscalationStepSerializer(StrictSerializer):
    """A level's fields; those left out keep their values (PUT names every level, PATCH some)."""

    criteria = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
    approval_limit_amount = JsonNumberField(required=False, allow_null=True)
    approval_limit_hours = JsonNumberField(max_digits=7, required=False, allow_null=True)


class EscalationMapSerializer(StrictSerializer):
    L1 = EscalationStepSerializer()
    L2 = EscalationStepSerializer()
    owner_only = EscalationStepSerializer()

    def to_representation(self, steps) -> dict[str, Any]:
        return {
            step.level: {
                "criteria": step.criteria,
                "approval_limit_amount": None
                if step.approval_limit_amount is None
                else float(step.approval_limit_amount),
                "approval_limit_hours": None
                if step.approval_limit_hours is None
                else float(step.approval_limit_hours),
            }
            for step in steps
        }


# --- drills and time blocks ---------------------------------------------------------------


class DrillSerializer(_ModelShape):
    id = serializers.IntegerField(read_only=True)
    starts_at = AwareDateTimeField()
    ends_at = AwareDateTimeField(
        required=False, help_text="Default `starts_at` + 3 local days, at the same wall-clock time."
    )
    notes = _text(10_000)
    status = serializers.ChoiceField(choices=DrillStatus.choices, read_only=True)
    completed_at = serializers.DateTimeField(read_only=True, allow_null=True)

    read_sources = {
        "status": Computed(
            ("starts_at", "ends_at", "completed_at"),
            lambda starts_at, ends_at, completed_at, context: (
                Drill(starts_at=starts_at, ends_at=ends_at, completed_at=completed_at)
                .status_at(context["now"])
                .value
            ),
            needs_context=True,
        )
    }

    def new_object(self) -> Drill:
        return Drill(organization=self.context["org"])

    def to_representation(self, drill: Drill) -> dict[str, Any]:
        tz = self.context["tz"]
        return {
            "id": drill.pk,
            "starts_at": weeks.to_local(drill.starts_at, tz).isoformat(),
            "ends_at": weeks.to_local(drill.ends_at, tz).isoformat(),
            "notes": drill.notes,
            "status": drill.status_at(self.context["now"]).value,
            "completed_at": weeks.to_local(drill.completed_at, tz).isoformat()
            if drill.completed_at
            else None,
        }


class TimeBlockSerializer(_ModelShape):
    id = serializers.IntegerField(read_only=True)
    user = serializers.CharField(
        required=False, max_length=150, help_text="Username of a member; defaults to the token's member."
    )
    kind = serializers.ChoiceField(choices=BlockKind.choices)
    weekday = serializers.ChoiceField(choices=Weekday.choices, help_text="1 = Monday .. 7 = Sunday.")
    start_time = HourMinuteField(help_text="HH:MM, local time of the organization.")
    end_time = HourMinuteField(help_text="HH:MM, after start_time.")

    @classmethod
    def batch_context(cls, items: list[Any], request) -> dict[str, Any]:
        return {"members": members_by_username(request, items)}

    def validate_user(self, value: str):
        return resolve_member(self.context, value)

    def new_object(self) -> TimeBlock:
        return TimeBlock(organization=self.context["org"], user=self.context["request"].user)

    def to_representation(self, block: TimeBlock) -> dict[str, Any]:
        return {
            "id": block.pk,
            "user": block.user.get_username(),
            "kind": block.kind,
            "weekday": block.weekday,
            "start_time": block.start_time.strftime("%H:%M"),
            "end_time": block.end_time.strftime("%H:%M"),
        }
