"""PDF documents (the annual report, an evaluation's response) from HTML templates, with WeasyPrint.

WeasyPrint lays out HTML and CSS itself (no browser, no network): the
stylesheet is read from the app's own files and the charts are inline SVG.

Laying out text costs time that grows faster than the text (a title of
126,000 characters, repeated in every page's footer, took more than ten
minutes), and these documents are public. So what a document prints is
bounded (`PrintBudget`: each text at most FIELD_LIMIT characters, the whole
document at most DOCUMENT_LIMIT; what is left out says so, and the full text
stays on the evaluation's page and in the exports), and rendering has a
time limit (TIME_LIMIT seconds, where the server lets a request set one).
The web views cache each document per data version and throttle renders per
address (web/views/reports.py).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from pathlib import Path

from django.template.loader import render_to_string

STYLESHEET = Path(__file__).resolve().parent / "templates" / "reports" / "document.css"
FIELD_LIMIT = 4_000  # characters of one text (a recommendation, a response, a key action ...)
DOCUMENT_LIMIT = 120_000  # characters of all the texts of one document (setting PDF_TEXT_LIMIT)
TITLE_LIMIT = 300  # characters of the title (it is repeated in every page's footer)
TIME_LIMIT = 60  # seconds


class PdfTooSlow(RuntimeError):
    """The document was not laid out within the time limit."""


class PrintBudget:
    """How much text a document may still print; each text taken from it is cut to what is left."""

    def __init__(self, total: int = DOCUMENT_LIMIT, field: int = FIELD_LIMIT):
        self.total, self.field, self.left = total, field, total
        self.shortened = 0  # texts printed in part
        self.omitted = 0  # texts not printed at all

    @property
    def exhausted(self) -> bool:
        return self.left <= 0

    def take(self, value) -> str:
        text = "" if value is None else str(value)
        limit = min(self.field, max(self.left, 0))
        if len(text) <= limit:
            self.left -= len(text)
            return text
        if limit == 0:
            self.omitted += 1
            return f"[not printed ({len(text):,} characters): this document reached its print limit; see the evaluation's page]"
        self.left -= limit
        self.shortened += 1
        return f"{text[:limit]} […] [{len(text) - limit:,} more characters not printed; see the evaluation's page]"


def render_pdf(template: str, context: dict, *, time_limit: float = TIME_LIMIT) -> bytes:
    from django.conf import settings
    from weasyprint import CSS, HTML
    from weasyprint.urls import URLFetcher

    budget = PrintBudget(total=getattr(settings, "PDF_TEXT_LIMIT", DOCUMENT_LIMIT))
    html = render_to_string(template, {"budget": budget, "title_limit": TITLE_LIMIT, **context, "for_pdf": True})
    # The document fetches nothing (the stylesheet is given below, the charts are inline):
    # should a value ever slip into markup, it cannot make the server read a file or a URL.
    fetcher = URLFetcher(allowed_protocols=("data",))
    with _time_limit(time_limit):
        return HTML(string=html, base_url=str(STYLESHEET.parent), url_fetcher=fetcher).write_pdf(
            stylesheets=[CSS(filename=str(STYLESHEET))]
        )


@contextlib.contextmanager
def _time_limit(seconds: float):
    """Raise PdfTooSlow after `seconds`, where a timer can interrupt this thread (a worker's main thread).

    Elsewhere (a threaded development server) the bounds on what is printed
    are the limit, and the server's own worker timeout.
    """
    if seconds <= 0 or threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def expired(signum, frame):
        raise PdfTooSlow(f"the document was not laid out within {seconds:g} seconds")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
