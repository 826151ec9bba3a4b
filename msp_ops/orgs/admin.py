"""Django admin, scoped like the pages (STYLE 4: ``OrgScopedAdmin`` mirrors ``OrgScopedMixin``).

Superusers see everything. A staff user who is not a superuser sees only the rows of the
organizations where they are founder or service manager, and every foreign-key choice
(organization, category, user, ...) is limited the same way, so they can neither read nor
move a row into an organization they do not run. Django's model permissions still decide
which models they may view or change at all.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.db.models import Model, QuerySet
from django.http import HttpRequest

from msp_ops import plugins
from msp_ops.orgs.models import ApiToken, Membership, Organization, Role

ADMIN_ROLES = (Role.FOUNDER, Role.SERVICE_MANAGER)
USER_PATH = "memberships__organization"


def administered_orgs(user) -> QuerySet[Organization]:
    """Organizations whose rows this user may see in the admin (all of them for a superuser)."""
    if user.is_superuser:
        return Organization.objects.all()
    return Organization.objects.filter(memberships__user=user, memberships__role__in=ADMIN_ROLES)


def _scope(queryset: QuerySet, org_path: str, user) -> QuerySet:
    if user.is_superuser:
        return queryset
    if org_path == USER_PATH:
        # Through a subquery, not a join: no duplicate rows, and no distinct() (which would
        # forbid the admin's bulk delete).
        members = Membership.objects.filter(organization__in=administered_orgs(user)).values("user")
        return queryset.filter(pk__in=members)
    return queryset.filter(**{f"{org_path}__in": administered_orgs(user)})


def _org_path_of(model: type[Model]) -> str | None:
    """How a model reaches its organization, for limiting foreign-key choices."""
    if model is Organization:
        return "pk"
    if model is get_user_model():
        return USER_PATH
    if model is Membership:
        return "organization"
    if model is ApiToken:
        return "membership__organization"
    if any(field.name == "organization" for field in model._meta.get_fields()):
        return "organization"
    return None


class OrgScopedFieldsMixin:
    """Limits every foreign-key and many-to-many choice to the administered organizations."""

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs):
        self._limit_choices(db_field, request, kwargs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request: HttpRequest, **kwargs):
        self._limit_choices(db_field, request, kwargs)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def _limit_choices(self, db_field, request: HttpRequest, kwargs: dict) -> None:
        if request.user.is_superuser or "queryset" in kwargs:
            return
        related = db_field.related_model
        if (path := _org_path_of(related)) is not None:
            kwargs["queryset"] = _scope(related._default_manager.all(), path, request.user)


class OrgScopedAdmin(OrgScopedFieldsMixin, admin.ModelAdmin):
    """Base admin for organization-owned models; set ``org_path`` when the model reaches its
    organization through another row (e.g. ``"membership__organization"``)."""

    org_path = "organization"

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return _scope(super().get_queryset(request), self.org_path, request.user)

    def get_list_filter(self, request: HttpRequest):
        filters = list(super().get_list_filter(request))
        # A filter by organization only helps whoever sees several of them.
        if self.org_path == "organization" and administered_orgs(request.user).count() > 1:
            filters.insert(0, "organization")
        return filters


class OrgScopedReadOnlyAdmin(OrgScopedAdmin):
    """For rows whose rules span several rows (no overlapping entries, upsert on
    ``external_id``): they are written only through their services, by the pages, the API
    and the commands, so the admin shows and deletes them but does not add or edit them."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class OrgScopedInline(OrgScopedFieldsMixin, admin.TabularInline):
    extra = 0


class MembershipInline(OrgScopedInline):
    model = Membership


@admin.register(Organization)
class OrganizationAdmin(OrgScopedAdmin):
    org_path = "pk"
    list_display = ["name", "slug", "timezone", "managed_clients"]
    search_fields = ["name", "slug"]
    inlines = [MembershipInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Only a superuser (or create_org) starts a new organization.
        return request.user.is_superuser and super().has_add_permission(request)

    def save_model(self, request: HttpRequest, obj: Organization, form, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if not change:
            # Like create_organization: every new organization starts with the apps' defaults.
            plugins.organization_created(obj)


@admin.register(Membership)
class MembershipAdmin(OrgScopedAdmin):
    list_display = ["user", "organization", "role", "created_at"]
    list_select_related = ["user", "organization"]
    search_fields = ["user__username", "organization__name"]

    def get_list_filter(self, request: HttpRequest):
        return [*super().get_list_filter(request), "role"]


@admin.register(ApiToken)
class ApiTokenAdmin(OrgScopedAdmin):
    org_path = "membership__organization"
    list_display = ["name", "key_prefix", "membership", "created_at", "last_used_at", "revoked_at"]
    list_select_related = ["membership__user", "membership__organization"]
    readonly_fields = ["key_prefix", "created_at", "last_used_at"]
    fields = ["membership", "name", "key_prefix", "created_at", "last_used_at", "revoked_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # A key is shown only once, on the API tokens page or by create_api_token.
        return False


User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class OrgScopedUserAdmin(UserAdmin):
    """Users, limited to the members of the administered organizations. Only superusers add
    or change accounts: a user may belong to several organizations, and their password or
    staff flags are not one organization's to change (members come from ``add_member``)."""

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return _scope(super().get_queryset(request), USER_PATH, request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.is_superuser

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.is_superuser
