"""The one organization scope (STYLE 4): every org-owned model, queryset and view uses it.

A row of another organization is simply not in the queryset, so looking it up answers 404:
a user never learns that it exists.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Self

from django.db import models
from django.shortcuts import get_object_or_404

if TYPE_CHECKING:
    from django.http import HttpRequest

    from msp_ops.orgs.models import Organization


class OrgScopedQuerySet(models.QuerySet):
    def for_org(self, org: Organization) -> Self:
        return self.filter(organization=org)


class OrgScopedModel(models.Model):
    organization = models.ForeignKey("orgs.Organization", models.CASCADE, related_name="+")

    objects = OrgScopedQuerySet.as_manager()

    class Meta:
        abstract = True


def leading_organization() -> models.ForeignKey:
    """The ``organization`` of a model whose indexes and unique constraints all lead with it
    (``(organization, ...)``): no index of its own, which every one of them serves already. One
    index fewer to update on each write of the tables the API fills (entries, interruptions,
    tickets) and the rollup rewrites."""
    return models.ForeignKey("orgs.Organization", models.CASCADE, related_name="+", db_index=False)


def org_object_or_404(request: HttpRequest, model: type[OrgScopedModel], **lookup: Any):
    """The object of the request's organization, else 404 (foreign pk included)."""
    return get_object_or_404(model.objects.for_org(request.org), **lookup)


class OrgScopedMixin:
    """For class-based views and DRF viewsets: the queryset is the request org's rows."""

    model: type[OrgScopedModel]

    def get_queryset(self):
        return self.model.objects.for_org(self.request.org)
