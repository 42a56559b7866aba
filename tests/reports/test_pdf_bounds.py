"""Printed documents are bounded work: what they print is limited, each is laid out once per data
version, renders are throttled per address, and laying out has a time limit.

A title of 126 KB once made an evaluation's PDF take more than 600 s (the
title is repeated in every page's footer); these documents are public. No
test here times anything: they check that the limits apply.
"""

from __future__ import annotations

import io

import pypdfium2 as pdfium
import pytest
from django.test import Client
from django.urls import reverse

from reports import pdf
from tests.tracking.factories import make_action, make_evaluation, make_office, make_recommendation
from tracking.actor import Actor
from tracking.services import drafting

pytestmark = pytest.mark.django_db


def pdf_text(data: bytes) -> str:
    doc = pdfium.PdfDocument(io.BytesIO(data))
    return " ".join(" ".join(page.get_textpage().get_text_range() for page in doc).split())


def test_the_budget_cuts_each_text_and_the_whole_document():
    budget = pdf.PrintBudget(total=10_000, field=4_000)
    assert budget.take("short") == "short"
    long = budget.take("x" * 5_000)
    assert long.startswith("x" * 4_000) and "1,000 more characters not printed" in long
    budget.take("y" * 4_000)
    rest = budget.take("z" * 3_000)  # 1,995 left
    assert rest.startswith("z" * 1_995) and not rest.startswith("z" * 1_996)
    assert budget.exhausted
    assert budget.take("w" * 50).startswith("[not printed (50 characters)")
    assert (budget.shortened, budget.omitted) == (2, 1)


def test_an_evaluation_with_huge_texts_prints_within_the_limits(settings):
    settings.PDF_TEXT_LIMIT = limit = 30_000  # production prints 120,000 characters; the rule is the same
    office = make_office("Office of long texts")
    ev = make_evaluation(office, title="T" * 500)  # the most a title can hold (tracking.text)
    ev.management_response.overall_response = "Overall " + "o" * 126_000
    ev.management_response.save()
    huge = "word " * 25_000  # 125 KB of text that wraps: the costly kind to lay out
    for i in range(20):
        rec = make_recommendation(ev, text=f"Recommendation start {i} " + huge, response_text=huge)
        make_action(rec, text=f"Action start {i} " + huge, comments=huge)
    r = Client().get(reverse("web:evaluation_export", args=[ev.pk, "pdf"]))
    assert r.status_code == 200 and r.content.startswith(b"%PDF-")
    text = pdf_text(r.content)
    assert "more characters not printed" in text
    assert "This document is printed in part" in text and "is not printed" in text
    assert "Recommendation start 0" in text
    assert "Recommendation start 19" not in text  # past the document's budget
    # The limits hold: the printed text is about the budget, not the 30 MB stored.
    assert len(text) < limit + 20 * 200 + 5_000
    # The title is cut where it is repeated (footer, heading).
    assert "T" * (pdf.TITLE_LIMIT + 1) not in text.replace(" ", "")


def test_a_document_is_laid_out_once_per_data_version_and_renders_are_throttled_per_address(settings):
    settings.PDF_RENDERS_PER_MINUTE = 2
    settings.PDF_THROTTLE_SECONDS = 3600  # a slow machine must not see the window end between the requests
    office = make_office("Office of throttles")
    evs = [make_evaluation(office, title=f"Throttled {i}") for i in range(3)]
    for ev in evs:
        make_action(make_recommendation(ev))
    client = Client(REMOTE_ADDR="192.0.2.10")
    urls = [reverse("web:evaluation_export", args=[ev.pk, "pdf"]) for ev in evs]
    assert client.get(urls[0]).status_code == 200
    assert client.get(urls[1]).status_code == 200
    refused = client.get(urls[2])
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 3601
    assert "try again" in refused.content.decode()
    # A document already laid out is served from the cache, throttle or not.
    again = client.get(urls[0])
    assert again.status_code == 200 and again.content.startswith(b"%PDF-")
    # Another address has its own allowance.
    assert Client(REMOTE_ADDR="192.0.2.11").get(urls[2]).status_code == 200
    # So does the annual report, counted in the same allowance of the address.
    assert client.get(reverse("web:annual_report") + "?year=2024&format=pdf").status_code == 429


def test_a_change_to_the_evaluation_makes_a_new_document(settings):
    settings.PDF_RENDERS_PER_MINUTE = 10
    office = make_office("Office of versions")
    reviewer = Actor.system("command")
    ev = drafting.create_evaluation(reviewer, office=office, start_year=2024, end_year=2025, title="Versioned")
    drafting.add_recommendation(reviewer, ev.management_response, fields={"number": "1", "text": "First text."})
    client = Client()
    client.force_login(__import__("django.contrib.auth", fromlist=["x"]).get_user_model().objects.create(username="su", is_superuser=True))
    url = reverse("web:evaluation_export", args=[ev.pk, "pdf"])
    assert "First text." in pdf_text(client.get(url).content)
    ev.management_response.refresh_from_db()
    drafting.add_recommendation(reviewer, ev.management_response, fields={"number": "2", "text": "Second text."})
    assert "Second text." in pdf_text(client.get(url).content)


def test_laying_out_has_a_time_limit():
    with pytest.raises(pdf.PdfTooSlow):
        pdf.render_pdf("reports/evaluation_pdf.html", {"evaluation": "x", "recommendations": [], "today": None,
                                                        "response": None}, time_limit=1e-6)


def test_a_126_kb_title_stored_before_the_rules_prints_cut():
    """The reproduction: SQLite held such a title (PostgreSQL never could; tracking.text refuses it now)."""
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL cannot hold a title longer than 500 characters")
    ev = make_evaluation(make_office("Office of titles"), title="Long title " * 11_500)  # 126,500 characters
    make_action(make_recommendation(ev))
    r = Client().get(reverse("web:evaluation_export", args=[ev.pk, "pdf"]))
    assert r.status_code == 200
    text = pdf_text(r.content)
    assert "Long title" in text and text.count("Long title") < 2 * (pdf.TITLE_LIMIT // 11 + 1) * 3
