"""Installations of their own for the operations tests: a var folder and a database each, on the suite's engine.

The suite runs on SQLite, and again on PostgreSQL when DATABASE_URL names
one; these tests make installations on the same engine (a SQLite file in a
temporary folder, or a PostgreSQL database named after the suite's, its
xdist worker and the test's purpose, dropped at the end), and drive them
through the `followthrough` command like an operator.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import dj_database_url

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
APP = BIN / "followthrough"
PYTHON = Path(sys.executable)


def engine() -> str:
    url = os.environ.get("DATABASE_URL", "")
    return "postgresql" if url.startswith(("postgres://", "postgresql://")) else "sqlite"


def _pg_admin(url: str):
    import psycopg

    db = dj_database_url.parse(url)
    return psycopg.connect(
        dbname="postgres", user=db["USER"] or None, password=db["PASSWORD"] or None, host=db["HOST"] or None,
        port=db["PORT"] or None, autocommit=True,
    )


class Install:
    """One installation: its environment for the `followthrough` command, and its database."""

    def __init__(self, folder: Path, purpose: str):
        self.var = folder
        self.var.mkdir(parents=True, exist_ok=True)
        base = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DEBUG", "DJANGO_SETTINGS_MODULE")}
        self.env = {
            **base,
            "FOLLOWTHROUGH_VAR_DIR": str(self.var),
            "SECRET_KEY": "ops-tests-" + "k" * 50,
            "DEBUG": "0",
            "SECURE_SSL_REDIRECT": "0",
            "SESSION_COOKIE_SECURE": "0",
            "CSRF_COOKIE_SECURE": "0",
            "PYTHONPATH": str(ROOT),
        }
        self.database = None
        if engine() == "postgresql":
            url = os.environ["DATABASE_URL"]
            worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
            self.database = f"{dj_database_url.parse(url)['NAME']}_{purpose}_{worker}"[:63]
            with _pg_admin(url) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
                admin.execute(f'CREATE DATABASE "{self.database}"')
            self.env["DATABASE_URL"] = url.rsplit("/", 1)[0] + "/" + self.database

    @property
    def media(self) -> Path:
        return self.var / "media"

    def run(self, *args: str, check: bool = True, timeout: int = 600) -> subprocess.CompletedProcess:
        p = subprocess.run([str(APP), *args], env=self.env, capture_output=True, text=True, timeout=timeout)
        if check and p.returncode != 0:
            raise AssertionError(f"followthrough {' '.join(args)} failed ({p.returncode}):\n{p.stdout}\n{p.stderr}")
        return p

    def query(self, code: str):
        """Run `code` with Django set up against this installation; it sets `result`, returned as JSON."""
        script = (
            "import json, django; django.setup()\n"
            + code
            + "\nprint(json.dumps(result, default=str))\n"
        )
        p = subprocess.run(
            [str(PYTHON), "-c", script], env={**self.env, "DJANGO_SETTINGS_MODULE": "followthrough.settings"},
            capture_output=True, text=True, timeout=300,
        )
        assert p.returncode == 0, p.stderr
        return json.loads(p.stdout.strip().splitlines()[-1])

    def drop(self) -> None:
        if self.database:
            with _pg_admin(os.environ["DATABASE_URL"]) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
