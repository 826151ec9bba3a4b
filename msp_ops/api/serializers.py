"""Strict input for every serializer of the API (SPEC 4).

- ``StrictSerializer`` refuses fields it does not know, naming them (read-only fields are
  accepted and ignored, so an object read from the API can be sent back).
- ``AwareDateTimeField`` takes ISO 8601 with an offset only and answers in the
  organization's zone with its offset.
- ``StrictBooleanField`` takes JSON ``true``/``false`` (and ``null`` where allowed), not ``"yes"``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.utils.dateparse import parse_datetime
from rest_framework import serializers

NAIVE_TIME_MESSAGE = "Give the time with a UTC offset, e.g. 2025-03-03T09:00:00-06:00."
BAD_TIME_MESSAGE = "Not an ISO 8601 timestamp; give e.g. 2025-03-03T09:00:00-06:00 (with a UTC offset)."
# Far beyond any time a member logs; keeps every zone conversion and date sum in range.
FIRST_YEAR, LAST_YEAR = 1900, 2999
RANGE_MESSAGE = f"Give a time between the years {FIRST_YEAR} and {LAST_YEAR}."
DATE_RANGE_MESSAGE = f"Give a date between the years {FIRST_YEAR} and {LAST_YEAR}."


def aware_datetime(value: Any) -> datetime:
    """An aware datetime from an ISO 8601 string with an offset; else ``ValueError(message)``."""
    if not isinstance(value, str):
        raise ValueError(BAD_TIME_MESSAGE)
    try:
        parsed = parse_datetime(value.strip())
    except ValueError:
        parsed = None
    if parsed is None:
        raise ValueError(BAD_TIME_MESSAGE)
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueError(NAIVE_TIME_MESSAGE)
    if not FIRST_YEAR <= parsed.year <= LAST_YEAR:
        raise ValueError(RANGE_MESSAGE)
    return parsed


def parse_aware_datetime(value: Any) -> datetime:
    """An aware datetime from an ISO 8601 string, else a ``serializers.ValidationError``."""
    try:
        return aware_datetime(value)
    except ValueError as error:
        raise serializers.ValidationError(str(error)) from None


class AwareDateTimeField(serializers.DateTimeField):
    def to_internal_value(self, value: Any) -> datetime:
        return parse_aware_datetime(value)

    def to_representation(self, value: datetime) -> str:
        tz = self.context.get("tz")
        return (value.astimezone(tz) if tz else value).isoformat()


class BoundedDateField(serializers.DateField):
    """``YYYY-MM-DD`` within the years the app handles."""

    def to_internal_value(self, value: Any):
        parsed = super().to_internal_value(value)
        if not FIRST_YEAR <= parsed.year <= LAST_YEAR:
            raise serializers.ValidationError(DATE_RANGE_MESSAGE)
        return parsed


class StrictBooleanField(serializers.BooleanField):
    default_error_messages = {"invalid": "Must be true or false."}

    def to_internal_value(self, data: Any) -> bool:
        if isinstance(data, bool):
            return data
        self.fail("invalid")


class StrictSerializer(serializers.Serializer):
    def to_internal_value(self, data: Any) -> Any:
        errors: dict[str, list[str]] = {}
        if isinstance(data, Mapping) and (unknown := [key for key in data if key not in self.fields]):
            known = ", ".join(name for name, field in self.fields.items() if not field.read_only)
            errors = {str(key): [f"Unknown field. Known fields: {known}."] for key in unknown}
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as error:
            if not isinstance(error.detail, dict):
                raise
            raise serializers.ValidationError({**error.detail, **errors}) from None
        if errors:
            raise serializers.ValidationError(errors)
        return value

    @classmethod
    def batch_context(cls, items: list[Any], request) -> dict[str, Any]:
        """Lookups for a whole batch (users, categories...), one query each; see the viewset."""
        return {}

    def to_object(self, data: dict[str, Any], instance: Any = None) -> Any:
        """An unsaved model object from validated data (a changed copy of ``instance``)."""
        raise NotImplementedError


def members_by_username(request, items: list[Any], field: str = "user") -> dict[str, Any]:
    """Members of the request's organization named by ``field`` in a batch (one query).

    The key's own user is always there (no query when the batch names nobody else). A
    username outside the organization is simply missing: "Unknown user", nothing revealed.
    """
    names = {item[field] for item in items if isinstance(item, Mapping) and isinstance(item.get(field), str)}
    names.discard(request.user.get_username())
    members = {request.user.get_username(): request.user}
    if names:
        users = get_user_model().objects.filter(memberships__organization=request.org, username__in=names)
        members.update({user.get_username(): user for user in users})
    return members


def resolve_member(context: dict[str, Any], username: str) -> Any:
    try:
        return context["members"][username]
    except KeyError:
        raise serializers.ValidationError(
            f"Unknown user '{username}': no member of this organization has that username."
        ) from None
