"""The acceptance walk on the demo data, as a new user tries it after `make run`: signed out, the search
box finds "Salesforce" (key-action comments) and "risk appetite" (a key action), and nothing of the demo
draft; on whichever database the suite runs."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.core.management import call_command
from django.urls import reverse

from search import engine
from tracking.models import Evaluation, KeyAction, Role, RoleAssignment

pytestmark = pytest.mark.django_db

DRAFT_WORDS = ("Women Count", "gender data", "guidance note on gender data", "national statistical offices", "demo draft")


@pytest.fixture
def demo(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    call_command("loaddemo", stdout=io.StringIO())
    return Evaluation.objects.get(title__contains="(demo draft)")


def test_signed_out_the_search_box_finds_salesforce_and_risk_appetite_and_nothing_of_the_demo_draft(client, demo):
    home = client.get(reverse("web:home")).content.decode()
    assert f'action="{reverse("web:search")}"' in home and 'name="q"' in home
    salesforce = engine.search(AnonymousUser(), "Salesforce")
    commented = set(KeyAction.objects.filter(comments__contains="Salesforce").values_list("pk", flat=True))
    assert len(commented) >= 4
    actions = next(g for g in salesforce.groups if g.kind.name == "action")
    assert {h.object_id for h in actions.hits} <= commented and actions.count == len(commented)
    page = client.get(reverse("web:search"), {"q": "Salesforce"}).content.decode()
    assert "<mark>Salesforce</mark>" in page and '<h2 id="hits-action">Key actions' in page
    for pk in list(commented)[:1]:
        assert reverse("web:action", args=[pk]) in page or actions.count > engine.GROUP_SIZE

    risk = engine.search(AnonymousUser(), "risk appetite")
    [action_hit] = next(g for g in risk.groups if g.kind.name == "action").hits
    assert action_hit.exact and "risk appetite" in action_hit.record.text
    page = client.get(reverse("web:search"), {"q": "risk appetite"}).content.decode()
    assert reverse("web:action", args=[action_hit.object_id]) in page
    assert "<mark>risk</mark> <mark>appetite</mark>" in page

    # The demo draft: found by people with a role, by nobody signed out (not even as a count).
    viewer = get_user_model().objects.create(username="demo-viewer")
    RoleAssignment.objects.create(user=viewer, role=Role.VIEWER)
    for words in DRAFT_WORDS:
        public = engine.search(AnonymousUser(), words)
        assert all(h.evaluation_id != demo.pk for g in public.groups for h in g.hits), words
        assert demo.pk not in [h.evaluation_id for g in engine.search(AnonymousUser(), words, engine.Filters(kind="action")).groups
                               for h in g.hits]
        page = client.get(reverse("web:search"), {"q": words}).content.decode()
        for text in ("Publish a guidance note on gender data", "Women Count data programme",
                     "Strengthen the production and use of gender data", "expand its support to national statistical offices"):
            assert text not in page, (words, text)
    found = engine.search(viewer, "guidance note on gender data")
    assert demo.pk in {h.evaluation_id for g in found.groups for h in g.hits}
    assert engine.search(AnonymousUser(), "guidance note on gender data").counts.get("action", 0) == 0
