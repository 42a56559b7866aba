"""The admin site: reference data and people, for administrators.

Its permission decisions come from `tracking.permissions` like every other
door: administrators manage users, roles, offices, units and vocabularies.
Domain records (evaluations, responses, key actions) are shown read-only:
they change only through the services, which keep their history. The
history itself can be read, never edited or deleted.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group

from . import permissions
from .models import (
    ChangeRecord,
    Evaluation,
    KeyAction,
    Office,
    OfficeType,
    Region,
    RoleAssignment,
    Term,
    Unit,
    UnitAlias,
)


class FollowthroughAdminSite(admin.AdminSite):
    site_header = "followthrough administration"
    site_title = "followthrough"
    index_title = "Reference data and people"

    def has_permission(self, request):
        return request.user.is_active and permissions.can(request.user, permissions.MANAGE_REFERENCE)

    def login(self, request, extra_context=None):
        # One sign-in page for everyone (with its throttling), not Django's staff-only admin login.
        from django.contrib.auth.views import redirect_to_login

        return redirect_to_login(request.GET.get("next", request.get_full_path()))


site = FollowthroughAdminSite(name="admin")


class ReferenceAdmin(admin.ModelAdmin):
    """Administrators may do everything with reference data."""

    def _allowed(self, request):
        return permissions.can(request.user, permissions.MANAGE_REFERENCE)

    def has_module_permission(self, request):
        return self._allowed(request)

    def has_view_permission(self, request, obj=None):
        return self._allowed(request)

    def has_add_permission(self, request):
        return self._allowed(request)

    def has_change_permission(self, request, obj=None):
        return self._allowed(request)

    def has_delete_permission(self, request, obj=None):
        return self._allowed(request)


class ReadOnlyAdmin(ReferenceAdmin):
    """Visible to administrators, changed only through the services."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Region, site=site)
class RegionAdmin(ReferenceAdmin):
    list_display = ["name", "position"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(OfficeType, site=site)
class OfficeTypeAdmin(ReferenceAdmin):
    list_display = ["code", "name", "position"]


@admin.register(Office, site=site)
class OfficeAdmin(ReferenceAdmin):
    list_display = ["name", "type", "region"]
    list_filter = ["type", "region"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}


class UnitAliasInline(admin.TabularInline):
    model = UnitAlias
    extra = 1
    fields = ["name"]

    def has_add_permission(self, request, obj=None):
        return permissions.can(request.user, permissions.MANAGE_REFERENCE)

    has_change_permission = has_delete_permission = has_view_permission = (
        lambda self, request, obj=None: permissions.can(request.user, permissions.MANAGE_REFERENCE)
    )


@admin.register(Unit, site=site)
class UnitAdmin(ReferenceAdmin):
    list_display = ["name", "acronym", "office", "auto_created"]
    list_filter = ["auto_created", "office__type"]
    search_fields = ["name", "acronym", "aliases__name"]
    autocomplete_fields = ["office"]
    inlines = [UnitAliasInline]


@admin.register(Term, site=site)
class TermAdmin(ReferenceAdmin):
    list_display = ["name", "kind", "active", "position", "auto_created"]
    list_filter = ["kind", "active", "auto_created"]
    search_fields = ["name"]


class RoleAssignmentInline(admin.TabularInline):
    model = RoleAssignment
    extra = 1
    fields = ["role", "office", "unit", "region"]
    autocomplete_fields = ["office", "unit"]

    def _allowed(self, request, obj=None):
        return permissions.can(request.user, permissions.MANAGE_REFERENCE)

    has_view_permission = has_change_permission = has_delete_permission = _allowed

    def has_add_permission(self, request, obj=None):
        return self._allowed(request)


@admin.register(RoleAssignment, site=site)
class RoleAssignmentAdmin(ReferenceAdmin):
    list_display = ["user", "role", "office", "unit", "region"]
    list_filter = ["role"]
    search_fields = ["user__username", "office__name", "unit__name"]
    autocomplete_fields = ["user", "office", "unit"]


User = get_user_model()


@admin.register(User, site=site)
class PeopleAdmin(ReferenceAdmin, UserAdmin):
    inlines = [RoleAssignmentInline]
    list_display = ["username", "email", "first_name", "last_name", "is_active", "last_login"]

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if request.user.is_superuser:
            return fieldsets
        # Administrators manage people through roles, not through Django's own permission flags.
        return [(name, {**opts, "fields": [f for f in opts["fields"] if f not in ("is_superuser", "user_permissions", "groups")]}) for name, opts in fieldsets]


@admin.register(Group, site=site)
class PeopleGroupAdmin(ReferenceAdmin, GroupAdmin):
    pass


@admin.register(Evaluation, site=site)
class EvaluationAdmin(ReadOnlyAdmin):
    list_display = ["title", "office", "year", "status"]
    list_filter = ["status", "office__type"]
    search_fields = ["title", "office__name"]


@admin.register(KeyAction, site=site)
class KeyActionAdmin(ReadOnlyAdmin):
    list_display = ["number", "evaluation", "status", "deadline"]
    list_filter = ["status"]
    search_fields = ["text", "responsible"]
    list_select_related = ["evaluation"]


@admin.register(ChangeRecord, site=site)
class ChangeRecordAdmin(ReadOnlyAdmin):
    list_display = ["time", "user_name", "action", "content_type", "object_repr", "message"]
    list_filter = ["action", "source", "content_type"]
    search_fields = ["object_repr", "user_name", "message"]
