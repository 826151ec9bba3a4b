from django.contrib import admin

from msp_ops.orgs.models import ApiToken, Membership, Organization


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "timezone", "managed_clients"]
    search_fields = ["name", "slug"]
    inlines = [MembershipInline]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "key_prefix", "membership", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["membership__organization"]
    readonly_fields = ["key_prefix", "created_at", "last_used_at"]
    fields = ["membership", "name", "key_prefix", "created_at", "last_used_at", "revoked_at"]

    def has_add_permission(self, request) -> bool:
        # A key is shown only once, on the API tokens page or by create_api_token.
        return False
