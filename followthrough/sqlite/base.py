"""Django's SQLite backend, with writers that say when they are asking for the write lock.

SQLite grants its write lock to whoever asks when it is free, with no queue:
a long import, writing batch after batch, leaves it free for a moment between
two (tracking.services.importer.pipeline), long enough for a waiting save to
take it. That pause is only needed when someone waits: each connection here
holds a shared lock on a file beside the database (`WriteIntent`) while it
asks for SQLite's lock (BEGIN, or a write outside a transaction), so the
importer can ask whether anyone is waiting before it pauses. At L, the pauses
were a fifth of a SQLite import run with nobody waiting.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sqlite3

from django.db.backends.sqlite3 import base

try:
    import fcntl
except ImportError:  # Windows: no intent is said, and the importer pauses between batches whatever happens
    fcntl = None  # type: ignore[assignment]


class WriteIntent:
    """A file beside the database, share-locked by each connection while it asks for SQLite's write lock."""

    def __init__(self, database: str):
        self.path = f"{database}-writers"
        self.fd: int | None = None

    def _file(self) -> int | None:
        """Opened for reading (a lock needs no more): the web server's user may read a file the command line's made.
        None if it cannot be: then nobody's intent is known, and the importer pauses whatever happens."""
        if self.fd is None:
            try:
                self.fd = os.open(self.path, os.O_RDONLY | os.O_CREAT, 0o666)
            except OSError:
                return None
        return self.fd

    @contextlib.contextmanager
    def asking(self):
        """Held while this connection asks for the write lock (and waits for it)."""
        fd = self._file()
        if fd is None:
            yield
            return
        fcntl.flock(fd, fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)

    def anyone_asking(self) -> bool:
        """Is a connection (another one) asking for the write lock now? (True when it cannot be known.)"""
        fd = self._file()
        if fd is None:
            return True
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


class Connection(sqlite3.Connection):
    intent: WriteIntent | None = None


def write_intent(connection) -> WriteIntent | None:
    """The intent file of Django's `connection` (None: in memory, not open, or another database)."""
    return getattr(connection.connection, "intent", None)


def _reads(query: str) -> bool:
    return query.lstrip()[:6].upper() in ("SELECT", "PRAGMA")


@functools.lru_cache(maxsize=256)
def _qmarks(query: str) -> str:
    return base.FORMAT_QMARK_REGEX.sub("?", query).replace("%%", "%")


class Cursor(base.SQLiteCursorWrapper):
    def convert_query(self, query, *, param_names=None):
        # Django's "%s" -> "?" once per statement text, not once per run: an import's inserts of 500 rows, one text
        # per table run after run, were 8% of its time in this regular expression.
        if param_names is None:
            return _qmarks(query)
        return super().convert_query(query, param_names=param_names)

    def execute(self, query, params=None):
        intent = self.connection.intent
        # Outside a transaction a write asks for the lock itself (Model.save() of one table, a job enqueued).
        if intent is None or self.connection.in_transaction or _reads(query):
            return super().execute(query, params)
        with intent.asking():
            return super().execute(query, params)

    def executemany(self, query, param_list):
        intent = self.connection.intent
        if intent is None or self.connection.in_transaction:
            return super().executemany(query, param_list)
        with intent.asking():
            return super().executemany(query, param_list)


class DatabaseWrapper(base.DatabaseWrapper):
    def get_connection_params(self):
        return {**super().get_connection_params(), "factory": Connection}

    def get_new_connection(self, conn_params):
        conn = super().get_new_connection(conn_params)
        if fcntl is not None and not self.is_in_memory_db():
            conn.intent = WriteIntent(self.settings_dict["NAME"])
        return conn

    def create_cursor(self, name=None):
        return self.connection.cursor(factory=Cursor)

    def _start_transaction_under_autocommit(self):
        intent = self.connection.intent
        if intent is None:
            return super()._start_transaction_under_autocommit()
        # BEGIN IMMEDIATE (settings): the write lock, waited for here.
        with intent.asking():
            super()._start_transaction_under_autocommit()

    def _close(self):
        intent = self.connection.intent if self.connection is not None else None
        try:
            super()._close()
        finally:
            if intent is not None:
                intent.close()
