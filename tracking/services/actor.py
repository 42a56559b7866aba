"""Who is acting, and through which door (web, API, command line, import)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Actor:
    user: Any | None  # a django.contrib.auth user, or None for the system itself
    source: str = "web"
    request_id: uuid.UUID = field(default_factory=uuid.uuid4)

    @classmethod
    def system(cls, source: str = "command") -> Actor:
        """The installation itself, as when an administrator runs a command on the server."""
        return cls(user=None, source=source)

    @property
    def is_system(self) -> bool:
        return self.user is None

    @property
    def name(self) -> str:
        if self.user is None:
            return f"system ({self.source})"
        return self.user.get_username()
