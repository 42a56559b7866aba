"""The home page's newest progress updates: read among the newest first, among all when those are not readable."""

from __future__ import annotations

import pytest

from tests.tracking.factories import make_action, make_evaluation, make_recommendation
from tracking import queries
from tracking.models import ActionUpdate
from tracking.permissions import EVERYTHING, PUBLIC

pytestmark = pytest.mark.django_db


def _updates(status: str, n: int) -> list[ActionUpdate]:
    action = make_action(make_recommendation(make_evaluation(status=status)))
    return [ActionUpdate.objects.create(key_action=action, status_before="", status_after="Initiated", comment=f"{status} {i}")
            for i in range(n)]


def test_the_newest_readable_updates_even_when_the_newest_of_all_are_drafts(monkeypatch):
    monkeypatch.setattr(queries, "RECENT_WINDOW", 3)
    public = _updates("Approved", 4)
    drafts = _updates("Draft", 5)  # newer, and not for the public
    assert queries.recent_updates(PUBLIC, 3) == public[::-1][:3]
    assert queries.recent_updates(EVERYTHING, 3) == drafts[::-1][:3]
    monkeypatch.setattr(queries, "RECENT_WINDOW", 100)
    assert queries.recent_updates(PUBLIC, 10) == public[::-1]
