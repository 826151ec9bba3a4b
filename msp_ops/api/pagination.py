"""Cursor pagination (SPEC 4): ``{next, previous, results}``, a stable order, ``page_size`` <= 1000.

A cursor page costs one query whatever its size (no COUNT); the order is the viewset's
``ordering`` ending with ``id``, so rows with equal timestamps keep their place.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination

DEFAULT_PAGE_SIZE = 100


class ApiCursorPagination(CursorPagination):
    page_size = DEFAULT_PAGE_SIZE
    page_size_query_param = "page_size"
    cursor_query_description = "Opaque position returned in `next` / `previous`; do not build it yourself."

    @property
    def max_page_size(self) -> int:
        return settings.API_MAX_PAGE_SIZE

    @property
    def page_size_query_description(self) -> str:
        return f"Items per page, 1 to {settings.API_MAX_PAGE_SIZE} (default {DEFAULT_PAGE_SIZE})."

    def get_page_size(self, request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            size = 0
        if not 1 <= size <= self.max_page_size:
            raise ValidationError(
                {self.page_size_query_param: [f"Give a whole number from 1 to {self.max_page_size}."]}
            )
        return size

    def get_ordering(self, request, queryset, view) -> tuple[str, ...]:
        return tuple(view.ordering)

    def paginate_queryset(self, queryset, request, view=None):
        try:
            return super().paginate_queryset(queryset, request, view)
        except (NotFound, DjangoValidationError, ValueError, TypeError):
            # A damaged cursor is the client's mistake about a parameter, not a missing page.
            raise ValidationError(
                {self.cursor_query_param: ["Invalid cursor: use the `next` or `previous` URL as given."]}
            ) from None

    def get_paginated_response_schema(self, schema: dict) -> dict:
        response = super().get_paginated_response_schema(schema)
        response["required"] = ["next", "previous", "results"]
        return response

    def get_schema_operation_parameters(self, view) -> list[dict]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": self.max_page_size}
        return parameters
