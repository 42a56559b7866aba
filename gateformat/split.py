"""Where does the action text end and the responsible unit begin?

On a GATE page a key-action row reads `<action text> <responsible> <deadline>
<status> <comments>` with nothing between the text and the responsible. The
deadline and status are reliable anchors; the text/responsible boundary has
to be inferred. We score every word boundary near the end of the row on
signs a reader would use:

- the text ends like a sentence (`.`, `)`), not on a dangling word (`by the`);
- the responsible starts like a unit: an acronym (`SPD/`), a known unit or
  office, a capitalised unit phrase (`Programme Division`);
- the responsible reads as a list of units (acronyms, slashes, unit nouns),
  not as prose (no sentence end inside, few lowercase content words);
- brackets are balanced on both sides;
- units the document itself names elsewhere count as known (a second pass).

The best-scoring boundary wins; its share of the softmax over all
boundaries is the confidence that the reader reports. Rows copied from a
browser table carry a tab between cells: then there is nothing to infer.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

from .vocab import DANGLING_WORDS, UNIT_HEAD_WORDS

# The responsible is rarely longer than this many words; looking further
# left only costs time and invites prose to pass for a unit.
MAX_RESPONSIBLE_WORDS = 22
# Softmax temperature: lower makes the confidence sharper.
TEMPERATURE = 1.3
LOW_CONFIDENCE = 0.6

_TOKEN = re.compile(r"\S+")
_EDGE_PUNCT = "\"'“”‘’.,;:!?()[]{}"
_ACRONYM = re.compile(r"^(?:[A-Z][A-Z0-9&]{1,7}|[A-Z]{2,6}s|[A-Z]\.?[A-Z]\.?(?:[A-Z]\.?)?)$")
_SENTENCE_STARTERS = frozenset(
    "the this these those it its a an we they our in to for by with as if when while "
    "all each every some there here such also".split()
)
_CONNECTORS = frozenset(
    "and & or with in of the for from by at on as to under within including incl. "
    "collaboration coordination support cooperation partnership together jointly "
    "et y con en de la del des du avec".split()
)
_ABBREVIATIONS = frozenset("e.g. i.e. vs. no. art. para. p. pp. cf. approx. st. mr. ms. mrs. dr. nr.".split())


_SLASH_SPACING = re.compile(r"\s*/\s*")
_SPACES = re.compile(r"\s+")


@lru_cache(maxsize=65_536)
def normalize_unit(text: str) -> str:
    """A comparison key for unit names: case, spacing and `/ ` spacing ignored."""
    text = _SLASH_SPACING.sub("/", text.strip().casefold())
    return _SPACES.sub(" ", text).strip(" ,;.")


@dataclass(frozen=True)
class Split:
    text: str
    responsible: str
    confidence: float


@dataclass(frozen=True)
class _Tok:
    """What a word says about a boundary next to it (cached: words repeat)."""

    core: str  # without edge punctuation
    is_acronym: bool
    slash_acronym: bool  # SPD/..., .../CSS/
    trailing_slash: bool  # "Unit/": a list goes on
    is_cap: bool
    is_lower: bool
    unit_word: bool
    head_noun: bool  # the word is itself "Division", "Team", ...
    ends_sentence: bool
    ends_close: bool  # ) or ]
    ends_comma: bool
    dangling: bool
    connector: bool
    starter: bool
    initial: bool  # "I.", "St." - a letter or abbreviation, not a sentence end
    opens: int  # brackets opened minus closed in this word
    first_key: str
    norm: str  # the word as unit names are compared: case-folded
    # What the word says about a boundary, worked out once per word (see `_classify`).
    end_score: float = 0.0  # as the last word of the action text
    start_score: float = 0.0  # as the first word of the responsible, not a known unit
    start_score_known: float = 0.0  # ... when a known unit starts with it
    lower_content: bool = False  # a lowercase word that is neither a connector nor a unit word
    unitish: bool = False
    tail_unit: bool = False  # a capitalised unit noun ("Team"): the responsible began earlier


_ROMAN = re.compile(r"^(?:I|II|III|IV|VI|VII|VIII|IX)$")


@lru_cache(maxsize=100_000)
def _classify(raw: str) -> _Tok:
    core = raw.strip(_EDGE_PUNCT)
    parts = [p.strip(_EDGE_PUNCT) for p in core.split("/") if p.strip(_EDGE_PUNCT)]
    acronym_parts = [p for p in parts if _ACRONYM.match(p)]
    first_alpha = next((c for c in raw if c.isalpha()), "")
    lowered = core.casefold()
    roman = bool(_ROMAN.match(core)) and core != "IX"
    initial = bool(re.fullmatch(r"[A-Z][a-z]?\.", raw)) and not roman
    ends_sentence = (
        raw.endswith((".", "!", "?", '."', ".”", ".’", ".)", "?)", ".]"))
        and lowered + "." not in _ABBREVIATIONS
        and not initial
    )
    tok = _Tok(
        core=core,
        # "phase II" is a number, not an acronym or a capitalised word.
        is_acronym=bool(parts) and bool(_ACRONYM.match(parts[0])) and not roman,
        slash_acronym="/" in raw and bool(acronym_parts),
        trailing_slash=raw.endswith("/"),
        is_cap=first_alpha.isupper() and not roman,
        is_lower=first_alpha.islower(),
        unit_word=any(p.casefold() in UNIT_HEAD_WORDS for p in parts) if parts else False,
        head_noun=lowered in UNIT_HEAD_WORDS,
        ends_sentence=ends_sentence,
        ends_close=raw.endswith((")", "]", ")”", ')"')),
        ends_comma=raw.endswith((",", ";", ":")),
        dangling=lowered in DANGLING_WORDS,
        connector=lowered in _CONNECTORS,
        starter=lowered in _SENTENCE_STARTERS,
        initial=initial,
        opens=raw.count("(") + raw.count("[") - raw.count(")") - raw.count("]"),
        first_key=normalize_unit(parts[0]) if parts else "",
        norm=raw.casefold(),
    )
    return _with_scores(tok, raw)


def _with_scores(t: _Tok, raw: str) -> _Tok:
    """The parts of a boundary's score that depend on one word only."""
    end = 0.0
    if t.ends_sentence:
        end += 3.0
    elif t.ends_close:
        end += 1.5
    elif t.ends_comma:
        end -= 4.0  # "Coordination Unit, | EVAW Team": a list goes on
    if t.dangling:
        end -= 6.0  # no action ends on "the", "and", "by"
    if t.trailing_slash:
        end -= 3.5  # "Finance Unit/ | ...": a list of units goes on
    elif t.slash_acronym:
        end -= 2.5  # "SPD/DMA" is a list of units, not a sentence end

    def start(known: bool) -> float:
        s = 0.0
        if raw[:1] in "([-–":
            s -= 2.5
        if t.is_lower and not known:
            s -= 3.0
            if t.dangling:
                s -= 2.0  # "with the ...", "and ..." continue a sentence
        elif t.is_acronym:
            s += 2.5
            if t.slash_acronym:
                s += 1.0
        elif t.is_cap:
            s += 0.8
            if t.starter:
                s -= 2.5
        elif raw[:1].isdigit():
            s -= 2.0
        return s

    return replace(
        t,
        end_score=end,
        start_score=start(False),
        start_score_known=start(True),
        lower_content=t.is_lower and not (t.connector or t.unit_word or t.dangling),
        unitish=t.unit_word or t.is_acronym,
        tail_unit=t.head_noun and t.is_cap,
    )


_EMPTY: frozenset[str] = frozenset()


class UnitVocabulary:
    """Known unit names, acronyms and aliases, looked up by their first word."""

    def __init__(self, names: Iterable[str] = ()):
        self._by_first: dict[str, set[str]] = {}
        self._parent: UnitVocabulary | None = None
        # Lookups memoised until the next `add` (a layer's parent must not change under it).
        self._memo: dict[str, set[str] | frozenset[str]] = {}
        self._longest: dict[str, int] = {}
        self.add_all(names)

    def add_all(self, names: Iterable[str]) -> None:
        for name in names:
            self.add(name)

    def add(self, name: str) -> None:
        key = normalize_unit(name)
        if len(key) < 2:
            return
        first = re.split(r"[\s/,;()]+", key.strip("("))[0]
        self._by_first.setdefault(first, set()).add(key)
        self._memo.pop(first, None)
        self._longest.pop(first, None)
        # "Civil Society Section (CSS)" is also known as "CSS".
        for acronym in re.findall(r"\(([A-Z][A-Za-z0-9&]{1,9})\)", name):
            self.add(acronym)

    def layer(self) -> UnitVocabulary:
        """A vocabulary that knows all of this one plus what is added to it (this one is unchanged)."""
        child = UnitVocabulary()
        child._parent = self
        return child

    def names_starting(self, first_key: str) -> set[str]:
        memo = self._memo.get(first_key)
        if memo is None:
            own = self._by_first.get(first_key)
            inherited = self._parent.names_starting(first_key) if self._parent is not None else None
            memo = (own | inherited) if own and inherited else (own or inherited or _EMPTY)
            self._memo[first_key] = memo
        return memo

    def longest(self, first_key: str) -> int:
        """The length of the longest name that starts with this word."""
        longest = self._longest.get(first_key)
        if longest is None:
            longest = self._longest[first_key] = max((len(n) for n in self.names_starting(first_key)), default=0)
        return longest

    def first_keys(self) -> set[str]:
        keys = set(self._by_first)
        if self._parent is not None:
            keys |= self._parent.first_keys()
        return keys

    def flattened(self) -> UnitVocabulary:
        """A copy with its layers merged, that nothing added later changes (for other processes)."""
        flat = UnitVocabulary()
        for key in self.first_keys():
            flat._by_first[key] = set(self.names_starting(key))
        return flat

    def own_first_keys(self) -> set[str]:
        return set(self._by_first)

    def __contains__(self, name: str) -> bool:
        key = normalize_unit(name)
        first = re.split(r"[\s/,;()]+", key.strip("("))[0]
        return key in self.names_starting(first)

    def __len__(self) -> int:
        return sum(len(v) for v in self._by_first.values()) + (len(self._parent) if self._parent else 0)


class Splitter:
    """Splits the action bodies of one document, learning its units as it goes."""

    def __init__(self, vocabulary: UnitVocabulary | None = None):
        # Not `vocabulary or ...`: that would count every name the vocabulary holds.
        self.vocabulary = vocabulary if vocabulary is not None else UnitVocabulary()

    def split_all(self, bodies: Sequence[str]) -> list[Split]:
        # Pass 1 with what we know; the responsibles it is sure of teach us the
        # document's own units, which pass 2 uses on the doubtful rows.
        first = [self.split(b) for b in bodies]
        learned = self.vocabulary.layer()
        for s in first:
            if s.confidence >= 0.8 and s.responsible:
                learned.add(s.responsible)
                for piece in re.split(r"\s*[/,;]\s*", s.responsible):
                    if len(piece) > 1 and piece[:1].isupper():
                        learned.add(piece)
        # Keys the document taught us (a name we knew already changes nothing).
        new_keys = {k for k in learned.own_first_keys() if learned._by_first[k] - self.vocabulary.names_starting(k)}
        if not new_keys:
            return first
        second = Splitter(learned)
        out = []
        for s, body in zip(first, bodies):
            if s.confidence < 0.95 and not new_keys.isdisjoint(_classify(m.group()).first_key for m in _TOKEN.finditer(body)):
                s = second.split(body)
            out.append(s)
        return out

    def split(self, body: str) -> Split:
        if "\t" in body:
            # A row copied cell by cell: the tab is the boundary (either cell may be empty).
            text, _, responsible = body.partition("\t")
            return Split(text.strip(), responsible.strip(), 1.0)
        body = body.strip()
        spans = [(m.start(), m.group()) for m in _TOKEN.finditer(body)]
        if not spans:
            return Split("", "", 0.0)
        if len(spans) == 1:
            return Split(body, "", 0.5)
        # Only the last words can be the responsible; the text before them
        # matters only through its bracket depth.
        lo = max(1, len(spans) - MAX_RESPONSIBLE_WORDS)
        depth_before = sum(_classify(raw).opens for _, raw in spans[: lo - 1])
        window = spans[lo - 1 :]
        toks = [_classify(raw) for _, raw in window]
        scores = self._scores(body, [start for start, _ in window], toks, depth_before)
        best_score, best_k = max(scores)
        total = sum(math.exp((s - best_score) / TEMPERATURE) for s, _ in scores)
        confidence = 1.0 / total
        if best_k == len(toks):
            return Split(body, "", confidence)
        cut = window[best_k][0]
        return Split(body[:cut].rstrip(), body[cut:].strip(), confidence)

    def _scores(self, body: str, starts: list[int], toks: list[_Tok], depth_before: int) -> list[tuple[float, int]]:
        """Score each boundary k (the responsible starts at toks[k]; k == n: none).

        Word-level parts come precomputed with each word; sums over the
        candidate responsible are suffix sums: each boundary costs O(1).
        """
        n = len(toks)
        lower = [0] * (n + 1)
        unitish = [0] * (n + 1)
        inner_ends = [0] * (n + 1)
        opens = [0] * (n + 1)
        tail_units = [0] * (n + 1)  # prefix sums of capitalised unit nouns
        for i in range(n - 1, -1, -1):
            t = toks[i]
            lower[i] = lower[i + 1] + t.lower_content
            unitish[i] = unitish[i + 1] + t.unitish
            inner_ends[i] = inner_ends[i + 1] + (t.ends_sentence and i < n - 1 and toks[i + 1].is_cap)
            opens[i] = opens[i + 1] + t.opens
        for i, t in enumerate(toks):
            tail_units[i + 1] = tail_units[i] + t.tail_unit
        vocabulary = self.vocabulary
        memo, names_starting, longest = vocabulary._memo, vocabulary.names_starting, vocabulary.longest
        depth = depth_before
        scores = []
        for k in range(1, n + 1):
            prev = toks[k - 1]
            depth += prev.opens
            s = prev.end_score
            # capitalised unit nouns among the 4 words before the boundary
            tail = tail_units[k] - tail_units[k - 4 if k > 4 else 0]
            if tail and not prev.ends_sentence:
                s -= 0.8 * tail  # unit words just before the boundary: the responsible began earlier
            if depth != 0:
                s -= 5.0  # a bracket opened in the text closes in the responsible
            if k == n:
                scores.append((s - 3.5, k))  # no responsible at all: possible, but the exception
                continue
            first = toks[k]
            known = 0
            names = memo.get(first.first_key)
            if names is None:
                names = names_starting(first.first_key)
            if names:
                known = _longest_prefix(names, _suffix_key(toks, k, longest(first.first_key)))
            if known:
                # A long known name is strong evidence; a two-letter one is weak.
                s += 1.0 + min(2.5, known / 8) + first.start_score_known
            else:
                s += first.start_score
            if prev.is_cap and first.is_cap and not (
                prev.ends_sentence or prev.ends_close or prev.ends_comma or prev.is_acronym
            ):
                s -= 1.5  # cutting "Programme | Division" in two
                if first.head_noun:
                    s -= 1.0  # "UN Country | Team ..."
            # --- the responsible reads as a list of units
            s -= 4.0 * inner_ends[k] + 0.6 * lower[k]
            u = unitish[k]
            s += 0.6 * (u if u < 3 else 3)
            if n - k > 10:
                s -= 0.15 * (n - k - 10)
            if opens[k] != 0:
                s -= 5.0
            scores.append((s, k))
        return scores


def _suffix_key(toks: list[_Tok], k: int, limit: int) -> str:
    """`normalize_unit` of the words from k on, only as long as a name can be (no regex)."""
    out = toks[k].norm
    i = k + 1
    while len(out) <= limit and i < len(toks):
        word = toks[i].norm
        out += word if out.endswith("/") or word.startswith("/") else " " + word
        i += 1
    return out.rstrip(" ,;.")


def _longest_prefix(names: Iterable[str], text_key: str) -> int:
    """Length of the longest name that `text_key` starts with, at a word end."""
    best = 0
    for name in names:
        if len(name) > best and text_key.startswith(name):
            rest = text_key[len(name) : len(name) + 1]
            if rest in ("", " ", "/", ",", ";", ")", ".", "-"):
                best = len(name)
    return best


def low_confidence(split: Split) -> bool:
    return split.confidence < LOW_CONFIDENCE
