"""The API's filter backend: django-filter, and a choice, number, date or boolean sent empty is
refused.

``?status=`` is no status (the filter would silently not apply), so every such filter refuses
it with a 400 naming the parameter, as it refuses ``?status=lazy``; a text filter takes the
empty text (the schema allows it). The pages share the FilterSets but not this rule: their
forms send an empty value for "any".

A request builds its FilterSet without django-filter's deep copies (issue 12): a FilterSet
deep-copies every filter, makes a new form class and deep-copies each form field, for every
request, a tenth of a list's fixed cost. The API's FilterSet (``api_filterset``) is a subclass
made once per FilterSet that copies each filter (one level: its state is its own, its options
shared, as they are never written), builds its form class once and gives each form shallow
copies of the fields. Filters, validation, messages and the schema are the FilterSet's own.
"""

from __future__ import annotations

import copy
import functools
from datetime import UTC, date, datetime

import django_filters
from django import forms
from django.core.exceptions import ValidationError as FormValidationError
from django.http import QueryDict
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework.exceptions import ValidationError

from msp_ops.api.serializers import LAST_YEAR, aware_datetime
from msp_ops.lib import weeks
from msp_ops.lib.ids import MAX_ID

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


class WeekFormField(forms.Field):
    """A week named by its Monday, ``YYYY-MM-DD``; anything else is a clear error
    (``weeks.parse_week``'s message)."""

    def to_python(self, value: str | None) -> date | None:
        if value in (None, ""):
            return None
        try:
            return weeks.parse_week(value)
        except ValueError as error:
            raise FormValidationError(str(error)) from None


class WeekFilter(django_filters.Filter):
    field_class = WeekFormField


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


class _ShallowFields(dict):
    """A form class's fields that each form copies one level deep (Django deep-copies them)."""

    def __deepcopy__(self, memo):
        return {name: copy.copy(field) for name, field in self.items()}


@functools.cache
def api_filterset(filterset_class: type[django_filters.FilterSet]) -> type[django_filters.FilterSet]:
    """``filterset_class`` as a request of the API builds it: the same filters and form fields,
    copied one level instead of deeply, and the form class made once (not per request)."""

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None):
        if queryset is None:
            queryset = self._meta.model._default_manager.all()
        self.is_bound = data is not None
        self.data = data or QueryDict()
        self.queryset = queryset
        self.request = request
        self.form_prefix = prefix
        self.filters = {}
        for name, base in self.base_filters.items():
            filter_ = copy.copy(base)
            if base.method is not None:  # its FilterMethod refers to the filter: this copy's
                filter_.method = base.method
            filter_.model = queryset.model
            filter_.parent = self
            self.filters[name] = filter_

    def get_form_class(self):
        cls = type(self)
        form_class = cls.__dict__.get("_api_form_class")
        if form_class is None:
            form_class = super(cls, self).get_form_class()
            form_class.base_fields = _ShallowFields(form_class.base_fields)
            cls._api_form_class = form_class
        return form_class

    subclass = type(
        filterset_class.__name__,
        (filterset_class,),
        {"__init__": __init__, "get_form_class": get_form_class, "__module__": filterset_class.__module__},
    )
    subclass.base_filters = filterset_class.base_filters  # with filters added after the class
    return subclass


class StrictFilterBackend(DjangoFilterBackend):
    def filter_queryset(self, request, queryset, view):
        # A request naming no filter (a list's first page, a cursor, a page size) is filtered by
        # none: each filter lets an absent value pass. Its FilterSet and form are then not built
        # (a tenth of a page of one's CPU); the queryset is the one a FilterSet would return.
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is not None and request.query_params.keys().isdisjoint(
            filterset_class.base_filters
        ):
            return queryset
        return super().filter_queryset(request, queryset, view)

    def get_filterset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is None:
            return None
        filterset = api_filterset(filterset_class)(**self.get_filterset_kwargs(request, queryset, view))
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
