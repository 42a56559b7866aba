"""The floor: the same rows an import writes, inserted by the database driver alone.

No parsing (the rows come from the generator's own documents), no ORM, no
checks, one transaction, each driver's fastest way of inserting many rows
(multi-row INSERTs on SQLite, COPY on PostgreSQL): what any import,
ours included, cannot beat. Run against a freshly migrated database:

    python bench/floor.py --count N --seed S --sqlite PATH | --postgres URL

Prints a JSON line with the rows written per table and the seconds the
inserts took (building the rows is not timed).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gateformat.generate import Generator  # noqa: E402
from gateformat.split import normalize_unit  # noqa: E402


def unit_names(responsible: str) -> list[str]:
    # A plain split: the floor needs rows of the same number and shape, not our matching.
    return [p.strip() for p in responsible.replace(";", "/").replace(",", "/").split("/") if p.strip()]


def build(count: int, seed: int):
    """The rows, with ids assigned up front (as a bulk loader would)."""
    now = dt.datetime.now(dt.UTC).isoformat()
    offices: dict[str, int] = {}
    types: dict[str, int] = {}
    plans: dict[tuple, int] = {}
    units: dict[tuple, int] = {}
    terms: dict[tuple, int] = {}
    rows: dict[str, list[tuple]] = {k: [] for k in ORDER}
    rec_id = action_id = 0
    for i, g in enumerate(Generator(seed).documents(count), start=1):
        doc = g.document
        ev = doc.evaluation
        if ev.office_type not in types:
            types[ev.office_type] = len(types) + 1
            rows["officetype"].append((types[ev.office_type], ev.office_type, ev.office_type, 0))
        if ev.office not in offices:
            offices[ev.office] = len(offices) + 1
            rows["office"].append((offices[ev.office], ev.office, f"office-{len(offices)}", types[ev.office_type], "[]"))
        office_id = offices[ev.office]
        key = (office_id, ev.plan_start_year, ev.plan_end_year)
        if key not in plans:
            plans[key] = len(plans) + 1
            rows["plan"].append((plans[key], office_id, ev.plan_start_year, ev.plan_end_year, False, "", 1))
        rows["evaluation"].append((i, plans[key], office_id, ev.title, "", ev.plan_end_year, "completed", g.filename, now, now, "", "", 1))
        rows["changerecord"].append(
            (now, "system (import)", "import", "create", i, ev.title[:300], i, json.dumps(ev.to_dict()), "imported")
        )
        mr = doc.management_response
        # `imported`: the baseline of each imported field, as the importer keeps it.
        rows["response"].append((i, i, mr.status, json.dumps(mr.units), mr.overall_response, "", 1, now, now,
                                 json.dumps({"status": mr.status, "overall_response": mr.overall_response})))
        for r_pos, rec in enumerate(doc.recommendations, start=1):
            rec_id += 1
            rows["recommendation"].append(
                (rec_id, i, i, r_pos, rec.number, rec.text, rec.management_response, rec.description, rec.category,
                 rec.thematic_area, 1, now, now, json.dumps({"text": rec.text, "response_text": rec.management_response,
                 "category": rec.category}), rec.label[:80])
            )
            tagged = [("thematic_area", t) for t in rec.thematic_areas] + [
                (kind, t)
                for kind, values in (
                    ("operating_principle", rec.operating_principles),
                    ("organizational_priority", rec.organizational_priorities),
                    ("uneg_criterion", rec.uneg_criteria),
                )
                for t in values
            ]
            for position, tkey in enumerate(dict.fromkeys(tagged)):
                if tkey not in terms:
                    terms[tkey] = len(terms) + 1
                    rows["term"].append((terms[tkey], tkey[0], tkey[1], True, 0, False))
                rows["recommendationterm"].append((rec_id, terms[tkey], position))
            for a_pos, a in enumerate(rec.key_actions, start=1):
                action_id += 1
                deadline = dt.date(int(a.deadline[:4]), int(a.deadline[5:7]), 1).isoformat() if a.deadline else None
                rows["keyaction"].append(
                    (action_id, rec_id, i, a_pos, a.number, a.text, a.responsible, deadline, a.status, a.comments, 1.0, 1, now, now,
                     json.dumps({"text": a.text, "responsible": a.responsible, "deadline": deadline, "status": a.status}), a.label[:20])
                )
                for name in unit_names(a.responsible):
                    ukey = (office_id, normalize_unit(name))
                    if ukey not in units:
                        units[ukey] = len(units) + 1
                        rows["unit"].append((units[ukey], office_id, name[:200], "", True, now))
                    rows["keyaction_units"].append((action_id, units[ukey]))
    return rows


SQL = {
    "officetype": "INSERT INTO tracking_officetype (id, code, name, position) VALUES {}",
    "office": "INSERT INTO tracking_office (id, name, slug, type_id, aliases) VALUES {}",
    "plan": "INSERT INTO tracking_evaluationplan (id, office_id, start_year, end_year, closed, notes, version) VALUES {}",
    "evaluation": "INSERT INTO tracking_evaluation (id, plan_id, office_id, title, type, year, status, source, created_at, updated_at, quality, cancellation_reason, version) VALUES {}",
    "response": "INSERT INTO tracking_managementresponse (id, evaluation_id, status, units_as_written, overall_response, return_reason, version, created_at, updated_at, imported) VALUES {}",
    "recommendation": "INSERT INTO tracking_recommendation (id, management_response_id, evaluation_id, position, number, text, response_text, description, category, thematic_area_as_written, version, created_at, updated_at, imported, label) VALUES {}",
    "keyaction": "INSERT INTO tracking_keyaction (id, recommendation_id, evaluation_id, position, number, text, responsible, deadline, status, comments, split_confidence, version, created_at, updated_at, imported, label) VALUES {}",
    "unit": "INSERT INTO tracking_unit (id, office_id, name, acronym, auto_created, created_at) VALUES {}",
    "keyaction_units": "INSERT INTO tracking_keyaction_units (keyaction_id, unit_id) VALUES {}",
    "term": "INSERT INTO tracking_term (id, kind, name, active, position, auto_created) VALUES {}",
    "recommendationterm": "INSERT INTO tracking_recommendationterm (recommendation_id, term_id, position) VALUES {}",
    "changerecord": "INSERT INTO tracking_changerecord (time, user_name, source, action, object_id, object_repr, evaluation_id, after, message, content_type_id) VALUES {}",
}
ORDER = [
    "officetype", "office", "plan", "evaluation", "response", "recommendation", "term", "recommendationterm",
    "keyaction", "unit", "keyaction_units", "changerecord",
]


def insert_table(execute, sql: str, rows: list[tuple], mark: str) -> None:
    """Rows into one table, a few hundred per statement (under both databases' parameter limits)."""
    if not rows:
        return
    width = len(rows[0])
    per_statement = max(1, min(500, 30000 // width))
    row_marks = "(" + ", ".join([mark] * width) + ")"
    for start in range(0, len(rows), per_statement):
        chunk = rows[start : start + per_statement]
        execute(sql.format(", ".join([row_marks] * len(chunk))), [v for row in chunk for v in row])


def insert(rows, *, sqlite: str | None, postgres: str | None) -> float:
    if sqlite:
        import sqlite3

        conn = sqlite3.connect(sqlite)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        mark = "?"
        # The migration's seed rows (office types) would collide: start from empty reference tables.
        conn.execute("DELETE FROM tracking_term")
        conn.execute("DELETE FROM tracking_officetype")
        conn.commit()
        ct = conn.execute("SELECT id FROM django_content_type WHERE app_label='tracking' AND model='evaluation'").fetchone()[0]
        rows["changerecord"] = [r + (ct,) for r in rows["changerecord"]]
        start = time.perf_counter()
        conn.execute("BEGIN")
        for table in ORDER:
            insert_table(conn.execute, SQL[table], rows[table], mark)
        conn.commit()
        elapsed = time.perf_counter() - start
        conn.close()
        return elapsed
    import psycopg

    with psycopg.connect(postgres) as conn:
        conn.execute("DELETE FROM tracking_term")
        conn.execute("DELETE FROM tracking_officetype")
        conn.commit()
        ct = conn.execute("SELECT id FROM django_content_type WHERE app_label='tracking' AND model='evaluation'").fetchone()[0]
        rows["changerecord"] = [r + (ct,) for r in rows["changerecord"]]
        start = time.perf_counter()
        with conn.cursor() as cur:
            for table in ORDER:
                # COPY, the driver's fastest path (at M: executemany 5.9 s, multi-row INSERTs 9.1 s).
                if rows[table]:
                    with cur.copy(copy_statement(SQL[table])) as copy:
                        for row in rows[table]:
                            copy.write_row(row)
        conn.commit()
        return time.perf_counter() - start


def copy_statement(insert: str) -> str:
    """`INSERT INTO t (a, b) VALUES {}` -> `COPY t (a, b) FROM STDIN`."""
    head = insert.split(" VALUES ", 1)[0]
    return head.replace("INSERT INTO ", "COPY ", 1) + " FROM STDIN"


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--sqlite")
    p.add_argument("--postgres")
    args = p.parse_args()
    rows = build(args.count, args.seed)
    seconds = insert(rows, sqlite=args.sqlite, postgres=args.postgres)
    print(json.dumps({"seconds": seconds, "rows": {k: len(v) for k, v in rows.items()}, "total_rows": sum(len(v) for v in rows.values())}))


if __name__ == "__main__":
    main()
