"""A person's time zone: chosen on the notifications page, kept for the next sign-in, used for every time shown."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import reverse

from tracking.models import ChangeRecord, Office, PersonSetting, Role, RoleAssignment

pytestmark = pytest.mark.django_db
User = get_user_model()


@pytest.fixture
def viewer():
    user = User.objects.create_user(username="tz-viewer", password="a long pass phrase 42")
    RoleAssignment.objects.create(user=user, role=Role.VIEWER)
    return user


def a_record_at(moment: dt.datetime) -> ChangeRecord:
    from tests.tracking.factories import make_office

    office = make_office("Office T")
    return ChangeRecord.objects.create(
        time=moment, user_name="someone", action="update", content_type=ContentType.objects.get_for_model(Office),
        object_id=office.pk, object_repr=str(office), before={"name": "Old"}, after={"name": "Office T"},
    )


def test_the_history_follows_the_time_zone_a_person_chose(viewer, settings):
    settings.TIME_ZONE = "UTC"
    a_record_at(dt.datetime(2026, 6, 1, 23, 45, tzinfo=dt.UTC))
    client = Client()
    client.force_login(viewer)
    assert "1 Jun 2026, 23:45" in client.get(reverse("web:history")).content.decode()
    saved = client.post(reverse("web:time_zone"), {"time_zone": "Africa/Nairobi"})  # UTC+3
    assert saved.status_code == 302
    assert PersonSetting.objects.get(user=viewer).time_zone == "Africa/Nairobi"
    assert ChangeRecord.objects.filter(message="time zone chosen", user=viewer).count() == 1
    page = client.get(reverse("web:history")).content.decode()
    assert "2 Jun 2026, 02:45" in page and "(Africa/Nairobi)" in page
    # Kept for the next sign-in (read once then, from the session after).
    again = Client()
    assert again.post(reverse("login"), {"username": "tz-viewer", "password": "a long pass phrase 42"}).status_code == 302
    assert "2 Jun 2026, 02:45" in again.get(reverse("web:history")).content.decode()
    # Back to the site's.
    client.post(reverse("web:time_zone"), {"time_zone": ""})
    assert "1 Jun 2026, 23:45" in client.get(reverse("web:history")).content.decode()


def test_a_time_zone_that_does_not_exist_is_refused(viewer):
    client = Client()
    client.force_login(viewer)
    response = client.post(reverse("web:time_zone"), {"time_zone": "Mars/Olympus"}, follow=True)
    assert "is not a time zone" in response.content.decode()
    assert not PersonSetting.objects.exists()
    assert Client().post(reverse("web:time_zone"), {"time_zone": "UTC"}).status_code == 302  # to sign in
    assert not PersonSetting.objects.exists()
