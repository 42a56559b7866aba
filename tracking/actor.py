"""Who is acting, and through which door (web, API, command line, import)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Actor:
    """A person (or nobody: an anonymous visitor) acting through a door; or the system itself.

    Being the system is explicit (`Actor.system()`), never inferred from a
    missing user: an anonymous request must never pass for the server's own
    command line.
    """

    user: Any | None  # a django.contrib.auth user; None or AnonymousUser for a visitor
    source: str = "web"
    request_id: uuid.UUID = field(default_factory=uuid.uuid4)
    as_system: bool = False

    @classmethod
    def system(cls, source: str = "command") -> Actor:
        """The installation itself, as when an administrator runs a command on the server."""
        return cls(user=None, source=source, as_system=True)

    @property
    def is_system(self) -> bool:
        return self.as_system

    @property
    def is_authenticated(self) -> bool:
        return bool(self.user is not None and getattr(self.user, "is_authenticated", False))

    @property
    def name(self) -> str:
        if self.as_system:
            return f"system ({self.source})"
        if not self.is_authenticated:
            return "anonymous"
        return self.user.get_username()
