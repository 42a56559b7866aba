"""The PDF documents open, and their pages, rendered to images, show the tables and charts."""

from __future__ import annotations

import datetime as dt
import io

import pypdfium2 as pdfium
import pytest
from django.urls import reverse

from tests.conftest import sample_text
from tests.tracking.factories import make_action, make_evaluation, make_office, make_recommendation
from tracking.actor import Actor
from tracking.services.importer import Importer

pytestmark = pytest.mark.django_db


def pages(data: bytes) -> list[tuple[str, object]]:
    """(text, image) of every page."""
    doc = pdfium.PdfDocument(io.BytesIO(data))
    out = []
    for page in doc:
        text = page.get_textpage().get_text_range()
        image = page.render(scale=1.0).to_pil().convert("RGB")
        out.append((text, image))
    return out


def coloured_pixels(image, colour, tolerance=30) -> int:
    """How many pixels are close to `colour` (to find the bars of a chart)."""
    r0, g0, b0 = colour
    return sum(
        1
        for r, g, b in (image.get_flattened_data() if hasattr(image, "get_flattened_data") else image.getdata())
        if abs(r - r0) <= tolerance and abs(g - g0) <= tolerance and abs(b - b0) <= tolerance
    )


def test_annual_report_pdf_shows_tables_and_charts(client):
    kenya = make_office("Kenya", "CO", region="East and Southern Africa")
    rec = make_recommendation(make_evaluation(kenya, year=2025))
    make_action(rec, deadline=dt.date(2025, 3, 1), status="Completed", text="Train the district gender desks.")
    make_action(rec, deadline=dt.date(2025, 6, 1), status="Initiated", text="Publish the results framework.")
    response = client.get(reverse("web:annual_report"), {"year": 2025, "format": "pdf"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    rendered = pages(response.content)
    text = "\n".join(t for t, _ in rendered)
    assert "Implementation of evaluation recommendations, 2025" in text
    assert "Key actions due by the end of 2025" in text
    assert "East and Southern Africa" in text  # the table by region
    assert "50%" in text  # one of two due actions completed
    assert "Publish the results framework." in text  # the overdue list
    assert "Page 1 of" in text
    # The charts are drawn: green (Completed) and blue (Initiated) bars on the page images.
    images = [img for _, img in rendered]
    assert any(coloured_pixels(img, (0x1A, 0x7F, 0x37)) > 300 for img in images)
    assert any(coloured_pixels(img, (0x09, 0x69, 0xDA)) > 300 for img in images)


def test_evaluation_pdf_is_the_response_as_gate_shows_it(client):
    ev_id = Importer(Actor.system()).import_text(sample_text("002_543cb0e5625ab64b"), source="002").evaluation_id
    response = client.get(reverse("web:evaluation_export", args=[ev_id, "pdf"]))
    assert response.status_code == 200
    text = " ".join(" ".join(t for t, _ in pages(response.content)).split())
    assert "Corporate Evaluation of UN Women" in text
    for n in range(1, 6):
        assert f"Recommendation {n}" in text
    assert "Women in Peace Processes Monitor" in text  # a key action's text
    assert "Resilience Unit" in text  # its responsible
    assert "2029/12" in text


def test_draft_evaluation_pdf_is_not_public(client):
    ev = make_evaluation(status="Draft")
    assert client.get(reverse("web:evaluation_export", args=[ev.pk, "pdf"])).status_code == 404
