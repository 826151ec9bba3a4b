"""Forms of the delegation pages: they check shape and resolve ids inside the org; they never write.

Every write goes through ``delegation.services`` (STYLE 3); a service's ValidationError is put
back on the form with ``audits.forms.attach_service_errors``. Local dates and wall-clock times
become instants through ``weeks.local_moment`` only.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django import forms

from audits.models import Category
from delegation.models import (
    DRILL_DEFAULT_LENGTH,
    RUNBOOK_TEXT_FIELDS,
    BlockKind,
    Channel,
    Delegate,
    DelegateKind,
    Delegation,
    DelegationStatus,
    Drill,
    EscalationLevel,
    EscalationStep,
    FollowUp,
    Interruption,
    Runbook,
    TimeBlock,
    Weekday,
)
from msp_ops.lib import weeks

# --- interruptions, drills and time blocks (delegation/views/interruptions.py, drills.py,
# time_blocks.py) ------------------------------------------------------------------------

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TIME_INPUT = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
DRILL_MAX_DAYS = 14


def _local_moment(form: forms.Form, field: str, day: date, at: time, tz: ZoneInfo) -> datetime | None:
    """The instant of a local date and time, or None with the error under ``field`` (a time the
    spring-forward gap skips names no instant)."""
    try:
        return weeks.local_moment(day, at, tz)
    except weeks.NonexistentLocalTime as error:
        form.add_error(field, str(error))
        return None


class InterruptionForm(forms.Form):
    """The quick-log form (on every page): a few fields, every one but the channel optional.

    The date and time are local (org zone), prefilled with now when the form opens; left empty
    they mean the moment it is saved.
    """

    channel = forms.ChoiceField(choices=Channel.choices, initial=Channel.CALL, widget=forms.RadioSelect)
    about_ticket = forms.BooleanField(required=False, initial=True, label="About a ticket")
    ticket_ref = forms.CharField(max_length=100, required=False, label="Ticket")
    client = forms.CharField(max_length=200, required=False)
    category = forms.CharField(max_length=100, required=False, label="Ticket category")
    requested_by = forms.CharField(max_length=200, required=False, label="Who asked")
    date = forms.DateField(required=False, widget=DATE_INPUT)
    time = forms.TimeField(required=False, widget=TIME_INPUT)
    notes = forms.CharField(max_length=10_000, required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, tz: ZoneInfo, now: datetime, **kwargs) -> None:
        self.tz, self.now = tz, now
        kwargs.setdefault("auto_id", "ql_%s")  # unique ids beside the page's own forms
        super().__init__(*args, **kwargs)
        local = weeks.to_local(now, tz)
        self.fields["date"].initial = local.date()
        self.fields["time"].initial = local.time().replace(second=0, microsecond=0)
        self.fields["category"].widget.attrs.update(list="ql-categories", autocomplete="off")
        self.fields["ticket_ref"].widget.attrs.update(autocomplete="off", placeholder="e.g. 48213")
        self.fields["client"].widget.attrs.update(autocomplete="off")

    def clean(self) -> dict:
        data = super().clean()
        day, at = data.get("date"), data.get("time")
        if "date" in self.errors or "time" in self.errors:
            return data
        if day is None and at is None:
            data["occurred_at"] = self.now
        elif day is None or at is None:
            self.add_error("time" if at is None else "date", "Give both the date and the time, or neither.")
        elif moment := _local_moment(self, "time", day, at, self.tz):
            data["occurred_at"] = moment
        return data

    def to_interruption(self, *, logged_by) -> Interruption:
        data = self.cleaned_data
        return Interruption(
            occurred_at=data["occurred_at"],
            channel=data["channel"],
            about_ticket=data["about_ticket"],
            ticket_ref=data["ticket_ref"].strip(),
            client=data["client"].strip(),
            category=data["category"].strip(),
            requested_by=data["requested_by"].strip(),
            notes=data["notes"].strip(),
            logged_by=logged_by,
        )


OWNER_LEVEL_CHOICES = [("", "Owner-level?"), ("true", "Owner-level"), ("false", "Not owner-level")]


class FollowUpForm(forms.Form):
    """One interruption's review, in place: its follow-up, the runbook that changed, the
    owner-level mark. Choosing a runbook means the follow-up is ``runbook_updated``."""

    follow_up = forms.ChoiceField(choices=FollowUp.choices)
    runbook = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)
    owner_level = forms.NullBooleanField(
        required=False, widget=forms.Select(choices=OWNER_LEVEL_CHOICES), label="Owner-level"
    )

    def __init__(self, *args, runbooks, interruption: Interruption | None = None, **kwargs) -> None:
        """``runbooks``: the org's (a list, read once for a whole page of rows)."""
        if interruption is not None:
            kwargs.setdefault("auto_id", f"id_i{interruption.pk}_%s")
            kwargs.setdefault(
                "initial",
                {
                    "follow_up": interruption.follow_up,
                    "runbook": interruption.runbook_id,
                    "owner_level": interruption.owner_level,
                },
            )
        super().__init__(*args, **kwargs)
        self.runbooks = {r.pk: r for r in runbooks}
        self.fields["runbook"].choices = [("", "Runbook…"), *[(r.pk, r.ticket_category) for r in runbooks]]
        for field in self.fields.values():  # saved as picked (static/js/app.js)
            field.widget.attrs["data-submit-on-pick"] = ""

    def clean_runbook(self) -> Runbook | None:
        pk = self.cleaned_data.get("runbook")
        return None if pk is None else self.runbooks[pk]

    def clean(self) -> dict:
        data = super().clean()
        if data.get("runbook") is not None and data.get("follow_up") == FollowUp.NONE:
            data["follow_up"] = FollowUp.RUNBOOK_UPDATED
        return data


class DrillForm(forms.Form):
    """Start a drill now (date and time empty) or at a local time; 3 days unless told."""

    date = forms.DateField(required=False, widget=DATE_INPUT, label="Starts on")
    time = forms.TimeField(required=False, widget=TIME_INPUT, label="at")
    days = forms.IntegerField(
        min_value=1,
        max_value=DRILL_MAX_DAYS,
        initial=DRILL_DEFAULT_LENGTH.days,
        label="Days",
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    notes = forms.CharField(max_length=2000, required=False, widget=forms.TextInput())

    def __init__(self, *args, tz: ZoneInfo, now: datetime, **kwargs) -> None:
        self.tz, self.now = tz, now
        super().__init__(*args, **kwargs)
        self.fields["notes"].widget.attrs["placeholder"] = "e.g. at the peer-group retreat; call only for P1"

    def clean(self) -> dict:
        data = super().clean()
        day, at = data.get("date"), data.get("time")
        if "date" in self.errors or "time" in self.errors:
            return data
        if day is None and at is None:
            data["starts_at"] = weeks.floor_minute(self.now)
        elif day is None:
            self.add_error("date", "Give the day the drill starts, or leave both empty to start now.")
        elif moment := _local_moment(self, "time", day, at or time.min, self.tz):
            data["starts_at"] = moment
        return data

    def to_drill(self) -> Drill:
        data = self.cleaned_data
        days = data["days"]
        starts = data["starts_at"]
        # 3 days: the service's default, 3 local days ending at the start's wall-clock time
        # (71 or 73 real hours across a DST change), as the API's; another length is real time.
        ends = (
            None if timedelta(days=days) == DRILL_DEFAULT_LENGTH else weeks.plus(starts, timedelta(days=days))
        )
        return Drill(starts_at=starts, ends_at=ends, notes=data["notes"].strip())


class TimeBlockForm(forms.Form):
    """A block of the founder's weekly plan: kind, weekday, local start and end times."""

    kind = forms.ChoiceField(choices=BlockKind.choices, initial=BlockKind.OWNER_ESCALATIONS)
    weekday = forms.TypedChoiceField(choices=Weekday.choices, coerce=int, initial=Weekday.MONDAY)
    start_time = forms.TimeField(widget=TIME_INPUT, label="From")
    end_time = forms.TimeField(widget=TIME_INPUT, label="To")

    def __init__(self, *args, block: TimeBlock | None = None, **kwargs) -> None:
        self.block = block
        if block is not None:
            kwargs.setdefault("auto_id", f"id_b{block.pk}_%s")
            kwargs.setdefault(
                "initial",
                {
                    "kind": block.kind,
                    "weekday": block.weekday,
                    "start_time": block.start_time,
                    "end_time": block.end_time,
                },
            )
        super().__init__(*args, **kwargs)

    def to_block(self, *, user) -> TimeBlock:
        """The unsaved block for ``save_time_blocks`` (an edited one keeps its pk and member)."""
        if self.block is not None:  # a copy: a refused change leaves the shown block as stored
            block = TimeBlock(pk=self.block.pk, user_id=self.block.user_id)
        else:
            block = TimeBlock(user=user)
        for name in ("kind", "weekday", "start_time", "end_time"):
            setattr(block, name, self.cleaned_data[name])
        return block


# --- the delegation board, delegates, runbooks and the escalation map (delegation/views/board.py,
# delegates.py, runbooks.py, escalation.py) ------------------------------------------------

BOARD_DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
NEW_DELEGATION_STATUSES = [DelegationStatus.CANDIDATE, DelegationStatus.PLANNED, DelegationStatus.HANDED_OFF]


def money_input(**kwargs) -> forms.DecimalField:
    return forms.DecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0"),
        widget=forms.NumberInput(attrs={"step": "0.01", "min": "0", "inputmode": "decimal"}),
        **kwargs,
    )


def hours_input(**kwargs) -> forms.DecimalField:
    return forms.DecimalField(
        max_digits=7,
        decimal_places=2,
        min_value=Decimal("0"),
        widget=forms.NumberInput(attrs={"step": "0.25", "min": "0", "inputmode": "decimal"}),
        **kwargs,
    )


def text_area(rows: int = 3, **attrs) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows, **attrs})


class DelegationForm(forms.Form):
    """Create or edit a delegation. Its status changes on the board only (SPEC 1's moves); a new
    one may start as candidate, planned or handed off, with its definition of done one item per
    line (edited as a checklist afterwards)."""

    title = forms.CharField(max_length=200)
    category = forms.ChoiceField(help_text="The audit bucket it takes off the founder.")
    delegate = forms.ChoiceField(required=False)
    status = forms.ChoiceField(
        choices=[(s.value, s.label) for s in NEW_DELEGATION_STATUSES], initial=DelegationStatus.CANDIDATE
    )
    checklist = forms.CharField(
        required=False,
        label="Definition of done",
        help_text="One item per line.",
        widget=text_area(4, placeholder="Runbook written and reviewed\nTwo weeks without owner escalations"),
    )
    decision_boundary = forms.CharField(
        required=False,
        help_text="What the delegate may decide alone.",
        widget=text_area(3, placeholder="May approve vendor RMAs and replacement hardware for clients"),
    )
    approval_limit_amount = money_input(required=False, label="Approval limit (money)")
    approval_limit_hours = hours_input(required=False, label="Approval limit (hours)")
    escalation_triggers = forms.CharField(
        required=False,
        help_text="When the delegate must come back to you.",
        widget=text_area(
            3, placeholder="Client threatens to leave; security incident; spend above the limit"
        ),
    )
    expected_hours_per_week = hours_input(initial=Decimal("0"), label="Expected founder hours freed / week")
    handoff_date = forms.DateField(
        required=False, widget=BOARD_DATE_INPUT, help_text="Today when handed off without one."
    )
    review_date = forms.DateField(required=False, widget=BOARD_DATE_INPUT)
    done_override_reason = forms.CharField(
        required=False,
        label="Done although items are open, because…",
        help_text="Only to mark it done with unchecked items.",
        widget=text_area(2),
    )

    EDITED = (
        "title",
        "decision_boundary",
        "approval_limit_amount",
        "approval_limit_hours",
        "escalation_triggers",
        "expected_hours_per_week",
        "handoff_date",
        "review_date",
        "done_override_reason",
    )

    def __init__(
        self,
        *args,
        categories: Sequence[Category],
        delegates: Sequence[Delegate],
        delegation: Delegation | None = None,
        **kwargs,
    ) -> None:
        """``categories`` and ``delegates``: the org's active ones; an edited delegation keeps its
        archived category or inactive delegate."""
        self.delegation = delegation
        self.categories = {c.slug: c for c in categories}
        self.delegates = {str(d.pk): d for d in delegates}
        if delegation is not None:
            self.categories.setdefault(delegation.category.slug, delegation.category)
            if delegation.delegate is not None:
                self.delegates.setdefault(str(delegation.delegate.pk), delegation.delegate)
            if "initial" not in kwargs:
                kwargs["initial"] = {name: getattr(delegation, name) for name in self.EDITED} | {
                    "category": delegation.category.slug,
                    "delegate": str(delegation.delegate_id or ""),
                }
        super().__init__(*args, **kwargs)
        if delegation is not None:  # status and checklist change on the board
            del self.fields["status"], self.fields["checklist"]
        self.fields["category"].choices = [
            (slug, f"{c.name} (archived)" if c.archived else c.name) for slug, c in self.categories.items()
        ]
        self.fields["delegate"].choices = [
            ("", "— nobody yet —"),
            *[(pk, d.name if d.active else f"{d.name} (inactive)") for pk, d in self.delegates.items()],
        ]

    def values(self) -> dict[str, Any]:
        """The model fields to give the service (category and delegate resolved in the org)."""
        data = dict(self.cleaned_data)
        data["category"] = self.categories[data["category"]]
        data["delegate"] = self.delegates.get(data["delegate"] or "")
        for name in ("title", "decision_boundary", "escalation_triggers", "done_override_reason"):
            data[name] = data[name].strip()
        if data["expected_hours_per_week"] is None:
            data["expected_hours_per_week"] = Decimal("0")
        if "checklist" in data:
            lines = (" ".join(line.split()) for line in data.pop("checklist").splitlines())
            data["definition_of_done"] = [{"text": line, "done": False} for line in lines if line]
        return data


class MoveForm(forms.Form):
    status = forms.ChoiceField(choices=DelegationStatus.choices)


class ChecklistForm(forms.Form):
    action = forms.ChoiceField(choices=[(a, a) for a in ("add", "check", "uncheck", "remove")])
    index = forms.IntegerField(required=False, min_value=0)
    text = forms.CharField(required=False, max_length=2000)


class CandidateFromAuditForm(forms.Form):
    """The report's "Create delegation candidate" button: a category of the org (by slug) and the
    tagged hours the report showed (when missing, the service reads them from the report)."""

    category = forms.SlugField()
    expected_hours_per_week = hours_input(required=False)

    def __init__(self, *args, categories: Sequence[Category], **kwargs) -> None:
        self.categories = {c.slug: c for c in categories}
        super().__init__(*args, **kwargs)

    def clean_category(self) -> Category:
        slug = self.cleaned_data["category"]
        if slug not in self.categories:
            raise forms.ValidationError("Unknown category.")
        return self.categories[slug]


class DelegateForm(forms.Form):
    name = forms.CharField(max_length=200)
    kind = forms.ChoiceField(choices=DelegateKind.choices, initial=DelegateKind.TECHNICIAN)
    email = forms.EmailField(required=False)
    hourly_cost = money_input(required=False, label="Hourly cost")
    active = forms.BooleanField(required=False, initial=True)

    def __init__(self, *args, delegate: Delegate | None = None, **kwargs) -> None:
        if delegate is not None:
            kwargs.setdefault("auto_id", f"id_d{delegate.pk}_%s")
            kwargs.setdefault(
                "initial",
                {
                    "name": delegate.name,
                    "kind": delegate.kind,
                    "email": delegate.email or "",
                    "hourly_cost": delegate.hourly_cost,
                    "active": delegate.active,
                },
            )
        super().__init__(*args, **kwargs)

    def values(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["name"] = data["name"].strip()
        data["email"] = data["email"] or None
        return data


class RunbookForm(forms.Form):
    """SPEC 1's sections of a runbook, its escalation level and the last-reviewed date."""

    ticket_category = forms.CharField(
        max_length=100, help_text="Compared case-insensitively: one runbook per ticket category."
    )
    title = forms.CharField(max_length=200, required=False)
    first_checks = forms.CharField(required=False, widget=text_area(5))
    decision_points = forms.CharField(required=False, widget=text_area(5))
    standard_fix = forms.CharField(required=False, widget=text_area(6))
    edge_cases = forms.CharField(required=False, widget=text_area(4))
    sign_off_rules = forms.CharField(required=False, label="Sign-off rules", widget=text_area(3))
    client_message_template = forms.CharField(required=False, widget=text_area(5))
    escalation_level = forms.ChoiceField(choices=EscalationLevel.choices, initial=EscalationLevel.L1)
    last_reviewed = forms.DateField(required=False, widget=BOARD_DATE_INPUT)

    FIELDS = ("ticket_category", *RUNBOOK_TEXT_FIELDS, "escalation_level", "last_reviewed")

    def __init__(self, *args, runbook: Runbook | None = None, **kwargs) -> None:
        if runbook is not None:
            kwargs.setdefault("initial", {name: getattr(runbook, name) for name in self.FIELDS})
        super().__init__(*args, **kwargs)
        self.fields["ticket_category"].widget.attrs.update(list="ticket-categories", autocomplete="off")

    def values(self) -> dict[str, Any]:
        # Text as typed (line breaks matter in a runbook), without trailing blanks on each line.
        data = dict(self.cleaned_data)
        for name in RUNBOOK_TEXT_FIELDS:
            data[name] = "\n".join(line.rstrip() for line in data[name].replace("\r\n", "\n").split("\n"))
        return data


class EscalationMapForm(forms.Form):
    """The three levels at once: ``<level>-criteria``, ``<level>-approval_limit_amount`` and
    ``<level>-approval_limit_hours``."""

    FIELDS = ("criteria", "approval_limit_amount", "approval_limit_hours")

    def __init__(self, *args, steps: Sequence[EscalationStep], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        stored = {step.level: step for step in steps}
        self.levels = []
        for level, label in EscalationLevel.choices:
            self.fields[f"{level}-criteria"] = forms.CharField(
                required=False, label="Criteria", widget=text_area(8)
            )
            self.fields[f"{level}-approval_limit_amount"] = money_input(
                required=False, label="Approval limit (money)"
            )
            self.fields[f"{level}-approval_limit_hours"] = hours_input(
                required=False, label="Approval limit (hours)"
            )
            if (step := stored.get(level)) is not None:
                for name in self.FIELDS:
                    self.initial.setdefault(f"{level}-{name}", getattr(step, name))
            self.levels.append((level, label, [self[f"{level}-{name}"] for name in self.FIELDS]))

    def values(self) -> dict[str, dict[str, Any]]:
        data = self.cleaned_data
        return {
            level: {
                "criteria": data[f"{level}-criteria"].strip(),
                "approval_limit_amount": data[f"{level}-approval_limit_amount"],
                "approval_limit_hours": data[f"{level}-approval_limit_hours"],
            }
            for level in EscalationLevel.values
        }
