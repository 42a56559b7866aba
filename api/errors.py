"""Errors as JSON in one shape, {code, message, field}: 4xx for every bad input, never a 500."""

from __future__ import annotations


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, field: str | None = None, *, retry_after: int | None = None,
                 extra: dict | None = None, headers: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field
        self.retry_after = retry_after
        self.extra = extra or {}
        self.headers = headers or {}

    def body(self) -> dict:
        return {"code": self.code, "message": self.message, "field": self.field, **self.extra}


def first_error(exc) -> tuple[str, str | None]:
    """(message, field) of a Django ValidationError."""
    if hasattr(exc, "error_dict"):
        field, errors = next(iter(exc.message_dict.items()))
        return (" ".join(errors), None if field == "__all__" else field)
    return (" ".join(exc.messages), None)
