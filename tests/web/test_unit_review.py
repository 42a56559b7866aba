"""The units-to-review page: administrators rename, merge and keep the units imports made."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from tests.tracking.factories import make_action, make_office
from tracking.models import ChangeRecord, Role, RoleAssignment, Unit

pytestmark = pytest.mark.django_db
User = get_user_model()


def client_as(role=None, **scope):
    user = User.objects.create(username=f"u-{role}-{User.objects.count()}")
    if role:
        RoleAssignment.objects.create(user=user, role=role, **scope)
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def units():
    office = make_office("Country Office R")
    right = Unit.objects.create(office=office, name="Programme Section")
    junk = Unit.objects.create(office=office, name="Programm e Section", auto_created=True)
    make_action(units=[junk])
    return {"office": office, "right": right, "junk": junk}


def test_the_page_lists_import_units_and_merges_one(units):
    client = client_as(Role.ADMINISTRATOR)
    url = reverse("web:units")
    page = client.get(url).content.decode()
    assert "Programm e Section" in page and f'id="unit-{units["right"].pk}"' not in page
    assert "Units to review" in client.get(reverse("web:workspace")).content.decode()
    done = client.post(url, {"op": "merge", "unit": units["junk"].pk, "target": units["right"].pk})
    assert done.status_code == 302
    assert not Unit.objects.filter(pk=units["junk"].pk).exists()
    assert "Programm e Section" in {a.name for a in units["right"].aliases.all()}
    assert ChangeRecord.objects.filter(message__contains="merged into").count() == 3  # action, alias, unit
    assert "No unit is waiting for review." in client.get(url).content.decode()


def test_rename_and_bad_input(units):
    client = client_as(Role.ADMINISTRATOR)
    url = reverse("web:units")
    taken = client.post(url, {"op": "rename", "unit": units["junk"].pk, "name": "Programme Section"})
    assert taken.status_code == 400 and "merge into it instead" in taken.content.decode()
    assert client.post(url, {"op": "explode", "unit": units["junk"].pk}).status_code == 400
    assert client.get(url, {"office": "abc"}).status_code == 400
    renamed = client.post(url, {"op": "rename", "unit": units["junk"].pk, "name": "Programme Support Section", "acronym": "PSS"})
    assert renamed.status_code == 302
    units["junk"].refresh_from_db()
    assert (units["junk"].name, units["junk"].auto_created) == ("Programme Support Section", False)


def test_only_administrators(units):
    url = reverse("web:units")
    assert Client().get(url).status_code == 302  # to sign in
    focal = client_as(Role.OFFICE_FOCAL_POINT, office=units["office"])
    assert focal.get(url).status_code == 403
    assert focal.post(url, {"op": "review", "unit": units["junk"].pk}).status_code == 403
    assert Unit.objects.get(pk=units["junk"].pk).auto_created
