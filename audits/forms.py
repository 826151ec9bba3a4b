"""Forms of the time-audit pages: they check shape and resolve slugs inside the org; they never write.

Every write goes through ``audits.services`` (STYLE 3); a service's ValidationError is put
back on the form with ``attach_service_errors``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from audits.models import (
    ENDS_BEFORE_START,
    ENTRY_FIELDS,
    MAX_ACTIVITY_LENGTH,
    Category,
    CategoryKind,
    Handling,
    Source,
    Tag,
    TimeEntry,
    entry_values,
)
from audits.quickadd import QuickAdd, QuickAddError, parse_quick_add, parse_timer_line
from msp_ops.lib import weeks

# Service error keys -> the form field that shows them.
_FIELD_OF = {"started_at": "start", "ended_at": "end"}
_STORED_OF = {field: key for key, field in _FIELD_OF.items()}


def attach_service_errors(form: forms.Form, error: ValidationError, *, default: str | None = None) -> None:
    """Shows a service's ValidationError on ``form``: under the matching field, else ``default``."""
    messages = error.message_dict if hasattr(error, "message_dict") else {NON_FIELD_ERRORS: error.messages}
    for key, texts in messages.items():
        name = _FIELD_OF.get(key, key)
        target = name if name in form.fields else default
        for text in texts:
            form.add_error(target, text)


class EntryForm(forms.Form):
    """Add or edit an entry: times on a local date; an end before the start is the next day.

    The times become instants through ``weeks.local_moment``: a time skipped by the
    spring-forward gap is refused under its field; a time the fall-back repeats is its first
    occurrence, an end whose first occurrence is not after the start its second (1:50 to
    1:10 that night is 20 minutes), and an edited entry's unchanged time keeps its own.
    """

    date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    start = forms.TimeField(widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    end = forms.TimeField(widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    activity = forms.CharField(
        max_length=MAX_ACTIVITY_LENGTH, widget=forms.TextInput(attrs={"placeholder": "What did you do?"})
    )
    category = forms.ChoiceField()
    tags = forms.MultipleChoiceField(choices=Tag.choices, required=False, widget=forms.CheckboxSelectMultiple)
    handling = forms.ChoiceField(choices=Handling.choices, initial=Handling.PERSONAL)
    urgent = forms.NullBooleanField(required=False, widget=forms.NullBooleanSelect)
    important = forms.NullBooleanField(required=False, widget=forms.NullBooleanSelect)
    client = forms.CharField(max_length=200, required=False)
    ticket_ref = forms.CharField(max_length=100, required=False, label="Ticket")
    notes = forms.CharField(max_length=10_000, required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(
        self, *args, categories: Sequence[Category], tz: ZoneInfo, entry: TimeEntry | None = None, **kwargs
    ) -> None:
        """``categories``: the org's active ones; an edited entry keeps its archived one."""
        self.tz = tz
        self.entry = entry
        self.by_slug = {c.slug: c for c in categories}
        if entry is not None and entry.category.slug not in self.by_slug:
            self.by_slug[entry.category.slug] = entry.category
        if entry is not None and "initial" not in kwargs:
            start, end = weeks.to_local(entry.started_at, tz), weeks.to_local(entry.ended_at, tz)
            values = entry_values(entry, tz, [name for name in self.base_fields if name in ENTRY_FIELDS])
            kwargs["initial"] = {
                "date": start.date(),
                "start": start.time().replace(second=0, microsecond=0),
                "end": end.time().replace(second=0, microsecond=0),
                # The entry's fields the form shows as they are (ENTRY_FIELDS).
                **{name: values[name] for name in self.base_fields if name in values},
            }
        if entry is not None:
            kwargs.setdefault("auto_id", f"id_e{entry.pk}_%s")  # unique ids beside the add form
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [
            (c.slug, f"{c.name} (archived)" if c.archived else c.name) for c in self.by_slug.values()
        ]
        if "category" not in self.initial:
            self.initial["category"] = "other"

    def clean(self) -> dict:
        data = super().clean()
        day, start, end = data.get("date"), data.get("start"), data.get("end")
        if day and start and end:
            if start == end:
                self.add_error("end", ENDS_BEFORE_START)
            end_day = day if end > start else day + timedelta(days=1)
            started_at = self._moment("start", day, start)
            ended_at = self._moment("end", end_day, end, after=started_at)
            if started_at and ended_at:
                data["started_at"], data["ended_at"] = started_at, ended_at
        if slug := data.get("category"):
            data["category"] = self.by_slug[slug]
        return data

    def _moment(self, name: str, day: date, at: time, *, after: datetime | None = None) -> datetime | None:
        """The instant of the ``name`` field's time on ``day``, or None with the error shown under it.

        An edited entry's unchanged time keeps its occurrence: the second 1:30 of a fall-back
        night stays the second one when the entry is saved again.
        """
        fold = 0
        if self.entry is not None:
            kept = weeks.to_local(getattr(self.entry, _STORED_OF[name]), self.tz)
            if (kept.date(), kept.time().replace(second=0, microsecond=0)) == (day, at):
                fold = kept.fold
        try:
            return weeks.local_moment(day, at, self.tz, fold=fold, after=after)
        except weeks.NonexistentLocalTime as error:
            self.add_error(name, str(error))
            return None

    def to_entry(self, *, user) -> TimeEntry:
        """The unsaved entry to hand to ``record_time_entry`` (the edited one keeps its pk)."""
        data = self.cleaned_data
        entry = self.entry or TimeEntry(user=user, source=Source.WEB)
        for name in ("started_at", "ended_at", "activity", "category", "handling", "urgent", "important"):
            setattr(entry, name, data[name])
        for name in ("client", "ticket_ref", "notes"):
            setattr(entry, name, data[name].strip())
        entry.tags = data["tags"]
        return entry


class QuickAddForm(forms.Form):
    line = forms.CharField(
        max_length=1000,
        required=False,
        label="Quick add",
        widget=forms.TextInput(
            attrs={
                "placeholder": "9:00-9:45 Password resets for Acme @tickets #repetitive",
                "autocomplete": "off",
                "spellcheck": "false",
            }
        ),
    )

    def __init__(
        self,
        *args,
        day: date,
        tz: ZoneInfo,
        now: datetime,
        categories: Sequence[Category],
        last_end: datetime | None,
        **kwargs,
    ) -> None:
        self.day, self.tz, self.now, self.last_end = day, tz, now, last_end
        self.by_slug = {c.slug: c for c in categories}
        super().__init__(*args, **kwargs)

    def clean_line(self) -> QuickAdd:
        try:
            return parse_quick_add(
                self.cleaned_data["line"],
                day=self.day,
                tz=self.tz,
                now=self.now,
                categories=self.by_slug.keys(),
                last_end=self.last_end,
            )
        except QuickAddError as error:
            raise ValidationError(str(error)) from None

    def to_entry(self, *, user) -> TimeEntry:
        parsed: QuickAdd = self.cleaned_data["line"]
        entry = TimeEntry(
            user=user,
            started_at=parsed.started_at,
            ended_at=parsed.ended_at,
            activity=parsed.activity,
            category=self.by_slug[parsed.category or "other"],
            handling=parsed.handling,
            urgent=parsed.urgent,
            important=parsed.important,
            client=parsed.client,
            ticket_ref=parsed.ticket_ref,
            source=Source.WEB,
        )
        entry.tags = parsed.tags
        return entry


class TimerForm(forms.Form):
    activity = forms.CharField(
        max_length=MAX_ACTIVITY_LENGTH,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "What are you working on?"}),
    )
    category = forms.ChoiceField(required=False)

    def __init__(self, *args, categories: Sequence[Category], **kwargs) -> None:
        self.by_slug = {c.slug: c for c in categories}
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", "Category…"), *((c.slug, c.name) for c in categories)]

    def clean_category(self) -> Category | None:
        slug = self.cleaned_data.get("category")
        return self.by_slug.get(slug) if slug else None

    def clean(self) -> dict:
        """``@category`` and ``#tag`` work in the activity as on the quick-add line."""
        data = super().clean()
        try:
            line = parse_timer_line(data.get("activity", ""), categories=self.by_slug.keys())
        except QuickAddError as error:
            self.add_error("activity", str(error))
            return data
        data["activity"] = line.activity
        data["tags"] = line.tags
        if line.category:
            data["category"] = self.by_slug[line.category]
        return data


class AuditStartForm(forms.Form):
    start_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), label="First day")
    member = forms.ModelChoiceField(
        queryset=get_user_model().objects.none(), required=False, empty_label=None
    )

    def __init__(self, *args, org, may_choose_member: bool, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if may_choose_member:
            self.fields["member"].queryset = (
                get_user_model().objects.filter(memberships__organization=org).order_by("username")
            )
            self.fields["member"].required = True
        else:
            del self.fields["member"]


class CategoryForm(forms.Form):
    slug = forms.SlugField(max_length=50, help_text="Used by the API, CSV files and @slug in quick-add.")
    name = forms.CharField(max_length=100)
    kind = forms.ChoiceField(choices=CategoryKind.choices, initial=CategoryKind.IN_BUSINESS)

    def clean_slug(self) -> str:
        return self.cleaned_data["slug"].lower()


class CategoryUpdateForm(forms.Form):
    name = forms.CharField(max_length=100)
    kind = forms.ChoiceField(choices=CategoryKind.choices)
