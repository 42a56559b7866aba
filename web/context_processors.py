"""What every page needs to know about its reader."""

from __future__ import annotations

from tracking.permissions import reader_scope


def reader(request) -> dict:
    # Lazy: pages that never ask pay nothing. `internal`: the reader has a role
    # (who reported progress, internal evidence, history); see tracking.permissions.
    return {"internal": _Lazy(lambda: reader_scope(request.user).internal)}


class _Lazy:
    def __init__(self, compute):
        self._compute = compute
        self._value = None
        self._done = False

    def __bool__(self) -> bool:
        if not self._done:
            self._value, self._done = bool(self._compute()), True
        return self._value
