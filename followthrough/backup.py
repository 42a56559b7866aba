"""Backup and restore of an installation: the database and the uploaded evidence files, in one archive.

`followthrough backup FILE` writes a tar archive (gzip-compressed when FILE
ends in .gz or .tgz) holding:

- manifest.json: when, from which database engine, the row count of every
  table and the evidence files the database names, all as of the snapshot;
- the database: SQLite's online backup (database.sqlite3) or `pg_dump -Fc`
  (database.pgdump), each a consistent snapshot taken while the application
  keeps writing: every change committed before the backup began is in it,
  and no change is in it by half;
- media/: the uploaded files (MEDIA_ROOT), copied after the snapshot, so every
  file the snapshot names is there (files uploaded meanwhile may be too).

`followthrough restore FILE` checks the archive, refuses to replace a
database that holds data (or an evidence folder that holds files) unless
--force, restores the database all or nothing, checks it (row counts equal
to the manifest's, no dangling foreign key; on SQLite also PRAGMA
integrity_check), puts the files in place (keeping what was there aside),
and says what it did.

Stop the application (or at least its writers) while restoring; backing up
needs no stop.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.db import connections, models

FORMAT = "followthrough-backup"
VERSION = 1
MANIFEST = "manifest.json"
SQLITE_NAME = "database.sqlite3"
PG_NAME = "database.pgdump"
MEDIA = "media"


class BackupError(Exception):
    """A backup or restore that cannot be done, with the reason in words."""


@dataclass
class Snapshot:
    counts: dict[str, int]
    files: list[str]  # evidence files the database names


@dataclass
class BackupResult:
    path: Path
    bytes: int
    engine: str
    seconds: float
    tables: int
    rows: int
    media_files: int
    media_bytes: int
    missing_media: list[str] = field(default_factory=list)


@dataclass
class RestoreResult:
    engine: str
    seconds: float
    made_at: str
    tables: int
    rows: int
    replaced: str  # what the database held before, in words ("" when empty)
    media_files: int
    media_bytes: int
    media_kept_aside: Path | None
    checks: list[str]
    pending_migrations: list[str]


def _engine(alias: str = "default") -> str:
    vendor = connections[alias].vendor
    if vendor not in ("sqlite", "postgresql"):
        raise BackupError(f"backup knows SQLite and PostgreSQL, not {vendor}")
    return vendor


def _file_columns() -> list[tuple[str, str]]:
    """(table, column) of every file field: the uploaded files the database names."""
    return [
        (model._meta.db_table, f.column)
        for model in apps.get_models()
        for f in model._meta.concrete_fields
        if isinstance(f, models.FileField)
    ]


def _foreign_keys() -> list[tuple[str, str, str, str]]:
    """(table, column, target table, target column) of every foreign key of the installed models."""
    out = []
    for model in apps.get_models(include_auto_created=True):
        if model._meta.proxy or not model._meta.managed:
            continue
        for f in model._meta.concrete_fields:
            if f.is_relation and (f.many_to_one or f.one_to_one):
                target = f.target_field
                out.append((model._meta.db_table, f.column, target.model._meta.db_table, target.column))
    return out


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# --- SQLite ------------------------------------------------------------------------------------------


def _sqlite_path(alias: str = "default") -> Path:
    name = str(settings.DATABASES[alias]["NAME"])
    if name in ("", ":memory:") or name.startswith("file:"):
        raise BackupError(f"the SQLite database {name!r} is not a file: nothing to back up")
    return Path(name)


def _sqlite_snapshot(source: Path, target: Path) -> Snapshot:
    """SQLite's online backup, in one step: a consistent copy while others write (WAL)."""
    src = sqlite3.connect(source, timeout=60)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)  # pages=-1: all pages in one step, under one read snapshot
    finally:
        src.close()
    try:
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file in the archive
        return _sqlite_read(dst)
    finally:
        dst.close()


def _sqlite_read(conn: sqlite3.Connection) -> Snapshot:
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")]
    counts = {t: conn.execute(f"SELECT count(*) FROM {_q(t)}").fetchone()[0] for t in sorted(tables)}
    files = []
    for table, column in _file_columns():
        if table in counts:
            files += [r[0] for r in conn.execute(f"SELECT {_q(column)} FROM {_q(table)} WHERE {_q(column)} <> ''")]
    return Snapshot(counts, sorted(set(files)))


def _sqlite_checks(conn: sqlite3.Connection) -> list[str]:
    """PRAGMA integrity_check and foreign_key_check; raises BackupError on a problem."""
    result = [r[0] for r in conn.execute("PRAGMA integrity_check")]
    if result != ["ok"]:
        raise BackupError("the database fails SQLite's integrity check: " + "; ".join(result[:5]))
    dangling = conn.execute("PRAGMA foreign_key_check").fetchall()
    if dangling:
        raise BackupError(f"{len(dangling)} rows point to rows that are not there, e.g. in table {dangling[0][0]}")
    return ["SQLite integrity check of the backup: ok", "SQLite foreign key check of the backup: ok"]


def _sqlite_quick_check(conn: sqlite3.Connection) -> str:
    result = [r[0] for r in conn.execute("PRAGMA quick_check")]
    if result != ["ok"]:
        raise BackupError("the restored database fails SQLite's quick check: " + "; ".join(result[:5]))
    return "SQLite quick check of the restored file: ok"


# --- PostgreSQL -------------------------------------------------------------------------------------


def _pg_env(alias: str = "default") -> dict[str, str]:
    db = settings.DATABASES[alias]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    for key, var in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"), ("PASSWORD", "PGPASSWORD"), ("NAME", "PGDATABASE")):
        if db.get(key):
            env[var] = str(db[key])
    for option, var in (("sslmode", "PGSSLMODE"), ("sslrootcert", "PGSSLROOTCERT"), ("sslcert", "PGSSLCERT"), ("sslkey", "PGSSLKEY")):
        if db.get("OPTIONS", {}).get(option):
            env[var] = str(db["OPTIONS"][option])
    return env


def _pg_tool(name: str, alias: str = "default") -> str:
    """The client tool, checked against the server: an older pg_dump refuses a newer server."""
    exe = shutil.which(name)
    if not exe:
        raise BackupError(f"{name} is not installed: install PostgreSQL's client tools (Debian: postgresql-client)")
    out = subprocess.run([exe, "--version"], capture_output=True, text=True).stdout
    match = re.search(r"(\d+)(?:\.\d+)?", out)
    with connections[alias].cursor() as cursor:
        cursor.execute("SHOW server_version_num")
        server = int(cursor.fetchone()[0]) // 10000
    if match and int(match.group(1)) < server:
        raise BackupError(
            f"{name} {match.group(1)} is older than the PostgreSQL {server} server: install the client tools of version {server} or later"
        )
    return exe


def _run(cmd: list[str], env: dict, what: str, **kwargs) -> subprocess.CompletedProcess:
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, **kwargs)
    if p.returncode != 0:
        raise BackupError(f"{what} failed: {(p.stderr or p.stdout).strip()[-2000:]}")
    return p


def _pg_snapshot(target: Path, alias: str = "default") -> Snapshot:
    """pg_dump -Fc in an exported snapshot, with the row counts read in that same snapshot."""
    import psycopg

    pg_dump = _pg_tool("pg_dump", alias)
    env = _pg_env(alias)
    db = settings.DATABASES[alias]
    params = {"dbname": db["NAME"], "user": db.get("USER"), "password": db.get("PASSWORD"), "host": db.get("HOST"),
              "port": db.get("PORT"), **{k: v for k, v in db.get("OPTIONS", {}).items() if k.startswith("ssl")}}
    with psycopg.connect(**{k: v for k, v in params.items() if v not in (None, "")}) as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        snapshot_id = conn.execute("SELECT pg_export_snapshot()").fetchone()[0]
        _run([pg_dump, "-Fc", "--no-owner", "--no-privileges", f"--snapshot={snapshot_id}", "-f", str(target)], env, "pg_dump")
        tables = [r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
        counts = {t: conn.execute(f"SELECT count(*) FROM {_q(t)}").fetchone()[0] for t in sorted(tables)}
        files = []
        for table, column in _file_columns():
            if table in counts:
                files += [r[0] for r in conn.execute(f"SELECT {_q(column)} FROM {_q(table)} WHERE {_q(column)} <> ''")]
    return Snapshot(counts, sorted(set(files)))


def _pg_restore(dump: Path, counts: dict[str, int], alias: str = "default") -> None:
    """Replace every table with the dump's, in one transaction that checks the row counts before it commits."""
    pg_restore = _pg_tool("pg_restore", alias)
    psql = _pg_tool("psql", alias)
    env = _pg_env(alias)
    drop = """
DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT viewname FROM pg_views WHERE schemaname = 'public' LOOP
    EXECUTE format('DROP VIEW IF EXISTS public.%I CASCADE', r.viewname);
  END LOOP;
  FOR r IN SELECT tablename FROM pg_tables WHERE schemaname = 'public' LOOP
    EXECUTE format('DROP TABLE IF EXISTS public.%I CASCADE', r.tablename);
  END LOOP;
  FOR r IN SELECT sequencename FROM pg_sequences WHERE schemaname = 'public' LOOP
    EXECUTE format('DROP SEQUENCE IF EXISTS public.%I CASCADE', r.sequencename);
  END LOOP;
  -- The search index's trigger functions and text search configurations (the dump makes them again);
  -- not those of extensions (unaccent), which the dump only asks for if missing.
  FOR r IN SELECT p.oid::regprocedure AS sig FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
           WHERE n.nspname = 'public'
             AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e') LOOP
    EXECUTE format('DROP FUNCTION IF EXISTS %s CASCADE', r.sig);
  END LOOP;
  FOR r IN SELECT c.cfgname FROM pg_ts_config c JOIN pg_namespace n ON n.oid = c.cfgnamespace
           WHERE n.nspname = 'public'
             AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e') LOOP
    EXECUTE format('DROP TEXT SEARCH CONFIGURATION IF EXISTS public.%I CASCADE', r.cfgname);
  END LOOP;
  FOR r IN SELECT t.dictname FROM pg_ts_dict t JOIN pg_namespace n ON n.oid = t.dictnamespace
           WHERE n.nspname = 'public'
             AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = t.oid AND d.deptype = 'e') LOOP
    EXECUTE format('DROP TEXT SEARCH DICTIONARY IF EXISTS public.%I CASCADE', r.dictname);
  END LOOP;
END $$;
"""
    expected = ", ".join(f"({_literal(t)}, {n})" for t, n in sorted(counts.items())) or "(NULL, 0)"
    check = f"""
DO $$
DECLARE r record; found bigint;
BEGIN
  FOR r IN SELECT * FROM (VALUES {expected}) AS e(name, rows) WHERE name IS NOT NULL LOOP
    EXECUTE format('SELECT count(*) FROM public.%I', r.name) INTO found;
    IF found <> r.rows THEN
      RAISE EXCEPTION 'table % has % rows after the restore, the backup had %', r.name, found, r.rows;
    END IF;
  END LOOP;
  IF EXISTS (SELECT 1 FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
             WHERE n.nspname = 'public' AND NOT c.convalidated) THEN
    RAISE EXCEPTION 'a constraint was restored without being checked';
  END IF;
END $$;
"""
    script = subprocess.Popen(
        [pg_restore, "--no-owner", "--no-privileges", "-f", "-", str(dump)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    # psql -1 wraps the drops, the dump's script and the check in one transaction: all or nothing.
    p = subprocess.run(
        [psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-1", "-c", drop, "-f", "-", "-c", check],
        env=env,
        stdin=script.stdout,
        capture_output=True,
        text=True,
    )
    script.stdout.close()
    script_err = script.stderr.read().decode(errors="replace")
    script.wait()
    # psql first: when it stops on an error, pg_restore writing into its closed input dies of that, silently.
    if p.returncode != 0:
        raise BackupError(f"the restore was rolled back, the database is as it was: {p.stderr.strip()[-2000:]}")
    if script.returncode != 0:
        raise BackupError(f"pg_restore cannot read the dump: {script_err.strip()[-2000:]}")


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# --- both ---------------------------------------------------------------------------------------------


def database_contents(alias: str = "default") -> dict[str, int]:
    """What restoring would replace: the records people made (empty: nothing to lose)."""
    from django.contrib.auth import get_user_model

    from tracking.models import ActionUpdate, ChangeRecord, Evaluation, Office

    connection = connections[alias]
    existing = set(connection.introspection.table_names())
    out = {}
    for label, model in (
        ("users", get_user_model()),
        ("offices", Office),
        ("evaluations", Evaluation),
        ("progress updates", ActionUpdate),
        ("history records", ChangeRecord),
    ):
        if model._meta.db_table in existing:
            n = model._default_manager.using(alias).count()
            if n:
                out[label] = n
    return out


def _media_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else []


def _count_and_foreign_key_checks(expected: dict[str, int], alias: str = "default") -> list[str]:
    """Row counts equal to the manifest's, and no row pointing to a row that is not there."""
    connection = connections[alias]
    problems = []
    with connection.cursor() as cursor:
        for table, rows in sorted(expected.items()):
            cursor.execute(f"SELECT count(*) FROM {connection.ops.quote_name(table)}")
            found = cursor.fetchone()[0]
            if found != rows:
                problems.append(f"table {table} has {found} rows, the backup had {rows}")
        fks = [fk for fk in _foreign_keys() if fk[0] in expected and fk[2] in expected]
        for table, column, target, target_column in fks:
            qn = connection.ops.quote_name
            cursor.execute(
                f"SELECT count(*) FROM {qn(table)} c LEFT JOIN {qn(target)} t ON c.{qn(column)} = t.{qn(target_column)} "
                f"WHERE c.{qn(column)} IS NOT NULL AND t.{qn(target_column)} IS NULL"
            )
            dangling = cursor.fetchone()[0]
            if dangling:
                problems.append(f"{dangling} rows of {table}.{column} point to rows of {target} that are not there")
    if problems:
        raise BackupError("the restored database fails its check: " + "; ".join(problems[:10]))
    return [
        f"row counts: {len(expected)} tables, {sum(expected.values()):,} rows, as in the backup",
        f"foreign keys: {len(fks)} checked, none dangling",
    ]


def backup(path: str | os.PathLike, alias: str = "default") -> BackupResult:
    started = time.perf_counter()
    path = Path(path).resolve()
    if path.is_dir():
        raise BackupError(f"{path} is a folder: give the archive's file name")
    path.parent.mkdir(parents=True, exist_ok=True)
    engine = _engine(alias)
    made_at = dt.datetime.now(dt.UTC)
    # gzip at level 6 (gzip's own default): tarfile's 9 takes twice the time for a few per cent.
    compress = {"compresslevel": 6} if path.name.endswith((".gz", ".tgz")) else {}
    partial = path.with_name(path.name + ".partial")
    media_root = Path(settings.MEDIA_ROOT)
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".backup-") as tmp:
        if engine == "sqlite":
            db_file = Path(tmp) / SQLITE_NAME
            snapshot = _sqlite_snapshot(_sqlite_path(alias), db_file)
        else:
            db_file = Path(tmp) / PG_NAME
            snapshot = _pg_snapshot(db_file, alias)
        # The files after the snapshot: every file it names was written before it was taken.
        files = _media_files(media_root)
        present = {p.relative_to(media_root).as_posix() for p in files}
        missing = [name for name in snapshot.files if name not in present]
        manifest = {
            "format": FORMAT,
            "version": VERSION,
            "made_at": made_at.isoformat(timespec="seconds"),
            "engine": engine,
            "database_file": db_file.name,
            "tables": snapshot.counts,
            "media": {"files": len(files), "bytes": sum(p.stat().st_size for p in files), "named_by_database": len(snapshot.files)},
            "missing_media": missing,
        }
        try:
            with tarfile.open(partial, "w:gz" if compress else "w", **compress) as tar:
                data = json.dumps(manifest, indent=2).encode()
                info = tarfile.TarInfo(MANIFEST)
                info.size, info.mtime, info.mode = len(data), int(made_at.timestamp()), 0o600
                tar.addfile(info, io.BytesIO(data))
                tar.add(db_file, arcname=db_file.name)
                for p in files:
                    tar.add(p, arcname=f"{MEDIA}/{p.relative_to(media_root).as_posix()}", recursive=False)
            with open(partial, "rb") as f:
                os.fsync(f.fileno())
            os.chmod(partial, 0o600)  # it holds password hashes and sessions
            os.replace(partial, path)  # never a file that looks whole and is not
        finally:
            partial.unlink(missing_ok=True)
    return BackupResult(
        path=path,
        bytes=path.stat().st_size,
        engine=engine,
        seconds=time.perf_counter() - started,
        tables=len(snapshot.counts),
        rows=sum(snapshot.counts.values()),
        media_files=len(files),
        media_bytes=manifest["media"]["bytes"],
        missing_media=missing,
    )


def read_manifest(tar: tarfile.TarFile, path: Path) -> dict:
    try:
        manifest = json.load(tar.extractfile(MANIFEST))
    except (KeyError, AttributeError, json.JSONDecodeError) as exc:
        raise BackupError(f"{path} is not a followthrough backup (no readable {MANIFEST}: {exc})") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{path} is not a followthrough backup")
    if manifest.get("version", 0) > VERSION:
        raise BackupError(f"{path} was made by a newer followthrough (backup format {manifest['version']}): upgrade first")
    return manifest


def _pending_migrations(alias: str) -> list[str]:
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connections[alias])
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{m.app_label}.{m.name}" for m, _ in plan]


def _unknown_migrations(alias: str) -> list[str]:
    from django.db.migrations.loader import MigrationLoader

    loader = MigrationLoader(connections[alias])
    return sorted(f"{a}.{n}" for a, n in loader.applied_migrations if (a, n) not in loader.disk_migrations)


def restore(path: str | os.PathLike, force: bool = False, alias: str = "default") -> RestoreResult:
    started = time.perf_counter()
    path = Path(path).resolve()
    if not path.is_file():
        raise BackupError(f"{path}: no such file")
    engine = _engine(alias)
    media_root = Path(settings.MEDIA_ROOT)
    try:
        tar = tarfile.open(path, "r:*")
    except tarfile.TarError as exc:
        raise BackupError(f"{path} is not a backup archive: {exc}") from None
    with tar:
        manifest = read_manifest(tar, path)
        if manifest["engine"] != engine:
            raise BackupError(
                f"{path} holds a {manifest['engine']} database and this installation uses {engine}: "
                f"restore it into an installation on {manifest['engine']} (DATABASE_URL)"
            )
        # What would be replaced.
        before = database_contents(alias)
        held = _media_files(media_root)
        if (before or held) and not force:
            what = ", ".join(f"{n:,} {label}" for label, n in before.items())
            parts = ([f"the database holds {what}"] if before else []) + (
                [f"{media_root} holds {len(held):,} files"] if held else []
            )
            raise BackupError(
                f"refused: {' and '.join(parts)}. Restoring replaces them with the backup of {manifest['made_at']}: "
                "run again with --force to do so"
            )
        parent = media_root.parent
        parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=parent, prefix=".restore-") as tmp:
            tmp = Path(tmp)
            # Everything out of the archive before anything is replaced: a bad archive changes nothing.
            db_member = tar.getmember(manifest["database_file"])
            tar.extract(db_member, tmp, filter="data")
            media_members = [m for m in tar.getmembers() if m.name.startswith(MEDIA + "/") and m.isfile()]
            tar.extractall(tmp, members=media_members, filter="data")
            db_file = tmp / manifest["database_file"]
            expected = {t: int(n) for t, n in manifest["tables"].items()}
            checks: list[str] = []
            if engine == "sqlite":
                conn = sqlite3.connect(db_file)
                try:
                    checks += _sqlite_checks(conn)
                    found = _sqlite_read(conn).counts
                finally:
                    conn.close()
                if found != expected:
                    raise BackupError(f"{path}: the database in the archive does not match its manifest's row counts")
                _sqlite_replace(db_file, _sqlite_path(alias), alias)
                conn = sqlite3.connect(_sqlite_path(alias))
                try:
                    # The copy is page for page: the full check was of the snapshot, a quick one of the copy.
                    checks.append(_sqlite_quick_check(conn))
                finally:
                    conn.close()
            else:
                connections[alias].close()
                _pg_restore(db_file, expected, alias)
                checks.append("PostgreSQL: restored in one transaction; row counts checked and every constraint validated before it committed")
            connections[alias].close()
            checks += _count_and_foreign_key_checks(expected, alias)
            unknown = _unknown_migrations(alias)
            if unknown:
                checks.append("warning: the backup has migrations this version does not know: " + ", ".join(unknown))
            # The files: the archive's folder takes MEDIA_ROOT's place; what was there is kept aside.
            kept = None
            restored_media = tmp / MEDIA
            restored_media.mkdir(exist_ok=True)
            if media_root.exists():
                if any(media_root.iterdir()):
                    kept = media_root.with_name(f"{media_root.name}-before-restore-{dt.datetime.now():%Y%m%dT%H%M%S}")
                    os.replace(media_root, kept)
                else:
                    media_root.rmdir()
            os.replace(restored_media, media_root)
    # Pages and figures are cached by data version; the restored data may reuse a version number.
    from django.core.cache import caches

    for name in settings.CACHES:
        caches[name].clear()
    checks.append("page and figure cache: cleared")
    pending = _pending_migrations(alias)
    return RestoreResult(
        engine=engine,
        seconds=time.perf_counter() - started,
        made_at=manifest["made_at"],
        tables=len(expected),
        rows=sum(expected.values()),
        replaced=", ".join(f"{n:,} {label}" for label, n in before.items()),
        media_files=len(media_members),
        media_bytes=sum(m.size for m in media_members),
        media_kept_aside=kept,
        checks=checks,
        pending_migrations=pending,
    )


def _sqlite_replace(source: Path, target: Path, alias: str) -> None:
    """Copy the checked snapshot over the live database with SQLite's backup API (safe with WAL, unlike a file copy)."""
    connections[alias].close()
    target.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(source)
    dst = sqlite3.connect(target, timeout=60)
    try:
        with contextlib.suppress(sqlite3.DatabaseError):
            dst.execute("PRAGMA journal_mode=WAL")
        src.backup(dst)
    except sqlite3.Error as exc:
        raise BackupError(f"the database could not be replaced (nothing was changed): {exc}") from None
    finally:
        src.close()
        dst.close()
