"""Full-text search: ranked hits grouped by kind, snippets, and filters with counts per value.

One statement finds the hits, counts them per kind and per filter value
(each filter counted with the others applied) and ranks the page of hits
shown; one more fetches their snippets (SQLite; PostgreSQL makes them in
the ranking statement). The records shown are then read through the same
reading rules as every page, so nothing is shown that its reader may not see.

Ranking: hits where all the words stand next to each other, in order (the
exact phrase), come first; then by relevance (BM25 on SQLite, cover density
on PostgreSQL), a title's words (evaluation title, recommendation, key
action) weighing more than a body's (management response, comments) and
more than the rest (description, responsible).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models.expressions import RawSQL
from django.utils import timezone

from tracking import params as qp
from tracking import queries
from tracking.models import EvaluationDocument, ManagementResponse, Office, Recommendation, Region, Term
from tracking.permissions import restrict

from . import highlight
from .models import CommonWord
from .query import Query, fts5_match, parse
from .schema import (
    BY_CODE,
    BY_NAME,
    KIND_SPAN,
    KINDS,
    LANGUAGES,
    PREFIX_TABLE,
    REF_TABLE,
    TABLE,
    VOCAB_TABLE,
    Kind,
    entry_id,
    kind_range,
)

GROUP_SIZE = 5  # hits shown per kind on the first page
CANDIDATES = 1000  # matches of each kind ranked and counted (beyond: "1,000+")
COMMON = 20_000  # SQLite: a word in more rows than this and than half the index is not ranked by (_sqlite_weightless)
PAGE_SIZE = 20  # hits per page of one kind
MAX_PAGE = 250
SNIPPET_TOKENS = 40
CONFIGS = tuple(f"ft_{lang}" for lang in (*LANGUAGES, "simple"))

# Which kinds of record carry each filter: a key action's status means nothing for an evaluation title.
FACET_KINDS = {
    "status": (4, 5),
    "category": (3, 4, 5),
    "thematic_area": (3, 4, 5),
}
FACETS = ("office", "region", "year", "status", "category", "thematic_area")


class SearchUnavailable(RuntimeError):
    """The database has no search index (not migrated, or a database followthrough does not support)."""


@dataclass
class Filters:
    office: int | None = None
    region: int | None = None
    year: int | None = None
    status: str = ""
    category: str = ""
    thematic_area: int | None = None
    kind: str = ""
    page: int = 1

    @classmethod
    def from_query(cls, params) -> Filters:
        """Read with `tracking.params`: a value a filter cannot have is answered with 400."""
        kind = qp.text(params, "kind", 20)
        return cls(
            office=qp.identifier(params, "office"),
            region=qp.identifier(params, "region"),
            year=qp.year(params),
            status=qp.text(params, "status", 40),
            category=qp.text(params, "category", 40),
            thematic_area=qp.identifier(params, "thematic_area"),
            kind=kind if kind in BY_NAME else "",
            page=qp.page(params, last=MAX_PAGE),
        )

    def active(self) -> dict:
        return {f: getattr(self, f) for f in FACETS if getattr(self, f) not in (None, "")}


@dataclass
class Hit:
    kind: Kind
    object_id: int
    evaluation_id: int
    recommendation_id: int | None
    action_id: int | None
    score: float
    exact: bool
    snippet: str = ""
    record: object = None

    @property
    def html(self):
        return highlight.to_html(self.snippet)

    @property
    def url(self) -> str:
        from django.urls import reverse

        return self.path(lambda pk: reverse("web:evaluation", args=[pk]), lambda pk: reverse("web:action", args=[pk]))

    def path(self, evaluation_path, action_path) -> str:
        """Its address, from the functions giving an evaluation's and a key action's (a page of hits: one reverse each)."""
        ev = evaluation_path(self.evaluation_id)
        if self.kind.name == "evaluation":
            return ev
        if self.kind.name == "response":
            return ev + "#response-heading"
        if self.kind.name == "recommendation":
            return ev + f"#recommendation-{self.object_id}"
        if self.kind.name == "action":
            return action_path(self.object_id)
        if self.kind.name == "document":
            return ev + f"#document-{self.object_id}"
        return action_path(self.action_id) + f"#update-{self.object_id}"


@dataclass
class FacetValue:
    value: object
    label: str
    count: int
    selected: bool = False


@dataclass
class Group:
    kind: Kind
    count: int
    hits: list[Hit]
    capped: bool = False  # more than `count` found: only the newest `count` are ranked


@dataclass
class Results:
    query: Query
    filters: Filters
    counts: dict[str, int] = field(default_factory=dict)
    groups: list[Group] = field(default_factory=list)
    facets: dict[str, list[FacetValue]] = field(default_factory=dict)
    has_next: bool = False
    # Kinds with more than CANDIDATES matches: their count reads "1,000+", the counts per value are of those ranked.
    capped: set[str] = field(default_factory=set)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


# --- the index ---------------------------------------------------------------------------------


def index_status() -> dict:
    """Is the index installed here, and (PostgreSQL) does it fold accents?"""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT 1 FROM sqlite_master WHERE name = %s", [TABLE])
            return {"installed": cursor.fetchone() is not None, "unaccent": True}
        if connection.vendor == "postgresql":
            cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [TABLE])
            installed = cursor.fetchone()[0]
            unaccent = False
            if installed:
                cursor.execute(
                    "SELECT EXISTS (SELECT 1 FROM pg_ts_config_map m JOIN pg_ts_config c ON c.oid = m.mapcfg "
                    "JOIN pg_ts_dict d ON d.oid = m.mapdict WHERE c.cfgname = 'ft_simple' AND d.dictname = 'unaccent')"
                )
                unaccent = cursor.fetchone()[0]
            return {"installed": installed, "unaccent": unaccent}
    return {"installed": False, "unaccent": False}


# --- the statements ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Rules:
    """The reading rules as SQL over an index row `s` (`_readable`; None: every row passes): compiled once per
    search, for every kind and every filter's counts (six kinds and a filter's counts compiled them 12 times)."""

    evaluation: tuple[str, list] | None
    document: tuple[str, list] | None

    @classmethod
    def of(cls, user) -> _Rules:
        # Reading rules (queries.visible_* wrap permissions.restrict): every kind is read through its evaluation
        # (the public: approved responses only); documents by their own rules too (internal ones: people with a role).
        return cls(
            _readable(queries.visible_evaluations(user), f"{_ids()}.evaluation_id"),
            _readable(restrict(user, EvaluationDocument), _object_id()),
        )


def _conditions(rules: _Rules, filters: Filters, kind: Kind | None, skip: str | None) -> tuple[list[str], list] | None:
    """What a matching index row of this kind (None: of any kind) must also be: readable, and as the
    filters (but `skip`) ask. Its ids are columns of `_ids()`.

    Conditions over the row's own ids (no join): the candidate selection stops at CANDIDATES rows
    per kind, so the filters must narrow before it. None: no row of this kind can pass.
    """
    if skip is not None and filters.kind and kind is not None and kind.name != filters.kind:
        # A filter's own counts are of the chosen kind's rows (`_where`): no other kind's candidates are needed
        # (at L on PostgreSQL, "strategy" among the recommendations of a year: 500 -> 390 ms of SQL).
        return None
    conds, params = [], []
    if rules.evaluation:
        conds.append(rules.evaluation[0])
        params += rules.evaluation[1]
    if (kind is None or kind.name == "document") and rules.document:
        other = f"s.kind <> {BY_NAME['document'].code} OR " if kind is None else ""
        conds.append(f"({other}{rules.document[0]})")
        params += rules.document[1]
    for name in FACETS:
        value = getattr(filters, name)
        if name == skip or value in (None, ""):
            continue
        if name in FACET_KINDS and kind is None:
            conds.append(f"s.kind IN ({', '.join(str(k) for k in FACET_KINDS[name])})")
        elif name in FACET_KINDS and kind.code not in FACET_KINDS[name]:
            return None
        conds.append(_ids() + {
            "office": ".evaluation_id IN (SELECT id FROM tracking_evaluation WHERE office_id = %s)",
            "region": ".evaluation_id IN (SELECT e.id FROM tracking_evaluation e JOIN tracking_office o ON o.id = e.office_id "
                      "WHERE o.region_id = %s)",
            "year": ".evaluation_id IN (SELECT id FROM tracking_evaluation WHERE year = %s)",
            "status": ".action_id IN (SELECT id FROM tracking_keyaction WHERE status = %s)",
            "category": ".recommendation_id IN (SELECT id FROM tracking_recommendation WHERE category = %s)",
            "thematic_area": ".recommendation_id IN (SELECT recommendation_id FROM tracking_recommendationterm WHERE term_id = %s)",
        }[name])
        params.append(value)
    return conds, params


def _readable(rows, column: str) -> tuple[str, list] | None:
    """SQL: is the record whose id is `column` among `rows` (a reading door's queryset)? None: every row is.

    SQLite: a lookup per candidate (EXISTS, correlated), which stops with the candidates; an IN (subquery)
    would be built whole (8,500 evaluations at L) once per kind. PostgreSQL: IN, which it hashes once.
    """
    if not rows.query.where:
        return None  # a reader of everything: nothing to check
    if connection.vendor == "sqlite":
        sql, params = rows.filter(pk=RawSQL(column, ())).order_by().values("pk").query.sql_with_params()
        return f"EXISTS ({sql})", list(params)
    sql, params = rows.order_by().values("pk").query.sql_with_params()
    return f"{column} IN ({sql})", list(params)


def _ids() -> str:
    """The alias whose columns are an index row's ids (id, evaluation_id, recommendation_id, action_id): on SQLite,
    its row of REF_TABLE `i`; on PostgreSQL, the index row `s` itself."""
    return "i" if connection.vendor == "sqlite" else "s"


def _object_id() -> str:
    return f"({_ids()}.id %% {KIND_SPAN})"


def _candidates_sql(
    query: Query, rules: _Rules, filters: Filters, skip: str | None = None, weightless: frozenset = frozenset(), common: bool = False,
    prefixes: str | None = None,
) -> tuple[str, list]:
    """The matching rows the reader may see, at most CANDIDATES + 1 of each kind: the newest first.

    A common word matches a large share of the index (at L, some 200,000 progress updates):
    ranking, joining and counting every match is what made such searches slow. The newest
    CANDIDATES of each kind (exact phrases first, when the query has several words) are ranked;
    beyond, the count is shown as "1,000+" (one more is fetched to know). Each selection stops at
    its LIMIT: FTS5 reads the matches newest first; PostgreSQL reads a common query's newest rows first,
    and sorts what its GIN indexes find (_postgres_steps).
    """
    if connection.vendor == "postgresql":
        return _postgres_candidates(query, rules, filters, skip, common)
    parts, params = [], []
    for kind in KINDS:
        found = _conditions(rules, filters, kind, skip)
        if found is None:
            continue
        sql, kind_params = _sqlite_kind(query, kind, *found, weightless, prefixes)
        parts.append(f"SELECT * FROM ({sql}) c{kind.code}")
        params += kind_params
    if not parts:
        return (
            "SELECT NULL AS id, NULL AS kind, NULL AS object_id, NULL AS evaluation_id, NULL AS recommendation_id, "
            "NULL AS action_id, NULL AS score, NULL AS exact WHERE 1 = 0"
        ), []
    return " UNION ALL ".join(parts), params


def _sqlite_kind(
    query: Query, kind: Kind, conds: list[str], cond_params: list, weightless: frozenset, prefixes: str | None = None
) -> tuple[str, list]:
    """One kind's newest CANDIDATES + 1 matches on SQLite (exact phrases first), `s` the index row, `i` its ids.

    Each FTS5 selection reads only this kind's range of ids, newest first, and stops at its LIMIT.
    bm25() costs more than the selection: FTS5 counts each phrase's matches in the whole index (its
    IDF) once per cursor, and again for each rowid looked up one by one (`rowid =` per row, as an IN
    list or a correlated subquery asks). So it is computed in the selecting cursor itself, or in one
    cursor over the candidates' range of ids; and the `weightless` words (_sqlite_weightless) are
    left out of it. `prefixes`: the query's prefixes as the words they stand for (_sqlite_prefixes).
    """
    code, (lo, hi) = kind.code, kind_range(kind.code)
    limit = CANDIDATES + 1
    columns = f"i.id AS id, {code} AS kind, i.id - {lo} AS object_id, i.evaluation_id, i.recommendation_id, i.action_id"
    # Each match's ids looked up by its id, after FTS5 found it (CROSS JOIN: in that order).
    ids = f"CROSS JOIN {REF_TABLE} i ON i.id = "
    where = " AND ".join(conds) or "1"
    main, prefixes, adjacent = query.fts5(), prefixes or query.fts5_prefixes(), query.fts5_adjacent()
    if not main:
        # Only prefixes: the unstemmed index finds the rows (it holds no positions: no bm25). Where the
        # stems match too, bm25 of the stemmed index ranks them.
        cand = (
            f"SELECT {columns}, 0 AS exact FROM {PREFIX_TABLE} p {ids}p.rowid "
            f"WHERE {PREFIX_TABLE} MATCH %s AND p.rowid BETWEEN {lo} AND {hi} AND {where} ORDER BY p.rowid DESC LIMIT {limit}"
        )
        return _ranked_apart(cand, [prefixes, *cond_params], query.fts5_any(), hi)
    ranked_terms = [t for t in query.stemmed_terms if t not in weightless]
    score = f", {_BM25} AS score" if len(ranked_terms) == len(query.stemmed_terms) else ""
    extra, extra_params = "", []
    if prefixes:
        # `+s.rowid`: a filter on the rows read, never the way to read them (a lookup per rowid, bm25's IDF each time).
        extra = f" AND +s.rowid IN (SELECT rowid FROM {PREFIX_TABLE} WHERE {PREFIX_TABLE} MATCH %s AND rowid BETWEEN {lo} AND {hi})"
        extra_params = [prefixes]
    sql = (
        f"SELECT {columns}{score}, 0 AS exact FROM {TABLE} s {ids}s.rowid WHERE {TABLE} MATCH %s "
        f"AND s.rowid BETWEEN {lo} AND {hi} AND {where}{extra} ORDER BY s.rowid DESC LIMIT {limit}"
    )
    params = [main, *cond_params, *extra_params]
    if adjacent:
        # The newest matches with the exact phrase, and the newest of all, each selection stopping at its
        # LIMIT: the first CANDIDATES + 1 of (exact ones, then the others) are among them. (Bare columns
        # beside MAX(): SQLite takes them from the row with the maximum.)
        exact = f" AND +s.rowid IN (SELECT rowid FROM {TABLE} WHERE {TABLE} MATCH %s AND rowid BETWEEN {lo} AND {hi})"
        exact_sql = sql.replace(" 0 AS exact", " 1 AS exact", 1).replace(" ORDER BY", exact + " ORDER BY", 1)
        sql = (
            f"SELECT id, kind, object_id, evaluation_id, recommendation_id, action_id{', score' if score else ''}, MAX(exact) AS exact "
            f"FROM (SELECT * FROM ({exact_sql}) UNION ALL SELECT * FROM ({sql})) GROUP BY id ORDER BY exact DESC, id DESC LIMIT {limit}"
        )
        params = [*params, adjacent, *params]
    if score:
        return f"SELECT id, kind, object_id, evaluation_id, recommendation_id, action_id, score, exact FROM ({sql})", params
    # Some words weigh nothing: the candidates are selected by all the words, ranked by the others (if any).
    return _ranked_apart(sql, params, fts5_match(ranked_terms) if ranked_terms else None, hi)


_BM25 = f"-bm25({TABLE}, 4.0, 2.0, 1.0)"


def _ranked_apart(cand: str, params: list, match: str | None, hi: int) -> tuple[str, list]:
    """The candidates `cand` (columns id ... action_id, exact) scored by bm25 of `match` (None: not ranked, 0),
    in one FTS5 cursor over their range of ids; 0 where it does not match."""
    columns = "cand.id, cand.kind, cand.object_id, cand.evaluation_id, cand.recommendation_id, cand.action_id"
    if match is None:
        return f"SELECT {columns}, 0 AS score, cand.exact FROM ({cand}) cand", params
    return (
        f"SELECT * FROM (WITH cand AS MATERIALIZED ({cand}), "
        f"ranked AS MATERIALIZED (SELECT s.rowid AS id, {_BM25} AS score FROM {TABLE} s "
        f"WHERE {TABLE} MATCH %s AND s.rowid BETWEEN (SELECT MIN(id) FROM cand) AND {hi}) "
        f"SELECT {columns}, COALESCE(ranked.score, 0) AS score, cand.exact FROM cand LEFT JOIN ranked ON ranked.id = cand.id)"
    ), [*params, match]


EXPANDED = 64  # SQLite: a prefix that stands for at most this many words is looked up as those words


def _sqlite_prefixes(query: Query) -> str | None:
    """The query's prefixes for the unstemmed index, each as the words of the index it stands for, OR-ed
    (None: no prefix).

    FTS5 answers `"sustainab" *` by merging the rows of every word so starting into one list, the whole of it,
    each time it is asked: once per kind (at L, 2.3 ms each for "sustainability", in 18,000 rows). Asked for the
    words, it reads each one's rows only as far as the LIMIT needs (0.1 ms). The words come from the index's
    vocabulary, once per search. A prefix of one or two letters, or of more than EXPANDED words, or of none
    (folded otherwise than the index folds it), stays a prefix.
    """
    if not query.prefixes:
        return None
    parts = []
    with connection.cursor() as cursor:
        for prefix in query.prefixes:
            folded = highlight.fold(prefix)
            words = []
            if len(folded) >= 3:
                cursor.execute(
                    f"SELECT term FROM {VOCAB_TABLE} WHERE term >= %s AND term < %s LIMIT {EXPANDED + 1}", [folded, folded + "\U0010ffff"]
                )
                words = [w for (w,) in cursor.fetchall()]
            if 0 < len(words) <= EXPANDED:
                parts.append("(" + " OR ".join('"' + w.replace('"', '""') + '"' for w in words) + ")")
            else:
                parts.append(f'"{prefix}" *')
    return " AND ".join(parts)


def _sqlite_weightless(query: Query) -> frozenset:
    """The query's single words found in more than half the index's rows (and in more than COMMON rows).

    FTS5's bm25 gives such a word an IDF of 1e-6 (it clamps a negative one): it weighs nothing beside
    any other word, yet counting its rows for that IDF reads all of them (600,000 for "partners" at L,
    13 ms), once per kind. Told by how many rows hold the word as written (the unstemmed index's
    vocabulary): a lower bound of its stem's count, so a word that does weigh is never left out. A common word's
    count is the one kept last (CommonWord: reading its rows again costs what the rule saves) where it settles the
    question against the index's size today: the index no smaller than it was then (deletions may have taken the
    word below half), and the rows added since too few to change the answer (progress updates recorded since the
    count may have made a word common). Else it is counted again.
    """
    words: dict[str, list] = {}
    for term in query.stemmed_terms:
        if not term.is_phrase:
            words.setdefault(highlight.fold(term.words[0]), []).append(term)
    if not words:
        return frozenset()
    vocabulary = f"SELECT v.doc FROM {VOCAB_TABLE} v WHERE v.term = q.word"
    with connection.cursor() as cursor:
        # Each word's count as kept (CommonWord), else from the vocabulary (asked only for the words not kept).
        cursor.execute(
            f"SELECT ({_AVERAGES}), q.word, c.documents, c.index_rows, CASE WHEN c.documents IS NULL THEN ({vocabulary}) END "
            f"FROM ({_words(len(words))}) q LEFT JOIN {CommonWord._meta.db_table} c ON c.word = q.word",
            list(words),
        )
        found = cursor.fetchall()
        rows = _index_rows(found[0][0])
        line = max(rows / 2, COMMON)
        counts, unsure = {}, []
        for _, word, kept, kept_at, counted in found:
            if kept is None:
                counts[word] = counted
            elif kept_at <= rows and (kept > line or kept + (rows - kept_at) <= line):
                # Sure either way: over the line when counted (the index no smaller since), or under it even
                # if every row added since holds the word.
                counts[word] = kept
            else:
                unsure.append(word)  # rows deleted since, or enough added to take the word over the line
        if unsure:
            cursor.execute(f"SELECT q.word, ({vocabulary}) FROM ({_words(len(unsure))}) q", unsure)
            counts.update(cursor.fetchall())
    return frozenset(t for word, n in counts.items() if n is not None and n > line for t in words[word])


# FTS5's "averages" record (id 1 of its data table), whose first varint is the index's row count (`_index_rows`).
_AVERAGES = f"SELECT block FROM {TABLE}_data WHERE id = 1"


def _index_rows(averages: bytes | None) -> int:
    return _varint(averages or b"")


def _words(n: int) -> str:
    """`n` words given as parameters, as rows of a column `word`."""
    return " UNION ALL ".join(["SELECT %s AS word"] * n)


def count_common_words() -> int | None:
    """SQLite: the words of more than COMMON rows of the index counted again, and kept (CommonWord) for
    `_sqlite_weightless`; how many. The whole vocabulary is read, outside the transaction that replaces them
    (a second at L). None elsewhere, or before the index is made."""
    if connection.vendor != "sqlite" or not index_status()["installed"]:
        return None
    with connection.cursor() as cursor:
        cursor.execute(_AVERAGES)
        found = cursor.fetchone()
        rows = _index_rows(found[0] if found else None)
        cursor.execute(f"SELECT term, doc FROM {VOCAB_TABLE} WHERE doc > %s AND length(term) <= 200", [COMMON])
        found = cursor.fetchall()
    now = timezone.now()
    with transaction.atomic():
        CommonWord.objects.all().delete()
        CommonWord.objects.bulk_create(
            [CommonWord(word=word, documents=n, index_rows=rows, counted_at=now) for word, n in found]
        )
    return len(found)


def _varint(data: bytes) -> int:
    """SQLite's variable-length integer (as FTS5 writes them), from the start of `data`."""
    value = 0
    for i, byte in enumerate(data[:9]):
        if i == 8:
            return (value << 8) | byte
        value = (value << 7) | (byte & 0x7F)
        if byte < 0x80:
            break
    return value


COMMON_MATCHES = 20_000  # PostgreSQL: a query the planner expects in more rows reads each kind newest first
SCANNED = 5_000  # PostgreSQL, a common query: each kind's newest rows looked at before its GIN index is asked


def _postgres_estimates(query: Query) -> tuple[bool, frozenset]:
    """The planner's estimates (ANALYZE's statistics of the lexemes): is the query `common` (expected in more
    than COMMON_MATCHES rows), and, if so, which of its single words are weightless (expected in more than
    half the index's rows and more than COMMON: as _sqlite_weightless, they are not ranked by)?

    Ranking reads each candidate's whole tsvector (80 ms for the 4,000 candidates of "partners" at L), for
    an order a word found nearly everywhere hardly sets; the candidates are then the newest, as on SQLite.
    """
    with connection.cursor() as cursor:

        def estimate(q: Query) -> float:
            tsquery, params = _tsquery(q)
            cursor.execute(f"EXPLAIN (FORMAT JSON) SELECT 1 FROM {TABLE} s WHERE s.document @@ {tsquery}", params)
            plan = cursor.fetchone()[0]
            return (json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]["Plan Rows"]

        everywhere = estimate(query)
        if everywhere <= COMMON_MATCHES:
            # Few candidates: ranking them costs little, whatever their words (no more estimates asked).
            return False, frozenset()
        words = [t for t in query.stemmed_terms if not t.is_phrase]
        if not words:
            return True, frozenset()
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [TABLE])
        half = max(cursor.fetchone()[0] / 2, COMMON)
        if len(query.terms) == 1:
            return True, frozenset(words) if everywhere > half else frozenset()
        return True, frozenset(t for t in words if estimate(Query(terms=(t,))) > half)


def _postgres_candidates(query: Query, rules: _Rules, filters: Filters, skip: str | None, common: bool) -> tuple[str, list]:
    """PostgreSQL: the newest CANDIDATES + 1 matches of each kind (exact phrases first), not ranked (the
    caller ranks these only), each kind's through its own GIN index (schema: one per kind).

    A GIN index finds the matches in no order: a common word's would all be read to keep the newest
    (584,000 progress updates hold "partners" at L). So for a `common` query (_postgres_common) each
    kind's newest SCANNED rows are read first, down the primary key, each looked at; only if they hold
    too few matches are the older ones found through the index, and sorted (an Append under a LIMIT
    runs its parts one after the other, and stops). Not left to the planner: its statistics are of the
    whole index, and a word common in some kinds may be in none of another's rows (reading those down
    the primary key would look at all of them).
    """
    # The query written out, not read from `q`: so the planner knows what it looks up.
    tsquery, ts_params = _tsquery(query)
    adjacent, adjacent_params = _adjacent(query)
    limit = CANDIDATES + 1
    narrow, narrow_params = _postgres_evaluations(filters, skip)
    parts, params = [], []
    for kind in KINDS:
        found = _conditions(rules, filters, kind, skip)
        if found is None:
            continue
        conds, cond_params = found
        # Each step's parameters: the query's and the phrase's, then (the GIN index's step) the evaluations', then
        # the conditions'.
        step_params = ([[*ts_params, *adjacent_params, *cond_params]] if common else []) + [
            [*ts_params, *adjacent_params, *narrow_params, *cond_params]
        ]
        if adjacent:
            # The newest exact ones, then the newest others: the first CANDIDATES + 1 of (exact ones, then
            # the others) are among them.
            exact = _postgres_steps(kind, tsquery, f"s.document @@ {adjacent}", conds, True, common, narrow)
            other = _postgres_steps(kind, tsquery, f"NOT s.document @@ {adjacent}", conds, False, common, narrow)
            sql = f"SELECT * FROM (({exact}) UNION ALL ({other})) x ORDER BY exact DESC, id DESC LIMIT {limit}"
            params += [p for ps in step_params for p in ps] * 2
        else:
            sql = _postgres_steps(kind, tsquery, None, conds, False, common, narrow)
            params += [p for ps in step_params for p in ps]
        parts.append(f"SELECT * FROM ({sql}) c{kind.code}")
    if not parts:
        return (
            "SELECT NULL::bigint AS id, NULL::smallint AS kind, NULL::bigint AS object_id, NULL::bigint AS evaluation_id, "
            "NULL::bigint AS recommendation_id, NULL::bigint AS action_id, NULL::double precision AS score, "
            "NULL::boolean AS exact WHERE false"
        ), []
    return " UNION ALL ".join(parts), params


def _postgres_steps(
    kind: Kind, tsquery: str, extra: str | None, conds: list[str], exact: bool, common: bool, narrow: str | None = None
) -> str:
    """One kind's newest CANDIDATES + 1 matches (and `extra`), through its GIN index (and the index of evaluation
    ids, as `narrow` asks: _postgres_evaluations), after a look at its newest SCANNED rows if `common`
    (_postgres_candidates). Its parameters, in order, for each step: the query's, the `extra`'s (the phrase),
    `narrow`'s (the GIN index's step only), the conditions'."""
    lo, hi = kind_range(kind.code)
    limit = CANDIDATES + 1
    columns = (
        f"s.id, {kind.code}::smallint AS kind, s.id - {lo} AS object_id, s.evaluation_id, s.recommendation_id, s.action_id, "
        f"NULL::double precision AS score, {'true' if exact else 'false'} AS exact"
    )
    text = " AND ".join([f"s.document @@ {tsquery}", *([extra] if extra else [])])
    where = " AND ".join(conds) or "true"
    steps, older = [], ""
    if common:
        rows = f"SELECT * FROM {TABLE} WHERE id BETWEEN {lo} AND {hi} ORDER BY id DESC LIMIT {SCANNED}"
        steps.append(f"(SELECT {columns} FROM ({rows}) s WHERE {text} AND {where} ORDER BY s.id DESC)")
        # Below the last of those rows (NULL: the kind has no more).
        older = f" AND s.id + 0 < (SELECT id FROM {TABLE} WHERE id BETWEEN {lo} AND {hi} ORDER BY id DESC OFFSET {SCANNED - 1} LIMIT 1)"
    # `s.kind = n`: the kind's own GIN index (partial). `s.id + 0`: sorted, never read down the primary key
    # (the planner, costing a query OR-ed over four configurations high, would look at each of the kind's rows).
    # The matches are sorted first (their ids only; OFFSET 0 keeps them apart), then the reading rules and filters
    # asked of them newest first until enough pass. Asked before the sort, they were asked of every match, one
    # lookup each where the planner expected few: a phrase's estimate is far too low (at L, 92 key actions for
    # 15,711 holding "resource mobilization strategy": 60 of that kind's 130 ms).
    found = (
        f"SELECT s.id, s.evaluation_id, s.recommendation_id, s.action_id, s.id + 0 AS newest FROM {TABLE} s "
        f"WHERE s.kind = {kind.code}{older} AND {text}{' AND ' + narrow if narrow else ''} ORDER BY newest DESC OFFSET 0"
    )
    steps.append(f"(SELECT {columns} FROM ({found}) s WHERE {where} ORDER BY s.newest DESC LIMIT {limit})")
    return f"SELECT * FROM ({' UNION ALL '.join(steps)}) steps LIMIT {limit}"


def _postgres_evaluations(filters: Filters, skip: str | None) -> tuple[str | None, list]:
    """PostgreSQL: the evaluations the office, region and year filters (but `skip`) leave, as a condition the index
    of the index rows' evaluation ids answers (None: no office or year filter).

    With it, PostgreSQL intersects what the GIN index finds with those evaluations' rows before it reads any
    (a BitmapAnd); the conditions alone were asked of each match once read (at L, 28,000 key actions holding
    "strategy", to keep a year's 1,700: 104 -> 29 ms). The conditions still say it (`_conditions`): this only narrows.
    """
    chosen = {name: value for name, value in filters.active().items() if name != skip}
    conds, params = [], []
    for name, column in (("office", "e.office_id"), ("region", "o.region_id"), ("year", "e.year")):
        if name in chosen:
            conds.append(f"{column} = %s")
            params.append(chosen[name])
    if not {"office", "year"} & chosen.keys():
        # A region alone: a seventh of the evaluations at L, whose rows' ids cost more to gather than they save.
        return None, []
    return (
        "s.evaluation_id = ANY(ARRAY(SELECT e.id FROM tracking_evaluation e JOIN tracking_office o ON o.id = e.office_id "
        f"WHERE {' AND '.join(conds)}))"
    ), params


def _adjacent(query: Query) -> tuple[str | None, list]:
    """The exact phrase of all the words, in each configuration (None: moot)."""
    if not query.wants_adjacency:
        return None, []
    sql = "(" + " || ".join(f"phraseto_tsquery('{cfg}'::regconfig, %s)" for cfg in CONFIGS) + ")"
    return sql, [" ".join(query.words)] * len(CONFIGS)


def _postgres_q(query: Query, weightless: frozenset) -> tuple[str, list]:
    """q: the tsqueries the candidates are ranked by (of the words that weigh; NULL: none does), one per language
    (`_rank`): a record's words are stems of its language and the words as written, which no other branch of the
    query finds. ts_rank_cd's time grows with the query's size: the 2,000 candidates of "resource mobilization
    strategy" at L, ranked by all four branches, 38 ms; by their language's and the words as written, 22."""
    ranked = Query(terms=tuple(t for t in query.terms if t not in weightless))
    if not ranked:
        return "q AS (SELECT " + ", ".join(f"NULL::tsquery AS {lang}" for lang in LANGUAGES) + ")", []
    columns, params = [], []
    for lang in LANGUAGES:
        tsquery, lang_params = _tsquery(ranked, (f"ft_{lang}", "ft_simple"))
        columns.append(f"{tsquery} AS {lang}")
        params += lang_params
    return f"q AS (SELECT {', '.join(columns)})", params


def _rank(row: str) -> str:
    """The rank of the index row `row` by q's query in its language (_postgres_q)."""
    languages = " ".join(f"WHEN 'ft_{lang}'::regconfig THEN q.{lang}" for lang in LANGUAGES[1:])
    return f"ts_rank_cd({row}.document, CASE {row}.language {languages} ELSE q.{LANGUAGES[0]} END)"


def _tsquery(query: Query, configs: tuple[str, ...] = CONFIGS) -> tuple[str, list]:
    """The query in each language's configuration (`configs`), OR-ed: a French record matches it as French reads.

    Prefix terms are looked up among the words as written (indexed unstemmed too), in every branch.
    """
    branches, params = [], []
    for cfg in configs:
        parts = []
        for function, argument, unstemmed in query.tsquery_parts():
            parts.append(f"{function}('{'ft_simple' if unstemmed else cfg}'::regconfig, %s)")
            params.append(argument)
        branches.append("(" + " && ".join(parts) + ")")
    return "(" + " || ".join(branches) + ")", params


def _rows_sql(query: Query, user, filters: Filters) -> tuple[str, list, dict[str, str]]:
    """WITH ..., rows: the candidates with what the filters look at; and for each filter chosen, the
    candidates without it (its own counts offer its other values). Also: which rows each facet counts."""
    ctes, params = [], []
    common, prefixes = False, None
    if connection.vendor == "postgresql":
        common, weightless = _postgres_estimates(query)
        q, q_params = _postgres_q(query, weightless)
        ctes.append(q)
        params += q_params
    else:
        weightless = _sqlite_weightless(query)
        prefixes = _sqlite_prefixes(query)
    sources = {}
    rules = _Rules.of(user)
    for skip in (None, *filters.active()):
        cand, cand_params = _candidates_sql(query, rules, filters, skip, weightless, common, prefixes)
        name = "rows" if skip is None else f"rows_{skip}"
        score, status, category = "c.score", "ka.status", "r.category"
        joins = (
            "LEFT JOIN tracking_recommendation r ON r.id = c.recommendation_id "
            "LEFT JOIN tracking_keyaction ka ON ka.id = c.action_id"
        )
        if connection.vendor == "postgresql":
            # Ranked here, for the candidates only: ts_rank_cd reads each row's whole tsvector. Each
            # candidate's index row, status and category looked up by id: the planner, expecting more
            # candidates than the LIMITs let through, would otherwise hash whole tables to join them.
            # The counts without a filter (skip) show no hit: not ranked.
            score = (
                f"(SELECT {_rank('x')} FROM {TABLE} x WHERE x.id = c.id)"
                if skip is None and any(t not in weightless for t in query.terms)
                else "NULL::double precision"
            )
            status = "(SELECT ka.status FROM tracking_keyaction ka WHERE ka.id = c.action_id)"
            category = "(SELECT r.category FROM tracking_recommendation r WHERE r.id = c.recommendation_id)"
            joins = "CROSS JOIN q"
        ctes.append(
            f"{name} AS MATERIALIZED ("
            f"SELECT c.id, c.kind, c.object_id, c.evaluation_id, c.recommendation_id, c.action_id, {score} AS score, c.exact, "
            f"e.office_id, o.region_id, e.year, {status} AS status, {category} AS category "
            f"FROM ({cand}) c "
            "JOIN tracking_evaluation e ON e.id = c.evaluation_id "
            f"JOIN tracking_office o ON o.id = e.office_id {joins})"
        )
        # The one more than CANDIDATES fetched of a kind only tells that there are more: counted, never shown. It is
        # the kind's last in the candidates' order (exact ones first, then the newest): found by one aggregate, not
        # numbered by a window over every candidate (which sorted them all again: a quarter of the statement at L).
        ctes.append(
            f"{name}_extra AS MATERIALIZED (SELECT MIN(CASE WHEN x.exact THEN {_EXACT_FIRST} ELSE 0 END + x.id) %% {_EXACT_FIRST} "
            f"AS id FROM {name} x GROUP BY x.kind HAVING COUNT(*) > {CANDIDATES})"
        )
        params += cand_params
        sources[skip or ""] = name
    return "WITH " + ", ".join(ctes) + " ", params, sources


# Above every index id (below KIND_SPAN * (the largest kind's code + 1)): an exact hit's sort key is its id plus this.
_EXACT_FIRST = 1 << 50


def _where(filters: Filters, skip: str | None = None, source: str = "rows") -> tuple[str, list]:
    """The filters as SQL over `rows` (all of them, or all but one for that one's counts), selected from `source`."""
    conds, params = ["1 = 1" if skip == "kind" else f"rows.id NOT IN (SELECT id FROM {source}_extra)"], []
    for name in (*FACETS, "kind"):
        value = getattr(filters, name)
        if name == skip or value in (None, ""):
            continue
        if name == "kind":
            conds.append("rows.kind = %s")
            params.append(BY_NAME[value].code)
        elif name == "thematic_area":
            conds.append(
                "EXISTS (SELECT 1 FROM tracking_recommendationterm rt WHERE rt.recommendation_id = rows.recommendation_id "
                "AND rt.term_id = %s)"
            )
            params.append(value)
        else:
            column = {"office": "office_id", "region": "region_id", "year": "year", "status": "status", "category": "category"}[name]
            conds.append(f"rows.{column} = %s")
            params.append(value)
        if name in FACET_KINDS:
            conds.append(f"rows.kind IN ({', '.join(str(k) for k in FACET_KINDS[name])})")
    return " AND ".join(conds), params


def _counts_sql(filters: Filters, sources: dict[str, str]) -> tuple[str, list]:
    """Counts per value of each filter, over the candidates (for a chosen filter: those without it)."""
    selects, params = [], []
    nulls = ", ".join(["CAST(NULL AS BIGINT)"] * 6 + ["CAST(NULL AS DOUBLE PRECISION)", "CAST(NULL AS BOOLEAN)"])

    def add(facet: str, num: str, txt: str, extra_join: str = "", extra_where: str = "", group: str = "") -> None:
        source = sources.get(facet, "rows")
        where, where_params = _where(filters, skip=facet, source=source)
        # Typed: PostgreSQL decides a UNION's column types from the first branches.
        selects.append(
            f"SELECT '{facet}' AS facet, {num} AS num, {txt} AS txt, COUNT(*) AS n, {nulls} "
            f"FROM {source} rows{extra_join} "
            f"WHERE {where}{extra_where} GROUP BY {group or (num if num != 'NULL' else txt)}"
        )
        params.extend(where_params)

    add("kind", "rows.kind", "NULL")
    # An office's, a region's and an area's name beside its count, looked up once per value in this statement (not in
    # three more queries; no faster measurably, but the page's queries are fewer).
    add("office", "rows.office_id", f"({_NAME.format(table='tracking_office', id='rows.office_id')})")
    add("region", "rows.region_id", f"({_NAME.format(table='tracking_region', id='rows.region_id')})",
        extra_where=" AND rows.region_id IS NOT NULL")
    add("year", "rows.year", "NULL")
    add("status", "NULL", "rows.status", extra_where=" AND rows.kind IN (4, 5)")
    add("category", "NULL", "rows.category", extra_where=" AND rows.kind IN (3, 4, 5) AND rows.category <> ''")
    # Thematic areas: the rows counted per recommendation first, then its terms looked up. CROSS JOIN keeps
    # SQLite to that order (else it may walk every recommendation's terms and look each up in the rows).
    source = sources.get("thematic_area", "rows")
    where, where_params = _where(filters, skip="thematic_area", source=source)
    counted = (
        f"FROM (SELECT rows.recommendation_id, COUNT(*) AS n FROM {source} rows "
        f"WHERE {where} AND rows.recommendation_id IS NOT NULL GROUP BY rows.recommendation_id) g"
    )
    if connection.vendor == "postgresql":
        # The areas as a list, not a join: PostgreSQL took the 14 areas first and looked each up in every
        # counted recommendation's terms (22,000 lookups, 56 ms at L, for 1,600 recommendations).
        areas = f"SELECT id FROM tracking_term WHERE kind = '{Term.Kind.THEMATIC_AREA}'"
        join = f"JOIN tracking_recommendationterm rt ON rt.recommendation_id = g.recommendation_id WHERE rt.term_id + 0 = ANY(ARRAY({areas}))"
    else:
        join = (
            "CROSS JOIN tracking_recommendationterm rt JOIN tracking_term t ON t.id = rt.term_id "
            f"WHERE rt.recommendation_id = g.recommendation_id AND t.kind = '{Term.Kind.THEMATIC_AREA}'"
        )
    name = _NAME.format(table="tracking_term", id="rt.term_id")
    selects.append(
        f"SELECT 'thematic_area' AS facet, rt.term_id AS num, ({name}) AS txt, CAST(SUM(g.n) AS BIGINT) AS n, {nulls} {counted} {join} "
        "GROUP BY rt.term_id"
    )
    params.extend(where_params)
    return " UNION ALL ".join(selects), params


_NAME = "SELECT x.name FROM {table} x WHERE x.id = {id}"
# The filters whose values are records named apart (their counts carry the names: `_counts_sql`).
_NAMED = {"office": Office, "region": Region, "thematic_area": Term}


def _page_sql(filters: Filters) -> tuple[str, list]:
    where, params = _where(filters)
    # Equal scores (and the words too common to rank by: score 0), the newest first.
    order = "rows.exact DESC, rows.score DESC, rows.id DESC"
    columns = "rows.id, rows.kind, rows.object_id, rows.evaluation_id, rows.recommendation_id, rows.action_id, rows.score, rows.exact"
    if filters.kind:
        offset = (filters.page - 1) * PAGE_SIZE
        return f"SELECT {columns} FROM rows WHERE {where} ORDER BY {order} LIMIT {PAGE_SIZE + 1} OFFSET {offset}", params
    # Each kind's first GROUP_SIZE, a selection apiece: each keeps its few best as it reads (no window sorting them all).
    return " UNION ALL ".join(
        f"SELECT * FROM (SELECT {columns} FROM rows WHERE {where} AND rows.kind = {kind.code} ORDER BY {order} LIMIT {GROUP_SIZE}) k{kind.code}"
        for kind in KINDS
    ), params * len(KINDS)


def _snippets(query: Query, hits: list[Hit]) -> None:
    if not hits:
        return
    ids = [entry_id(h.kind.code, h.object_id) for h in hits]
    marks = ", ".join(["%s"] * len(ids))
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                f"SELECT rowid, snippet({TABLE}, -1, %s, %s, %s, {SNIPPET_TOKENS}) FROM {TABLE} "
                f"WHERE {TABLE} MATCH %s AND rowid IN ({marks})",
                [highlight.START, highlight.END, "…", query.fts5_any(), *ids],
            )
            found = dict(cursor.fetchall())
            missing = [i for i in ids if i not in found]
            if missing:
                # Found by a prefix whose stem differs ("sustainab*", "sustainability"): made here.
                cursor.execute(
                    f"SELECT rowid, title, body, extra FROM {TABLE} WHERE rowid IN ({', '.join(['%s'] * len(missing))})", missing
                )
                for rowid, *texts in cursor.fetchall():
                    found[rowid] = highlight.excerpt(" … ".join(t for t in texts if t), query.prefixes)
        else:
            tsquery, params = _tsquery(query)
            options = (
                f'StartSel="{highlight.START}", StopSel="{highlight.END}", MaxWords=35, MinWords=12, '
                'ShortWord=2, MaxFragments=2, FragmentDelimiter=" … "'
            )
            cursor.execute(
                f"SELECT s.id, ts_headline(s.language, concat_ws(' … ', NULLIF(s.title, ''), NULLIF(s.body, ''), "
                f"NULLIF(s.extra, '')), q.query, %s) FROM {TABLE} s, (SELECT {tsquery} AS query) q WHERE s.id IN ({marks})",
                [options, *params, *ids],
            )
            found = dict(cursor.fetchall())
    for h in hits:
        h.snippet = highlight.mark_prefixes(found.get(entry_id(h.kind.code, h.object_id), ""), query.prefixes)


# --- the records behind the hits ------------------------------------------------------------------


def _records(user, hits: list[Hit]) -> list[Hit]:
    """Each hit's record, read through the reading rules; a hit its reader may not see is dropped."""
    by_kind: dict[str, list[int]] = {}
    for h in hits:
        by_kind.setdefault(h.kind.name, []).append(h.object_id)
    # Reading rules (queries.visible_* wrap permissions.restrict): one reading door per kind.
    visible = queries.visible_evaluations(user)
    fetch = {
        "evaluation": lambda ids: visible.filter(pk__in=ids).select_related("office", "plan"),
        "response": lambda ids: restrict(user, ManagementResponse).filter(pk__in=ids).select_related(
            "evaluation__office", "evaluation__plan"
        ),
        "recommendation": lambda ids: restrict(user, Recommendation).filter(pk__in=ids).select_related(
            "evaluation__office", "evaluation__plan"
        ),
        "action": lambda ids: queries.visible_actions(user).filter(pk__in=ids).select_related(
            "evaluation__office", "evaluation__plan", "recommendation"
        ),
        "update": lambda ids: queries.visible_updates(user).filter(pk__in=ids).select_related(
            "key_action__evaluation__office", "key_action__evaluation__plan", "key_action__recommendation"
        ),
        # Not the text (up to 2 million characters): the snippet is made from the index.
        "document": lambda ids: restrict(user, EvaluationDocument).filter(pk__in=ids).defer("text").select_related(
            "evaluation__office", "evaluation__plan"
        ),
    }
    records = {}
    for name, ids in by_kind.items():
        # Unordered: the hits keep their own order (each kind's default ordering cost a join and its compiling).
        records[name] = {r.pk: r for r in fetch[name](ids).order_by()}
    kept = []
    for h in hits:
        h.record = records[h.kind.name].get(h.object_id)
        if h.record is not None:
            kept.append(h)
    return kept


def _facet_labels(raw: dict[str, list[tuple[object, str, int]]], filters: Filters) -> dict[str, list[FacetValue]]:
    """Each filter's values (value, label, count), as offered; the chosen value first if nothing else matches with it."""
    out = {}
    for facet in FACETS:
        values = []
        for value, label, n in raw.get(facet, []):
            values.append(FacetValue(value, label, n, selected=getattr(filters, facet) == value))
        if facet == "year":
            values.sort(key=lambda v: -int(v.value))
        else:
            values.sort(key=lambda v: (-v.count, v.label))
        # The chosen value stays offered even when nothing else matches with it.
        chosen = getattr(filters, facet)
        if chosen not in (None, "") and not any(v.selected for v in values):
            named = _NAMED.get(facet)
            label = (named.objects.filter(pk=chosen).values_list("name", flat=True).first() if named else None) or str(chosen)
            values.insert(0, FacetValue(chosen, label, 0, True))
        out[facet] = values
    return out


def search(user, text: str | Query, filters: Filters | None = None) -> Results:
    """Search what `user` may read. Never raises on what was typed: the worst query finds nothing."""
    query = text if isinstance(text, Query) else parse(text)
    filters = filters or Filters()
    results = Results(query=query, filters=filters)
    if not query:
        return results
    rows, rows_params, sources = _rows_sql(query, user, filters)
    counts_sql, counts_params = _counts_sql(filters, sources)
    page_sql, page_params = _page_sql(filters)
    # One statement: the candidates are selected once for the counts and the page of hits.
    sql = (
        f"{rows}{counts_sql} UNION ALL SELECT 'hit', NULL, NULL, NULL, page.id, page.kind, page.object_id, page.evaluation_id, "
        f"page.recommendation_id, page.action_id, page.score, page.exact FROM ({page_sql}) page"
    )
    raw: dict[str, list[tuple[object, str, int]]] = {}
    page = []
    # Planned for its words each time, never prepared: a plan made once for any words reads a common word's
    # matches as a rare one's (at L on PostgreSQL, from a connection's eighth search on: "partners" 100 -> 175 ms,
    # "sustainab*" 190 -> 370 ms).
    with queries.planned_for_their_values(), connection.cursor() as cursor:
        cursor.execute(sql, rows_params + counts_params + page_params)
        for facet, num, txt, n, *hit in cursor.fetchall():
            if facet == "hit":
                page.append(hit)
            else:
                value = num if num is not None else txt
                raw.setdefault(facet, []).append((value, txt if num is not None and txt is not None else str(value), n))
    kind_counts = {BY_CODE[int(code)].name: n for code, _, n in raw.pop("kind", [])}
    results.capped = {name for name, n in kind_counts.items() if n > CANDIDATES}
    results.counts = {name: min(n, CANDIDATES) for name, n in kind_counts.items()}
    results.facets = _facet_labels(raw, filters)
    hits = [
        Hit(BY_CODE[int(kind)], int(obj), int(ev), rec, act, float(score or 0), bool(exact))
        for _id, kind, obj, ev, rec, act, score, exact in page
    ]
    # A UNION keeps no order: the page's own, again.
    hits.sort(key=lambda h: ((h.kind.code if not filters.kind else 0), not h.exact, -h.score, -entry_id(h.kind.code, h.object_id)))
    if filters.kind:
        # Pages go as far as the candidates do.
        results.has_next = len(hits) > PAGE_SIZE and filters.page * PAGE_SIZE < CANDIDATES
        hits = hits[:PAGE_SIZE]
    _snippets(query, hits)
    hits = _records(user, hits)
    for kind in KINDS:
        mine = [h for h in hits if h.kind is kind]
        count = results.counts.get(kind.name, 0)
        if (filters.kind and kind.name != filters.kind) or not count:
            continue
        results.groups.append(Group(kind, count, mine, capped=kind.name in results.capped))
    return results
