"""Strict input for every serializer of the API (SPEC 4).

- ``StrictSerializer`` refuses fields it does not know, naming them (read-only fields are
  accepted and ignored, so an object read from the API can be sent back), and values of
  another JSON type than the field's (``5`` for a text, ``"5"`` for a number or an integer choice).
- ``AwareDateTimeField`` takes ISO 8601 with an offset only and answers in the
  organization's zone with its offset.
- ``StrictBooleanField`` takes JSON ``true``/``false`` (and ``null`` where allowed), not ``"yes"``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.core import validators
from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.validators import ProhibitSurrogateCharactersValidator

from msp_ops.lib.weeks import NAIVE_TIME_MESSAGE

BAD_TIME_MESSAGE = "Not an ISO 8601 timestamp; give e.g. 2025-03-03T09:00:00-06:00 (with a UTC offset)."
# Far beyond any time a member logs; keeps every zone conversion and date sum in range.
FIRST_YEAR, LAST_YEAR = 1900, 2999
NULL_CHARACTER_MESSAGE = str(validators.ProhibitNullCharactersValidator.message)  # DRF's texts' own
RANGE_MESSAGE = f"Give a time between the years {FIRST_YEAR} and {LAST_YEAR}."
DATE_RANGE_MESSAGE = f"Give a date between the years {FIRST_YEAR} and {LAST_YEAR}."


def aware_datetime(value: Any) -> datetime:
    """An aware datetime from an ISO 8601 string with an offset; else ``ValueError(message)``."""
    if not isinstance(value, str):
        raise ValueError(BAD_TIME_MESSAGE)
    if "\x00" in value:  # Python's ISO parser stops at a NUL and takes what came before it
        raise ValueError(NULL_CHARACTER_MESSAGE)
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
    # The same instant in UTC: PostgreSQL refuses offsets beyond ±15:59 that ISO 8601 allows.
    return parsed.astimezone(UTC)


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


def json_type_fits(field: serializers.Field, value: Any) -> bool:
    """Whether a JSON value has the type the field's schema states: DRF itself turns ``5`` into
    ``"5"`` for a text field and ``"5"`` into ``5`` for a number; the API refuses both."""
    if value is None:
        return True  # DRF answers null itself ("This field may not be null.")
    if isinstance(field, serializers.CharField):
        return isinstance(value, str)
    if isinstance(field, serializers.IntegerField):
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(field, serializers.FloatField):
        return isinstance(value, int | float) and not isinstance(value, bool)
    if integer_choices(field):
        return isinstance(value, int) and not isinstance(value, bool)
    return True


def integer_choices(field: serializers.Field) -> bool:
    """Whether ``field`` is a choice field whose choices are all integers (``IntegerChoices``):
    DRF matches ``str(value)``, so it would take ``"3"`` (and a text choice refuses ``3`` itself)."""
    return (
        isinstance(field, serializers.ChoiceField)
        and not isinstance(field, serializers.MultipleChoiceField)  # a list of them
        and bool(field.choices)
        and all(isinstance(key, int) and not isinstance(key, bool) for key in field.choices)
    )


def json_type_message(field: serializers.Field) -> str:
    """What a value of another JSON type than the field's answers: the field's own "invalid"
    message; an integer choice field answers as an integer field does."""
    if integer_choices(field):
        return str(serializers.IntegerField.default_error_messages["invalid"])
    return str(field.error_messages["invalid"])


class StrictSerializer(serializers.Serializer):
    def to_internal_value(self, data: Any) -> Any:
        errors: dict[str, list[str]] = {}
        if isinstance(data, Mapping):
            if unknown := [key for key in data if key not in self.fields]:
                known = ", ".join(name for name, field in self.fields.items() if not field.read_only)
                errors = {str(key): [f"Unknown field. Known fields: {known}."] for key in unknown}
            for name, field in self.fields.items():
                if name in data and not field.read_only and not json_type_fits(field, data[name]):
                    errors[name] = [json_type_message(field)]
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as error:
            if not isinstance(error.detail, dict):
                raise
            raise serializers.ValidationError({**error.detail, **errors}) from None
        if errors:
            raise serializers.ValidationError(errors)
        return value

    def fast_validated(self, data: Any) -> dict[str, Any] | None:
        """The validated data of an item DRF would accept, checked in plain Python; else None.

        A batch of 500 spends a third of its time in DRF's generic machinery; this path
        accepts the common, valid item at a fraction of that and gives up (None) on anything
        unusual, so a refused item always gets DRF's own messages from ``run_validation``.
        The same field objects, ``validate_<field>`` methods and ``validate()`` run.
        """
        if not isinstance(data, Mapping):
            return None
        checks = self._fast_checks()
        if any(key not in checks for key in data):
            return None  # unknown or read-only keys: let DRF decide and word it
        attrs: dict[str, Any] = {}
        try:
            for name, (check, required, validate) in checks.items():
                if name not in data:
                    if required:
                        return None
                    continue
                value = check(data[name])
                if value is _REFUSED:
                    return None
                attrs[name] = validate(value) if validate else value
            return self.validate(attrs)
        except serializers.ValidationError:
            return None

    def _fast_checks(self) -> dict[str, tuple]:
        if (cached := getattr(self, "_fast_checks_cache", None)) is not None:
            return cached
        self._fast_checks_cache = {
            name: (check, required, getattr(self, f"validate_{name}", None))
            for name, (check, required) in self._fast_field_checks().items()
        }
        return self._fast_checks_cache

    @classmethod
    def _fast_field_checks(cls) -> dict[str, tuple]:
        """Each writable field's check and whether it is required, built once per class from
        fields of their own (DRF deep-copies every declared field for each serializer made,
        a sixth of a single POST's time in Python); no check reads the serializer's context."""
        if (cached := cls.__dict__.get("_fast_field_checks_cache")) is not None:
            return cached
        checks = {}
        for name, field in cls().fields.items():
            if field.read_only:
                continue
            if getattr(field, "default", serializers.empty) is not serializers.empty:
                checks.clear()
                break  # defaults: not handled here
            checks[name] = (_fast_check(field), field.required)
        # Any read-only field sent back goes through DRF (it ignores them).
        cls._fast_field_checks_cache = checks
        return checks

    @classmethod
    def batch_context(cls, items: list[Any], request) -> dict[str, Any]:
        """Lookups for a whole batch (users, categories...), one query each; see the viewset."""
        return {}

    def to_object(self, data: dict[str, Any], instance: Any = None) -> Any:
        """An unsaved model object from validated data (a changed copy of ``instance``)."""
        raise NotImplementedError


_REFUSED = object()
_STRING_VALIDATORS = (
    validators.MaxLengthValidator,
    validators.MinLengthValidator,
    validators.ProhibitNullCharactersValidator,
    ProhibitSurrogateCharactersValidator,
)


def _fast_check(field: serializers.Field):
    """A function value -> validated value (or _REFUSED) doing what ``field`` would do."""
    allow_null = field.allow_null
    if any(getattr(v, "requires_context", False) for v in field.validators):
        return lambda value: _REFUSED  # it would read the request's context: DRF's own path

    def fallback(value: Any) -> Any:
        if (value is None and not allow_null) or not json_type_fits(field, value):
            return _REFUSED
        try:
            return field.run_validation(value)
        except serializers.ValidationError:
            return _REFUSED

    if isinstance(field, AwareDateTimeField):

        def check_time(value: Any) -> Any:
            try:
                return parse_aware_datetime(value)
            except serializers.ValidationError:
                return _REFUSED

        return check_time
    if isinstance(field, StrictBooleanField):
        return lambda value: value if type(value) is bool or (value is None and allow_null) else _REFUSED
    if type(field) is serializers.ChoiceField and not field.validators:
        choices = field.choice_strings_to_values
        if integer_choices(field):
            return lambda value: (
                choices[str(value)] if type(value) is int and str(value) in choices else fallback(value)
            )
        return lambda value: choices[value] if type(value) is str and value in choices else fallback(value)
    if type(field) is serializers.CharField and all(
        isinstance(v, _STRING_VALIDATORS) for v in field.validators
    ):
        trim, blank, longest = field.trim_whitespace, field.allow_blank, field.max_length
        shortest = field.min_length or 0

        def check_text(value: Any) -> Any:
            if value is None and allow_null:
                return None
            if type(value) is not str:
                return _REFUSED  # DRF would take 5 as "5"; the API refuses it
            if not value.isascii() or "\x00" in value:
                return fallback(value)
            text = value.strip() if trim else value
            if (
                (not text and not blank)
                or (longest is not None and len(text) > longest)
                or len(text) < shortest
            ):
                return _REFUSED
            return text

        return check_text
    return fallback


def lookup_values(items: list[Any], field: str, *, trim_whitespace: bool = True) -> set[str]:
    """The distinct strings a batch names in ``field`` that a database lookup can take.

    Each value is trimmed as the ``CharField`` trims it (``trim_whitespace``, DRF's default),
    so the lookup sees the value ``validate_<field>`` gets: ``" tickets "`` finds ``tickets``.
    Lookups (usernames, slugs) run before the items are validated, so a value PostgreSQL
    refuses (a NUL character, a lone surrogate) is left out here: the item's field then
    fails validation with DRF's own message ("Null characters are not allowed.") instead of
    the query failing with a 500.
    """
    values = (item.get(field) for item in items if isinstance(item, Mapping))
    texts = (value.strip() if trim_whitespace else value for value in values if isinstance(value, str))
    return {text for text in texts if text and _can_look_up(text)}


def _can_look_up(value: str) -> bool:
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate
        return False
    return True


def members_by_username(
    request, items: list[Any], field: str = "user", *, trim_whitespace: bool = True
) -> dict[str, Any]:
    """Members of the request's organization named by ``field`` in a batch (one query), by
    the username as the field validates it (trimmed, see ``lookup_values``).

    The key's own user is always there (no query when the batch names nobody else). A
    username outside the organization is simply missing: "Unknown user", nothing revealed.
    """
    names = lookup_values(items, field, trim_whitespace=trim_whitespace)
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


class JsonNumberField(serializers.DecimalField):
    """A JSON number (not a string, not a boolean), >= ``min_value``, answered as a number with
    ``decimal_places`` places (SPEC 4: "numbers >= 0 or null")."""

    default_error_messages = {"not_a_number": "Must be a JSON number."}

    def __init__(self, *, max_digits: int = 12, decimal_places: int = 2, **kwargs: Any):
        kwargs.setdefault("min_value", 0)
        super().__init__(
            max_digits=max_digits, decimal_places=decimal_places, coerce_to_string=False, **kwargs
        )

    def to_internal_value(self, data: Any):
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("not_a_number")
        return super().to_internal_value(data)

    def to_representation(self, value: Any) -> float | None:
        return None if value is None else float(super().to_representation(value))


@extend_schema_field({"type": "string", "pattern": "^([01]?[0-9]|2[0-3]):[0-5]?[0-9]$", "example": "09:00"})
class HourMinuteField(serializers.TimeField):
    """A local wall-clock time as ``HH:MM``."""

    def __init__(self, **kwargs: Any):
        super().__init__(format="%H:%M", input_formats=["%H:%M"], **kwargs)
