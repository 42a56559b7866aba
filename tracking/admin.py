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
from .actor import Actor
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
from .services import history, tallies


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


SECRET_FIELDS = ("password", "last_login")


def _actor(request) -> Actor:
    return Actor(user=request.user, source="admin")


def _record(request, action: str, obj, before=None, after=None, message: str = "") -> None:
    history.write([history.change(_actor(request), action, obj, before=before, after=after, message=message)])


def _snapshot(obj) -> dict:
    return history.snapshot(obj, exclude=("created_at", "updated_at", "version", *SECRET_FIELDS))


class AuditedAdmin(admin.ModelAdmin):
    """Changes made in the admin go to the same audit trail as every other change."""

    def save_model(self, request, obj, form, change):
        before = _snapshot(type(obj).objects.get(pk=obj.pk)) if change and obj.pk else None
        super().save_model(request, obj, form, change)
        after = _snapshot(obj)
        if change:
            old, new = history.diff(before or {}, after)
            if "password" in form.changed_data:
                old["password"], new["password"] = "(set)", "(changed)"  # never the hash itself
            if old or new:
                _record(request, ChangeRecord.Action.UPDATE, obj, before=old, after=new, message="in the admin")
        else:
            _record(request, ChangeRecord.Action.CREATE, obj, after=after, message="in the admin")

    def delete_model(self, request, obj):
        before = _snapshot(obj)
        pk = obj.pk
        super().delete_model(request, obj)
        obj.pk = pk
        _record(request, ChangeRecord.Action.DELETE, obj, before=before, message="in the admin")

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)

    def save_formset(self, request, form, formset, change):
        # Inline rows (a person's roles, a unit's aliases) are records of their own.
        gone = [(f.instance, _snapshot(f.instance)) for f in formset.deleted_forms if f.instance.pk]
        before = {
            f.instance.pk: _snapshot(type(f.instance).objects.get(pk=f.instance.pk))
            for f in formset.initial_forms
            if f.instance.pk and f.has_changed() and f not in formset.deleted_forms
        }
        super().save_formset(request, form, formset, change)
        note = f"in the admin, with {form.instance}"
        for obj in formset.new_objects:
            _record(request, ChangeRecord.Action.CREATE, obj, after=_snapshot(obj), message=note)
        for obj, _fields in formset.changed_objects:
            old, new = history.diff(before.get(obj.pk, {}), _snapshot(obj))
            _record(request, ChangeRecord.Action.UPDATE, obj, before=old, after=new, message=note)
        for obj, snap in gone:
            _record(request, ChangeRecord.Action.DELETE, obj, before=snap, message=note)


class ReferenceAdmin(AuditedAdmin):
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
    """Visible to administrators, changed only through the services; read through `restrict` like every page."""

    def get_queryset(self, request):
        return super().get_queryset(request) & permissions.restrict(request.user, self.model)

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


class CountedReferenceAdmin(ReferenceAdmin):
    """Reference data the figures' kept counts are grouped by (an office's region and type, a type's code, a term's
    vocabulary): a change to `counted_fields` moves the counts of the key actions under it, in the admin's transaction
    (tracking.services.tallies)."""

    counted_fields: tuple[str, ...] = ()

    def counted_evaluations(self, obj) -> list[int]:
        raise NotImplementedError

    def save_model(self, request, obj, form, change):
        moved = change and any(f in form.changed_data for f in self.counted_fields)
        with tallies.kept_in_step(self.counted_evaluations(obj) if moved else ()):
            super().save_model(request, obj, form, change)


@admin.register(OfficeType, site=site)
class OfficeTypeAdmin(CountedReferenceAdmin):
    list_display = ["code", "name", "position"]
    counted_fields = ("code",)

    def counted_evaluations(self, obj) -> list[int]:
        return list(Evaluation.objects.filter(office__type_id=obj.pk).values_list("pk", flat=True))


@admin.register(Office, site=site)
class OfficeAdmin(CountedReferenceAdmin):
    list_display = ["name", "type", "region"]
    list_filter = ["type", "region"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}
    counted_fields = ("region", "type")

    def counted_evaluations(self, obj) -> list[int]:
        return list(Evaluation.objects.filter(office_id=obj.pk).values_list("pk", flat=True))


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
class TermAdmin(CountedReferenceAdmin):
    list_display = ["name", "kind", "active", "position", "auto_created"]
    list_filter = ["kind", "active", "auto_created"]
    search_fields = ["name"]
    counted_fields = ("kind",)  # a tag's counts are kept under its vocabulary

    def counted_evaluations(self, obj) -> list[int]:
        return list(Evaluation.objects.filter(recommendations__tags__term_id=obj.pk).values_list("pk", flat=True).distinct())


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

    def has_change_permission(self, request, obj=None):
        # A superuser's account (and password) is changed by superusers only.
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_delete_permission(request, obj)

    def user_change_password(self, request, id, form_url=""):
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and response.status_code == 302:
            person = User.objects.get(pk=id)
            _record(request, ChangeRecord.Action.UPDATE, person, before={"password": "(set)"}, after={"password": "(changed)"}, message="password set in the admin")
        return response

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
