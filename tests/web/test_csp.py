"""The Content-Security-Policy: on every response, without 'unsafe-inline' or 'unsafe-eval'.

Every URL pattern of the URLconf is walked (the admin's included), each
filled with real records, and asked for as an anonymous visitor and as a
superuser; then the answers that are made outside the views: error pages
(400, 403, 404, 500, CSRF failure), the sign-in lockout page, static
files, file downloads. A pattern added later that this walk cannot fill
fails the test, so nothing new goes out without its check.
"""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, include, path
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from tests.tracking.factories import make_action, make_evaluation, make_office, make_recommendation
from tracking.models import ActionUpdate, ChangeRecord, Evaluation, EvaluationDocument, Role, RoleAssignment

pytestmark = pytest.mark.django_db
User = get_user_model()

REQUIRED = {
    "default-src": {"'self'"},
    "script-src": {"'self'"},
    "style-src": {"'self'"},
    "object-src": {"'none'"},
    "base-uri": {"'none'"},
    "frame-ancestors": {"'none'"},
    "form-action": {"'self'"},
}


def policy_of(response) -> dict[str, set[str]]:
    header = response.headers.get("Content-Security-Policy")
    assert header, f"no Content-Security-Policy on {response.request['PATH_INFO']} ({response.status_code})"
    directives = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = set(words[1:])
    return directives


def assert_strict(response, where: str) -> None:
    directives = policy_of(response)
    for name, sources in REQUIRED.items():
        assert directives.get(name) == sources, f"{where}: {name} is {directives.get(name)}, not {sources}"
    everything = " ".join(" ".join(s) for s in directives.values())
    assert "unsafe-inline" not in everything and "unsafe-eval" not in everything and "unsafe-hashes" not in everything, where
    assert "*" not in everything.split() and "data:" not in directives.get("script-src", set()), where


def test_the_policy_in_the_settings_is_strict(settings):
    directives = settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]
    for name, sources in REQUIRED.items():
        assert set(directives[name]) == sources
    assert "csp.middleware.CSPMiddleware" in settings.MIDDLEWARE
    # Before WhiteNoise and axes, which answer on their own (static files, the lockout page).
    order = settings.MIDDLEWARE
    assert order.index("csp.middleware.CSPMiddleware") < order.index("whitenoise.middleware.WhiteNoiseMiddleware")
    assert order.index("csp.middleware.CSPMiddleware") < order.index("axes.middleware.AxesMiddleware")


# --- every URL pattern ------------------------------------------------------------------------------


def patterns(resolvers=None, prefix: str = "") -> list[str]:
    """Every route of the URLconf as a string ("admin/tracking/unit/<path:object_id>/change/")."""
    found = []
    for p in resolvers if resolvers is not None else get_resolver().url_patterns:
        if isinstance(p, URLResolver):
            found += patterns(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            found.append(prefix + str(p.pattern))
    return found


class Records:
    def __init__(self, media):
        self.office = make_office("Office CSP")
        self.evaluation = make_evaluation(self.office, title="Evaluation CSP")
        self.recommendation = make_recommendation(self.evaluation)
        self.action = make_action(self.recommendation)
        # Joint, with an approved partner: its roll-up and the shared recommendation's form render in the walk.
        partner = make_evaluation(make_office("Office CSP partner"), title="Evaluation CSP")
        Evaluation.objects.filter(pk=partner.pk).update(joint_lead=self.evaluation)
        make_recommendation(partner, text=self.recommendation.text, shared_from=self.recommendation)
        self.update = ActionUpdate.objects.create(key_action=self.action, status_after="Initiated", comment="With a file.")
        self.update.evidence_file.save("report.pdf", ContentFile(b"%PDF-1.4 evidence"))
        self.document = EvaluationDocument(evaluation=self.evaluation, title="Report CSP", original_name="report.pdf")
        self.document.file.save("report.pdf", ContentFile(b"%PDF-1.4 report"))
        from search.models import Theme
        from tests.search.factories import put_in_theme

        self.theme = Theme.objects.create(label="Theme CSP", public_label="Theme CSP", method="tfidf")
        put_in_theme(self.theme, [self.recommendation], closeness=1)
        self.admin = User.objects.create(username="admin-csp", is_superuser=True, is_staff=True)
        viewer = User.objects.create(username="viewer-csp")
        RoleAssignment.objects.create(user=viewer, role=Role.VIEWER)
        ChangeRecord.objects.create(
            action="update", content_type=ContentType.objects.get_for_model(Evaluation), object_id=self.evaluation.pk,
            object_repr="Evaluation CSP", evaluation=self.evaluation, user_name="someone",
        )

    def object_id(self, model: str) -> str:
        from django.apps import apps

        for m in apps.get_models():
            if m._meta.model_name == model:
                first = m.objects.order_by("pk").first()
                return str(first.pk if first else 1)
        raise AssertionError(f"no model {model}")

    def urls(self, route: str) -> list[str]:
        """Concrete URLs for a route, filled with real records."""
        app_list = re.fullmatch(r"admin/\^\(\?P<app_label>([\w|]+)\)/\$", route)
        if app_list:
            return [f"/admin/{app}/" for app in app_list.group(1).split("|")]
        if route == "admin/(?P<url>.*)$":
            return ["/admin/no-such-page/"]
        if route == "export/<slug:kind>.<str:fmt>":
            return [f"/export/{k}.{f}" for k in ("evaluations", "recommendations", "key-actions", "updates") for f in ("csv", "xlsx", "json")]
        if route == "evaluations/<int:pk>/export.<str:fmt>":
            return [f"/evaluations/{self.evaluation.pk}/export.{f}" for f in ("txt", "json", "pdf")]
        values = {"slug": self.office.slug, "uidb64": urlsafe_base64_encode(force_bytes(self.admin.pk)),
                  "token": default_token_generator.make_token(self.admin), "id": str(self.admin.pk),
                  "content_type_id": str(ContentType.objects.get_for_model(Evaluation).pk), "object_id": str(self.evaluation.pk)}
        if route.startswith("regions/"):
            values["slug"] = self.office.region.slug
        if route.startswith("notifications/unsubscribe/"):
            from reminders.send import unsubscribe_token

            values["token"] = unsubscribe_token("someone@example.org", "all")
        by_prefix = {"evaluations/": self.evaluation.pk, "actions/": self.action.pk, "updates/": self.update.pk,
                     "responses/": self.evaluation.management_response.pk, "recommendations/": self.recommendation.pk,
                     "recurring/": self.theme.pk, "plans/": self.evaluation.plan_id,
                     "documents/": self.document.pk}
        for prefix, pk in by_prefix.items():
            if route.startswith(prefix):
                values["pk"] = str(pk)
        # The API (/api/v1/<records>/<pk>...) and the Atom feeds (/api/feeds/<records>/...).
        api = re.match(r"api/(?:v1|feeds)/([\w-]+)/", route)
        if api:
            office = self.office
            values["pk"] = str({
                "regions": office.region_id, "offices": office.pk, "units": getattr(office.units.first(), "pk", 1),
                "plans": self.evaluation.plan_id, "evaluations": self.evaluation.pk,
                "management-responses": self.evaluation.management_response.pk, "recommendations": self.recommendation.pk,
                "key-actions": self.action.pk, "progress-updates": self.update.pk,
                "history": ChangeRecord.objects.order_by("pk").first().pk,
            }[api.group(1)])
            values["slug"] = office.region.slug if api.group(1) == "regions" else office.slug
        admin_model = re.match(r"admin/(\w+)/(\w+)/<path:object_id>/", route)
        if admin_model:
            values["object_id"] = self.object_id(admin_model.group(2))
        url = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: values[m.group(1)], route)
        assert "<" not in url and "(?P" not in url, f"cannot fill {route}"
        return ["/" + url]


@pytest.fixture
def records(media):
    return Records(media)


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def test_every_url_pattern_answers_with_the_strict_policy(records):
    anonymous = Client()
    admin = Client()
    admin.force_login(records.admin)
    routes = patterns()
    assert len(routes) > 100  # the site's, the sign-in pages' and the admin's
    asked = 0
    for route in routes:
        for url in records.urls(route):
            for who, client in (("anonymous", anonymous), ("superuser", admin)):
                response = client.get(url)
                assert response.status_code < 500, f"GET {url} as {who}: {response.status_code}"
                assert_strict(response, f"GET {url} as {who} ({response.status_code})")
                asked += 1
            # Posting anonymously changes nothing (sign-in first) and is answered under the policy too.
            response = anonymous.post(url, {})
            assert_strict(response, f"POST {url} ({response.status_code})")
    assert asked >= 2 * len(routes)
    assert anonymous.get(f"/evaluations/{records.evaluation.pk}/joint/").status_code == 200
    assert admin.get(f"/recommendations/{records.recommendation.pk}/shared/").status_code == 200


# --- what is answered outside the views -----------------------------------------------------------------


def _crash(request):
    raise RuntimeError("a bug")


urlpatterns = [path("crash/", _crash), path("", include("followthrough.urls"))]


def test_error_pages_carry_the_policy(records, settings):
    client = Client(raise_request_exception=False)
    assert_strict(client.get("/no/such/page/"), "404")
    response = client.get("/history/")  # not for the public
    assert response.status_code in (302, 403)
    assert_strict(response, "403 or sign-in")
    viewerless = Client()
    viewerless.force_login(User.objects.create(username="nobody-csp"))
    response = viewerless.get("/history/")
    assert response.status_code == 403
    assert_strict(response, "403")
    response = client.get("/", HTTP_HOST="evil.example")  # DisallowedHost
    assert response.status_code == 400
    assert_strict(response, "400")
    settings.ROOT_URLCONF = __name__
    response = client.get("/crash/")
    assert response.status_code == 500
    assert_strict(response, "500")
    assert b"Something went wrong" in response.content and b"<style" not in response.content


def test_the_csrf_failure_page_is_ours_and_carries_the_policy(records):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/accounts/login/", {"username": "x", "password": "y"})
    assert response.status_code == 403
    assert_strict(response, "CSRF failure")
    html = response.content.decode()
    assert "The form could not be sent" in html and "<style" not in html  # Django's own page has an inline style


def test_the_lockout_page_carries_the_policy(records, settings):
    settings.AXES_FAILURE_LIMIT = 2
    client = Client()
    for _ in range(3):
        response = client.post("/accounts/login/", {"username": "admin-csp", "password": "wrong"})
    assert response.status_code in (403, 429)
    assert "Too many failed sign-ins" in response.content.decode()
    assert_strict(response, "lockout")


def test_downloads_carry_the_policy(records):
    viewer = Client()
    viewer.force_login(User.objects.get(username="viewer-csp"))
    response = viewer.get(f"/updates/{records.update.pk}/evidence/")
    assert response.status_code == 200 and response.streaming
    assert_strict(response, "evidence file")
    response = viewer.get(f"/documents/{records.document.pk}/")
    assert response.status_code == 200 and response.streaming
    assert_strict(response, "evaluation document")
    for url in ("/export/key-actions.csv", "/export/updates.xlsx", "/history/?format=csv", f"/evaluations/{records.evaluation.pk}/export.pdf"):
        response = viewer.get(url)
        assert response.status_code == 200, url
        assert_strict(response, url)


def test_static_files_carry_the_policy(settings, tmp_path):
    (tmp_path / "web").mkdir()
    (tmp_path / "web" / "site.js").write_text("/* collected */")
    settings.STATIC_ROOT = tmp_path  # what `collectstatic` fills; WhiteNoise serves it before any view
    response = Client().get("/static/web/site.js")  # a new client: a new WhiteNoise reading STATIC_ROOT
    assert response.status_code == 200 and b"collected" in b"".join(response.streaming_content)
    assert_strict(response, "static file")


def test_no_template_has_inline_script_style_or_handlers():
    """What the policy would block, at its source: the templates themselves."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    offenders = []
    for template in [*root.glob("web/templates/**/*.html"), *root.glob("reports/templates/**/*.html")]:
        text = template.read_text()
        for pattern in (r"<script(?![^>]*\bsrc=)[^>]*>", r"<style[\s>]", r"\son[a-z]+\s*=", r"\sstyle\s*=", r"javascript:"):
            for m in re.finditer(pattern, text, re.I):
                offenders.append(f"{template.relative_to(root)}: {m.group(0)!r}")
    assert not offenders, offenders
