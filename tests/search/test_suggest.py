"""Tag suggestions while drafting: from the tags of the most similar recommendations already tagged."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from search.models import SimilarRecommendation
from search.suggest import suggest_terms
from tests.tracking.factories import make_evaluation, make_office, make_recommendation
from tracking.models import Recommendation, RecommendationTerm, Role, RoleAssignment, Term

User = get_user_model()
pytestmark = pytest.mark.django_db


def term(kind, name):
    return Term.objects.get_or_create(kind=kind, name=name)[0]


def tag(rec, *terms):
    for i, t in enumerate(terms):
        RecommendationTerm.objects.create(recommendation=rec, term=t, position=i)


def similar(rec, *pairs):
    SimilarRecommendation.objects.bulk_create(
        SimilarRecommendation(recommendation=rec, similar=other, score=score, rank=i + 1) for i, (other, score) in enumerate(pairs)
    )


@pytest.fixture
def drafting():
    office = make_office("Drafting office")
    draft = make_recommendation(make_evaluation(office, status="Draft", title="Draft evaluation"), text="Strengthen risk management.")
    governance = term(Term.Kind.THEMATIC_AREA, "Governance")
    risk = term(Term.Kind.THEMATIC_AREA, "Risk")
    effectiveness = term(Term.Kind.UNEG_CRITERION, "Effectiveness")
    secret = term(Term.Kind.THEMATIC_AREA, "Only in another office's draft")
    a = make_recommendation(make_evaluation(make_office("Other A"), title="Evaluation A"), text="Improve risk management.")
    b = make_recommendation(make_evaluation(make_office("Other B"), title="Evaluation B"), text="Manage risks better.")
    hidden = make_recommendation(make_evaluation(make_office("Other C"), status="Draft", title="Hidden draft"), text="Risk.")
    tag(a, risk, governance, effectiveness)
    tag(b, risk)
    tag(hidden, secret)
    similar(draft, (a, 0.8), (b, 0.6), (hidden, 0.9))
    user = User.objects.create(username="fp-drafting")
    RoleAssignment.objects.create(user=user, role=Role.OFFICE_FOCAL_POINT, office=office)
    return draft, user, {"governance": governance, "risk": risk, "effectiveness": effectiveness, "secret": secret}


def test_the_tags_of_similar_readable_recommendations_are_suggested_best_first(drafting):
    draft, user, t = drafting
    found = suggest_terms(user, draft)
    assert [s.term for s in found[Term.Kind.THEMATIC_AREA]] == [t["risk"], t["governance"]]  # 0.8+0.6 before 0.8
    assert [s.term for s in found[Term.Kind.UNEG_CRITERION]] == [t["effectiveness"]]
    assert found[Term.Kind.THEMATIC_AREA][0].because == ["Evaluation A — 1", "Evaluation B — 1"]
    # Another office's draft is not the focal point's to read: its tags are never suggested.
    assert t["secret"] not in [s.term for v in found.values() for s in v]
    # What is chosen already is not suggested again.
    again = suggest_terms(user, draft, chosen={t["risk"].pk})
    assert [s.term for s in again[Term.Kind.THEMATIC_AREA]] == [t["governance"]]
    # A recommendation not yet compared with the others has no suggestions.
    assert suggest_terms(user, Recommendation(text="new")) == {}


def test_one_click_adds_a_suggested_tag_to_the_form_without_saving_and_save_keeps_it(client, drafting):
    draft, user, t = drafting
    client.force_login(user)
    url = reverse("web:recommendation_edit", args=[draft.pk])
    page = client.get(url).content.decode()
    assert "Suggested tags" in page and f'name="accept_term" value="{t["risk"].pk}"' in page
    assert f'name="accept_term" value="{t["secret"].pk}"' not in page

    form = {"version": draft.version, "number": "1", "text": "Strengthen risk management, edited.", "category": "Accepted"}
    page = client.post(url, {**form, "accept_term": t["risk"].pk}).content.decode()
    draft.refresh_from_db()
    assert draft.text == "Strengthen risk management." and not draft.tags.exists()  # nothing saved yet
    assert "Strengthen risk management, edited." in page  # what the person typed is kept
    assert f'<option value="{t["risk"].pk}" selected>' in page
    assert f'name="accept_term" value="{t["risk"].pk}"' not in page  # no longer suggested

    response = client.post(url, {**form, "thematic_areas": [t["risk"].pk]})
    assert response.status_code == 302
    assert list(draft.tags.values_list("term__name", flat=True)) == ["Risk"]
