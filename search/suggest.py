"""Tag suggestions while drafting: the tags of the most similar recommendations already tagged.

The similar lists are the similarity jobs' (search/recurring.py); here they are only read,
through the reading rules, so a suggestion never comes from a record the drafter may not read.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from tracking.models import RecommendationTerm, Term
from tracking.permissions import restrict

from .models import SimilarRecommendation

PER_VOCABULARY = 3
# Below this similarity a neighbour says too little about what the recommendation is about.
FLOOR = 0.2


@dataclass
class Suggestion:
    term: Term
    score: float  # the summed similarity of the recommendations tagged with it
    because: list[str] = field(default_factory=list)  # "Evaluation title — 3" of those recommendations


def suggest_terms(user, recommendation, chosen: set[int] = frozenset()) -> dict[str, list[Suggestion]]:
    """Per vocabulary (Term.Kind value), up to PER_VOCABULARY terms not chosen yet, best first."""
    if recommendation is None or recommendation.pk is None:
        return {}
    neighbours = dict(
        SimilarRecommendation.objects.filter(recommendation_id=recommendation.pk, score__gte=FLOOR).values_list("similar_id", "score")
    )
    if not neighbours:
        return {}
    readable = restrict(user, RecommendationTerm).filter(recommendation_id__in=list(neighbours), term__active=True)
    rows = readable.select_related("term", "recommendation__evaluation").order_by("recommendation_id", "position")
    found: dict[int, Suggestion] = {}
    named: dict[int, set[int]] = defaultdict(set)
    for tag in rows:
        if tag.term_id in chosen:
            continue
        s = found.setdefault(tag.term_id, Suggestion(term=tag.term, score=0.0))
        if tag.recommendation_id not in named[tag.term_id]:
            named[tag.term_id].add(tag.recommendation_id)
            s.score += neighbours[tag.recommendation_id]
            if len(s.because) < 3:
                s.because.append(f"{tag.recommendation.evaluation} — {tag.recommendation.number}")
    out: dict[str, list[Suggestion]] = defaultdict(list)
    for s in sorted(found.values(), key=lambda s: (-s.score, s.term.name)):
        if len(out[s.term.kind]) < PER_VOCABULARY:
            out[s.term.kind].append(s)
    return dict(out)
