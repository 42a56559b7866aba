"""Snippets as safe HTML: the record's text escaped, only our own highlight markup trusted.

The database marks matches with two private-use characters (U+E000 before,
U+E001 after) instead of HTML; here everything is escaped and only those
markers become <mark> and </mark>, balanced whatever the text holds (a
text that itself contains the markers gets at worst a wrong highlight,
never markup).
"""

from __future__ import annotations

import re

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

START = "\ue000"
END = "\ue001"
_SPLIT = re.compile(f"([{START}{END}])")
_SPACE = re.compile(r"\s+")


def to_html(raw: str | None) -> SafeString:
    out: list[str] = []
    inside = False
    for part in _SPLIT.split(raw or ""):
        if part == START:
            if not inside:
                out.append("<mark>")
                inside = True
        elif part == END:
            if inside:
                out.append("</mark>")
                inside = False
        elif part:
            out.append(escape(_SPACE.sub(" ", part)))
    if inside:
        out.append("</mark>")
    return mark_safe("".join(out))


def plain(raw: str | None) -> str:
    """The snippet without markers (for titles and tests)."""
    return _SPACE.sub(" ", (raw or "").replace(START, "").replace(END, ""))
