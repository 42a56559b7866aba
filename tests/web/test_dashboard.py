"""The dashboard and the annual report pages: public and internal figures, drill-downs, constant cost."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from tests.tracking.factories import make_action, make_evaluation, make_office, make_recommendation
from tracking.models import Role, RoleAssignment
from tracking.services import tallies

pytestmark = pytest.mark.django_db


def _world(n_evaluations=1, office="Kenya"):
    kenya = make_office(office, "CO", region="East and Southern Africa")
    for _i in range(n_evaluations):
        rec = make_recommendation(make_evaluation(kenya, year=2024))
        make_action(rec, deadline=dt.date(2020, 1, 1), status="Initiated")  # overdue
        make_action(rec, deadline=dt.date(2020, 1, 1), status="Completed")
    draft = make_recommendation(make_evaluation(kenya, status="Draft", year=2024))
    make_action(draft, deadline=dt.date(2020, 1, 1), status="Not Initiated")
    return kenya


def test_public_figures_count_approved_responses_only(client):
    _world()
    total = client.get(reverse("web:dashboard")).context["total"]
    assert (total.total, total.completed, total.overdue) == (2, 1, 1)


def test_internal_figures_count_everything_the_viewer_may_see(client):
    _world()
    viewer = get_user_model().objects.create_user("viewer", password="pw-viewer-123")
    RoleAssignment.objects.create(user=viewer, role=Role.VIEWER)
    client.force_login(viewer)
    total = client.get(reverse("web:dashboard")).context["total"]
    assert (total.total, total.overdue) == (3, 2)


def test_every_breakdown_is_shown_with_its_chart_and_table(client):
    _world()
    html = client.get(reverse("web:dashboard")).content.decode()
    for label in ("region", "office", "office type", "category", "thematic area", "operating principle",
                  "organizational priority", "uneg criterion"):
        assert f">By {label}</h2>" in html, label
    assert html.count('role="img"') >= 2 * 8 + 3  # two charts per breakdown, status chart and the trends
    assert "Trends by evaluation year" in html


def test_figures_drill_down_to_the_actions_behind_them(client):
    kenya = _world()
    response = client.get(reverse("web:dashboard"), {"office": kenya.pk})
    html = response.content.decode()
    links = set(re.findall(r'href="(/actions/\?[^"]+)"', html))
    overdue = next(link for link in links if "overdue=1" in link and "office=" in link)
    listed = client.get(overdue.replace("&amp;", "&")).context
    assert listed["total"] == response.context["total"].overdue == 1
    completed = next(link for link in links if "status=Completed" in link)
    assert client.get(completed.replace("&amp;", "&")).context["total"] == 1


def test_dashboard_query_count_does_not_grow(client, no_page_cache, django_assert_max_num_queries):
    _world(1)
    with django_assert_max_num_queries(60) as few:
        client.get(reverse("web:dashboard"))
    _world(12, office="Uganda")
    with django_assert_max_num_queries(60) as many:
        client.get(reverse("web:dashboard"))
    assert len(few.captured_queries) == len(many.captured_queries)


def test_annual_report_page(client):
    _world()
    response = client.get(reverse("web:annual_report"), {"year": 2024})
    assert response.status_code == 200
    report = response.context["report"]
    assert report.year == 2024 and report.evaluations == 1  # the draft is not public
    assert report.due.total == 2 and report.overdue_total == 1
    assert "Download as PDF" in response.content.decode()
    # A year out of range is refused, naming the filter (tracking.params), not silently replaced by another year.
    refused = client.get(reverse("web:annual_report"), {"year": "99999"})
    assert refused.status_code == 400 and "“year”" in refused.content.decode()


def test_responses_on_time_are_those_the_reader_reads_and_the_filters_keep(client):
    _world()
    make_evaluation(make_office("Peru", "CO", region="Americas and the Caribbean"), year=2023)
    weeks = client.get(reverse("web:dashboard")).context["timeliness"]
    assert weeks.unknown + weeks.pending + weeks.within + weeks.late == 2  # Kenya's and Peru's approved, not the draft
    kenya = client.get(reverse("web:dashboard"), {"year": 2024}).context["timeliness"]
    assert kenya.unknown + kenya.pending + kenya.within + kenya.late == 1
    viewer = get_user_model().objects.create_user("viewer", password="pw-viewer-123")
    RoleAssignment.objects.create(user=viewer, role=Role.VIEWER)
    client.force_login(viewer)
    weeks = client.get(reverse("web:dashboard")).context["timeliness"]
    assert weeks.unknown + weeks.pending + weeks.within + weeks.late == 3


def test_the_annual_report_lists_the_overdue_actions_its_reader_reads_oldest_first(client):
    kenya = _world()
    peru = make_office("Peru", "CO", region="Americas and the Caribbean")
    rec = make_recommendation(make_evaluation(peru, year=2024))
    older = make_action(rec, deadline=dt.date(2019, 6, 1), status="Not Initiated")
    same_day = make_action(rec, deadline=dt.date(2020, 1, 1), status="Initiated")  # Peru after Kenya on the same day
    make_action(rec, deadline=dt.date(2019, 1, 1), status="Completed")  # not overdue
    public = client.get(reverse("web:annual_report"), {"year": 2024}).context["report"].overdue
    kenya_overdue = [a.pk for a in public if a.office == kenya.name]
    assert [a.pk for a in public] == [older.pk, *kenya_overdue, same_day.pk] and len(kenya_overdue) == 1
    viewer = get_user_model().objects.create_user("viewer", password="pw-viewer-123")
    RoleAssignment.objects.create(user=viewer, role=Role.VIEWER)
    client.force_login(viewer)
    internal = client.get(reverse("web:annual_report"), {"year": 2024}).context["report"].overdue
    assert len(internal) == 4 and internal[0].pk == older.pk and internal[-1].pk == same_day.pk  # and Kenya's draft
    peru_only = client.get(reverse("web:annual_report"), {"year": 2024, "office": peru.pk}).context["report"].overdue
    assert [(a.pk, a.office) for a in peru_only] == [(older.pk, "Peru"), (same_day.pk, "Peru")]


def test_one_region_s_pages_add_up_its_kept_counts_and_a_region_without_offices_shows_none(client, django_assert_max_num_queries):
    """A region alone: figures from the counts kept within it (no pass over its key actions), the same as counted;
    a region no office is in yet (offered in the filter), or one that does not exist, shows empty figures."""
    from tracking.models import Region

    kenya = _world()
    peru = make_office("Peru", "CO", region="Americas and the Caribbean")  # another region's
    make_action(make_recommendation(make_evaluation(peru, year=2024)), deadline=dt.date(2020, 1, 1), status="Initiated")
    assert kenya.region.name == "East and Southern Africa"
    page = client.get(reverse("web:dashboard"), {"region": kenya.region_id})
    assert page.status_code == 200
    total = page.context["total"]
    assert (total.total, total.completed, total.overdue) == (2, 1, 1)
    by_office = {f.label: f.total for f in next(s for s in page.context["sections"] if s["breakdown"].key == "office")["rows"]}
    assert by_office == {"Kenya": 2}
    report = client.get(reverse("web:annual_report"), {"year": 2024, "region": kenya.region_id}).context["report"]
    assert (report.due.total, report.overdue_total, [f.label for f in report.by_office]) == (2, 1, ["Kenya"])
    empty = Region.objects.create(name="No office yet", slug="no-office-yet")
    for region in (empty.pk, empty.pk + 1000):
        page = client.get(reverse("web:dashboard"), {"region": region})
        assert page.status_code == 200 and page.context["total"].total == 0
        annual = client.get(reverse("web:annual_report"), {"year": 2024, "region": region})
        assert annual.status_code == 200 and annual.context["report"].due.total == 0


def test_due_and_tag_drill_downs_list_exactly_the_actions_counted(client):
    from tracking.models import RecommendationTerm, Term

    kenya = _world()
    rec = make_recommendation(make_evaluation(kenya, year=2025))
    make_action(rec, deadline=dt.date(2099, 1, 1), status="Initiated")  # not due
    make_action(rec, deadline=dt.date(2020, 1, 1), status="No Longer Applicable")  # never counted as due
    priority = Term.objects.get(kind="organizational_priority", name="Partnership")
    with tallies.kept_in_step([rec.evaluation_id]):  # tagged behind the services' back: counted as they would
        RecommendationTerm.objects.create(recommendation=rec, term=priority, position=0)
    response = client.get(reverse("web:dashboard"))
    html = response.content.decode()
    due_link = next(link for link in re.findall(r'href="(/actions/\?[^"]+)"', html) if "due=1" in link and "office" not in link)
    assert client.get(due_link.replace("&amp;", "&")).context["total"] == response.context["total"].due == 2
    by_priority = next(s for s in response.context["sections"] if s["breakdown"].key == "organizational_priority")
    (row,) = by_priority["rows"]
    listed = client.get(reverse("web:actions"), {"term": row.key}).context["total"]
    assert listed == row.total == 2


def test_the_plans_shown_are_those_running_in_the_year(client):
    """Each office's earlier plans are on its page; the dashboard lists the plans running in the year shown."""
    this_year = dt.date.today().year
    kenya, rwanda = make_office("Kenya"), make_office("Rwanda")
    make_evaluation(kenya, year=this_year)  # its plan runs last year to this year
    make_evaluation(rwanda, year=this_year - 5)  # a plan that ended four years ago
    body = client.get(reverse("web:dashboard")).content.decode()
    plans = body[body.index('id="plans-heading"'):body.index("</section>", body.index('id="plans-heading"'))]
    assert f"running in {this_year} (1 plan;" in plans
    assert reverse("web:office", args=[kenya.slug]) in plans and reverse("web:office", args=[rwanda.slug]) not in plans
    old = client.get(reverse("web:dashboard"), {"year": this_year - 5}).content.decode()
    assert f"running in {this_year - 5} (1 plan;" in old


def test_responses_approved_on_time_count_what_the_reader_reads_within_the_filters(client):
    """A response is read when its evaluation is: the public counts approved ones only, a region its own."""
    from django.utils import timezone

    from tracking.models import ManagementResponse, Region

    kenya = _world()  # one approved response and a draft, in East and Southern Africa
    make_evaluation(make_office("Jordan", "CO", region="Arab States"))
    completed = dt.date(2024, 3, 1)
    for r in ManagementResponse.objects.select_related("evaluation"):
        r.evaluation.completion_date = completed
        r.evaluation.save(update_fields=["completion_date"])
        if r.status == "Approved":
            late = r.evaluation.office_id == kenya.pk
            r.approved_at = timezone.make_aware(dt.datetime.combine(completed + dt.timedelta(weeks=10 if late else 2), dt.time(12)))
            r.save(update_fields=["approved_at"])

    def counted(**filters):
        t = client.get(reverse("web:dashboard"), filters).context["timeliness"]
        return t.within, t.late, t.pending

    assert counted() == (1, 1, 0)  # the draft is not the public's
    assert counted(region=Region.objects.get(name="Arab States").pk) == (1, 0, 0)
    assert counted(office=kenya.pk) == (0, 1, 0)
    viewer = get_user_model().objects.create_user("viewer", password="pw-viewer-123")
    RoleAssignment.objects.create(user=viewer, role=Role.VIEWER)
    client.force_login(viewer)
    assert counted() == (1, 1, 1)  # a reader of everything reads the draft, not approved yet
