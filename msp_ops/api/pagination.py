"""Cursor pagination (SPEC 4): ``{next, previous, results}``, a stable order, ``page_size`` <= 1000.

Keyset pages on the viewset's ``ordering`` (e.g. ``("started_at", "id")``, ending with a
unique field): the cursor holds the last row's values and the next page is the rows after
them, so rows sharing a timestamp keep their place and a page costs one query (no COUNT,
no OFFSET) however deep it is.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Model, Q, QuerySet
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

DEFAULT_PAGE_SIZE = 100


def _keyset_after(fields: Sequence[str], values: Sequence[Any]) -> Q:
    """Rows strictly after ``values`` in the order ``fields`` (``-name`` descending).

    Led by the first field's bound (``a >= x AND (a > x OR (a = x AND b > y))``): the same
    rows, and PostgreSQL can start its index scan at the cursor: with the ``OR`` alone it
    sometimes began at the range's start and dropped every earlier page's rows on the way."""
    first = fields[0].lstrip("-")
    condition = Q()
    for i, field in enumerate(fields):
        name = field.lstrip("-")
        step = Q(**{f"{name}__{'lt' if field.startswith('-') else 'gt'}": values[i]})
        for earlier, value in zip(fields[:i], values[:i], strict=True):
            step &= Q(**{earlier.lstrip("-"): value})
        condition |= step
    return Q(**{f"{first}__{'lte' if fields[0].startswith('-') else 'gte'}": values[0]}) & condition


def _flip(field: str) -> str:
    return field[1:] if field.startswith("-") else f"-{field}"


class ApiCursorPagination(BasePagination):
    page_size_query_param = "page_size"
    cursor_query_param = "cursor"

    @property
    def max_page_size(self) -> int:
        return settings.API_MAX_PAGE_SIZE

    def get_page_size(self, request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return DEFAULT_PAGE_SIZE
        try:
            size = int(raw)
        except ValueError:
            size = 0
        if not 1 <= size <= self.max_page_size:
            raise ValidationError(
                {self.page_size_query_param: [f"Give a whole number from 1 to {self.max_page_size}."]}
            )
        return size

    # --- cursors -------------------------------------------------------------------------

    def _bad_cursor(self) -> ValidationError:
        return ValidationError(
            {self.cursor_query_param: ["Invalid cursor: use the `next` or `previous` URL as given."]}
        )

    def _decode(self, model: type[Model], raw: str) -> tuple[list[Any], bool]:
        try:
            data = json.loads(base64.urlsafe_b64decode(raw.encode("ascii")))
            values, reverse = data["v"], bool(data.get("r"))
            if not isinstance(values, list) or len(values) != len(self.ordering):
                raise ValueError
            if any(isinstance(v, int) and not -(2**63) <= v < 2**63 for v in values):
                raise ValueError
            fields = [model._meta.get_field(name.lstrip("-")) for name in self.ordering]
            return [field.to_python(value) for field, value in zip(fields, values, strict=True)], reverse
        except (ValueError, TypeError, KeyError, UnicodeError, binascii.Error, DjangoValidationError):
            raise self._bad_cursor() from None

    def _position(self, row: Model) -> list[Any]:
        return [getattr(row, name.lstrip("-")) for name in self.ordering]

    def _link(self, row: Any, reverse: bool) -> str:
        values = [_plain(value) for value in self.position(row)]
        token = base64.urlsafe_b64encode(json.dumps({"v": values, "r": int(reverse)}).encode()).decode()
        return replace_query_param(self.base_url, self.cursor_query_param, token)

    # --- pages ---------------------------------------------------------------------------

    def paginate_queryset(
        self,
        queryset: QuerySet,
        request,
        view=None,
        fetch: Callable[[QuerySet], list[Any]] = list,
        position: Callable[[Any], list[Any]] | None = None,
    ) -> list[Any]:
        """The page's rows: model objects, or what ``fetch`` makes of the ordered, sliced
        queryset (``fastread``: tuples, whose ordering values ``position`` gives)."""
        self.ordering = tuple(view.ordering)
        self.position = position or self._position
        size = self.get_page_size(request)
        self.base_url = request.build_absolute_uri()
        raw = request.query_params.get(self.cursor_query_param)
        reverse = False
        if raw is not None:
            values, reverse = self._decode(queryset.model, raw)
            order = [_flip(f) for f in self.ordering] if reverse else list(self.ordering)
            queryset = queryset.filter(_keyset_after(order, values))
        else:
            order = list(self.ordering)
        rows = list(fetch(queryset.order_by(*order)[: size + 1]))
        more = len(rows) > size
        page = rows[:size]
        if reverse:
            page.reverse()
            self.next_url = self._link(page[-1], reverse=False) if page else None
            self.previous_url = self._link(page[0], reverse=True) if page and more else None
        else:
            self.next_url = self._link(page[-1], reverse=False) if page and more else None
            self.previous_url = self._link(page[0], reverse=True) if page and raw is not None else None
        if not page and raw is not None:
            self.previous_url = remove_query_param(self.base_url, self.cursor_query_param)
        return page

    def get_paginated_response(self, data) -> Response:
        return Response(
            OrderedDict([("next", self.next_url), ("previous", self.previous_url), ("results", data)])
        )

    # --- schema ------------------------------------------------------------------------

    def get_paginated_response_schema(self, schema: dict) -> dict:
        link = {"type": "string", "nullable": True, "format": "uri"}
        return {
            "type": "object",
            "required": ["next", "previous", "results"],
            "properties": {"next": link, "previous": link, "results": schema},
        }

    def get_schema_operation_parameters(self, view) -> list[dict]:
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "Opaque position from a `next` / `previous` URL; do not build it yourself.",
                "schema": {"type": "string"},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": f"Items per page, 1 to {self.max_page_size} (default {DEFAULT_PAGE_SIZE}).",
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size},
            },
        ]


def _plain(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value
