"""What the reader works on: the page's lines, with their numbers, and small helpers on them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class _Line:
    no: int
    text: str


def _colon_value(line: str) -> str:
    return line[1:].strip() if line.startswith(":") else line.strip()


def _quote(text: str, limit: int = 80) -> str:
    text = text.strip()
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")
