"""Admin for the time-audit models, scoped to the administered organizations (OrgScopedAdmin)."""

from django.contrib import admin

from audits.models import Category, TimeAudit, TimeEntry
from msp_ops.orgs.admin import OrgScopedAdmin, OrgScopedReadOnlyAdmin


@admin.register(Category)
class CategoryAdmin(OrgScopedAdmin):
    list_display = ["name", "slug", "kind", "archived", "organization"]
    list_filter = ["kind", "archived"]
    list_select_related = ["organization"]
    search_fields = ["name", "slug"]

    def get_readonly_fields(self, request, obj=None):
        # API clients and CSV files address a category by slug, and the API caches
        # (org, slug) -> id: once created, a category keeps its slug and organization.
        return ["organization", "slug"] if obj is not None else []


@admin.register(TimeEntry)
class TimeEntryAdmin(OrgScopedReadOnlyAdmin):
    """Read and delete only: entries are written through save_time_entries (overlap rule)."""

    list_display = ["started_at", "ended_at", "user", "activity", "category", "handling", "source"]
    list_filter = ["handling", "source"]
    list_select_related = ["user", "category", "organization"]
    search_fields = ["activity", "client", "ticket_ref", "external_id", "user__username"]
    date_hierarchy = "started_at"


@admin.register(TimeAudit)
class TimeAuditAdmin(OrgScopedReadOnlyAdmin):
    """Read and delete only: audits start through start_time_audit."""

    list_display = ["user", "start_date", "organization", "created_at"]
    list_select_related = ["user", "organization"]
    search_fields = ["user__username"]
    date_hierarchy = "start_date"
