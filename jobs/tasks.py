"""The jobs themselves. Each is a door, like a view: it calls services, reports, search or the web's cache.

Next here: large imports started from the web (their own queue).
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from django_tasks import TaskContext

from .queue import job
from .schedule import periodic

log = logging.getLogger(__name__)


REFRESH_ATTEMPTS = 3


@job(attempts=REFRESH_ATTEMPTS, backoff=5, priority=10, takes_context=True)
def refresh_page(context: TaskContext, path: str, user_id: int | None, host: str, secure: bool, guard: str) -> int:
    """Compute a slow page's figures again after a change (web/caching.py `revalidated`).

    Readers get the previous figures, said to be from before, until this is
    done. `guard` (in the cache) keeps it to one queued refresh per page and
    reader standing; it is let go when this is done or has failed for good.
    """
    from web import caching

    try:
        status = caching.replay(path, user_id, host, secure)
    except Exception:
        if context.attempt >= REFRESH_ATTEMPTS:
            cache.delete(guard)  # the next reader of the stale page queues a new one
        raise
    cache.delete(guard)
    return status


@periodic(every=dt.timedelta(days=1), at=dt.time(3, 30))
@job(attempts=3)
def purge_finished_jobs() -> dict[str, int]:
    """Delete jobs finished more than JOBS_KEEP_DAYS ago (failed ones: four times as long), old runs and workers."""
    from .models import Job, ScheduledRun, Worker

    keep = dt.timedelta(days=max(1, settings.JOBS_KEEP_DAYS))
    now = timezone.now()
    purged = {
        "jobs done": Job.objects.successful().filter(finished_at__lt=now - keep).delete()[0],
        "jobs failed": Job.objects.failed().filter(finished_at__lt=now - 4 * keep).delete()[0],
        # The latest run of a daily job is younger than this: it is never enqueued twice.
        "scheduled runs": ScheduledRun.objects.filter(due_at__lt=now - 4 * keep).delete()[0],
        "workers": Worker.objects.filter(seen_at__lt=now - keep).delete()[0],
    }
    log.info("purged %s", purged)
    return purged


@periodic(every=dt.timedelta(minutes=15))
@job(attempts=3, backoff=60)
def refresh_similarities(recommendation_ids: list[int] | None = None) -> dict:
    """Similar recommendations and recurring themes, for what was imported or edited since the last run.

    Incremental: recommendations whose text changed are found by their stored hash, so an
    import or an edit is picked up by the next run (every 15 minutes), or at once when a
    door enqueues this with the ids it changed. Pages only read the stored results.
    """
    from search.recurring import refresh_similarities as refresh

    stats = refresh(recommendation_ids or None)
    return {"method": stats.method, "recommendations": stats.recommendations, "seconds": round(stats.seconds, 1)}


@periodic(every=dt.timedelta(days=1), at=dt.time(4, 0))
@job(attempts=3, backoff=300)
def refresh_recurring_themes() -> dict:
    """Every similar list and the recurring themes, once a day (the 15-minute run keeps the lists only); then the
    planner's statistics of what it rewrote (the night's own run comes at 03:45, before this one): the themes' kept
    counts are written anew (230,000 rows at L), and until a VACUUM PostgreSQL read the figures from the table, not
    their index (the annual report at L, 104 -> 135 ms)."""
    from search.recurring import refresh_similarities as refresh
    from tracking.services.statistics import refresh_statistics

    stats = refresh(everything=True)
    return {"method": stats.method, "themes": stats.themes, "seconds": round(stats.seconds, 1), "statistics": refresh_statistics()}


@periodic(every=dt.timedelta(days=1), at=dt.time(6, 0))
@job(attempts=3, backoff=600)
def send_reminders() -> dict:
    """The day's reminders (`followthrough remind`): digests, escalations, the quarterly call; each sent once."""
    from reminders.send import run

    return run().as_dict()


@periodic(every=dt.timedelta(days=1), at=dt.time(3, 45))
@job(attempts=3, backoff=300)
def refresh_statistics() -> list[str]:
    """The query planner's statistics made again (tracking/services/statistics.py): tables grow through the web
    and the API between imports, and a planner that thinks a table small picks slow plans as it grows."""
    from tracking.services.statistics import refresh_statistics as refresh

    return refresh()


@periodic(every=dt.timedelta(hours=1))
@job(attempts=3, backoff=300)
def refresh_tally_sums() -> int | None:
    """The kept counts' sums made again as of this month, once a month has begun (tracking.models.tallies.TallySum), or
    once counts moved without them (a server still on the code of before them, during an upgrade): until then the
    figures add up the counts themselves, slower. Hourly, so a worker down at midnight catches up."""
    from tracking.models.responses import today
    from tracking.models.tallies import month_index, sums_current
    from tracking.services.tallies import make_sums

    month = month_index(today())
    if sums_current(month).exists():
        return None
    return make_sums(month)


@periodic(every=dt.timedelta(days=1), at=dt.time(3, 50))
@job(attempts=3, backoff=300)
def count_common_words() -> int | None:
    """SQLite: the full-text index's common words counted again (search.models.CommonWord), after the day's changes."""
    from search.engine import count_common_words as count

    return count()
