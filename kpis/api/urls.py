"""The KPI app's API routes, registered on the one /api/v1/ router."""

from __future__ import annotations

from django.urls import path

from kpis.api.views import (
    KpiTargetsView,
    RollupView,
    SlaPolicyView,
    StandupView,
    TicketViewSet,
    TodoViewSet,
    WeeklyKpiView,
)

# (prefix, viewset, basename)
routes = [
    ("tickets", TicketViewSet, "ticket"),
    ("todos", TodoViewSet, "todo"),
]

urlpatterns = [
    path("sla-policy/", SlaPolicyView.as_view(), name="sla-policy"),
    path("kpi-targets/", KpiTargetsView.as_view(), name="kpi-targets"),
    path("kpis/weekly/", WeeklyKpiView.as_view(), name="kpis-weekly"),
    path("kpis/rollup/", RollupView.as_view(), name="kpis-rollup"),
    path("standup/", StandupView.as_view(), name="standup"),
]
