"""What a person typed in the search box, read as text.

Whatever arrives (quotes, FTS operators, NEAR, `title:` column filters,
unbalanced parentheses, a lone `*`, 10,000 characters, NUL, lone
surrogates, right-to-left marks) becomes a list of terms made of letters and
digits only. The database's query syntax (FTS5 MATCH, PostgreSQL tsquery) is
then built from these terms by us, so nothing the person typed is ever read
as an operator and no query can fail to parse.

What the box understands:

- words: all must appear (in any of a record's fields), accents and case
  aside; `evaluacion` finds `evaluación`;
- "a phrase": the words next to each other, in order (an unclosed quote runs
  to the end);
- word*: words that start with it;
- words joined by punctuation (`follow-up`, `l'évaluation`, `2018-2021`)
  are a phrase of their parts, as the index reads them.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

MAX_CHARS = 1000  # read no further: no search needs more, and the database is spared
MAX_TERMS = 12
MAX_WORD = 100  # longer "words" are noise (a pasted hash): dropped

QUOTES = '"“”„«»＂'
_WORD = re.compile(r"[^\W_]+")
# Inside a chunk, what PostgreSQL's parser may read as part of one token ("2018-2021", "l'évaluation").
_JOINERS = re.compile(r"[^\w\-.'’/]+")


@dataclass(frozen=True)
class Term:
    words: tuple[str, ...]
    prefix: bool = False
    # The chunk as typed, reduced to letters, digits and inner joiners: what PostgreSQL's own
    # parser reads (so "2018-2021" is split there as it was when indexed).
    text: str = ""

    @property
    def is_phrase(self) -> bool:
        return len(self.words) > 1


@dataclass(frozen=True)
class Query:
    terms: tuple[Term, ...] = ()
    raw: str = ""

    def __bool__(self) -> bool:
        return bool(self.terms)

    @property
    def words(self) -> list[str]:
        return [w for t in self.terms for w in t.words]

    @property
    def prefixes(self) -> list[str]:
        """Single-word prefix terms: matched on the words as written, not on their stems."""
        return [t.words[0] for t in self.terms if t.prefix and not t.is_phrase]

    @property
    def stemmed_terms(self) -> list[Term]:
        return [t for t in self.terms if not (t.prefix and not t.is_phrase)]

    # --- SQLite FTS5 -------------------------------------------------------------------
    #
    # The main table's words are stemmed (Porter), so a prefix is looked up in a second,
    # unstemmed index: "sustainab*" must find "sustainability", whose stem is "sustain".

    def fts5(self) -> str | None:
        """MATCH expression for the stemmed index: every term a quoted string (no operator of the
        person's survives). None when every term is a single-word prefix."""
        terms = self.stemmed_terms
        return fts5_match(terms) if terms else None

    def fts5_prefixes(self) -> str | None:
        """MATCH expression for the unstemmed index (single-word prefixes only)."""
        return " AND ".join(f'"{w}" *' for w in self.prefixes) or None

    def fts5_any(self) -> str:
        """Any term at all (for snippets: the row is known to match; this finds what to highlight)."""
        return " OR ".join(_fts5_term(t) for t in self.terms)

    def fts5_adjacent(self) -> str | None:
        """All the words next to each other, in order: the exact phrase, ranked first. None if moot."""
        if not self.wants_adjacency:
            return None
        return '"' + " ".join(self.words) + '"'

    @property
    def wants_adjacency(self) -> bool:
        return len(self.terms) > 1 and not any(t.prefix for t in self.terms) and len(self.words) <= 32

    # --- PostgreSQL --------------------------------------------------------------------

    def tsquery_parts(self) -> list[tuple[str, str, bool]]:
        """(function, argument, unstemmed) per term, each to be called with a text search configuration.

        A plain word or phrase goes to phraseto_tsquery (plain text: it has no syntax);
        a prefix term to to_tsquery with every word quoted and only our own operators, in
        the unstemmed configuration (`unstemmed`: the words as written are indexed too).
        """
        parts = []
        for t in self.terms:
            if t.prefix:
                body = " <-> ".join(f"'{w}'" for w in t.words) + ":*"
                parts.append(("to_tsquery", body, True))
            else:
                parts.append(("phraseto_tsquery", t.text or " ".join(t.words), False))
        return parts


def fts5_match(terms: list[Term]) -> str:
    """MATCH expression: all these terms."""
    return " AND ".join(_fts5_term(t) for t in terms)


def _fts5_term(t: Term) -> str:
    return '"' + " ".join(t.words) + '"' + (" *" if t.prefix else "")


def clean(text: str) -> str:
    """The text with what no search means removed: NUL and control characters, lone surrogates,
    invisible format marks (right-to-left marks, zero-width joiners); compatibility forms folded."""
    text = (text or "")[: MAX_CHARS * 2]
    out = []
    for ch in text:
        code = ord(ch)
        if 0xD800 <= code <= 0xDFFF:
            continue  # a lone surrogate: not a character, and no database driver would take it
        cat = unicodedata.category(ch)
        if cat == "Cf" or (0xE000 <= code <= 0xF8FF):
            continue  # format marks and private use (our highlight markers live there)
        out.append(" " if cat in ("Cc", "Zl", "Zp") else ch)
    return unicodedata.normalize("NFKC", "".join(out))[:MAX_CHARS]


def parse(raw: str) -> Query:
    text = clean(raw)
    terms: list[Term] = []
    inside = False
    segment: list[str] = []

    def flush(quoted: bool) -> None:
        s = "".join(segment)
        segment.clear()
        if quoted:
            _add(terms, s, phrase=True)
        else:
            for chunk in s.split():
                _add(terms, chunk, phrase=False)

    for ch in text:
        if ch in QUOTES:
            flush(inside)
            inside = not inside
        else:
            segment.append(ch)
    flush(inside)  # an unclosed quote runs to the end
    unique = list(dict.fromkeys(terms))[:MAX_TERMS]
    return Query(tuple(unique), raw=text.strip())


def _add(terms: list[Term], chunk: str, phrase: bool) -> None:
    words = tuple(w.casefold() for w in _WORD.findall(chunk) if len(w) <= MAX_WORD)
    if not words:
        return
    stripped = chunk.rstrip()
    prefix = not phrase and stripped.endswith("*") and bool(_WORD.search(stripped[-2:-1] or ""))
    if phrase and stripped.endswith("*") and bool(_WORD.search(stripped[-2:-1] or "")):
        prefix = True
    plain = " ".join(_JOINERS.sub(" ", chunk).split())
    terms.append(Term(words=words, prefix=prefix, text=plain[:MAX_CHARS]))
