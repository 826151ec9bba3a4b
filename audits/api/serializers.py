"""Shapes of /time-entries/ and /audits/ (SPEC 4), field for field.

Serializers check shape and resolve usernames and category slugs inside the organization
(one query each per batch); the services write. Output is built by hand from the stored
rows (``to_representation``): a batch of 500 answers fast; a list page is built from columns
(``read_sources``, ``msp_ops.api.fastread``), field for field the same.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from audits.models import (
    DEFAULT_CATEGORY_SLUG,
    MAX_ACTIVITY_LENGTH,
    TAG_FIELDS,
    Category,
    Handling,
    Source,
    Tag,
    TimeAudit,
    TimeEntry,
    entry_values,
)
from audits.selectors import current_categories
from msp_ops.api.fastread import Computed
from msp_ops.api.serializers import (
    AwareDateTimeField,
    BoundedDateField,
    StrictBooleanField,
    StrictSerializer,
    lookup_values,
    members_by_username,
    resolve_member,
)
from msp_ops.lib.weeks import micros_to_hours_float
from msp_ops.orgs.batches import unsaved_object

TAG_NAMES = ", ".join(TAG_FIELDS)


# A list page's tags and hours from the columns (``read_sources``), as ``to_representation``
# answers them: each set of tag flags' list, made once; hours with 2 places, half up.
_TAG_LISTS = {
    flags: [tag for tag, on in zip(TAG_FIELDS, flags, strict=True) if on]
    for flags in itertools.product((False, True), repeat=len(TAG_FIELDS))
}
_MICROSECOND = timedelta(microseconds=1)  # made once: building it took a third of a row's hours


def _duration_hours(started_at, ended_at) -> float:
    """``float(hours_between(started_at, ended_at))`` (an entry ends after it starts)."""
    return micros_to_hours_float((ended_at - started_at) // _MICROSECOND)


class TagListField(serializers.ListField):
    """Tag names in, the same set out in the fixed order (repetitive, outsourceable, ...)."""

    child = serializers.ChoiceField(choices=Tag.choices)

    def to_internal_value(self, data: Any) -> list[str]:
        if not isinstance(data, list):
            self.fail("not_a_list", input_type=type(data).__name__)
        if unknown := [value for value in data if not (isinstance(value, str) and value in TAG_FIELDS)]:
            shown = ", ".join(repr(value) for value in unknown)
            raise serializers.ValidationError(f"Unknown tag(s) {shown}; the tags are {TAG_NAMES}.")
        return [tag for tag in TAG_FIELDS if tag in data]


def known_category(context: Mapping[str, Any], slug: str) -> Category:
    """The category a write names by ``slug``, among the organization's that the batch's
    context holds (``context["categories"]``, by slug), or the error its client reads."""
    try:
        return context["categories"][slug]
    except KeyError:
        raise serializers.ValidationError(
            f"Unknown category '{slug}'; use the slug of one of the organization's categories."
        ) from None


class TimeEntrySerializer(StrictSerializer):
    id = serializers.IntegerField(read_only=True)
    user = serializers.CharField(
        required=False, max_length=150, help_text="Username of a member; defaults to the token's member."
    )
    started_at = AwareDateTimeField(help_text="ISO 8601 with a UTC offset; answered in the org's zone.")
    ended_at = AwareDateTimeField(help_text="After started_at, at most 24 hours later.")
    activity = serializers.CharField(
        min_length=1,
        max_length=MAX_ACTIVITY_LENGTH,
        help_text=f"What was done, 1 to {MAX_ACTIVITY_LENGTH} characters.",
    )
    category = serializers.CharField(
        required=False,
        max_length=50,
        help_text=f"Slug of one of the organization's categories; default `{DEFAULT_CATEGORY_SLUG}`.",
    )
    tags = TagListField(required=False, help_text=f"A set of: {TAG_NAMES}; answered in that order.")
    handling = serializers.ChoiceField(
        choices=Handling.choices, required=False, help_text="Default `personal`."
    )
    urgent = StrictBooleanField(required=False, allow_null=True, help_text="null when not assessed.")
    important = StrictBooleanField(required=False, allow_null=True, help_text="null when not assessed.")
    client = serializers.CharField(required=False, allow_blank=True, max_length=200)
    ticket_ref = serializers.CharField(required=False, allow_blank=True, max_length=100)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
    external_id = serializers.CharField(
        required=False,
        allow_null=True,
        allow_blank=True,
        max_length=200,
        help_text="Unique per organization: sending it again updates that entry instead of adding one.",
    )
    source = serializers.ChoiceField(choices=Source.choices, required=False, help_text="Default `api`.")
    duration_hours = serializers.FloatField(read_only=True, help_text="Hours, 2 decimal places.")

    read_sources = {
        "category": "category__slug",
        "tags": Computed(tuple(TAG_FIELDS.values()), lambda *flags: _TAG_LISTS[flags]),
        "duration_hours": Computed(("started_at", "ended_at"), _duration_hours),
    }

    @classmethod
    def batch_context(cls, items: list[Any], request) -> dict[str, Any]:
        # The slugs named (and the default), as of the organization read with the token: no
        # query while its categories are unchanged (``current_categories``). The service takes
        # these rows as read (``save_time_entries(categories=...)``).
        slugs = lookup_values(items, "category") | {DEFAULT_CATEGORY_SLUG}
        return {
            "members": members_by_username(request, items),
            "categories": current_categories(request.org, slugs),
        }

    def validate_user(self, value: str):
        return resolve_member(self.context, value)

    def validate_category(self, value: str) -> Category:
        return known_category(self.context, value)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """The entry's own rules (times in order, at most 24 h) from the model's ``clean()``, so
        they come with the shape errors; rules across rows (overlaps...) come from the service."""
        current = self.instance
        # The three fields clean() reads, without building a model object per item (a third
        # of a batch item's validation time went into TimeEntry.__init__).
        probe = SimpleNamespace(
            started_at=attrs.get("started_at", getattr(current, "started_at", None)),
            ended_at=attrs.get("ended_at", getattr(current, "ended_at", None)),
            activity=attrs.get("activity", getattr(current, "activity", "")),
        )
        try:
            TimeEntry.clean(probe)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.message_dict) from None
        return attrs

    def to_object(self, data: dict[str, Any], instance: TimeEntry | None = None) -> TimeEntry:
        if instance is None:
            return self._new_entry(data)
        for name, value in data.items():
            setattr(instance, name, value)  # the service checks the category (archived or not)
        return instance

    def _new_entry(self, data: dict[str, Any]) -> TimeEntry:
        """``TimeEntry(organization=..., user=..., **data)`` by the positional path
        (``unsaved_object``): the service checks the category (archived or not)."""
        values: dict[str, Any] = {"source": Source.API}
        related = {"organization": self.context["org"], "user": self.context["request"].user}
        if (default := self.context["categories"].get(DEFAULT_CATEGORY_SLUG)) is not None:
            related["category"] = default
        for name, value in data.items():
            if name == "tags":
                values.update((column, tag in value) for tag, column in TAG_FIELDS.items())
            elif name in related or name == "category":
                related[name] = value
            else:
                values[name] = value
        return unsaved_object(TimeEntry, values, related)

    def to_representation(self, entry: TimeEntry) -> dict[str, Any]:
        return entry_values(entry, self.context["tz"])


class AuditSerializer(StrictSerializer):
    id = serializers.IntegerField(read_only=True)
    user = serializers.CharField(
        required=False, max_length=150, help_text="Username of a member; defaults to the token's member."
    )
    start_date = BoundedDateField(help_text="First day (YYYY-MM-DD, the org's local date).")
    end_date = serializers.DateField(read_only=True, help_text="start_date + 6.")

    read_sources = {
        "end_date": Computed(
            ("start_date",), lambda start: (start + timedelta(days=TimeAudit.DAYS - 1)).isoformat()
        ),
    }

    @classmethod
    def batch_context(cls, items: list[Any], request) -> dict[str, Any]:
        return {"members": members_by_username(request, items)}

    def validate_user(self, value: str):
        return resolve_member(self.context, value)

    def to_object(self, data: dict[str, Any], instance: TimeAudit | None = None) -> TimeAudit:
        return TimeAudit(
            organization=self.context["org"],
            user=data.get("user", self.context["request"].user),
            start_date=data["start_date"],
        )

    def to_representation(self, audit: TimeAudit) -> dict[str, Any]:
        return {
            "id": audit.pk,
            "user": audit.user.get_username(),
            "start_date": audit.start_date.isoformat(),
            "end_date": audit.end_date.isoformat(),
        }


# --- the report (schema only: the body comes from audit_report().as_api_dict()) ------------


def _hours(help_text: str = "Hours, 2 decimal places.") -> serializers.FloatField:
    return serializers.FloatField(help_text=help_text)


class HoursByTagSerializer(serializers.Serializer):
    repetitive = _hours()
    outsourceable = _hours()
    systemizable = _hours()
    owner_by_habit = _hours()


class QuadrantsSerializer(serializers.Serializer):
    urgent_important = _hours()
    urgent_not_important = _hours()
    not_urgent_important = _hours()
    not_urgent_not_important = _hours()
    unflagged = _hours(help_text="Hours of entries where urgent or important is null.")


class CandidateSerializer(serializers.Serializer):
    category = serializers.CharField(help_text="Category slug.")
    hours = _hours(help_text="Tagged hours of the category, each entry counted once.")
    hours_by_tag = HoursByTagSerializer()
    entries = serializers.IntegerField(help_text="Number of the category's tagged entries.")


class AuditReportSerializer(serializers.Serializer):
    audit = serializers.IntegerField()
    user = serializers.CharField()
    start_date = serializers.DateField()
    end_date = serializers.DateField()
    logged_hours = _hours()
    hours_by_day = serializers.DictField(child=_hours(), help_text="Each of the 7 dates -> hours.")
    empty_days = serializers.ListField(child=serializers.DateField(), help_text="Days without entries.")
    hours_by_tag = HoursByTagSerializer(help_text="An entry with several tags counts toward each.")
    untagged_hours = _hours()
    reclaimable_hours = _hours(help_text="Hours of entries with at least one tag, counted once.")
    hours_by_category = serializers.DictField(
        child=_hours(), help_text="Slug -> hours, categories with hours."
    )
    in_business_hours = _hours()
    on_business_hours = _hours()
    personal_hours = _hours()
    delegated_hours = _hours()
    quadrants = QuadrantsSerializer()
    candidates = CandidateSerializer(many=True, help_text="At most 5, best first, ties broken by slug.")
