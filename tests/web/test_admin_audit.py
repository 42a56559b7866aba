"""Changes made in the admin are in the audit trail; superuser accounts are out of administrators' reach."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from tests.tracking.factories import make_office
from tracking.models import ChangeRecord, Office, Role, RoleAssignment, Unit

pytestmark = pytest.mark.django_db
User = get_user_model()


@pytest.fixture
def administrator(client):
    person = User.objects.create_user("adm", password="pw-adm-123456")
    RoleAssignment.objects.create(user=person, role=Role.ADMINISTRATOR)
    client.force_login(person)
    return person


def test_adding_changing_and_deleting_a_unit_is_recorded(client, administrator):
    office = make_office("Kenya")
    url = reverse("admin:tracking_unit_add")
    form = {"office": office.pk, "name": "Gender Unit", "acronym": "GU",
            "aliases-TOTAL_FORMS": "1", "aliases-INITIAL_FORMS": "0", "aliases-0-name": "Gender desk"}
    assert client.post(url, form).status_code == 302
    unit = Unit.objects.get(name="Gender Unit")
    created = ChangeRecord.objects.filter(action="create", content_type__model="unit").get()
    assert created.user == administrator and created.source == "admin" and created.after["name"] == "Gender Unit"
    assert ChangeRecord.objects.filter(action="create", content_type__model="unitalias").get().after["name"] == "Gender desk"

    change = {**form, "name": "Gender Equality Unit", "aliases-INITIAL_FORMS": "1",
              "aliases-0-id": unit.aliases.get().pk, "aliases-0-unit": unit.pk}
    assert client.post(reverse("admin:tracking_unit_change", args=[unit.pk]), change).status_code == 302
    updated = ChangeRecord.objects.get(action="update", content_type__model="unit")
    assert (updated.before, updated.after) == ({"name": "Gender Unit"}, {"name": "Gender Equality Unit"})

    assert client.post(reverse("admin:tracking_unit_delete", args=[unit.pk]), {"post": "yes"}).status_code == 302
    deleted = ChangeRecord.objects.get(action="delete", content_type__model="unit")
    assert deleted.before["name"] == "Gender Equality Unit" and deleted.object_id == unit.pk


def test_role_changes_of_a_person_are_recorded_without_the_password_hash(client, administrator):
    person = User.objects.create_user("fp", password="pw-fp-1234567")
    office = make_office("Uganda")
    url = reverse("admin:auth_user_change", args=[person.pk])
    page = client.get(url)
    form = page.context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and not isinstance(v, (list, tuple))}
    data.update(
        username="fp", date_joined_0="2026-01-01", date_joined_1="00:00:00", is_active="on",
        **{"role_assignments-TOTAL_FORMS": "1", "role_assignments-INITIAL_FORMS": "0",
           "role_assignments-0-role": Role.OFFICE_FOCAL_POINT, "role_assignments-0-office": office.pk},
    )
    data.pop("password", None)
    data.pop("last_login", None)
    response = client.post(url, data)
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    role = ChangeRecord.objects.get(content_type__model="roleassignment", action="create")
    assert role.after["role"] == Role.OFFICE_FOCAL_POINT and role.after["office"] == office.pk
    for record in ChangeRecord.objects.all():
        assert "password" not in (record.after or {}) or record.after["password"] == "(changed)"


def test_administrators_cannot_change_a_superuser(client, administrator):
    boss = User.objects.create_superuser("boss", password="pw-boss-123456")
    page = client.get(reverse("admin:auth_user_change", args=[boss.pk]))
    assert page.status_code == 200 and not page.context["has_change_permission"]  # read-only
    assert client.post(reverse("admin:auth_user_change", args=[boss.pk]), {"username": "taken"}).status_code == 403
    response = client.post(
        reverse("admin:auth_user_password_change", args=[boss.pk]),
        {"password1": "taken-over-12345", "password2": "taken-over-12345"},
    )
    assert response.status_code == 403
    boss.refresh_from_db()
    assert boss.check_password("pw-boss-123456")
    assert client.post(reverse("admin:auth_user_delete", args=[boss.pk]), {"post": "yes"}).status_code == 403
    assert User.objects.filter(pk=boss.pk).exists()


def test_an_office_renamed_in_the_admin_shows_in_the_history_page(client, administrator):
    office = make_office("Old name")
    form = {"name": "New name", "slug": office.slug, "type": office.type_id, "region": office.region_id or "", "aliases": "[]"}
    assert client.post(reverse("admin:tracking_office_change", args=[office.pk]), form).status_code == 302
    assert Office.objects.get(pk=office.pk).name == "New name"
    html = client.get(reverse("web:history")).content.decode()
    assert "New name" in html and "in the admin" in html


def _kept_in_step() -> bool:
    from tracking.models import ActionTally
    from tracking.services import tallies

    kept = {r[:-1]: r[-1] for r in ActionTally.objects.exclude(dimension="_version").values_list(
        "dimension", "group_key", "approved", "status", "deadline_month", "verified", "n")}
    return kept == tallies.everything()


def test_an_office_moved_to_another_region_or_type_in_the_admin_moves_its_counts(client, administrator):
    """The figures' kept counts are grouped by the office's region and type: the admin's change moves them with it."""
    from tests.tracking.factories import make_action, make_evaluation, make_recommendation
    from tracking.models import OfficeType, Region

    office = make_office("Kenya", region="Arab States")
    make_action(make_recommendation(make_evaluation(office)), status="Completed")
    make_action(make_recommendation(make_evaluation(make_office("Chad", region="West and Central Africa"))))
    east = Region.objects.create(name="East and Southern Africa", slug="esa")
    assert _kept_in_step()
    form = {"name": office.name, "slug": office.slug, "type": office.type_id, "region": east.pk, "aliases": "[]"}
    assert client.post(reverse("admin:tracking_office_change", args=[office.pk]), form).status_code == 302
    assert Office.objects.get(pk=office.pk).region == east
    assert _kept_in_step()
    kind = office.type
    form = {"code": "CX", "name": kind.name, "position": kind.position}
    assert client.post(reverse("admin:tracking_officetype_change", args=[kind.pk]), form).status_code == 302
    assert OfficeType.objects.get(pk=kind.pk).code == "CX"
    assert _kept_in_step()
