"""Bad query strings: every route × every filter parameter × hostile values, generated.

A filter whose value cannot be what it names (`?region=²`,
`?office=99999999999999999999`, `?year=abc`, `?weeks=-1`) is answered with
400 and a page naming the filter (tracking.params), on every list, the
dashboard, the annual report, search and every export: never a 500, never
an export emptied silently. A parameter a page does not read changes nothing.
"""

from __future__ import annotations

import csv
import io
from urllib.parse import quote

import pytest
from django.test import Client

from tests.web.test_csp import Records, patterns
from tracking.models import ActionUpdate, KeyAction, Region

pytestmark = pytest.mark.django_db

FILTERS = {"q", "region", "office", "office_type", "year", "category", "thematic_area", "status", "response_status",
           "overdue", "due", "term", "unit", "evaluation"}
SEARCH = {"q", "office", "region", "year", "thematic_area", "status", "category", "kind", "page"}
PORTFOLIO = {"office", "year_from", "year_to", "page"}
# Which parameters each route reads (by its parser); any other parameter must change nothing.
READS = {
    "evaluations/": FILTERS | {"page"},
    "actions/": FILTERS | {"after"},
    "workspace/actions/": FILTERS | {"page"},
    "dashboard/": FILTERS | {"weeks"},
    "reports/annual/": FILTERS | {"weeks", "format"},
    "export/<slug:kind>.<str:fmt>": FILTERS,
    "search/": SEARCH,
    "recurring/": PORTFOLIO,
    "recurring/<int:pk>/": PORTFOLIO,
    "history/": {"user", "action", "format", "page", "from", "to", "record", "office"},
    "evaluations/<int:pk>/history/": {"format", "page"},
    "workspace/units/": {"q", "office", "page"},
}
NUMBERS = {"region", "office", "thematic_area", "term", "unit", "evaluation", "year", "weeks", "year_from", "year_to"}
PARAMETERS = sorted(set().union(*READS.values()) | NUMBERS)
HOSTILE = [
    "²", "٣", "１", "99999999999999999999", "9223372036854775808", "-1", "0", "1.5", "1e3", "0x10", "1,2",
    "abc", "\x00", "1\x00", "'", "<script>alert(1)</script>", "%", "NaN", "9" * 1000, "\u202e1",
]


def query(name: str, value: str) -> str:
    return f"{name}={quote(value, safe='')}"


class Site(Records):
    def __init__(self, media):
        super().__init__(media)  # with a recurring theme of its recommendation (self.theme)
        self.region = Region.objects.get(pk=self.office.region_id)
        self.admin_client = Client()
        self.admin_client.force_login(self.admin)

    def urls(self, route: str) -> list[str]:
        if route == "recurring/<int:pk>/":
            return [f"/recurring/{self.theme.pk}/"]
        return super().urls(route)


@pytest.fixture
def site(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return Site(None)


def web_routes() -> list[str]:
    # The web app's own routes (the admin has its own parameters, and answers bad ones with ?e=1; the API
    # answers bad ones in its own error shape, tests/api/test_schema.py).
    return [r for r in patterns() if not r.startswith(("admin/", "api/"))]


def body(response) -> str:
    content = b"".join(response.streaming_content) if getattr(response, "streaming", False) else response.content
    return content.decode("utf-8", "replace")


def test_every_route_every_parameter_every_hostile_value(site):
    """Each parameter a route reads gets every hostile value; each it does not read one (in turn), to change nothing."""
    client = site.admin_client  # a superuser reaches every page
    tried = refused = 0
    routes = web_routes()
    assert len([r for r in routes if r in READS]) == len(READS), "a route named in READS is gone"
    turn = 0
    for route in routes:
        reads = READS.get(route, set())
        for url in site.urls(route)[:3] if route.startswith("export/") else site.urls(route):
            baseline = client.get(url).status_code
            assert baseline < 500, url
            for name in PARAMETERS:
                if name in reads:
                    values = HOSTILE
                else:
                    turn += 1
                    values = [HOSTILE[turn % len(HOSTILE)]]
                for value in values:
                    full = f"{url}?{query(name, value)}"
                    response = client.get(full)
                    tried += 1
                    assert response.status_code < 500, f"GET {full}: {response.status_code}"
                    if name in reads and name in NUMBERS:
                        assert response.status_code == 400, f"GET {full}: {response.status_code}, not refused"
                        assert f"“{name}”" in body(response), full
                        refused += 1
                    elif name not in reads:
                        assert response.status_code == baseline, f"GET {full}: {response.status_code}, not {baseline}"
    assert tried > 3_500 and refused > 1_000, (tried, refused)


@pytest.mark.parametrize("value", ["²", "99999999999999999999", "-3", "x"])
@pytest.mark.parametrize("name", ["region", "office", "year", "unit", "term", "evaluation"])
def test_an_export_with_a_bad_filter_is_refused_not_answered_with_an_empty_file(site, name, value):
    for who in (Client(), site.admin_client):
        for kind in ("evaluations", "recommendations", "key-actions", "updates"):
            response = who.get(f"/export/{kind}.csv?{query(name, value)}")
            assert response.status_code == 400, (kind, name, value)
            assert "text/html" in response["Content-Type"]


def test_good_filters_still_filter(site):
    client = site.admin_client
    ev = site.evaluation
    ActionUpdate.objects.create(key_action=site.action, status_after="Initiated", comment="Second.")
    for url in (f"/export/key-actions.csv?evaluation={ev.pk}", f"/export/key-actions.csv?region={site.region.pk}",
                f"/export/key-actions.csv?office={site.office.pk}&year={ev.year}", f"/export/key-actions.csv?office=%20{site.office.pk}%20"):
        rows = list(csv.DictReader(io.StringIO(body(client.get(url)))))
        assert [int(r["id"]) for r in rows] == [site.action.pk], url
    # A filter that reads well but names nothing is an honest empty answer, not an error.
    rows = list(csv.DictReader(io.StringIO(body(client.get(f"/export/key-actions.csv?office={site.office.pk + 1000}")))))
    assert rows == []
    assert KeyAction.objects.count() == 1
    # Blank filters are no filters.
    assert client.get("/evaluations/?region=&office=%20&year=").status_code == 200
    assert client.get("/dashboard/?weeks=12").status_code == 200
    assert client.get("/reports/annual/?year=2024&weeks=8").status_code == 200


def test_the_refusal_page_names_the_filter_as_text(site):
    response = Client().get("/evaluations/?region=" + quote("<b>²</b>"))
    assert response.status_code == 400
    html = response.content.decode()
    assert "“region”" in html and "&lt;b&gt;²&lt;/b&gt;" in html and "<b>" not in html
