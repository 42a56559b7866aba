"""The search index's tables and the database triggers that keep it in step.

One row per searchable record, in one table, `search_entry`: evaluation
titles, overall management responses, recommendations (text, management
response, description), key actions (text, comments, responsible) and
progress comments. Its id encodes the kind and the record (`kind * 2**40 + id`),
so a hit names its record without a lookup, and each kind's rows are one range
of ids: SQLite's FTS5 reads one kind's matches, newest first, without walking
the other kinds' (a common word matches 600,000 progress updates at L).

Triggers on the tracking tables write it, in the transaction of the change,
whatever made the change: the services, the admin, the importer's raw
multi-row INSERTs, a cascade of deletions, SQL typed by hand. Nothing in
Python has to remember to index.

- SQLite: an FTS5 table, `porter unicode61 remove_diacritics 2`: accents and
  case folded, English (Porter) stemming for every text, since FTS5 has no
  other stemmer; no stop words at all. A second, contentless FTS5 table
  holds the words unstemmed, for prefix queries (`sustainab*` must find
  "sustainability", whose stem is "sustain"). The ids each row is filed
  under (evaluation, recommendation, key action) are in a plain table beside
  them, `search_ref`, cheap to read per match. Row triggers.
- PostgreSQL: a table with a generated `tsvector` column and a GIN index.
  Each row's language (English, French, Spanish) is detected by the share of
  each language's commonest words and stored; the row is indexed with that
  language's stemmer (and its words as written, for prefix queries), accents
  folded by `unaccent`, and with no stop-word list (ours are copies of the built-in configurations without one, so no
  French or Spanish word is ever dropped, nor an English one). Statement
  triggers with transition tables: a bulk insert of 500 rows indexes them in
  one INSERT ... SELECT.

Evaluation documents (code 6) are indexed by their title and the text
extracted from the file, cut at DOCUMENT_TEXT_LIMIT characters (a tsvector
holds at most 1 MB: a long report's text, its stems and its words as written,
must fit). Whether a document is internal is not in the index: the engine
reads document hits through `restrict(user, EvaluationDocument)`, so a
changed flag, or the evaluation's changed reading rules, count at once.

This module is used by migrations: change what it generates only together
with a new migration that drops and recreates what an older one made.
"""

from __future__ import annotations

from dataclasses import dataclass

TABLE = "search_entry"
# SQLite: the words as written (unstemmed, no positions), for prefix queries.
PREFIX_TABLE = "search_prefix"
# SQLite: how many rows hold each word as written (fts5vocab over PREFIX_TABLE), for the engine to tell
# a word found nearly everywhere, which bm25 gives no weight (search.engine._sqlite_weightless).
VOCAB_TABLE = "search_vocab"
# SQLite: each index row's ids (evaluation, recommendation, key action), apart from its texts. The engine reads
# them for every match it filters (thousands per search): in FTS5's own content table, each read went past the
# row's texts (at L, 28,000 key actions holding "strategy": 45 ms; from this narrow table: 8 ms).
REF_TABLE = "search_ref"
KIND_SPAN = 1 << 40  # id = kind * KIND_SPAN + record id: each kind one range of ids


def entry_id(code: int, record_id: int) -> int:
    return code * KIND_SPAN + record_id


def kind_range(code: int) -> tuple[int, int]:
    """The first and last index ids a kind may have."""
    return code * KIND_SPAN, (code + 1) * KIND_SPAN - 1


def _entry_id_sql(kind: Kind, record_id: str) -> str:
    return f"({record_id} + {kind.code * KIND_SPAN})"
DOCUMENT_TEXT_LIMIT = 150_000  # characters of a document's text indexed (some 50 pages)


@dataclass(frozen=True)
class Kind:
    code: int
    name: str
    label: str
    table: str
    # Columns that fill the index's three fields (ranked title > body > extra); None: empty.
    title: str | None
    body: str | None
    extra: str | None
    # SQL over the row (alias `r`, and `k` for the key action of a progress update) for each id.
    evaluation: str
    recommendation: str | None
    action: str | None
    # The parent table joined as `k` (progress updates take their ids from their key action).
    parent: tuple[str, str] | None = None
    # At most this many characters of the body are indexed (None: all).
    body_limit: int | None = None


KINDS: tuple[Kind, ...] = (
    Kind(1, "evaluation", "Evaluations", "tracking_evaluation", "title", None, None, "r.id", None, None),
    Kind(2, "response", "Overall management responses", "tracking_managementresponse", None, "overall_response", None,
         "r.evaluation_id", None, None),
    Kind(3, "recommendation", "Recommendations", "tracking_recommendation", "text", "response_text", "description",
         "r.evaluation_id", "r.id", None),
    Kind(4, "action", "Key actions", "tracking_keyaction", "text", "comments", "responsible",
         "r.evaluation_id", "r.recommendation_id", "r.id"),
    Kind(5, "update", "Progress updates", "tracking_actionupdate", None, "comment", None,
         "k.evaluation_id", "k.recommendation_id", "r.key_action_id", parent=("tracking_keyaction", "r.key_action_id")),
    Kind(6, "document", "Documents", "tracking_evaluationdocument", "title", "text", None, "r.evaluation_id", None, None,
         body_limit=DOCUMENT_TEXT_LIMIT),
)
BY_NAME = {k.name: k for k in KINDS}
BY_CODE = {k.code: k for k in KINDS}

# Languages told apart on PostgreSQL, by words that are common in one and rare in the others
# (words shared by two of them, such as "de", "la", "en", "que", are left out on purpose).
STOP_WORDS = {
    "english": "the and of to is for with on that by this be are will has have was were an as at from which it not "
               "its their been should would also these those into through",
    "french": "le les des du et est une pour dans sur par au aux qui ne pas avec ont sont été cette ces leur leurs "
              "être plus mise œuvre ainsi afin",
    "spanish": "el los las del y para por con una es se al lo como más su sus está fue han ha este esta ser sobre "
               "entre también así",
}
LANGUAGES = ("english", "french", "spanish")


def _col(row: str, name: str | None, limit: int | None = None) -> str:
    if not name:
        return "''"
    return f"substr(COALESCE({row}.{name}, ''), 1, {limit})" if limit else f"COALESCE({row}.{name}, '')"


def _fields(kind: Kind, row: str = "r") -> tuple[str, str, str]:
    return _col(row, kind.title), _col(row, kind.body, kind.body_limit), _col(row, kind.extra)


def _ids(kind: Kind, row: str = "r") -> tuple[str, str, str]:
    """SQL for (evaluation_id, recommendation_id, action_id), the record's own row aliased `row`."""
    return tuple((e or "NULL").replace("r.", f"{row}.", 1) if (e or "").startswith("r.") else (e or "NULL")
                 for e in (kind.evaluation, kind.recommendation, kind.action))


def _words(kind: Kind, row: str = "r") -> str:
    return " || ' ' || ".join(_fields(kind, row))


def _nonempty(kind: Kind, row: str = "r") -> str:
    cols = [c for c in (kind.title, kind.body, kind.extra) if c]
    return "(" + " OR ".join(f"{_col(row, c)} <> ''" for c in cols) + ")"


def _changed(kind: Kind, old: str, new: str, distinct: str = "IS NOT") -> str:
    """Did a change touch what the index holds (the texts, or the ids it files them under)?"""
    cols = [c for c in (kind.title, kind.body, kind.extra) if c]
    for expr in (kind.evaluation, kind.recommendation, kind.action):
        if expr and expr.startswith("r.") and expr != "r.id":
            cols.append(expr[2:])
    return "(" + " OR ".join(f"{old}.{c} {distinct} {new}.{c}" for c in cols) + ")"


def _parent_join(kind: Kind, row: str = "r") -> str:
    if not kind.parent:
        return ""
    table, key = kind.parent
    return f" JOIN {table} k ON k.id = {row}.{key[2:]}"


# --- SQLite ------------------------------------------------------------------------------------

_SQLITE_COLUMNS = f"{TABLE}(rowid, title, body, extra)"
_SQLITE_REF_COLUMNS = f"{REF_TABLE}(id, evaluation_id, recommendation_id, action_id)"


def sqlite_install(kinds: tuple[Kind, ...] = KINDS, create_table: bool = True) -> list[str]:
    sql = []
    if create_table:
        sql.append(
            f"CREATE VIRTUAL TABLE {TABLE} USING fts5(title, body, extra, tokenize = 'porter unicode61 remove_diacritics 2')"
        )
        sql.append(
            f"CREATE TABLE {REF_TABLE} (id INTEGER PRIMARY KEY, evaluation_id INTEGER NOT NULL, recommendation_id INTEGER, "
            "action_id INTEGER)"
        )
        # Contentless and without positions: small and cheap to write; it only answers "which
        # rows have a word starting so". Deleting from it takes the values it was given: the
        # triggers pass the old row's, computed the same way.
        sql.append(
            f"CREATE VIRTUAL TABLE {PREFIX_TABLE} USING fts5(words, content='', detail='none', "
            "tokenize = 'unicode61 remove_diacritics 2')"
        )
        sql.append(f"CREATE VIRTUAL TABLE {VOCAB_TABLE} USING fts5vocab({PREFIX_TABLE}, 'row')")
    for kind in kinds:
        sql += _sqlite_triggers(kind)
        sql.append(f"INSERT INTO {_SQLITE_COLUMNS} {_sqlite_select(kind, kind.table + ' r', 'r')}")
        sql.append(f"INSERT INTO {_SQLITE_REF_COLUMNS} {_sqlite_select(kind, kind.table + ' r', 'r', ids=True)}")
        sql.append(
            f"INSERT INTO {PREFIX_TABLE}(rowid, words) SELECT {_entry_id_sql(kind, 'r.id')}, {_words(kind)} "
            f"FROM {kind.table} r WHERE {_nonempty(kind)}"
        )
    return sql


def sqlite_uninstall(kinds: tuple[Kind, ...] = KINDS, drop_table: bool = True) -> list[str]:
    sql = [f"DROP TRIGGER IF EXISTS search_{k.name}_{op}" for k in kinds for op in ("insert", "update", "delete", "move")]
    if drop_table:
        sql.append(f"DROP TABLE IF EXISTS {VOCAB_TABLE}")
        sql.append(f"DROP TABLE IF EXISTS {TABLE}")
        sql.append(f"DROP TABLE IF EXISTS {PREFIX_TABLE}")
        sql.append(f"DROP TABLE IF EXISTS {REF_TABLE}")
    return sql


def _sqlite_select(kind: Kind, source: str | None, row: str, ids: bool = False) -> str:
    """The index row of the record `row` (its texts; `ids`: its ids): a trigger's NEW (source None), or each row
    of a table."""
    values = _ids(kind, row) if ids else _fields(kind, row)
    tables = [t for t in (source, f"{kind.parent[0]} k" if kind.parent else None) if t]
    where = [_nonempty(kind, row)]
    if kind.parent:
        where.insert(0, f"k.id = {row}.{kind.parent[1][2:]}")
    frm = f" FROM {', '.join(tables)}" if tables else ""
    return f"SELECT {_entry_id_sql(kind, row + '.id')}, {', '.join(values)}{frm} WHERE {' AND '.join(where)}"


def _sqlite_triggers(kind: Kind) -> list[str]:
    drop = (
        f"DELETE FROM {TABLE} WHERE rowid = {_entry_id_sql(kind, 'OLD.id')}; "
        f"DELETE FROM {REF_TABLE} WHERE id = {_entry_id_sql(kind, 'OLD.id')}; "
        f"INSERT INTO {PREFIX_TABLE}({PREFIX_TABLE}, rowid, words) SELECT 'delete', {_entry_id_sql(kind, 'OLD.id')}, "
        f"{_words(kind, 'OLD')} WHERE {_nonempty(kind, 'OLD')};"
    )
    insert = (
        f"INSERT INTO {_SQLITE_COLUMNS} {_sqlite_select(kind, None, 'NEW')}; "
        f"INSERT INTO {_SQLITE_REF_COLUMNS} {_sqlite_select(kind, None, 'NEW', ids=True)}; "
        f"INSERT INTO {PREFIX_TABLE}(rowid, words) SELECT {_entry_id_sql(kind, 'NEW.id')}, {_words(kind, 'NEW')} "
        f"WHERE {_nonempty(kind, 'NEW')};"
    )
    out = [
        f"CREATE TRIGGER search_{kind.name}_insert AFTER INSERT ON {kind.table} BEGIN {insert} END",
        f"CREATE TRIGGER search_{kind.name}_update AFTER UPDATE ON {kind.table} "
        f"WHEN {_changed(kind, 'OLD', 'NEW')} BEGIN {drop} {insert} END",
        f"CREATE TRIGGER search_{kind.name}_delete AFTER DELETE ON {kind.table} BEGIN {drop} END",
    ]
    if kind.name == "action":
        # A key action moved under another recommendation or evaluation: its progress updates follow.
        upd = BY_NAME["update"]
        out.append(
            f"CREATE TRIGGER search_action_move AFTER UPDATE ON {kind.table} "
            f"WHEN OLD.evaluation_id IS NOT NEW.evaluation_id OR OLD.recommendation_id IS NOT NEW.recommendation_id BEGIN "
            f"UPDATE {REF_TABLE} SET evaluation_id = NEW.evaluation_id, recommendation_id = NEW.recommendation_id "
            f"WHERE id IN (SELECT {_entry_id_sql(upd, 'id')} FROM {upd.table} WHERE key_action_id = NEW.id); END"
        )
    return out


# --- PostgreSQL --------------------------------------------------------------------------------


def ensure_unaccent(connection) -> bool:
    """Make sure PostgreSQL's unaccent extension is there; False (and a warning) if it cannot be had.

    unaccent ships with PostgreSQL (contrib) and is a trusted extension: a database
    owner may create it. Where it is missing, the index is made without accent
    folding and `followthrough check` says so (search.W001).
    """
    import logging

    from django.db import transaction
    from django.db.utils import DatabaseError

    with connection.cursor() as cursor:
        cursor.execute("SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'unaccent')")
        if cursor.fetchone()[0]:
            return True
        try:
            with transaction.atomic(using=connection.alias):
                cursor.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
            return True
        except DatabaseError as exc:
            logging.getLogger(__name__).warning(
                "search: PostgreSQL's unaccent extension is not available (%s); accents will not be folded.", exc
            )
            return False


def install(connection) -> None:
    """The index, its triggers, filled from the rows already there (SQLite or PostgreSQL)."""
    if connection.vendor == "sqlite":
        statements = sqlite_install()
    elif connection.vendor == "postgresql":
        statements = postgres_install(unaccent=ensure_unaccent(connection))
    else:
        raise RuntimeError(f"followthrough's search index needs SQLite or PostgreSQL, not {connection.vendor}")
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)
        if connection.vendor == "postgresql":
            # The planner's statistics of the lexemes, which the engine reads (engine._postgres_common):
            # where autovacuum is off or late, none would be there.
            cursor.execute(f"ANALYZE {TABLE}")


def uninstall(connection) -> None:
    statements = sqlite_uninstall() if connection.vendor == "sqlite" else postgres_uninstall()
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)



def postgres_configurations(unaccent: bool) -> list[str]:
    """Text search configurations without stop words: ours, copied from the built-in ones."""
    sql = []
    for lang in (*LANGUAGES, "simple"):
        cfg = f"ft_{lang}"
        sql.append(f"DROP TEXT SEARCH CONFIGURATION IF EXISTS {cfg}")
        sql.append(f"CREATE TEXT SEARCH CONFIGURATION {cfg} (COPY = pg_catalog.{lang})")
        if lang != "simple":
            sql.append(f"DROP TEXT SEARCH DICTIONARY IF EXISTS {cfg}_stem")
            # No StopWords parameter: the stemmer keeps every word.
            sql.append(f"CREATE TEXT SEARCH DICTIONARY {cfg}_stem (TEMPLATE = snowball, Language = {lang})")
            dictionaries = f"{'unaccent, ' if unaccent else ''}{cfg}_stem"
        else:
            dictionaries = f"{'unaccent, ' if unaccent else ''}simple"
        sql.append(
            f"ALTER TEXT SEARCH CONFIGURATION {cfg} ALTER MAPPING FOR "
            f"asciiword, asciihword, hword_asciipart, word, hword, hword_part, numword, numhword, hword_numpart "
            f"WITH {dictionaries}"
        )
    return sql


def postgres_language_function() -> str:
    arrays = {lang: "ARRAY[" + ", ".join(f"'{w}'" for w in words.split()) + "]" for lang, words in STOP_WORDS.items()}
    return f"""
CREATE OR REPLACE FUNCTION search_language(t text) RETURNS regconfig
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE
    WHEN s.fr >= 2 AND s.fr > s.en AND s.fr >= s.es THEN 'ft_french'::regconfig
    WHEN s.es >= 2 AND s.es > s.en AND s.es > s.fr THEN 'ft_spanish'::regconfig
    ELSE 'ft_english'::regconfig
  END
  FROM (
    SELECT count(*) FILTER (WHERE w = ANY ({arrays['english']})) AS en,
           count(*) FILTER (WHERE w = ANY ({arrays['french']})) AS fr,
           count(*) FILTER (WHERE w = ANY ({arrays['spanish']})) AS es
    FROM regexp_split_to_table(lower(left(t, 4000)), '[^[:alpha:]]+') AS w
  ) s
$$"""


def postgres_install(unaccent: bool, kinds: tuple[Kind, ...] = KINDS, create_table: bool = True) -> list[str]:
    sql = []
    if create_table:
        sql += postgres_configurations(unaccent)
        sql.append(postgres_language_function())
        sql.append(
            f"""CREATE TABLE {TABLE} (
  id bigint PRIMARY KEY,
  kind smallint NOT NULL,
  evaluation_id bigint NOT NULL,
  recommendation_id bigint,
  action_id bigint,
  language regconfig NOT NULL,
  title text NOT NULL DEFAULT '',
  body text NOT NULL DEFAULT '',
  extra text NOT NULL DEFAULT '',
  document tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector(language, title), 'A') ||
    setweight(to_tsvector(language, body), 'B') ||
    setweight(to_tsvector(language, extra), 'C') ||
    -- the words as written too (weighing least): prefixes match them, not their stems
    setweight(to_tsvector('ft_simple'::regconfig, title || ' ' || body || ' ' || extra), 'D')
  ) STORED
)"""
        )
    for kind in kinds:
        sql += _postgres_triggers(kind)
        sql.append(_postgres_backfill(kind))
    if create_table:
        # The indexes after the rows (one transaction: the triggers miss nothing meanwhile). A GIN index that
        # is there first takes the backfill through its pending list, whose last few MB every search then
        # reads row by row until a VACUUM: at L, the search worst URL took 491 ms after a `migrate`, 296 after.
        # One GIN index per kind (partial): the engine reads each kind's matches apart, and one index
        # for all would hand every kind's matches to each (engine._postgres_candidates).
        for kind in KINDS:
            sql.append(f"CREATE INDEX {TABLE}_document_{kind.code} ON {TABLE} USING gin (document) WHERE kind = {kind.code}")
        sql.append(f"CREATE INDEX {TABLE}_evaluation ON {TABLE} (evaluation_id)")
    return sql


def postgres_uninstall(kinds: tuple[Kind, ...] = KINDS, drop_table: bool = True) -> list[str]:
    sql = []
    for k in kinds:
        for op in ("insert", "update", "delete", "truncate"):
            sql.append(f"DROP TRIGGER IF EXISTS search_{k.name}_{op} ON {k.table}")
            sql.append(f"DROP FUNCTION IF EXISTS search_{k.name}_{op}()")
    if drop_table:
        sql.append(f"DROP TABLE IF EXISTS {TABLE}")
        sql.append("DROP FUNCTION IF EXISTS search_language(text)")
        for lang in (*LANGUAGES, "simple"):
            sql.append(f"DROP TEXT SEARCH CONFIGURATION IF EXISTS ft_{lang}")
            if lang != "simple":
                sql.append(f"DROP TEXT SEARCH DICTIONARY IF EXISTS ft_{lang}_stem")
    return sql


def _postgres_select(kind: Kind, source: str) -> str:
    title, body, extra = _fields(kind)
    ev, rec, act = _ids(kind)
    join = _parent_join(kind)
    return (
        f"SELECT {_entry_id_sql(kind, 'r.id')}, {kind.code}, {ev}, {rec}, {act}, "
        f"search_language(concat_ws(' ', {title}, {body}, {extra})), {title}, {body}, {extra} "
        f"FROM {source} r{join} WHERE {_nonempty(kind)}"
    )


_COLUMNS = "(id, kind, evaluation_id, recommendation_id, action_id, language, title, body, extra)"


def _postgres_triggers(kind: Kind) -> list[str]:
    n = kind.name
    changed = _changed(kind, "o", "r", "IS DISTINCT FROM")
    changed_rows = f"new_rows r JOIN old_rows o ON o.id = r.id WHERE {changed}"
    moved = ""
    if n == "action":
        upd = BY_NAME["update"]
        moved = f"""
  IF EXISTS (SELECT 1 FROM new_rows r JOIN old_rows o ON o.id = r.id
             WHERE o.evaluation_id IS DISTINCT FROM r.evaluation_id OR o.recommendation_id IS DISTINCT FROM r.recommendation_id) THEN
    UPDATE {TABLE} s SET evaluation_id = r.evaluation_id, recommendation_id = r.recommendation_id
    FROM new_rows r JOIN old_rows o ON o.id = r.id JOIN {upd.table} u ON u.key_action_id = r.id
    WHERE s.id = {_entry_id_sql(upd, 'u.id')}
      AND (o.evaluation_id IS DISTINCT FROM r.evaluation_id OR o.recommendation_id IS DISTINCT FROM r.recommendation_id);
  END IF;"""
    return [
        f"""CREATE FUNCTION search_{n}_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO {TABLE} {_COLUMNS} {_postgres_select(kind, 'new_rows')};
  RETURN NULL;
END $$""",
        f"""CREATE FUNCTION search_{n}_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM {TABLE} WHERE id IN (SELECT {_entry_id_sql(kind, 'r.id')} FROM {changed_rows});
  INSERT INTO {TABLE} {_COLUMNS} {_postgres_select(kind, '(SELECT r.* FROM ' + changed_rows + ')')};{moved}
  RETURN NULL;
END $$""",
        f"""CREATE FUNCTION search_{n}_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM {TABLE} WHERE id IN (SELECT {_entry_id_sql(kind, 'id')} FROM old_rows);
  RETURN NULL;
END $$""",
        f"CREATE TRIGGER search_{n}_insert AFTER INSERT ON {kind.table} REFERENCING NEW TABLE AS new_rows "
        f"FOR EACH STATEMENT EXECUTE FUNCTION search_{n}_insert()",
        f"CREATE TRIGGER search_{n}_update AFTER UPDATE ON {kind.table} REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
        f"FOR EACH STATEMENT EXECUTE FUNCTION search_{n}_update()",
        f"CREATE TRIGGER search_{n}_delete AFTER DELETE ON {kind.table} REFERENCING OLD TABLE AS old_rows "
        f"FOR EACH STATEMENT EXECUTE FUNCTION search_{n}_delete()",
        # TRUNCATE fires no DELETE trigger (Django's test flush truncates): empty this kind too.
        f"""CREATE FUNCTION search_{n}_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM {TABLE} WHERE kind = {kind.code};
  RETURN NULL;
END $$""",
        f"CREATE TRIGGER search_{n}_truncate AFTER TRUNCATE ON {kind.table} FOR EACH STATEMENT EXECUTE FUNCTION search_{n}_truncate()",
    ]


def _postgres_backfill(kind: Kind) -> str:
    return f"INSERT INTO {TABLE} {_COLUMNS} {_postgres_select(kind, kind.table)}"
