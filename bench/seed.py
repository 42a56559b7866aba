"""Bring an imported corpus to the shape of a system in use (run inside the app's environment).

    python bench/seed.py   (DATABASE_URL / FOLLOWTHROUGH_VAR_DIR select the database)

Adds, deterministically: about three progress updates per key action (the
scale's 600,000 at L), completion dates and approval dates for the response
timeliness figure, and benchmark users with roles (a unit focal point of the
busiest unit, an office focal point, a viewer) with signed-in sessions.
Prints a JSON line: the ids and cookies the load test uses.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "followthrough.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.sessions.backends.db import SessionStore  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.utils import timezone  # noqa: E402

from tracking.models import (  # noqa: E402
    ActionUpdate,
    Evaluation,
    KeyAction,
    ManagementResponse,
    Office,
    Role,
    RoleAssignment,
    Unit,
)

UPDATES_PER_ACTION = 3
STATUS_PATH = ["Not Initiated", "Initiated", "Initiated", "Completed"]


def seed_updates(rng: random.Random) -> int:
    if ActionUpdate.objects.exists():
        return ActionUpdate.objects.count()
    now = timezone.now()
    batch: list[ActionUpdate] = []
    n = 0
    for pk, status, _deadline in KeyAction.objects.values_list("pk", "status", "deadline").order_by("pk").iterator(chunk_size=5000):
        k = rng.randint(1, 2 * UPDATES_PER_ACTION - 1)
        when = now - dt.timedelta(days=30 * (k + 1))
        previous = ""
        for i in range(k):
            after = status if i == k - 1 else STATUS_PATH[min(i, len(STATUS_PATH) - 2)]
            batch.append(
                ActionUpdate(
                    key_action_id=pk,
                    created_at=when,
                    status_before=previous,
                    status_after=after,
                    comment="Progress reviewed at the quarterly meeting; next steps agreed with partners.",
                    author_name="focal.point",
                    source=ActionUpdate.Source.WEB,
                )
            )
            previous = after
            when += dt.timedelta(days=30)
        if len(batch) >= 20000:
            with transaction.atomic():
                ActionUpdate.objects.bulk_create(batch)
            n += len(batch)
            batch = []
    with transaction.atomic():
        ActionUpdate.objects.bulk_create(batch)
    return n + len(batch)


def seed_dates(rng: random.Random) -> None:
    """Completion dates for evaluations and approval dates for responses (most within six weeks)."""
    if Evaluation.objects.filter(completion_date__isnull=False).exists():
        return
    with transaction.atomic():
        evaluations = list(Evaluation.objects.only("pk", "year"))
        for ev in evaluations:
            ev.completion_date = dt.date(ev.year, rng.randint(1, 12), rng.randint(1, 28))
        Evaluation.objects.bulk_update(evaluations, ["completion_date"], batch_size=2000)
        by_eval = {ev.pk: ev.completion_date for ev in evaluations}
        responses = list(ManagementResponse.objects.filter(status="Approved").only("pk", "evaluation_id"))
        for r in responses:
            days = rng.choice([10, 20, 30, 40, 60, 90])
            r.approved_at = dt.datetime.combine(by_eval[r.evaluation_id] + dt.timedelta(days=days), dt.time(12), tzinfo=dt.UTC)
        ManagementResponse.objects.bulk_update(responses, ["approved_at"], batch_size=2000)


def session_cookie(user) -> str:
    store = SessionStore()
    store["_auth_user_id"] = str(user.pk)
    store["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    store["_auth_user_hash"] = user.get_session_auth_hash()
    store.set_expiry(7 * 24 * 3600)
    store.create()
    return f"{settings.SESSION_COOKIE_NAME}={store.session_key}"


def seed_people() -> dict:
    User = get_user_model()
    busiest = (
        KeyAction.units.through.objects.values("unit_id").annotate(n=Count("pk")).order_by("-n").first()
    )
    unit = Unit.objects.get(pk=busiest["unit_id"])
    office = Office.objects.annotate(n=Count("evaluations")).order_by("-n").first()
    people = {}
    for name, role, scope in [
        ("bench-unit", Role.UNIT_FOCAL_POINT, {"unit": unit}),
        ("bench-office", Role.OFFICE_FOCAL_POINT, {"office": office}),
        ("bench-viewer", Role.VIEWER, {}),
    ]:
        user, _ = User.objects.get_or_create(username=name)
        RoleAssignment.objects.get_or_create(user=user, role=role, **scope)
        people[name] = session_cookie(user)
    evaluation = (
        Evaluation.objects.filter(management_response__status="Approved")
        .annotate(n=Count("key_actions"))
        .filter(n__gte=15)
        .order_by("pk")[Evaluation.objects.count() // 2 : Evaluation.objects.count() // 2 + 1]
    )
    evaluation = evaluation[0] if evaluation else Evaluation.objects.order_by("pk").first()
    action = KeyAction.objects.filter(evaluation=evaluation).order_by("pk").first()
    return {
        "unit_id": unit.pk,
        "unit_actions": busiest["n"],
        "office_slug": office.slug,
        "office_evaluations": office.n,
        "evaluation_id": evaluation.pk,
        "action_id": action.pk,
        "recommendation_id": action.recommendation_id,
        "year": evaluation.year,
        "cookies": people,
        # A personal API token of the office focal point (the API's list, detail and changes are measured with it).
        "token": api_token(User.objects.get(username="bench-office")),
        "counts": {
            "evaluations": Evaluation.objects.count(),
            "recommendations": evaluation.recommendations.model.objects.count(),
            "key_actions": KeyAction.objects.count(),
            "updates": ActionUpdate.objects.count(),
        },
        "vendor": connection.vendor,
    }


def api_token(user) -> str:
    from api.models import ApiToken

    ApiToken.objects.filter(user=user, name="bench").delete()
    return ApiToken.issue(user, "bench")[1]


def main() -> None:
    rng = random.Random(2026)
    seed_updates(rng)
    seed_dates(rng)
    # The planner's statistics as a server that has run a night since would have them (the nightly jobs; on
    # PostgreSQL its autovacuum too, which is off on these machines): the updates written here were never
    # analyzed, and PostgreSQL planned the newest updates as a sort of them all.
    from search.engine import count_common_words
    from tracking.services.statistics import refresh_statistics

    refresh_statistics()
    count_common_words()  # the nightly job's too: the search index's common words, with the updates written here
    print(json.dumps(seed_people()))


if __name__ == "__main__":
    main()
