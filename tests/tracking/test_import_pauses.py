"""An import on SQLite leaves the write lock free between two batches only when a writer is asking for it.

Each connection share-locks a file beside the database while it asks for
SQLite's write lock (followthrough/sqlite); the importer looks at it before
each batch. Real connections on a database file, in threads of this process.
"""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest
from django.db import connection, connections, transaction

from tests.processes import shared_database
from tests.tracking.factories import make_office
from tracking.models import Office
from tracking.services.importer import pipeline

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def database(tmp_path):
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's write lock (PostgreSQL locks rows)")
    with shared_database(tmp_path) as url:
        connection.ensure_connection()
        yield url.removeprefix("sqlite:///")


def _writer(done: list, how: str) -> threading.Thread:
    """A save in another thread (its own connection): in a transaction, or a lone INSERT outside any."""

    def write():
        try:
            if how == "transaction":
                with transaction.atomic():
                    make_office(f"Office of {how}")
            else:
                Office.objects.create(name=f"Office of {how}", slug=how, type=Office.objects.first().type)
            done.append(how)
        finally:
            connections.close_all()

    thread = threading.Thread(target=write)
    thread.start()
    return thread


def _pauses(monkeypatch) -> list[float]:
    """The pauses the importer makes before its next batch, one batch committed just now."""
    slept: list[float] = []
    with monkeypatch.context() as m:
        m.setattr(pipeline.time, "sleep", slept.append)
        pipeline.Importer._let_others_write(time.monotonic())
    return slept


def _seen(intent, timeout: float = 10.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if intent.anyone_asking():
            return True
        time.sleep(0.01)
    return False


@pytest.mark.parametrize("how", ["transaction", "alone"])
def test_a_writer_waiting_for_the_lock_is_seen_and_the_import_pauses_for_it(database, monkeypatch, how):
    from followthrough.sqlite.base import write_intent

    make_office("First office")
    intent = write_intent(connection)
    assert intent is not None and not intent.anyone_asking()
    # Nobody asking: the next batch goes at once.
    assert _pauses(monkeypatch) == []

    holder = sqlite3.connect(database, timeout=30)  # a batch, holding the write lock
    holder.execute("BEGIN IMMEDIATE")
    done: list[str] = []
    thread = _writer(done, how)
    try:
        assert _seen(intent), "the waiting writer is not seen"
        assert done == []
        # Asked for: the import leaves the lock free for the rest of the pause since its last commit.
        (pause,) = _pauses(monkeypatch)
        assert 0 < pause <= pipeline.LOCK_PAUSE
    finally:
        holder.rollback()
        holder.close()
        thread.join(timeout=30)
    assert done == [how]
    assert Office.objects.filter(name=f"Office of {how}").exists()
    # It wrote: nobody asks any more.
    assert not intent.anyone_asking()


def test_readers_are_not_writers(database):
    from followthrough.sqlite.base import write_intent

    make_office("First office")
    intent = write_intent(connection)
    holder = sqlite3.connect(database, timeout=30)
    holder.execute("BEGIN IMMEDIATE")
    try:
        read: list[int] = []

        def reader():
            try:
                read.append(Office.objects.count())  # WAL: a reader does not wait for the writer
            finally:
                connections.close_all()

        thread = threading.Thread(target=reader)
        thread.start()
        thread.join(timeout=30)
        assert read == [1]
        assert not intent.anyone_asking()
    finally:
        holder.rollback()
        holder.close()


def test_an_intent_file_that_cannot_be_opened_stops_no_write_and_the_import_pauses(tmp_path):
    from followthrough.sqlite.base import WriteIntent

    intent = WriteIntent(str(tmp_path / "no such folder" / "followthrough.sqlite3"))
    with intent.asking():  # the write goes on, its intent unsaid
        pass
    assert intent.anyone_asking()  # not known: the import leaves the lock free, as it always did

