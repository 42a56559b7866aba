"""What an import reports: one result per document, with its conflicts and changes."""

from __future__ import annotations

from dataclasses import dataclass, field

CREATED, UPDATED, UNCHANGED, FAILED = "created", "updated", "unchanged", "failed"


@dataclass(frozen=True)
class Conflict:
    """A value the page gives that differs from one changed here since the page was last imported.

    The value here was kept (unless the import preferred the page: `taken`).
    """

    source: str  # the document
    line: int  # where the page gives the value (0: unknown)
    record: str  # "Key action 1.1"
    field: str
    ours: object
    theirs: object
    taken: bool = False

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.line else self.source
        kept = "took the page's value" if self.taken else "kept ours"
        return f"{where}: {self.record}, {self.field}: ours {_show(self.ours)}, page {_show(self.theirs)} ({kept})"


def _show(value: object, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass
class ImportResult:
    source: str
    outcome: str
    evaluation_id: int | None = None
    warnings: list[str] = field(default_factory=list)
    error: str = ""
    recommendations: int = 0
    key_actions: int = 0
    status_changes: int = 0
    units_created: int = 0
    conflicts: list[Conflict] = field(default_factory=list)
    # Every change the import made ("Key action 1.1: status 'Initiated' → 'Completed'"), and whether
    # they were made on an approved response (listed in the summary, and marked in the history).
    changes: list[str] = field(default_factory=list)
    approved: bool = False
    # Records no longer on the page: kept, archived (only with `allow_removals`).
    removals: list[str] = field(default_factory=list)


class ImportRefused(Exception):
    """A document the import will not apply as it stands (it would remove records); nothing of it is written."""
