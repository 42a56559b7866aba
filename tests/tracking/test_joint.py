"""Joint evaluations: the evaluation office adds and removes partners, each partner drafts only its own
response, the shared recommendations stay in step; every step in the history, refusals included."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError

from tests.tracking.factories import kept_counts, make_office
from tracking.actor import Actor
from tracking.models import ChangeRecord, Evaluation, Recommendation, Role, RoleAssignment
from tracking.permissions import restrict
from tracking.services import drafting, joint
from tracking.services.errors import ConflictError

pytestmark = pytest.mark.django_db
User = get_user_model()


def person(name, *roles) -> Actor:
    user = User.objects.create(username=name)
    for role, scope in roles:
        RoleAssignment.objects.create(user=user, role=role, **scope)
    return Actor(user=user)


@pytest.fixture
def world():
    lead_office, a, b = make_office("Lead office"), make_office("Partner A"), make_office("Partner B")
    p = {
        "eo": person("eo", (Role.EVALUATION_OFFICE, {})),
        "eo_lead_only": person("eo.lead", (Role.EVALUATION_OFFICE, {"office": lead_office})),
        "fp_lead": person("fp.lead", (Role.OFFICE_FOCAL_POINT, {"office": lead_office})),
        "fp_a": person("fp.a", (Role.OFFICE_FOCAL_POINT, {"office": a})),
        "fp_b": person("fp.b", (Role.OFFICE_FOCAL_POINT, {"office": b})),
        "viewer": person("viewer", (Role.VIEWER, {})),
    }
    lead = drafting.create_evaluation(p["eo"], office=lead_office, start_year=2025, end_year=2026, title="Joint evaluation of X")
    for n in ("1", "2"):
        drafting.add_recommendation(p["fp_lead"], lead.management_response, fields={"number": n, "text": f"Shared text {n}", "category": "Accepted"})
    return lead, {"lead": lead_office, "a": a, "b": b}, p


def records(evaluation_id):
    return list(ChangeRecord.objects.filter(evaluation_id=evaluation_id).order_by("pk"))


def test_the_evaluation_office_adds_a_partner_with_the_shared_recommendations_and_history(world):
    lead, o, p = world
    before = ChangeRecord.objects.count()
    partner = joint.add_partner(p["eo"], lead, office=o["a"])
    assert (partner.office, partner.joint_lead, partner.title, partner.plan.period) == (o["a"], lead, lead.title, "2025 - 2026")
    assert partner.management_response.status == "Draft"
    copies = list(partner.recommendations.order_by("position"))
    sources = list(lead.recommendations.order_by("position"))
    assert [(c.number, c.text, c.shared_from_id, c.category) for c in copies] == [(s.number, s.text, s.pk, "") for s in sources]
    new = list(ChangeRecord.objects.order_by("pk")[before:])
    assert [(r.action, r.content_type.model, r.evaluation_id) for r in new] == [
        ("create", "evaluation", partner.pk), ("create", "managementresponse", partner.pk), ("update", "evaluation", lead.pk),
        ("create", "recommendation", partner.pk), ("create", "recommendation", partner.pk),
    ]
    assert all(r.user_id == p["eo"].user.pk for r in new)
    assert new[2].message == "partner added: Partner A" and new[2].after == {"joint_partners": {"added": partner.pk, "office": o["a"].pk}}


def test_only_the_evaluation_office_adds_partners_and_in_its_scope(world):
    lead, o, p = world
    for who in ("fp_lead", "fp_a", "viewer"):
        with pytest.raises(PermissionDenied):
            joint.add_partner(p[who], lead, office=o["a"])
    with pytest.raises(PermissionDenied):  # scoped to the lead office: Partner A is not its to add
        joint.add_partner(p["eo_lead_only"], lead, office=o["a"])
    assert not Evaluation.objects.filter(joint_lead=lead).exists()
    joint.add_partner(p["eo"], lead, office=o["a"])
    with pytest.raises(ValidationError, match="already a partner"):
        joint.add_partner(p["eo"], lead, office=o["a"])
    with pytest.raises(ValidationError, match="lead office"):
        joint.add_partner(p["eo"], lead, office=o["lead"])
    partner = Evaluation.objects.get(joint_lead=lead)
    with pytest.raises(ValidationError, match="partner's record"):
        joint.add_partner(p["eo"], partner, office=o["b"])


def test_each_partner_drafts_only_its_own_response(world):
    lead, o, p = world
    a = joint.add_partner(p["eo"], lead, office=o["a"])
    b = joint.add_partner(p["eo"], lead, office=o["b"])
    rec_a = a.recommendations.get(number="1")
    rec_b = b.recommendations.get(number="1")
    rec_a = drafting.update_recommendation(p["fp_a"], rec_a, version=rec_a.version,
                                           fields={"number": "1", "text": rec_a.text, "category": "Partially Accepted", "response_text": "Ours."})
    assert (rec_a.category, Recommendation.objects.get(pk=rec_b.pk).category) == ("Partially Accepted", "")
    drafting.add_action(p["fp_a"], rec_a, fields={"number": "1.1", "text": "Train the staff of Partner A.", "deadline": dt.date(2027, 1, 1)})
    # Refusals: Partner A's focal point drafts neither Partner B's response nor the lead's.
    with pytest.raises(PermissionDenied):
        drafting.update_recommendation(p["fp_a"], rec_b, version=rec_b.version, fields={"number": "1", "text": rec_b.text, "category": "Rejected"})
    with pytest.raises(PermissionDenied):
        drafting.add_action(p["fp_a"], rec_b, fields={"number": "1.1", "text": "Not ours.", "deadline": dt.date(2027, 1, 1)})
    with pytest.raises(PermissionDenied):
        drafting.submit_response(p["fp_a"], b.management_response, version=b.management_response.version)
    # Nor may a partner change the shared text alone, nor drop a shared recommendation from its draft.
    rec_a.refresh_from_db()
    with pytest.raises(ValidationError, match="shared by a joint evaluation"):
        drafting.update_recommendation(p["fp_a"], rec_a, version=rec_a.version, fields={"number": "1", "text": "Our own text."})
    with pytest.raises(ValidationError, match="shared by a joint evaluation"):
        drafting.delete_recommendation(p["fp_a"], rec_a, version=rec_a.version)
    assert b.key_actions.count() == 0 and a.key_actions.count() == 1
    assert Recommendation.objects.get(pk=rec_a.pk).text == "Shared text 1"


def test_a_shared_recommendation_changes_for_every_partner_with_history(world):
    lead, o, p = world
    a = joint.add_partner(p["eo"], lead, office=o["a"])
    b = joint.add_partner(p["eo"], lead, office=o["b"])
    source = lead.recommendations.get(number="2")
    with pytest.raises(PermissionDenied):
        joint.update_shared(p["fp_lead"], source, version=source.version, fields={"text": "Changed"})
    copy_a = a.recommendations.get(number="2")  # the copy leads to the same change
    joint.update_shared(p["eo"], copy_a, version=source.version, fields={"number": "2", "text": "  Shared text 2, corrected. "})
    texts = Recommendation.objects.filter(pk__in=[source.pk, copy_a.pk, b.recommendations.get(number="2").pk]).values_list("text", flat=True)
    assert set(texts) == {"Shared text 2, corrected."}
    for ev in (lead, a, b):
        [r] = [r for r in records(ev.pk) if r.action == "update" and r.content_type.model == "recommendation"]
        assert (r.before, r.after, r.user_id) == ({"text": "Shared text 2"}, {"text": "Shared text 2, corrected."}, p["eo"].user.pk)
    with pytest.raises(ConflictError):  # based on the old version
        joint.update_shared(p["eo"], source, version=1, fields={"text": "Again"})
    assert ChangeRecord.objects.filter(action=ChangeRecord.Action.REFUSED).exists()
    # Locked once any partner's response is submitted.
    resp = a.management_response
    resp.status = "Submitted"
    resp.save()
    source.refresh_from_db()
    with pytest.raises(ValidationError, match="Partner A"):
        joint.update_shared(p["eo"], source, version=source.version, fields={"text": "Too late"})


def test_recommendations_added_since_are_shared_and_a_partner_removed_keeps_its_record(world):
    lead, o, p = world
    a = joint.add_partner(p["eo"], lead, office=o["a"])
    drafting.add_recommendation(p["fp_a"], a.management_response, fields={"number": "A1", "text": "Partner A's own.", "category": "Accepted"})
    drafting.add_recommendation(p["fp_lead"], lead.management_response, fields={"number": "3", "text": "Shared text 3", "category": "Accepted"})
    assert joint.share_recommendations(p["eo"], lead) == 1
    assert joint.share_recommendations(p["eo"], lead) == 0
    assert list(a.recommendations.order_by("position").values_list("number", flat=True)) == ["1", "2", "A1", "3"]
    with pytest.raises(PermissionDenied):
        joint.remove_partner(p["fp_a"], a)
    with pytest.raises(ValidationError, match="joint partner"):  # the lead cannot be deleted under its partners
        drafting.delete_evaluation(p["eo"], lead, version=Evaluation.objects.get(pk=lead.pk).version)
    joint.remove_partner(p["eo"], a)
    a.refresh_from_db()
    assert a.joint_lead is None and a.recommendations.count() == 4
    assert not a.recommendations.filter(shared_from__isnull=False).exists()
    assert [r.message for r in records(lead.pk) if r.content_type.model == "evaluation" and r.action == "update"] == [
        "partner added: Partner A", "partner removed: Partner A"]
    assert sum(1 for r in records(a.pk) if r.after == {"shared_from": None}) == 3
    # The home page's counts follow: an evaluation more, its recommendations its own (kept in step, not drifting).
    from tracking.services import tallies

    kept = kept_counts()
    assert kept == dict(tallies.everything())


def test_the_public_reads_a_partner_only_once_approved(world):
    lead, o, p = world
    a = joint.add_partner(p["eo"], lead, office=o["a"])
    assert not restrict(None, Evaluation).filter(pk=a.pk).exists()
    assert restrict(p["fp_a"].user, Evaluation).filter(pk=a.pk).exists()
    assert not restrict(p["fp_b"].user, Evaluation).filter(pk=a.pk).exists()
    Evaluation.objects.get(pk=a.pk).management_response.__class__.objects.filter(evaluation=a).update(status="Approved")
    assert restrict(None, Evaluation).filter(pk=a.pk).exists()


def test_a_partner_saving_its_own_fields_keeps_the_shared_text_and_a_lone_recommendation_is_not_shared(world):
    lead, o, p = world
    a = joint.add_partner(p["eo"], lead, office=o["a"])
    rec = a.recommendations.get(number="1")
    # The form sends the text back with CRLF and spaces: the same text, not a change of it.
    rec = drafting.update_recommendation(p["fp_a"], rec, version=rec.version,
                                         fields={"number": " 1 ", "text": "Shared  text\r\n1 ", "category": "Accepted"})
    rec.refresh_from_db()
    assert (rec.text, rec.number, rec.category) == ("Shared text 1", "1", "Accepted")
    own = drafting.add_recommendation(p["fp_lead"], lead.management_response, fields={"number": "9", "text": "Not shared yet.", "category": ""})
    with pytest.raises(ValidationError, match="not shared with a partner"):
        joint.update_shared(p["eo"], own, version=own.version, fields={"number": "9", "text": "Changed"})
    assert Recommendation.objects.get(pk=own.pk).text == "Not shared yet."
    joint.remove_partner(p["eo"], a)
    assert Recommendation.objects.get(pk=rec.pk).version == rec.version + 1  # a form based on the shared copy is stale
