"""The API's filter backend: django-filter, and a choice, number, date or boolean sent empty is
refused.

``?status=`` is no status (the filter would silently not apply), so every such filter refuses
it with a 400 naming the parameter, as it refuses ``?status=lazy``; a text filter takes the
empty text (the schema allows it). The pages share the FilterSets but not this rule: their
forms send an empty value for "any".
"""

from __future__ import annotations

from datetime import UTC, datetime

import django_filters
from django import forms
from django.core.exceptions import ValidationError as FormValidationError
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework.exceptions import ValidationError

from msp_ops.api.serializers import LAST_YEAR, MAX_ID, aware_datetime

END_OF_TIME = datetime(LAST_YEAR + 1, 1, 1, tzinfo=UTC)  # after any accepted time


class AwareDateTimeFormField(forms.Field):
    """ISO 8601 with an offset; a naive, malformed or empty (``?from=``) value is a clear error."""

    def to_python(self, value: str | None) -> datetime | None:
        if value is None:  # not given
            return None
        try:
            return aware_datetime(value)
        except ValueError as error:
            raise FormValidationError(str(error)) from None


class AwareDateTimeFilter(django_filters.Filter):
    field_class = AwareDateTimeFormField


class StrictBooleanField(forms.Field):
    """``true`` or ``false`` (left out or empty: no filter); ``?active=null`` is refused."""

    def to_python(self, value: str | None) -> bool | None:
        if value in (None, ""):
            return None
        if value in ("true", "false"):
            return value == "true"
        raise FormValidationError("Give true or false.")


class BooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


@extend_schema_field(OpenApiTypes.INT64)
class IdFilter(django_filters.NumberFilter):
    """A row id: a whole number; one no row can have (0, -1, beyond bigint) finds nothing."""

    field_class = forms.IntegerField

    def filter(self, queryset, value):
        if value is not None and not 0 < value <= MAX_ID:
            return queryset.none()
        return super().filter(queryset, value)


EMPTY_MESSAGE = "This parameter may not be empty; leave it out to not filter by it."


class StrictFilterBackend(DjangoFilterBackend):
    def get_filterset(self, request, queryset, view):
        filterset = super().get_filterset(request, queryset, view)
        if filterset is None:
            return None
        # The field's own refusal first (an empty ?from= is "Not an ISO 8601 timestamp ...").
        errors = {name: list(messages) for name, messages in filterset.errors.items()}
        for name, value in request.query_params.items():
            text = isinstance(filterset.filters.get(name), django_filters.CharFilter)
            if value == "" and name in filterset.filters and name not in errors and not text:
                errors[name] = [_empty_message(filterset.filters[name])]
        if errors:
            raise ValidationError(errors)
        return filterset


def _empty_message(filter_: django_filters.Filter) -> str:
    if isinstance(filter_, django_filters.ChoiceFilter):
        return "Select a valid choice. '' is not one of the available choices."  # Django's own words
    return EMPTY_MESSAGE
