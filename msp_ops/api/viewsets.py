"""The one way every API endpoint works (STYLE 3; SPEC 4).

``OrgScopedViewSet`` scopes every query to the token's organization (another
organization's object: 404), applies the role table (403), paginates by cursor, and takes
one object or an array of up to ``API_MAX_BATCH`` objects on ``POST``, stored in one
transaction (201 when anything was created, else 200; the body holds the stored objects,
an array for an array). A viewset of an app only names its parts::

    class TimeEntryViewSet(EditableMixin, OrgScopedViewSet):
        model = TimeEntry
        serializer_class = TimeEntrySerializer
        filterset_class = TimeEntryFilter
        read_rule, write_rule, owner_field = READ_TIME, WRITE_TIME_ENTRIES, "user"
        def save_items(self, items): ...  # calls the app's one (atomic) service

The serializer checks shape and resolves slugs inside the organization; it builds unsaved
model objects (``to_object``) and never writes. Services raise Django's ``ValidationError``
(or ``BatchValidationError``), which ``msp_ops.api.exceptions`` turns into 400 bodies. Each
service is atomic by itself (``msp_ops.orgs.batches``), so ``save_items`` calls exactly one
and the viewset adds no transaction of its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.db import models
from rest_framework import status, viewsets
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from msp_ops.api.fastread import ReadPlan
from msp_ops.api.filters import StrictFilterBackend
from msp_ops.api.pagination import ApiCursorPagination
from msp_ops.api.parsers import StrictJSONParser
from msp_ops.api.permissions import NO_WRITE, READ_ALL, RolePermission, access
from msp_ops.api.throttling import TokenRateThrottle
from msp_ops.lib.ids import parse_id
from msp_ops.orgs.batches import Saved
from msp_ops.orgs.roles import Access, RowRule
from msp_ops.orgs.scoping import OrgScopedMixin

FORMAT_PARAMETER = api_settings.URL_FORMAT_OVERRIDE  # ?format=json: DRF's, on every endpoint


class ErrorDict(dict):
    """A refused item's errors, told apart from an accepted item's data."""


class OrgScopedViewSet(OrgScopedMixin, viewsets.GenericViewSet):
    """List, retrieve and create (object or array) on the request organization's rows."""

    model: type[models.Model]
    read_rule: RowRule = READ_ALL  # who reads every row, and who only its own
    write_rule: RowRule = NO_WRITE  # who writes every row (for any member), and who only its own
    owner_field: str | None = None  # the foreign key naming a row's member
    ordering: Sequence[str] = ("id",)  # cursor order; ends with a unique field
    select_related: Sequence[str] = ()
    only: Sequence[str] = ()  # columns to load (e.g. the related rows' username, slug only)
    fast_reads = True  # lists as rows (msp_ops.api.fastread) where the serializer maps to columns

    permission_classes = [RolePermission]
    pagination_class = ApiCursorPagination
    filter_backends = [StrictFilterBackend]
    parser_classes = [StrictJSONParser]
    throttle_classes = [TokenRateThrottle]

    # --- hooks of an endpoint -------------------------------------------------------------

    def save_items(self, items: list[models.Model]) -> list[Saved]:
        """Stores unsaved objects through the app's one service (atomic by itself) and returns
        what it returns (``batches.Saved``: the object, created or not); raises Django
        ValidationErrors. Pass ``self.own_rows_only()`` as the service's ``owner``."""
        raise NotImplementedError

    def delete_item(self, item: models.Model) -> None:
        """Deletes through the app's service (atomic by itself)."""
        raise NotImplementedError

    def prepare(self, objects: list[models.Model]) -> list[models.Model]:
        """The objects as the answer shows them: a hook to add figures computed for a whole page
        at once (e.g. hours freed), or to reload stored rows with their annotations."""
        return objects

    # --- scope ------------------------------------------------------------------------

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no request org
            return self.model.objects.none()
        queryset = super().get_queryset()
        if not getattr(self, "reads_rows", False):  # a list read as rows selects its own columns
            if self.select_related:
                queryset = queryset.select_related(*self.select_related)
            if self.only:
                queryset = queryset.only(*self.only)
        if access(self.request, self, write=False) is Access.OWN:
            queryset = queryset.filter(**{self.owner_field: self.request.user})
        return queryset

    def get_object(self):
        # A path id that is no whole number in the database's range is simply not found.
        raw = str(self.kwargs.get(self.lookup_url_kwarg or self.lookup_field, ""))
        if parse_id(raw) is None:
            raise NotFound()
        return super().get_object()

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()
        org = getattr(self.request, "org", None)
        context["org"] = org
        context["tz"] = org.tz if org is not None else None
        return context

    def writable_serializer(self, data: Any, **kwargs):
        """A serializer for input, with the batch's slugs and names resolved in bulk (kept as
        ``self.lookups`` too, for ``save_items`` to hand the service what is already read)."""
        serializer_class = self.get_serializer_class()
        items = data if isinstance(data, list) else [data]
        self.lookups = serializer_class.batch_context(items, self.request)
        context = {**self.get_serializer_context(), **self.lookups}
        return serializer_class(data=data, context=context, **kwargs)

    def own_rows_only(self):
        """The member, when its role writes only its own rows (the upsert then replaces no
        other member's row either), else None."""
        return self.request.user if access(self.request, self, write=True) is Access.OWN else None

    def check_owners(self, items: Sequence[models.Model]) -> None:
        """A member allowed only its own rows may not write rows of another member (403)."""
        if access(self.request, self, write=True) is not Access.OWN:
            return
        attname = f"{self.owner_field}_id"
        for index, item in enumerate(items):
            if getattr(item, attname) != self.request.user.pk:
                where = f"item {index + 1}" if len(items) > 1 else "this object"
                raise PermissionDenied(
                    f"Your role may write only your own {self.model._meta.verbose_name_plural}; "
                    f"{where} belongs to another member."
                )

    @staticmethod
    def _validate_items(child, items: list[Any]) -> list[dict]:
        """Each item's validated data, or its DRF error dict (an ``ErrorDict``), in order.

        The serializer's fast path accepts the usual valid item; anything else goes through
        DRF's ``run_validation``, so refusals carry DRF's exact messages (SPEC 4).
        """
        results: list[dict] = []
        for item in items:
            values = child.fast_validated(item)
            if values is None:
                try:
                    values = child.run_validation(item)
                except ValidationError as error:
                    detail = (
                        error.detail if isinstance(error.detail, dict) else {"non_field_errors": error.detail}
                    )
                    values = ErrorDict(detail)
            results.append(values)
        return results

    # --- actions ----------------------------------------------------------------------

    def list(self, request, *args, **kwargs) -> Response:
        self.refuse_unknown_parameters(request)
        plan = ReadPlan.for_viewset(type(self)) if self.paginator is not None else None
        # Rows (values_list) ignore select_related and only(): the queryset is built without them.
        self.reads_rows = plan is not None
        queryset = self.filter_queryset(self.get_queryset())
        if plan is not None:  # rows, not objects (msp_ops.api.fastread)
            rows = self.paginator.paginate_queryset(
                queryset, request, view=self, fetch=plan.fetch, position=plan.position
            )
            return self.get_paginated_response(plan.answer(rows, self.get_serializer_context()))
        page = self.prepare(list(self.paginate_queryset(queryset)))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def refuse_unknown_parameters(self, request) -> None:
        """A list names the query parameters it does not know (400), as a body names unknown
        fields: a misspelled filter (``?categroy=``) would otherwise answer every row."""
        known = self.query_parameters()
        unknown = [name for name in request.query_params if name not in known and name != FORMAT_PARAMETER]
        if unknown:
            message = f"Unknown query parameter. Known parameters: {', '.join(known)}."
            raise ValidationError({name: [message] for name in unknown})

    @classmethod
    def query_parameters(cls) -> tuple[str, ...]:
        """The list's parameters, its paginator's and its filters, sorted as the schema lists them."""
        names = cls.__dict__.get("_query_parameters")
        if names is None:
            paging, filterset = cls.pagination_class, getattr(cls, "filterset_class", None)
            names = tuple(
                sorted(
                    [
                        *((paging.cursor_query_param, paging.page_size_query_param) if paging else ()),
                        *(filterset.base_filters if filterset else ()),
                    ]
                )
            )
            cls._query_parameters = names
        return names

    def retrieve(self, request, *args, **kwargs) -> Response:
        return Response(self.get_serializer(self.prepare([self.get_object()])[0]).data)

    def create(self, request, *args, **kwargs) -> Response:
        data = request.data
        many = isinstance(data, list)
        if many and not 1 <= len(data) <= settings.API_MAX_BATCH:
            raise ValidationError(
                {
                    api_settings.NON_FIELD_ERRORS_KEY: [
                        f"Send one object or an array of 1 to {settings.API_MAX_BATCH} objects "
                        f"(this array has {len(data)})."
                    ]
                }
            )
        serializer = self.writable_serializer(data if many else [data], many=True)
        validated = self._validate_items(serializer.child, serializer.initial_data)
        if any(isinstance(values, ErrorDict) for values in validated):
            errors = [values if isinstance(values, ErrorDict) else {} for values in validated]
            raise ValidationError(errors if many else errors[0])
        items = [serializer.child.to_object(values) for values in validated]
        self.check_owners(items)
        saved = self.save_items(items)
        body = self.get_serializer(self.prepare([item.obj for item in saved]), many=True).data
        created = any(item.created for item in saved)
        return Response(
            body if many else body[0], status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


class EditableMixin:
    """``PUT``/``PATCH``/``DELETE`` on one object, through the same hooks as ``POST``."""

    def update(self, request, *args, partial: bool = False, **kwargs) -> Response:
        instance = self.get_object()
        self.check_owners([instance])
        serializer = self.writable_serializer(request.data, instance=instance, partial=partial)
        serializer.is_valid(raise_exception=True)
        item = serializer.to_object(serializer.validated_data, instance=instance)
        self.check_owners([item])
        saved = self.save_items([item])[0].obj
        return Response(self.get_serializer(self.prepare([saved])[0]).data)

    def partial_update(self, request, *args, **kwargs) -> Response:
        return self.update(request, *args, partial=True, **kwargs)

    def destroy(self, request, *args, **kwargs) -> Response:
        instance = self.get_object()
        self.check_owners([instance])
        self.delete_item(instance)
        return Response(status=status.HTTP_204_NO_CONTENT)


class OrgSettingsView(APIView):
    """One object per organization, ``GET``/``PUT``/``PATCH`` (the escalation map; next, the SLA
    policy and KPI targets), with the framework's auth, roles, strict JSON and throttle."""

    read_rule: RowRule = READ_ALL
    write_rule: RowRule = NO_WRITE
    serializer_class: type
    permission_classes = [RolePermission]
    parser_classes = [StrictJSONParser]
    throttle_classes = [TokenRateThrottle]

    def get_object(self) -> Any:
        raise NotImplementedError

    def save(self, data: dict[str, Any], *, partial: bool) -> Any:
        """Stores validated data through the app's service; returns the object as stored."""
        raise NotImplementedError

    def get_serializer(self, *args, **kwargs):
        org = getattr(self.request, "org", None)  # None while the schema is generated
        context = {"request": self.request, "org": org, "tz": org.tz if org is not None else None}
        return self.serializer_class(*args, context={**context, **kwargs.pop("context", {})}, **kwargs)

    def get(self, request, *args, **kwargs) -> Response:
        return Response(self.get_serializer(self.get_object()).data)

    def put(self, request, *args, **kwargs) -> Response:
        return self._write(request, partial=False)

    def patch(self, request, *args, **kwargs) -> Response:
        return self._write(request, partial=True)

    def _write(self, request, *, partial: bool) -> Response:
        # Rules across fields are the model's, checked by the service on the row as stored
        # (a PATCH's other fields included): the serializer checks each field's shape.
        serializer = self.get_serializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        return Response(self.get_serializer(self.save(serializer.validated_data, partial=partial)).data)
