"""A stored evaluation as a GATE `Document` (for export in the GATE text and JSON forms).

What goes out is the record as it stands: each key action's current status and,
in the comments column, its latest progress comment, dated, as GATE shows it
(`KeyAction.gate_comments`); labels and numbers as the imported page wrote them.
Records archived because their page no longer had them are left out (they are
not on the page). Importing the export of an unchanged record changes nothing.
"""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

import gateformat
from gateformat.months import month_text
from gateformat.vocab import join_list
from tracking.models import Evaluation, KeyAction, Recommendation, RecommendationTerm, Term
from tracking.models.responses import progress_comments


def evaluations_for_export(queryset: QuerySet[Evaluation]) -> QuerySet[Evaluation]:
    """Everything `to_document` reads, in a fixed number of queries whatever the size."""
    return queryset.select_related("office__type", "plan__office", "management_response").prefetch_related(
        Prefetch(
            "recommendations",
            queryset=Recommendation.objects.order_by("position").prefetch_related(
                Prefetch("tags", queryset=RecommendationTerm.objects.select_related("term").order_by("position")),
                Prefetch("key_actions", queryset=KeyAction.objects.order_by("position").prefetch_related(progress_comments())),
            ),
        )
    )


def to_document(evaluation: Evaluation) -> gateformat.Document:
    recommendations = []
    for rec in evaluation.recommendations.all():
        if rec.archived_at is not None:
            continue
        thematic = rec.thematic_area_as_written or join_list([t.name for t in rec.terms_of(Term.Kind.THEMATIC_AREA)])
        recommendations.append(
            gateformat.Recommendation(
                number=rec.number,
                text=rec.text,
                management_response=rec.response_text,
                description=rec.description,
                category=rec.category,
                thematic_area=thematic,
                operating_principles=[t.name for t in rec.terms_of(Term.Kind.OPERATING_PRINCIPLE)],
                organizational_priorities=[t.name for t in rec.terms_of(Term.Kind.ORGANIZATIONAL_PRIORITY)],
                uneg_criteria=[t.name for t in rec.terms_of(Term.Kind.UNEG_CRITERION)],
                key_actions=[
                    gateformat.KeyAction(
                        number=a.number,
                        text=a.text,
                        responsible=a.responsible,
                        deadline=month_text(a.deadline),
                        status=a.status,
                        comments=a.gate_comments,
                        label=a.label,
                    )
                    for a in rec.key_actions.all()
                    if a.archived_at is None
                ],
                label=rec.label,
            )
        )
    header, response = evaluation.gate_header()
    return gateformat.Document(
        evaluation=header,
        management_response=response,
        recommendations=recommendations,
        source=evaluation.source,
    )
