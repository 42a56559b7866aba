"""Every page of each role fits a phone (390 px) and a laptop (1366 px): nothing scrolls sideways.

The pages are every route of the URL conf (so a new page is walked without
being listed here), filled with records of the demo installation (an approved
evaluation and the demo draft, their recommendations, key actions, plan,
document, ...), opened by each demo user and by an anonymous visitor. What is
not an HTML page for that person (a download, a POST-only door, a page they
may not open) is passed over. The Django admin and the API (its own docs
page) are not the app's pages and are left out.

At each width the whole page must be no wider than the window, and no element
may stick out of it unless it sits in a box that scrolls on its own (a wide
table's wrap). On a phone the main menu folds into a "Menu" button that opens
and closes it.
"""

from __future__ import annotations

import json
import re
import subprocess

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from tests.browser.screens import LAPTOP, PHONE, overflow, screenshot_dir
from tests.browser.test_walkthrough import (  # noqa: F401  (the walkthrough's server and browser)
    EXE,
    _browser,
    _env,
    _sessions,
    demo,
    expect,
    nav,
    web,
)

LEFT_OUT = ("admin/", "api/")  # Django's admin and the API's docs: not the app's own pages
# A spreadsheet's preview and confirmation are one uploader's own pages (anyone else gets 404): walked at
# 390 px by the uploader in test_walkthrough.py and test_roles_day.py.
ONE_PERSONS_OWN = ("imports/sheet/<str:token>/",)

# The records each route parameter is filled with, read from the demo installation.
FILL_CODE = r"""
import json
from django.contrib.auth import get_user_model
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from reminders.send import unsubscribe_token
from search.models import Theme
from tracking.models import ActionUpdate, Evaluation, EvaluationDocument, KeyAction, Office, Recommendation, Region

approved = Evaluation.objects.filter(management_response__status="Approved").order_by("pk")
draft = Evaluation.objects.filter(management_response__status="Draft", title__contains="(demo draft)").get()
shown = next(e for e in approved if KeyAction.objects.filter(recommendation__evaluation=e).exists())
documented = EvaluationDocument.objects.order_by("pk").first()
user = get_user_model().objects.order_by("pk").first()
update = ActionUpdate.objects.exclude(evidence_url="", evidence_file="").order_by("pk").first() or ActionUpdate.objects.order_by("pk").first()
theme = Theme.objects.order_by("pk").first()
fill = {
    "evaluations/": [shown.pk, draft.pk] + ([documented.evaluation_id] if documented and documented.evaluation_id != shown.pk else []),
    "responses/": [draft.management_response.pk, shown.management_response.pk],
    "recommendations/": [Recommendation.objects.filter(evaluation=e).order_by("pk").first().pk for e in (shown, draft)],
    "actions/": [KeyAction.objects.filter(recommendation__evaluation=e).order_by("pk").first().pk for e in (shown, draft)],
    "plans/": [shown.plan_id or draft.plan_id],
    "documents/": [documented.pk] if documented else [],
    "updates/": [update.pk] if update else [],
    "recurring/": [theme.pk] if theme else [],
    "regions/": [draft.office.region.slug],
    "offices/": [draft.office.slug],
    "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
    "token": "not-a-valid-token",
    "unsubscribe": unsubscribe_token("someone@example.org", "all"),
}
print("FILL=" + json.dumps(fill))
"""


def routes(resolvers=None, prefix: str = "") -> list[str]:
    """Every route of the URL conf ("evaluations/<int:pk>/edit/"), the app's own."""
    found = []
    for p in resolvers if resolvers is not None else get_resolver().url_patterns:
        if isinstance(p, URLResolver):
            found += routes(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            found.append(prefix + str(p.pattern))
    return [r for r in found if not r.startswith(LEFT_OUT + ONE_PERSONS_OWN)]


def urls(route: str, fill: dict) -> list[str]:
    """The concrete addresses of a route, one per record it is filled with (none if there is none)."""
    if "<" not in route:
        return ["/" + route]
    if route.startswith("notifications/unsubscribe/"):
        return ["/" + route.replace("<str:token>", fill["unsubscribe"])]
    if re.search(r"<\w+:fmt>", route):
        return []  # exports: files, not pages
    if "<uidb64>" in route:
        return ["/" + route.replace("<uidb64>", fill["uidb64"]).replace("<token>", fill["token"])]
    prefix = next((p for p in fill if isinstance(fill[p], list) and route.startswith(p)), None)
    assert prefix, f"the route {route!r} has a parameter this test cannot fill yet: add its records to FILL_CODE"
    return ["/" + re.sub(r"<(?:\w+:)?\w+>", str(value), route, count=1) for value in fill[prefix]]


@pytest.fixture(scope="module")
def addresses(demo) -> list[str]:  # noqa: F811
    p = subprocess.run([str(EXE), "shell", "-c", FILL_CODE], capture_output=True, text=True, env=_env(demo.var), timeout=120)
    assert p.returncode == 0, p.stderr
    fill = json.loads(next(line for line in p.stdout.splitlines() if line.startswith("FILL="))[len("FILL="):])
    found = [u for r in routes() for u in urls(r, fill)]
    assert len(found) > 60, found
    return found


def signed_in_state(web, username: str | None):  # noqa: F811
    if username is None:
        return None
    if username not in web.sessions:
        page = web.page()
        web.sign_in(page, username)
        web.sessions[username] = page.context.storage_state()
        page.context.close()
    return web.sessions[username]


# Who opens the pages: an anonymous visitor and each demo user, by the role `loaddemo` prints.
ROLE_OF = {"admin": "Administrator", "evaluation": "Evaluation office", "office": "Office focal point", "unit": "Unit focal point", "viewer": "Viewer"}
PEOPLE = ["anonymous", *ROLE_OF]
# Without JavaScript the menu and the filters stay open: they must fit too (the evaluation office sees most pages).
NO_SCRIPT = "evaluation-no-js"


@pytest.mark.parametrize("who", [*PEOPLE, NO_SCRIPT])
def test_no_page_is_wider_than_a_phone_or_a_laptop(web, addresses, who):  # noqa: F811
    """Each page at 390 px, then (the same page, the window widened) at 1366 px."""
    site = web.demo
    js = who != NO_SCRIPT
    role = who.removesuffix("-no-js")
    username = None if role == "anonymous" else site.user(ROLE_OF[role])
    ctx = web.context(js=js, storage_state=signed_in_state(web, username))
    ctx.set_default_navigation_timeout(30_000)  # a loaded machine: the slowest pages (the annual report) take a while
    page = ctx.new_page()
    shots = screenshot_dir("small-screens", who)
    problems: dict[str, list[str]] = {}
    seen = 0
    for url in addresses:
        # Only what is a page for this person: a download, a POST-only door or a refusal is passed over.
        answer = ctx.request.get(site.base + url, max_redirects=0)
        if answer.status != 200 or not answer.headers.get("content-type", "").startswith("text/html"):
            continue
        page.set_viewport_size(PHONE)
        page.goto(site.base + url)
        seen += 1
        found = overflow(page)
        if found:
            problems[f"{url} at 390 px"] = found
            page.screenshot(path=str(shots / ((re.sub(r"\W+", "_", url).strip("_") or "home") + ".png")), full_page=True)
        page.set_viewport_size(LAPTOP)
        found = overflow(page)
        if found:
            problems[f"{url} at 1366 px"] = found
    assert seen >= 15, f"only {seen} pages were pages for {who}"
    assert not problems, f"pages wider than the window for {who} ({len(problems)} of {seen} pages × 2 widths):\n" + "\n".join(
        f"{where}: {'; '.join(what[:4])}" for where, what in problems.items()
    )
    web.finish()


def test_the_menu_folds_on_a_phone_and_is_open_on_a_laptop(web):  # noqa: F811
    site = web.demo
    page = web.context(storage_state=signed_in_state(web, site.user("Unit focal point"))).new_page()
    page.set_viewport_size(PHONE)
    page.goto(site.base + "/")
    toggle = page.locator("header details.menu > summary")
    expect(toggle).to_have_text("Menu")
    expect(nav(page, "My actions")).to_be_hidden()
    toggle.click()
    expect(nav(page, "My actions")).to_be_visible()
    nav(page, "My actions").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My key actions")
    expect(nav(page, "My actions")).to_be_hidden()  # folded again on the next page

    page.set_viewport_size(LAPTOP)
    expect(toggle).to_be_hidden()
    expect(nav(page, "My actions")).to_be_visible()
    expect(page.locator("header").get_by_role("button", name="Sign out")).to_be_visible()

    # Without JavaScript the menu is simply open, at every width.
    plain = web.context(js=False, storage_state=signed_in_state(web, site.user("Unit focal point"))).new_page()
    plain.set_viewport_size(PHONE)
    plain.goto(site.base + "/")
    expect(nav(plain, "My actions")).to_be_visible()
    assert not overflow(plain), overflow(plain)
    web.finish()
