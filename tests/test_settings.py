"""Configuration from the environment: safe for local use, hardened for production."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

EXE = Path(sys.executable).with_name("followthrough")


def check(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DEBUG", "SECRET_KEY")}
    return subprocess.run([str(EXE), "check", *args], env={**base, **env}, capture_output=True, text=True, timeout=120)


def printed(code: str, env: dict[str, str], tmp_path) -> str:
    """What `code` prints in a process whose settings are built from `env` (no database or PostgreSQL option of
    this environment's)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "POSTGRES_"))}
    p = subprocess.run([sys.executable, "-c", f"import django; django.setup(); {code}"], env={
        **base, "DJANGO_SETTINGS_MODULE": "followthrough.settings", "FOLLOWTHROUGH_VAR_DIR": str(tmp_path), **env,
    }, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    return p.stdout.strip()


def test_production_settings_pass_check_deploy(tmp_path):
    p = check(
        {
            "DEBUG": "0",
            "SECRET_KEY": "x8Jq2m!vR4t#Lp9zW6s@Nc3bYh7Fd1Gk5Ue0Ai$Ro2Tx-Qe8Wr4Ty6Ui9Op",
            "ALLOWED_HOSTS": "tracking.example.org",
            "FOLLOWTHROUGH_VAR_DIR": str(tmp_path),
        },
        "--deploy",
        "--fail-level",
        "WARNING",
    )
    assert p.returncode == 0, p.stdout + p.stderr
    assert "no issues" in p.stdout


def test_placeholder_secret_key_is_refused(tmp_path):
    p = check({"SECRET_KEY": "change-me", "FOLLOWTHROUGH_VAR_DIR": str(tmp_path)})
    assert p.returncode != 0
    assert "SECRET_KEY is a placeholder" in p.stderr


def test_without_a_secret_key_one_is_made_once_and_kept(tmp_path):
    assert check({"FOLLOWTHROUGH_VAR_DIR": str(tmp_path)}).returncode == 0
    key_file = tmp_path / "secret_key"
    first = key_file.read_text()
    assert len(first) >= 50 and oct(key_file.stat().st_mode & 0o777) == "0o600"
    check({"FOLLOWTHROUGH_VAR_DIR": str(tmp_path)})
    assert key_file.read_text() == first


def test_bad_boolean_is_a_clear_error(tmp_path):
    p = check({"DEBUG": "maybe", "FOLLOWTHROUGH_VAR_DIR": str(tmp_path)})
    assert p.returncode != 0 and "DEBUG must be true or false" in p.stderr


def test_postgresql_connections_compile_no_statement_unless_asked(tmp_path):
    """JIT off for the app's PostgreSQL connections (its compiling took half a search's time at L);
    POSTGRES_JIT=server leaves the server's setting; other settings of the URL are kept. Read from the
    settings as a process started with that environment builds them."""
    code = "from django.conf import settings; print(settings.DATABASES['default'].get('OPTIONS', {}).get('options'))"

    def options(env: dict[str, str]) -> str:
        return printed(code, env, tmp_path)

    url = "postgres://app@db.example.org:5432/followthrough"
    assert options({"DATABASE_URL": url}) == "-c jit=off"
    assert options({"DATABASE_URL": url, "POSTGRES_JIT": "server"}) == "None"
    assert options({}) == "None"  # SQLite: nothing of the kind


def test_the_test_database_connection_runs_without_jit_on_postgresql(db):
    import pytest
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"


def test_postgresql_statements_are_prepared_unless_asked_not_to(tmp_path):
    """Their values sent apart and each statement prepared on its connection's second run (planning was most of
    a page's SQL); POSTGRES_PREPARE=off for a pooler that cannot keep them."""
    code = (
        "from django.conf import settings; o = settings.DATABASES['default'].get('OPTIONS', {}); "
        "print(o.get('server_side_binding'), o.get('prepare_threshold'), o.get('options'))"
    )

    def options(env: dict[str, str]) -> str:
        return printed(code, env, tmp_path)

    url = "postgres://app@db.example.org:5432/followthrough"
    assert options({"DATABASE_URL": url}) == "True 2 -c jit=off"
    assert options({"DATABASE_URL": url, "POSTGRES_PREPARE_THRESHOLD": "5", "POSTGRES_JIT": "server"}) == "True 5 None"
    assert options({"DATABASE_URL": url, "POSTGRES_PREPARE": "off"}) == "None None -c jit=off"
    assert options({}) == "None None None"  # SQLite: nothing of the kind


def test_the_app_s_postgresql_connection_plans_a_statement_once(db):
    """A statement run again on the connection is prepared there: the server keeps its plan."""
    import pytest
    from django.db import connection

    from tracking.models import KeyAction

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    for pk in (1, 2, 3):
        list(KeyAction.objects.filter(pk=pk, status="Initiated").values_list("pk"))
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]
    assert any('"tracking_keyaction"."status" = $2' in sql for sql in prepared), prepared

    # The figures' aggregates are planned for their own values each time: never prepared, and preparing resumes after.
    from tracking import queries

    def prepared_now() -> list[str]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT statement FROM pg_prepared_statements")
            return [row[0] for row in cursor.fetchall()]

    with queries.planned_for_their_values():
        for pk in (1, 2, 3):
            list(KeyAction.objects.filter(pk=pk, status="Completed", deadline__isnull=True).values_list("pk"))
    assert not any("IS NULL" in sql for sql in prepared_now())
    for pk in (1, 2, 3):
        list(KeyAction.objects.filter(pk=pk, status="Completed", deadline__isnull=True).values_list("pk"))
    assert any("IS NULL" in sql for sql in prepared_now())


def test_a_postgresql_statement_with_more_values_than_it_takes_apart_still_runs(db):
    """PostgreSQL takes at most 65,535 values apart from a statement; Django does not split its IN lists (at L an
    export asks for 75,000 recommendations' rows): such a statement has its values written into it."""
    import pytest
    from django.db import connection

    from followthrough.pgcursor import MAX_BOUND
    from tracking.models import KeyAction

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    assert not KeyAction.objects.filter(pk__in=range(-MAX_BOUND - 10, 0)).exists()
    with connection.cursor() as cursor:  # and one with as many as it takes, sent apart
        cursor.execute(f"SELECT cardinality(ARRAY[{', '.join(['%s::int'] * MAX_BOUND)}])", [1] * MAX_BOUND)
        assert cursor.fetchone()[0] == MAX_BOUND


def test_a_sqlite_connection_is_kept_from_one_request_to_the_next(tmp_path):
    """Opening one costs a few milliseconds per request at L (schema parsed, pragmas, empty page cache).
    The request signals as a web server sends them; the pragmas still hold on the kept connection."""
    code = (
        "from django.core.signals import request_finished, request_started; from django.db import connection\n"
        "seen = []\n"
        "for _ in range(2):\n"
        "    request_started.send(None)\n"
        "    with connection.cursor() as c:\n"
        "        c.execute('PRAGMA foreign_keys'); fk = c.fetchone()[0]\n"
        "    seen.append((id(connection.connection), fk))\n"
        "    request_finished.send(None)\n"
        "print(seen[0][0] == seen[1][0], seen[1][1])"
    )
    base = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL",)}
    p = subprocess.run([sys.executable, "-c", f"import django; django.setup()\n{code}"], env={
        **base, "DJANGO_SETTINGS_MODULE": "followthrough.settings", "FOLLOWTHROUGH_VAR_DIR": str(tmp_path),
    }, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["True", "1"]
