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


_WORD = re.compile(r"[^\W_]+")


def fold(word: str) -> str:
    """Accents and case aside, as the index reads words."""
    import unicodedata

    return "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c)).casefold()


def mark_prefixes(raw: str, prefixes: list[str]) -> str:
    """Mark the words that start with a prefix term, where the database did not (it marks stems)."""
    if not prefixes or not raw:
        return raw
    wanted = tuple(fold(p) for p in prefixes)
    out = []
    inside = False
    for part in _SPLIT.split(raw):
        if part in (START, END):
            inside = part == START
            out.append(part)
        elif inside:
            out.append(part)
        else:
            out.append(_WORD.sub(lambda m: f"{START}{m.group(0)}{END}" if fold(m.group(0)).startswith(wanted) else m.group(0), part))
    return "".join(out)


def excerpt(text: str, prefixes: list[str], width: int = 36) -> str:
    """A snippet made here: the words around the first that starts with a prefix, marked."""
    words = (text or "").split()
    wanted = tuple(fold(p) for p in prefixes)
    at = next((i for i, w in enumerate(words) if any(fold(m).startswith(wanted) for m in _WORD.findall(w))), 0)
    start = max(0, at - width // 3)
    piece = " ".join(words[start : start + width])
    return mark_prefixes(("…" if start else "") + piece + ("…" if start + width < len(words) else ""), prefixes)
