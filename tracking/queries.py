"""What a user may see: every list, page, export and figure starts from these.

Deny by default: a query that does not know the user sees only what the
public sees (approved responses).
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from .models import Evaluation, KeyAction, Recommendation, RecommendationTerm
from .models.responses import CLOSED_STATUSES, ResponseStatus, month_start, today


def is_internal(user) -> bool:
    """Signed-in, active users read internal records (drafts included)."""
    return bool(getattr(user, "is_authenticated", False) and user.is_active)


def visible_evaluations(user) -> QuerySet[Evaluation]:
    qs = Evaluation.objects.all()
    if is_internal(user):
        return qs
    return qs.filter(management_response__status=ResponseStatus.APPROVED)


def _count(model, on: dt.date | None = None, overdue: bool = False):
    rows = model.objects.filter(evaluation=OuterRef("pk"))
    if overdue:
        rows = rows.filter(deadline__lt=month_start(on or today())).exclude(status__in=CLOSED_STATUSES)
    rows = rows.order_by().values("evaluation").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(rows, output_field=IntegerField()), Value(0))


def with_counts(qs: QuerySet[Evaluation], on: dt.date | None = None) -> QuerySet[Evaluation]:
    """Recommendation, key action and overdue counts, one subquery each (no N+1)."""
    return qs.annotate(
        n_recommendations=_count(Recommendation),
        n_key_actions=_count(KeyAction),
        n_overdue=_count(KeyAction, on, overdue=True),
    )


def evaluation_page(qs: QuerySet[Evaluation]) -> QuerySet[Evaluation]:
    """Everything the evaluation page shows, in a fixed number of queries."""
    return qs.select_related(
        "office__type", "office__region", "plan__office", "management_response"
    ).prefetch_related(
        "management_response__units",
        Prefetch(
            "recommendations",
            queryset=Recommendation.objects.order_by("position").prefetch_related(
                Prefetch("tags", queryset=RecommendationTerm.objects.select_related("term").order_by("position")),
                Prefetch("key_actions", queryset=KeyAction.objects.order_by("position").prefetch_related("units")),
            ),
        ),
    )


def search_filter(text: str) -> Q:
    return Q(title__icontains=text) | Q(office__name__icontains=text)
