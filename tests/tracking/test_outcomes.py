"""Outcome follow-up: a later question on a completed action, scheduled by the evaluation office, answered by the unit."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from reports import figures
from tests.tracking.factories import (
    change_action,
    make_action,
    make_evaluation,
    make_office,
    make_recommendation,
)
from tracking.actor import Actor
from tracking.models import (
    ChangeRecord,
    KeyAction,
    ManagementResponse,
    OutcomeQuestion,
    Role,
    RoleAssignment,
    Unit,
)
from tracking.models.responses import today
from tracking.permissions import restrict
from tracking.services.outcomes import answer_outcome, schedule_outcome

pytestmark = pytest.mark.django_db
User = get_user_model()


def person(name, role=None, **scope) -> Actor:
    user = User.objects.create(username=name)
    if role:
        RoleAssignment.objects.create(user=user, role=role, **scope)
    return Actor(user=user)


@pytest.fixture
def world():
    office = make_office("Office O")
    unit = Unit.objects.create(office=office, name="Unit O")
    done = make_action(make_recommendation(make_evaluation(office)), status="Completed", units=[unit])
    change_action(done, completed_on=dt.date(2025, 3, 1))
    return KeyAction.objects.get(pk=done.pk), {
        "unit": person("unit.fp", Role.UNIT_FOCAL_POINT, unit=unit),
        "eo": person("eo", Role.EVALUATION_OFFICE, office=office),
        "eo_other": person("eo.other", Role.EVALUATION_OFFICE, office=make_office("Office P")),
        "viewer": person("viewer", Role.VIEWER),
    }


def test_scheduled_then_answered_with_history(world):
    action, p = world
    q = schedule_outcome(p["eo"], action, ask_on=dt.date(2025, 9, 1), question="")
    assert (q.question, q.ask_on, q.asked_by_name, q.answered) == ("Did it change what the evaluation found?", dt.date(2025, 9, 1), "eo", False)
    q = schedule_outcome(p["eo"], action, ask_on=dt.date(2025, 10, 1), question="Do country offices now plan gender budgets?")
    assert OutcomeQuestion.objects.count() == 1 and q.ask_on == dt.date(2025, 10, 1)
    with pytest.raises(PermissionDenied, match="asked from"):
        answer_outcome(p["unit"], action, confirmed=True, answer="Yes.", on=dt.date(2025, 9, 30))
    q = answer_outcome(p["unit"], action, confirmed=True, answer="  Eight of ten plans now do. ", on=dt.date(2025, 10, 2))
    assert (q.confirmed, q.answer, q.answered_by_name) == (True, "Eight of ten plans now do.", "unit.fp")
    records = list(ChangeRecord.objects.order_by("pk").values_list("action", "content_type__model", "user__username"))
    assert records == [("create", "outcomequestion", "eo"), ("update", "outcomequestion", "eo"), ("update", "outcomequestion", "unit.fp")]
    with pytest.raises(PermissionDenied):  # answered: not again
        answer_outcome(p["unit"], action, confirmed=False, answer="Changed my mind.", on=dt.date(2025, 10, 3))
    with pytest.raises(ValidationError):  # nor rescheduled
        schedule_outcome(p["eo"], action, ask_on=dt.date(2026, 1, 1))


def test_refusals(world):
    action, p = world
    for who in ("unit", "eo_other", "viewer"):
        with pytest.raises(PermissionDenied):
            schedule_outcome(p[who], action, ask_on=dt.date(2025, 9, 1))
    with pytest.raises(ValidationError) as exc:
        schedule_outcome(p["eo"], action, ask_on=dt.date(2025, 2, 1))  # before the completion
    assert "ask_on" in exc.value.message_dict
    with pytest.raises(ValidationError):
        schedule_outcome(p["eo"], action, ask_on=None)
    open_action = make_action(make_recommendation(make_evaluation(action.evaluation.office)), status="Initiated")
    with pytest.raises(PermissionDenied):  # only completed actions
        schedule_outcome(p["eo"], open_action, ask_on=dt.date(2025, 9, 1))
    with pytest.raises(PermissionDenied):  # nothing asked yet
        answer_outcome(p["unit"], action, confirmed=True, answer="Yes.")
    schedule_outcome(p["eo"], action, ask_on=dt.date(2025, 9, 1))
    with pytest.raises(ValidationError) as exc:
        answer_outcome(p["unit"], action, confirmed=None, answer="")
    assert set(exc.value.message_dict) == {"confirmed", "answer"}
    for who in ("eo", "viewer"):
        with pytest.raises(PermissionDenied):
            answer_outcome(p[who], action, confirmed=True, answer="Not mine to answer.")
    assert ChangeRecord.objects.count() == 1


def test_the_dashboard_counts_confirmed_outcomes(world, client):
    action, p = world
    rec = action.recommendation
    others = [make_action(rec, status="Completed", units=list(action.units.all())) for _ in range(3)]
    make_action(rec, status="Initiated")
    schedule_outcome(p["eo"], action, ask_on=dt.date(2025, 9, 1))
    answer_outcome(p["unit"], action, confirmed=True, answer="Yes: plans changed.")
    schedule_outcome(p["eo"], others[0], ask_on=dt.date(2025, 9, 1))
    answer_outcome(p["unit"], others[0], confirmed=False, answer="No change yet.")
    schedule_outcome(p["eo"], others[1], ask_on=today() + dt.timedelta(days=30))
    o = figures.outcomes(KeyAction.objects.all(), p["eo"])
    assert (o.completed, o.asked, o.answered, o.confirmed) == (4, 3, 2, 1)
    html = client.get(reverse("web:dashboard")).content.decode()
    assert '<span class="value">1</span> completed with the outcome confirmed' in html
    # Shown on the recommendation, for everyone.
    page = client.get(reverse("web:evaluation", args=[action.evaluation_id])).content.decode()
    assert "Outcome confirmed</span> Yes: plans changed." in page and "Outcome not confirmed</span> No change yet." in page


def test_through_the_web_each_side_sees_its_own_form(world):
    from django.test import Client

    action, p = world
    clients = {}
    for who in ("unit", "eo"):
        clients[who] = Client()
        clients[who].force_login(p[who].user)
    url = reverse("web:action", args=[action.pk])
    schedule = reverse("web:outcome_schedule", args=[action.pk])
    answer = reverse("web:outcome_answer", args=[action.pk])
    assert schedule in clients["eo"].get(url).content.decode()
    assert schedule not in clients["unit"].get(url).content.decode()
    assert clients["unit"].post(schedule, {"ask_on": "2025-09-01"}).status_code == 403
    bad = clients["eo"].post(schedule, {"ask_on": ""})
    assert bad.status_code == 400 and "Give the date from which the unit is asked" in bad.content.decode()
    assert clients["eo"].post(schedule, {"ask_on": "2025-09-01", "question": ""}).status_code == 302
    page = clients["unit"].get(url).content.decode()
    assert answer in page and "Did it change what the evaluation found?" in page
    missing = clients["unit"].post(answer, {"answer": "Plans changed."})
    assert missing.status_code == 400 and "yes or no" in missing.content.decode()
    assert clients["eo"].post(answer, {"confirmed": "yes", "answer": "Not theirs."}).status_code == 403
    assert clients["unit"].post(answer, {"confirmed": "yes", "answer": "Plans changed."}).status_code == 302
    public = Client().get(url).content.decode()
    assert "Outcome confirmed" in public and "Plans changed." in public and "unit.fp" not in public


def test_outcome_figures_count_the_questions_of_what_is_counted_only(world):
    """Questions are counted apart from the pass over the key actions: of the Completed actions among those
    counted (read by the reader, within the filters), each once."""
    action, p = world
    schedule_outcome(p["eo"], action, ask_on=dt.date(2025, 9, 1))
    answer_outcome(p["unit"], action, confirmed=True, answer="Yes.")
    draft = make_action(make_recommendation(make_evaluation(action.evaluation.office, status="Draft")), status="Completed")
    OutcomeQuestion.objects.create(key_action=draft, question="Did it?", ask_on=dt.date(2025, 9, 1), confirmed=True)
    reopened = make_action(action.recommendation, status="Completed")
    OutcomeQuestion.objects.create(key_action=reopened, question="Did it?", ask_on=dt.date(2025, 9, 1))
    KeyAction.objects.filter(pk=reopened.pk).update(status="Initiated")  # its question stays, it no longer counts
    ManagementResponse.objects.filter(evaluation=draft.evaluation).update(status="Draft")
    public = figures.outcomes(restrict(None, KeyAction), None)
    eo = figures.outcomes(restrict(p["eo"], KeyAction), p["eo"])  # the evaluation office of the draft's office
    assert (public.completed, public.asked, public.answered, public.confirmed) == (1, 1, 1, 1)
    assert (eo.completed, eo.asked, eo.answered, eo.confirmed) == (2, 2, 2, 2)
    # Narrowed by a filter: the questions of the actions it keeps.
    assert figures.outcomes(KeyAction.objects.exclude(pk=action.pk), p["eo"]).asked == 1
    # The questions are read for the reader too: the public's count of every key action holds no draft's question.
    assert figures.outcomes(KeyAction.objects.all(), None).asked == 1
