"""Fixtures of the API tests: a small record, people with roles, and their tokens."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from api.models import ApiToken
from tests.tracking.factories import make_action, make_evaluation, make_office, make_recommendation
from tests.web.test_read_matrix import world  # noqa: F401  (the pages' matrix world, for tests/api/test_matrix.py)
from tracking.models import Role, RoleAssignment, Unit

User = get_user_model()


@pytest.fixture
def unlimited(settings):
    """No throttle (tests that are not about it make many requests)."""
    settings.API_TOKEN_RATE = (10**9, 60)
    settings.API_ADDRESS_RATE = (10**9, 60)


@pytest.fixture
def record(db):
    """An office with a unit; an approved evaluation with a key action of the unit; a draft one; a focal point of each kind."""
    office = make_office("Office API", region="Region API")
    unit = Unit.objects.create(office=office, name="Unit API")
    approved = make_evaluation(office, title="Approved evaluation", status="Approved")
    rec = make_recommendation(approved, text="Approved recommendation")
    action = make_action(rec, units=[unit], text="Approved key action", status="Not Initiated")
    draft = make_evaluation(office, title="Draft evaluation", status="Draft")
    draft_rec = make_recommendation(draft, text="Draft recommendation")
    draft_action = make_action(draft_rec, text="Draft key action")
    unit_fp = User.objects.create(username="unit.fp")
    RoleAssignment.objects.create(user=unit_fp, role=Role.UNIT_FOCAL_POINT, unit=unit)
    office_fp = User.objects.create(username="office.fp")
    RoleAssignment.objects.create(user=office_fp, role=Role.OFFICE_FOCAL_POINT, office=office)
    eo = User.objects.create(username="eval.office")
    RoleAssignment.objects.create(user=eo, role=Role.EVALUATION_OFFICE)
    su = User.objects.create(username="root", is_superuser=True, is_staff=True)
    return {
        "office": office, "unit": unit, "approved": approved, "rec": rec, "action": action, "draft": draft,
        "draft_rec": draft_rec, "draft_action": draft_action, "unit_fp": unit_fp, "office_fp": office_fp, "eo": eo, "su": su,
    }


def bearer(user, **kwargs) -> dict:
    _, raw = ApiToken.issue(user, "test", **kwargs)
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
