"""PDF documents (the annual report, an evaluation's response) from HTML templates, with WeasyPrint.

WeasyPrint lays out HTML and CSS itself (no browser, no network): the
stylesheet is read from the app's own files and the charts are inline SVG.
"""

from __future__ import annotations

from pathlib import Path

from django.template.loader import render_to_string

STYLESHEET = Path(__file__).resolve().parent / "templates" / "reports" / "document.css"


def render_pdf(template: str, context: dict) -> bytes:
    from weasyprint import CSS, HTML
    from weasyprint.urls import URLFetcher

    html = render_to_string(template, {**context, "for_pdf": True})
    # The document fetches nothing (the stylesheet is given below, the charts are inline):
    # should a value ever slip into markup, it cannot make the server read a file or a URL.
    fetcher = URLFetcher(allowed_protocols=("data",))
    return HTML(string=html, base_url=str(STYLESHEET.parent), url_fetcher=fetcher).write_pdf(
        stylesheets=[CSS(filename=str(STYLESHEET))]
    )
