"""The unit picker: ticks grouped "This office" / "Other offices", never a Ctrl-click box; JS only filters it."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from tests.tracking.factories import make_evaluation, make_office, make_recommendation
from tracking.models import KeyAction, Role, RoleAssignment, Unit

pytestmark = pytest.mark.django_db
User = get_user_model()


@pytest.fixture
def setting():
    office = make_office("Country Office P")
    hq = make_office("Headquarters P", type_code="HQ")
    elsewhere = make_office("Country Office Q")
    ev = make_evaluation(office, status="Draft")
    rec = make_recommendation(ev)
    units = {
        "own": Unit.objects.create(office=office, name="Programme Section", acronym="PS"),
        "junk": Unit.objects.create(office=office, name="DM A", auto_created=True),
        "hq": Unit.objects.create(office=hq, name="Accountability Division"),
        "foreign": Unit.objects.create(office=elsewhere, name="Finance Unit"),
    }
    focal = User.objects.create(username="focal-p")
    RoleAssignment.objects.create(user=focal, role=Role.OFFICE_FOCAL_POINT, office=office)
    client = Client()
    client.force_login(focal)
    return {"client": client, "rec": rec, "units": units}


def test_the_picker_groups_own_units_first_and_marks_the_others(setting):
    page = setting["client"].get(reverse("web:action_add", args=[setting["rec"].pk])).content.decode()
    assert "<select" not in page.split('name="units"')[0][-300:]  # no Ctrl-click box
    assert 'multiple' not in re.search(r'<div class="unit-picker".*?</div>', page, re.S).group(0)
    own, other = page.index("<legend>This office</legend>"), page.index("<legend>Other offices</legend>")
    assert own < page.index("Programme Section (PS)") < other < page.index("Accountability Division")
    assert "Accountability Division (Other office: Headquarters P)" in page
    assert "DM A (added by an import, not yet reviewed)" in page
    assert "Finance Unit" not in page  # another country office's units are not offered
    assert "data-unit-filter" in page  # the box site.js shows


def test_ticked_units_are_saved_and_a_unit_not_offered_is_refused(setting):
    client, rec, units = setting["client"], setting["rec"], setting["units"]
    url = reverse("web:action_add", args=[rec.pk])
    data = {"number": "1", "text": "Publish the guideline.", "status": "Not Initiated", "deadline": "2031-05"}
    refused = client.post(url, {**data, "units": [units["foreign"].pk]})
    assert refused.status_code == 400 and not KeyAction.objects.exists()
    assert "Select a valid choice" in refused.content.decode()
    saved = client.post(url, {**data, "units": [units["own"].pk, units["hq"].pk]})
    assert saved.status_code == 302
    assert set(KeyAction.objects.get().units.all()) == {units["own"], units["hq"]}
    edit = client.get(reverse("web:action_edit", args=[KeyAction.objects.get().pk])).content.decode()
    assert re.search(rf'value="{units["own"].pk}"[^>]* checked', edit)
