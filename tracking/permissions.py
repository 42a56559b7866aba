"""Who may do what: every permission decision of the app is made here.

Deny by default. The services call `require` before they change anything;
views and the API ask `can` only to decide what to show.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied

from .services.actor import Actor

IMPORT_DOCUMENTS = "import_documents"
EXPORT_DOCUMENTS = "export_documents"


def can(actor: Actor, permission: str, obj: object | None = None) -> bool:
    if actor.is_system:
        # The server's own command line: whoever runs it administers the installation.
        return True
    user = actor.user
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return False


def require(actor: Actor, permission: str, obj: object | None = None) -> None:
    if not can(actor, permission, obj):
        raise PermissionDenied(f"{actor.name} may not {permission.replace('_', ' ')}")
