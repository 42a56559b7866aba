"""Errors the services raise, for every door (web, API, command line) to present."""

from __future__ import annotations


class ConflictError(Exception):
    """Someone else changed the record since this change was prepared.

    `current` is the record as it is now, so the person can see what changed
    and decide again; their attempt is kept in the history as refused.
    """

    def __init__(self, current, message: str | None = None):
        self.current = current
        changed_by = getattr(current, "_last_changed_by", "")
        super().__init__(
            message
            or f"{current} was changed{f' by {changed_by}' if changed_by else ''} after you opened it. "
            "Nothing was saved: here is the current version, with your entry kept for you to review and save again."
        )
