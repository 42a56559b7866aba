"""The GATE management-response document format: read it, write it.

Pure Python (no Django): `parse(text)` gives a `Document`, `render(document)`
gives the text back. See SPEC.md in tests/data/gate for the format.
"""

from .model import (
    Document,
    Evaluation,
    GateFormatError,
    KeyAction,
    ManagementResponse,
    ParseWarning,
    Recommendation,
)
from .parser import parse
from .render import render

__all__ = [
    "Document",
    "Evaluation",
    "GateFormatError",
    "KeyAction",
    "ManagementResponse",
    "ParseWarning",
    "Recommendation",
    "parse",
    "render",
]
