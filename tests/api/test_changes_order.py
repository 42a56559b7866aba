"""/changes never skips a change committed late: on PostgreSQL, with two real connections.

One transaction writes a change and stays open (an import, say); a later one
writes and commits. A reader polling the feed meanwhile must not move past
the open one: once it commits, the reader gets its change too, and in the
end every change exactly once.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections, transaction
from django.test import Client

from api.models import ApiToken
from tracking.actor import Actor
from tracking.models import ChangeRecord, Region
from tracking.services import history

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql",
                       reason="SQLite serialises writes: a transaction commits before the next inserts, so id order is commit order"),
]


def _write(name: str) -> None:
    region = Region.objects.create(name=name, slug=name.lower())
    history.write([history.change(Actor.system("command"), ChangeRecord.Action.CREATE, region, after={"name": name})])


def _read_all(client: Client, headers: dict, since: str) -> tuple[list[str], str]:
    seen = []
    while True:
        body = client.get("/api/v1/changes?limit=1" + (f"&since={since}" if since else ""), **headers).json()
        seen += [c["after"]["name"] for c in body["items"] if c["model"] == "region"]
        since = body["next"]
        if not body["items"]:
            return seen, since


def test_a_reader_never_skips_a_change_committed_after_a_later_one(django_user_model, settings):
    settings.API_TOKEN_RATE = (10**9, 60)
    settings.API_ADDRESS_RATE = (10**9, 60)
    admin = django_user_model.objects.create(username="sync", is_superuser=True, is_staff=True)
    _, token = ApiToken.issue(admin, "sync")
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    client = Client()
    _write("Before")
    seen, since = _read_all(client, headers, "")
    assert seen == ["Before"]

    written, release, failure = threading.Event(), threading.Event(), []

    def long_transaction():
        try:
            with transaction.atomic():  # its own connection: this thread's
                _write("Held")
                written.set()
                release.wait(timeout=60)
        except Exception as exc:  # pragma: no cover - reported below
            failure.append(exc)
            written.set()
        finally:
            connections.close_all()

    holder = threading.Thread(target=long_transaction)
    holder.start()
    try:
        assert written.wait(timeout=60) and not failure, failure
        _write("Later")  # a later transaction, committed at once (autocommit), with a higher id
        assert ChangeRecord.objects.filter(after__name="Later").exists()
        assert not ChangeRecord.objects.filter(after__name="Held").exists()  # not committed yet
        more, since = _read_all(client, headers, since)
        # Id order alone would give "Later" now and pass the held change for ever.
        assert more == []
    finally:
        release.set()
        holder.join(timeout=60)
    assert not failure, failure
    held = ChangeRecord.objects.get(after__name="Held")
    later = ChangeRecord.objects.get(after__name="Later")
    assert held.pk < later.pk and held.txid < later.txid
    more, since = _read_all(client, headers, since)
    assert more == ["Held", "Later"]
    assert _read_all(client, headers, since)[0] == []
