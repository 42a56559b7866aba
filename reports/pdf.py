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

    html = render_to_string(template, {**context, "for_pdf": True})
    return HTML(string=html, base_url=str(STYLESHEET.parent)).write_pdf(stylesheets=[CSS(filename=str(STYLESHEET))])
