"""Reminders in followthrough's admin: the messages (read-only), preferences and office heads (administrators)."""

from __future__ import annotations

from django.contrib import admin

from tracking.admin import ReadOnlyAdmin, ReferenceAdmin, site

from .models import Message, OfficeHead, Preference, Reminder


class ReminderInline(admin.TabularInline):
    model = Reminder
    fields = ["kind", "period"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Message, site=site)
class MessageAdmin(ReadOnlyAdmin):
    list_display = ["address", "day", "subject", "status", "attempts", "created_at", "sent_at"]
    list_filter = ["status", "reminders__kind"]
    search_fields = ["address", "subject", "error"]
    exclude = ["actions"]
    inlines = [ReminderInline]


@admin.register(Preference, site=site)
class PreferenceAdmin(ReferenceAdmin):
    list_display = ["address", "frequency", "unit_digest", "office_digest", "weekly_summary", "escalation", "quarterly_call"]
    search_fields = ["address"]


@admin.register(OfficeHead, site=site)
class OfficeHeadAdmin(ReferenceAdmin):
    list_display = ["office", "user", "address"]
    autocomplete_fields = ["office"]
    raw_id_fields = ["user"]
