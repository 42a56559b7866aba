"""The changes feed in commit order: no committed change is ever skipped.

Ids are given at insert, not at commit. On PostgreSQL a long transaction (an
import) can insert change 10, and a short one change 11 and commit first: a
reader whose cursor passed 11 would never see 10. So each change record
keeps its writing transaction's id (`ChangeRecord.txid`, set by the
database), the feed goes by (txid, id), and it gives only the changes of
transactions that have ended: those below the oldest transaction of this
database still open when the reader looks. A transaction ending later has a
txid at or above that horizon, so it always sorts after everything given
before: the reader waits for it instead of passing it.

The horizon is the oldest id of the reader's snapshot's open transactions,
leaving out those known to belong to other databases of the server (they
cannot write here; pg_stat_activity names their database). One not known
(another role's session, hidden by pg_stat_activity) is counted: waiting a
little longer is safe, skipping is not. A transaction that got its id after
the snapshot is at or above its xmax, which bounds the horizon.

The reader's own transaction is not in its snapshot's open ones: its own
changes are included, as it sees them (a request reading the feed writes none
in production; a test wrapped in one transaction reads its own).

What (txid, id) order is not: commit order between two transactions that
both changed one record. The services lock the record first, which gives a
transaction its id then, so for them the two orders agree; a long transaction
(an import) that had its id already and changes a record after a shorter one
changed and committed it sorts before that one: a known limit, left for a
commit-time counter (taken just before commit) to close.

SQLite serialises writes: a transaction commits before the next one inserts,
so id order is commit order there and txid stays NULL.
"""

from __future__ import annotations

from django.db import connection
from django.db.models import Q, QuerySet

HORIZON_SQL = """
WITH snap AS (SELECT pg_current_snapshot() AS s),
elsewhere AS (
    SELECT backend_xid::text::bigint AS xid FROM pg_stat_activity
    WHERE datname IS DISTINCT FROM current_database() AND backend_xid IS NOT NULL
)
SELECT coalesce(
    (SELECT min(x::text::bigint) FROM snap, pg_snapshot_xip(snap.s) AS x
     WHERE mod(x::text::bigint, 4294967296) NOT IN (SELECT xid FROM elsewhere)),
    (SELECT pg_snapshot_xmax(s)::text::bigint FROM snap)
), pg_current_xact_id_if_assigned()::text::bigint
"""


def horizon() -> tuple[int, int | None]:
    """(every transaction below this has ended, the reader's own transaction or None). PostgreSQL only."""
    with connection.cursor() as cursor:
        cursor.execute(HORIZON_SQL)
        below, own = cursor.fetchone()
    return int(below), (int(own) if own is not None else None)


def after(changes: QuerySet, txid: int, pk: int) -> QuerySet:
    """The change records after the cursor (txid, pk), in commit order, those of ended transactions only."""
    if connection.vendor != "postgresql":
        return changes.filter(pk__gt=pk).order_by("pk")
    below, own = horizon()
    ended = Q(txid__lt=below) | (Q(txid=own) if own is not None else Q(pk__in=[]))
    # (txid, id) > (txid, pk), with its first half apart: a range of the (txid, id) index, walked in order until the
    # page is full (an OR of the two alone made PostgreSQL read every record of the history and sort them).
    later = Q(txid__gte=txid) & (Q(txid__gt=txid) | Q(pk__gt=pk))
    return changes.filter(ended, later).order_by("txid", "pk")


def txid_of(change) -> int:
    value = getattr(change, "txid", None)
    return value if isinstance(value, int) else 0
