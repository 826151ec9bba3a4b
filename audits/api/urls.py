"""The audits app's API routes, registered on the one /api/v1/ router."""

from __future__ import annotations

from audits.api.views import TimeAuditViewSet, TimeEntryViewSet

# (prefix, viewset, basename)
routes = [
    ("time-entries", TimeEntryViewSet, "time-entry"),
    ("audits", TimeAuditViewSet, "audit"),
]
