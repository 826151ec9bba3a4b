"""The delegation app's API routes, registered on the one /api/v1/ router."""

from __future__ import annotations

from django.urls import path

from delegation.api.views import (
    DelegateViewSet,
    DelegationViewSet,
    DrillViewSet,
    EscalationMapView,
    InterruptionViewSet,
    RunbookViewSet,
    TimeBlockViewSet,
)

# (prefix, viewset, basename)
routes = [
    ("interruptions", InterruptionViewSet, "interruption"),
    ("delegates", DelegateViewSet, "delegate"),
    ("delegations", DelegationViewSet, "delegation"),
    ("runbooks", RunbookViewSet, "runbook"),
    ("drills", DrillViewSet, "drill"),
    ("time-blocks", TimeBlockViewSet, "time-block"),
]

urlpatterns = [path("escalation-map/", EscalationMapView.as_view(), name="escalation-map")]
