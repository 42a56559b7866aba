"""The audit trail: visible and exportable to people with a role, append-only, with no door to change it."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import Resolver404, resolve, reverse

from tests.tracking.factories import make_evaluation, make_office
from tracking.actor import Actor
from tracking.admin import site as admin_site
from tracking.models import ChangeRecord, Role, RoleAssignment, Unit
from tracking.services import drafting
from tracking.services.errors import ConflictError
from tracking.services.progress import record_progress
from web.views.history import COLUMNS

pytestmark = pytest.mark.django_db
User = get_user_model()


def person(name, role=None):
    user = User.objects.create(username=name)
    if role:
        RoleAssignment.objects.create(user=user, role=role)
    return user


@pytest.fixture
def story():
    """A response drafted, returned, approved and updated, with one refused attempt: its whole history."""
    office = make_office("Office H")
    focal = User.objects.create(username="focal")
    RoleAssignment.objects.create(user=focal, role=Role.OFFICE_FOCAL_POINT, office=office)
    reviewer = User.objects.create(username="reviewer")
    RoleAssignment.objects.create(user=reviewer, role=Role.EVALUATION_OFFICE)
    f, r = Actor(user=focal), Actor(user=reviewer)
    ev = drafting.create_evaluation(r, office=office, start_year=2024, end_year=2025, title="History evaluation")
    response = ev.management_response
    rec = drafting.add_recommendation(f, response, fields={"number": "1", "text": "=HYPERLINK(\"http://evil\")", "category": "Accepted"})
    doomed = drafting.add_recommendation(f, response, fields={"number": "2", "text": "To be deleted.", "category": "Accepted"})
    unit = Unit.objects.create(office=office, name="Unit H")
    action = drafting.add_action(
        f, rec, fields={"number": "1.1", "text": "Act.", "status": "Not Initiated", "deadline": dt.date(2031, 5, 1)}, units=[unit]
    )
    drafting.delete_recommendation(f, doomed, version=1)
    response.refresh_from_db()
    drafting.update_response(f, response, version=response.version, overall_response="We accept.", units=[unit])
    response.refresh_from_db()
    drafting.submit_response(f, response, version=response.version)
    response.refresh_from_db()
    drafting.return_response(r, response, version=response.version, reason="More detail.")
    response.refresh_from_db()
    drafting.submit_response(f, response, version=response.version)
    response.refresh_from_db()
    drafting.approve_response(r, response, version=response.version)
    record_progress(f, action, version=1, status="Completed", comment="Done.", evidence_url="https://example.org/proof.pdf")
    with pytest.raises(ConflictError):
        record_progress(f, action, version=1, status="Initiated", comment="Stale attempt.")
    other = make_evaluation(make_office("Office I"), title="Unrelated")
    ChangeRecord.objects.create(
        action="update", content_type=ContentType.objects.get_for_model(other),
        object_id=other.pk, object_repr="@SUM(A1:A9)", evaluation=other, user_name="=2+3", message="-1+1 Unrelated",
        after={"title": "Unrelated"},
    )
    return {"evaluation": ev, "other": other, "focal": focal, "reviewer": reviewer, "action": action}


def viewer_client():
    viewer = User.objects.create(username="viewer")
    RoleAssignment.objects.create(user=viewer, role=Role.VIEWER)
    client = Client()
    client.force_login(viewer)
    return client


def body(response) -> str:
    if response.streaming:
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


def test_the_history_page_shows_every_change(story):
    client = viewer_client()
    page = client.get(reverse("web:history")).content.decode()
    assert page.count("<tr>") - 1 == ChangeRecord.objects.count()  # one row per record (plus the header)
    assert "Refused" in page and "progress update refused" in page
    assert "Deleted" in page and "Recommendation 2" in page
    assert "response approved" in page and "More detail." in page
    assert "Nothing here can be edited or deleted." in page


def test_the_history_filters(story):
    client = viewer_client()
    refused = client.get(reverse("web:history"), {"action": "refused"})
    assert [c.action for c in refused.context["page"].object_list] == ["refused"]
    by_reviewer = client.get(reverse("web:history"), {"user": "review"})
    assert {c.user_name for c in by_reviewer.context["page"].object_list} == {"reviewer"}
    ignored = client.get(reverse("web:history"), {"action": "drop table"})
    assert len(ignored.context["page"].object_list) == ChangeRecord.objects.count()


def test_an_evaluation_history_shows_its_own_records_including_deletions(story):
    client = viewer_client()
    ev = story["evaluation"]
    response = client.get(reverse("web:evaluation_history", args=[ev.pk]))
    records = list(response.context["page"].object_list)
    assert records and {c.evaluation_id for c in records} == {ev.pk}
    assert len(records) == ChangeRecord.objects.filter(evaluation_id=ev.pk).count()
    deletion = next(c for c in records if c.action == "delete")
    assert deletion.before["text"] == "To be deleted."
    assert "Unrelated" not in response.content.decode()
    # The evaluation page links to it for people with a role only.
    link = reverse("web:evaluation_history", args=[ev.pk])
    assert link in client.get(ev.get_absolute_url()).content.decode()
    assert link not in Client().get(ev.get_absolute_url()).content.decode()


def test_the_history_of_a_key_action_is_on_its_page_for_people_with_a_role(story):
    url = reverse("web:action", args=[story["action"].pk])
    internal = viewer_client().get(url).content.decode()
    assert "History of changes" in internal and "progress update refused" in internal
    public = Client().get(url).content.decode()
    assert "History of changes" not in public and "Stale attempt." not in public


def test_csv_export(story):
    client = viewer_client()
    response = client.get(reverse("web:evaluation_history", args=[story["evaluation"].pk]), {"format": "csv"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == f'attachment; filename="history-evaluation-{story["evaluation"].pk}.csv"'
    rows = list(csv.reader(io.StringIO(body(response))))
    assert rows[0] == COLUMNS
    data = [dict(zip(COLUMNS, r)) for r in rows[1:]]
    assert len(data) == ChangeRecord.objects.filter(evaluation=story["evaluation"]).count()
    assert [d["time"] for d in data] == sorted(d["time"] for d in data)  # oldest first
    refused = next(d for d in data if d["action"] == "refused")
    assert refused["user"] == "focal" and json.loads(refused["after"])["comment"] == "Stale attempt."
    approved = next(d for d in data if d["message"] == "response approved")
    assert approved["changed"] == "status, approved_at"


def test_csv_export_neutralises_what_a_spreadsheet_would_run(story):
    response = viewer_client().get(reverse("web:history"), {"format": "csv"})
    rows = [dict(zip(COLUMNS, r)) for r in list(csv.reader(io.StringIO(body(response))))[1:]]
    assert len(rows) == ChangeRecord.objects.count()
    forged = next(r for r in rows if r["evaluation_id"] == str(story["other"].pk))
    assert (forged["user"], forged["message"]) == ("'=2+3", "'-1+1 Unrelated")
    assert forged["record"] == "evaluation: @SUM(A1:A9)"  # not at the start of the cell: harmless
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row.values())


def test_json_export_of_the_filtered_trail(story):
    client = viewer_client()
    response = client.get(reverse("web:history"), {"format": "json", "action": "delete"})
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"] == 'attachment; filename="history.json"'
    data = json.loads(body(response))
    assert [d["action"] for d in data] == ["delete"]
    assert set(data[0]) == set(COLUMNS) and json.loads(data[0]["before"])["text"] == "To be deleted."


@pytest.mark.parametrize("who", ["anonymous", "no role"])
def test_the_trail_is_for_people_with_a_role_only(story, who):
    client = Client()
    if who == "no role":
        client.force_login(User.objects.create(username="outsider"))
    ev = story["evaluation"]
    for url in (
        reverse("web:history"),
        reverse("web:history") + "?format=csv",
        reverse("web:history") + "?format=json",
        reverse("web:evaluation_history", args=[ev.pk]),
        reverse("web:evaluation_history", args=[ev.pk]) + "?format=csv",
    ):
        response = client.get(url)
        assert response.status_code == 403, url
        assert "Stale attempt." not in body(response)


# --- append-only, no door to change it -------------------------------------------------------------------


def test_the_services_only_ever_add_to_the_trail():
    """Across a whole story, every record already written stays exactly as written."""
    office = make_office("Office J")
    focal = Actor(user=person("focal-j"))
    RoleAssignment.objects.create(user=focal.user, role=Role.OFFICE_FOCAL_POINT, office=office)
    reviewer = Actor(user=person("reviewer-j", Role.EVALUATION_OFFICE))
    seen: list[tuple] = []

    def check():
        now = list(ChangeRecord.objects.order_by("id").values_list("id", "time", "user_name", "action", "object_id", "before", "after", "message"))
        assert now[: len(seen)] == seen, "a record was changed or removed"
        assert len(now) > len(seen), "the step wrote nothing"
        seen[:] = now

    ev = drafting.create_evaluation(reviewer, office=office, start_year=2020, end_year=2021, title="J")
    check()
    response = ev.management_response
    rec = drafting.add_recommendation(focal, response, fields={"number": "1", "text": "R."})
    check()
    action = drafting.add_action(focal, rec, fields={"number": "1.1", "text": "A."})
    check()
    drafting.update_action(focal, action, version=1, fields={"number": "1.1", "text": "A, better."})
    check()
    with pytest.raises(ConflictError):
        drafting.update_action(focal, action, version=1, fields={"number": "1.1", "text": "A, stale."})
    check()
    drafting.move_recommendation(focal, drafting.add_recommendation(focal, response, fields={"number": "2", "text": "R2."}), -1)
    check()
    drafting.delete_action(focal, action, version=2)
    check()
    response.refresh_from_db()
    drafting.update_response(focal, response, version=response.version, overall_response="Overall.", units=[])
    check()
    response.refresh_from_db()
    drafting.submit_response(focal, response, version=response.version)
    check()


def test_there_is_no_address_to_change_or_delete_history(story):
    record = ChangeRecord.objects.first()
    for path in (f"/history/{record.pk}/", f"/history/{record.pk}/edit/", f"/history/{record.pk}/delete/"):
        with pytest.raises(Resolver404):
            resolve(path)
    from web import urls

    history_routes = {p.name for p in urls.urlpatterns if "history" in str(p.pattern)}
    assert history_routes == {"history", "evaluation_history"}
    # The two pages only read: a POST to them changes nothing.
    client = Client()
    su = User.objects.create(username="root", is_superuser=True)
    client.force_login(su)
    before = list(ChangeRecord.objects.order_by("id").values_list("id", "action", "after"))
    client.post(reverse("web:history"), {"action": "delete", "id": record.pk})
    client.post(reverse("web:evaluation_history", args=[story["evaluation"].pk]), {"delete": record.pk})
    assert list(ChangeRecord.objects.order_by("id").values_list("id", "action", "after")) == before


@pytest.mark.parametrize("who", ["administrator", "superuser"])
def test_the_admin_shows_history_read_only_even_to_the_most_powerful(story, who):
    user = User.objects.create(username=who, is_superuser=who == "superuser", is_staff=True)
    if who == "administrator":
        RoleAssignment.objects.create(user=user, role=Role.ADMINISTRATOR)
    client = Client()
    client.force_login(user)
    record = ChangeRecord.objects.filter(action="refused").get()
    before = list(ChangeRecord.objects.order_by("id").values_list("id", "action", "object_repr", "after", "message"))

    listing = client.get(reverse("admin:tracking_changerecord_changelist"))
    assert listing.status_code == 200
    assert "delete_selected" not in listing.content.decode()
    assert reverse("admin:tracking_changerecord_add") not in listing.content.decode()
    view = client.get(reverse("admin:tracking_changerecord_change", args=[record.pk]))
    assert view.status_code == 200
    html = view.content.decode()
    assert 'name="_save"' not in html and reverse("admin:tracking_changerecord_delete", args=[record.pk]) not in html
    assert "progress update refused" in html

    assert client.post(reverse("admin:tracking_changerecord_change", args=[record.pk]), {"message": "rewritten"}).status_code == 403
    assert client.get(reverse("admin:tracking_changerecord_delete", args=[record.pk])).status_code == 403
    assert client.post(reverse("admin:tracking_changerecord_delete", args=[record.pk]), {"post": "yes"}).status_code == 403
    assert client.get(reverse("admin:tracking_changerecord_add")).status_code == 403
    assert client.post(reverse("admin:tracking_changerecord_add"), {"action": "create", "object_repr": "forged"}).status_code == 403
    # The bulk delete action is not offered, and asking for it anyway does nothing.
    client.post(
        reverse("admin:tracking_changerecord_changelist"),
        {"action": "delete_selected", "_selected_action": [record.pk], "index": 0, "post": "yes"},
    )
    assert list(ChangeRecord.objects.order_by("id").values_list("id", "action", "object_repr", "after", "message")) == before


def test_the_admin_offers_no_action_on_history():
    from django.test import RequestFactory

    model_admin = admin_site._registry[ChangeRecord]
    request = RequestFactory().get("/admin/")
    request.user = User.objects.create(username="root", is_superuser=True)
    assert model_admin.get_actions(request) == {}
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request) and not model_admin.has_delete_permission(request)
    assert model_admin.has_view_permission(request)
    request.user = person("plain")
    assert not model_admin.has_view_permission(request)


def test_a_focal_point_cannot_read_other_peoples_email_addresses_in_the_history(story):
    """An administrator changes an address in the admin; the history shows it to administrators only."""
    admin = User.objects.create(username="the-admin", is_staff=True)
    RoleAssignment.objects.create(user=admin, role=Role.ADMINISTRATOR)
    someone = User.objects.create(username="someone", email="old.address@example.org")
    client = Client()
    client.force_login(admin)
    form = client.get(reverse("admin:auth_user_change", args=[someone.pk])).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k not in ("password", "last_login", "date_joined")}
    data.update(
        email="new.address@example.org", date_joined_0="2024-01-01", date_joined_1="10:00:00",
        **{"role_assignments-TOTAL_FORMS": "0", "role_assignments-INITIAL_FORMS": "0"},
    )
    assert client.post(reverse("admin:auth_user_change", args=[someone.pk]), data).status_code == 302
    record = ChangeRecord.objects.get(object_id=someone.pk, content_type__model="user")
    assert (record.before["email"], record.after["email"]) == ("old.address@example.org", "new.address@example.org")

    unit_focal = User.objects.create(username="unit-focal")
    unit = Unit.objects.create(office=make_office("Office U"), name="U")
    RoleAssignment.objects.create(user=unit_focal, role=Role.UNIT_FOCAL_POINT, unit=unit)
    for reader, sees in ((unit_focal, False), (admin, True)):
        c = Client()
        c.force_login(reader)
        for url in (reverse("web:history"), reverse("web:history") + "?format=csv", reverse("web:history") + "?format=json",
                    reverse("web:history") + "?user=the-admin"):
            text = body(c.get(url))
            assert ("new.address@example.org" in text) == sees, (reader.username, url)
            assert ("old.address@example.org" in text) == sees, (reader.username, url)
    # A viewer of everything reads every evaluation's history, but not accounts.
    client = viewer_client()
    text = body(client.get(reverse("web:history") + "?format=csv"))
    assert "address@example.org" not in text and "History evaluation" in text


# --- readable: labels, names, minutes, filters ------------------------------------------------------------------


def test_the_history_speaks_in_labels_and_names(story):
    page = viewer_client().get(reverse("web:evaluation_history", args=[story["evaluation"].pk])).content.decode()
    assert "<dt>Responsible units</dt>" in page and "<dt>units</dt>" not in page
    assert "<ins>Unit H</ins>" in page  # the unit by its name, not its id
    assert "<dt>Deadline</dt>" in page and "May 2031" in page
    assert "<dt>Status</dt>" in page and "<dt>status</dt>" not in page


def test_history_names_offices_and_plans_and_says_when_a_row_is_gone(story):
    ev = story["evaluation"]
    created = ChangeRecord.objects.get(content_type__model="evaluation", object_id=ev.pk, action="create")
    from web.history_display import readable

    lines = dict((label, new) for label, _old, new in readable([created])[0].lines)
    assert lines["Office"] == "Office H"
    assert lines["Plan"] == str(ev.plan)
    created.after = {"office": 987654}
    assert readable([created])[0].lines == [("Office", None, "#987654 (deleted)")]


def test_times_are_shown_to_the_minute_in_the_readers_time_zone(story, settings):
    record = ChangeRecord.objects.order_by("pk").first()
    record.time = dt.datetime(2026, 3, 1, 22, 30, tzinfo=dt.UTC)
    record.save()
    settings.TIME_ZONE = "Asia/Tokyo"  # UTC+9
    page = viewer_client().get(reverse("web:history")).content.decode()
    assert "2 Mar 2026, 07:30" in page and "(Asia/Tokyo)" in page


def test_history_filters_by_date_record_office_and_person(story):
    client = viewer_client()
    url = reverse("web:history")
    old = ChangeRecord.objects.filter(content_type__model="recommendation").order_by("pk").first()
    old.time = dt.datetime(2020, 1, 15, 12, 0, tzinfo=dt.UTC)
    old.save()
    in_2020 = client.get(url, {"from": "2020-01-15", "to": "2020-01-15"}).context["page"].object_list
    assert [c.pk for c in in_2020] == [old.pk]
    actions = client.get(url, {"record": "key-action"}).context["page"].object_list
    assert actions and {c.content_type.model for c in actions} == {"keyaction"}
    other = client.get(url, {"office": story["other"].office_id}).context["page"].object_list
    assert [c.evaluation_id for c in other] == [story["other"].pk]
    for bad in ({"from": "2020-13-01"}, {"to": "yesterday"}, {"record": "passwords"}, {"office": "x"}):
        response = client.get(url, bad)
        assert response.status_code == 400, bad
        assert f"“{next(iter(bad))}”" in response.content.decode()
    csv_link = client.get(url, {"record": "key-action"}).content.decode()
    assert "format=csv" in csv_link and "record=key-action" in csv_link
