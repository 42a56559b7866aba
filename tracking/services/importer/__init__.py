"""Import GATE documents: create or update an evaluation and everything in its response.

By concern: `pipeline` (the run: reading, batches, one transaction per batch,
permission per document), `matching` (stored rows with the page's, responsible
texts with units), `create` (new evaluations, in bulk), `update` (a stored
evaluation brought in line with its page without undoing what was done here:
the rules are in its docstring), `document` (one document: where it belongs,
the values its page gives), `results` (what is reported).

Each document is all or nothing; a re-import writes nothing when nothing
changed. Records are matched by their number where numbers are unique, by
position otherwise; they are never duplicated, and never deleted.
"""

from .document import parse_deadline
from .pipeline import OFFICE_TYPE_NAMES, Importer, analyze_changed_tables
from .results import CREATED, FAILED, UNCHANGED, UPDATED, Conflict, ImportRefused, ImportResult

__all__ = [
    "CREATED",
    "FAILED",
    "UNCHANGED",
    "UPDATED",
    "Conflict",
    "ImportRefused",
    "ImportResult",
    "Importer",
    "OFFICE_TYPE_NAMES",
    "analyze_changed_tables",
    "parse_deadline",
]
