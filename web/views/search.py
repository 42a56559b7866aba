"""Finding things: full-text search, similar recommendations, recurring themes.

The pages only read: the index is kept by database triggers, similarities and
themes by a job (`followthrough similarities`); see the `search` package.
Search result pages are not cached: each query is its own page, and a cache
of the long tail of queries would only push out the pages people come back to.
"""

from __future__ import annotations

from django.shortcuts import render

from search import engine

from ..paths import path_of

KIND_HEADINGS = {k.name: k.label for k in engine.KINDS}


def search(request):
    filters = engine.Filters.from_query(request.GET)
    status = 200
    error = ""
    try:
        results = engine.search(request.user, request.GET.get("q", ""), filters)
    except engine.SearchUnavailable as exc:
        results, error, status = engine.Results(query=engine.parse(""), filters=filters), str(exc), 503
    kinds = [(k.name, k.label, results.counts.get(k.name, 0)) for k in engine.KINDS]
    return render(
        request,
        "web/search.html",
        {
            "results": results,
            "filters": filters,
            "search_text": results.query.raw if results.query else engine.parse(request.GET.get("q", "")).raw,
            "kinds": kinds,
            "error": error,
            "page_size": engine.PAGE_SIZE,
            "candidates": engine.CANDIDATES,
            "nav": "search",
        },
        status=status,
    )


def similar(request, pk: int):
    """The most similar recommendations of other evaluations, and how their key actions fared."""
    from django.shortcuts import get_object_or_404

    from search import portfolio
    from tracking.models import Recommendation
    from tracking.permissions import restrict

    from ..caching import cached_page

    # Reading rules: a recommendation is read when its evaluation is.
    rec = get_object_or_404(restrict(request.user, Recommendation).select_related("evaluation__office", "evaluation__plan"), pk=pk)

    def context() -> dict:
        return {"rec": rec, "rows": portfolio.similar_to(request.user, rec), "own": portfolio.fared(request.user, [rec.pk])[rec.pk]}

    # Kept until its recommendations' evaluations or its list change (`similar_version`): while offices report
    # progress, a change elsewhere keeps it.
    return cached_page(
        request, f"Similar to recommendation {rec.number}", "evaluations", "similar", (), "web/similar_body.html", context,
        version=lambda: portfolio.similar_version(rec.pk),
    )


THEMES_PER_PAGE = 50


def office_options(offices, chosen: int | None) -> str:
    """The office filter's options, escaped, in one join: a template loop over 130 offices at L was a tenth of the
    recurring page's time."""
    from django.utils.html import format_html_join
    from django.utils.safestring import mark_safe

    return format_html_join(
        "", '<option value="{}"{}>{}</option>', ((o.pk, mark_safe(" selected") if o.pk == chosen else "", o.name) for o in offices)
    )


def recurring(request):
    """Recurring themes across the portfolio, filterable by office and period."""
    from django.core.paginator import Paginator

    from search import portfolio
    from tracking import queries
    from tracking.models.tallies import counts_version

    from ..caching import cached_page

    def context() -> dict:
        filters = portfolio.PortfolioFilters.from_query(request.GET)
        rows = portfolio.themes(request.user, filters, internal=queries.is_internal(request.user), figures=False)
        page = Paginator(rows, THEMES_PER_PAGE).get_page(request.GET.get("page"))
        # The offices and rates of the page's themes only: they read every key action of their recommendations.
        portfolio.with_figures(request.user, filters, page.object_list)
        theme_path = path_of("web:recurring_theme")
        linked = [(t, theme_path(t.theme.pk)) for t in page]
        return {"page": page, "rows": linked, "filters": filters, "office_options": office_options(portfolio.offices_in_themes(request.user), filters.office)}

    def version() -> tuple:
        # The themes' figures follow the key actions; the themes themselves are written by the similarity jobs (no
        # change record), inside `themes_moving`, which moves the kept counts' version: a theme renamed or regrouped
        # under the same id (its nightly run keeps them) or a member placed in another one moves no newest id.
        return queries.data_version(), counts_version()

    # Added up from the kept counts of themes for the public and readers of every draft (about 30 ms at L); counted
    # from the themes' members for an office, years or some offices' drafts (a third of a second for the largest):
    # kept like the dashboard, its time shown while a worker computes the new one after a change.
    return cached_page(
        request, "Recurring recommendations", "search", "recurring", (), "web/recurring_body.html", context, slow=True, version=version,
    )


def recurring_theme(request, pk: int):
    from django.core.paginator import Paginator
    from django.shortcuts import get_object_or_404

    from search import portfolio
    from search.models import Theme
    from tracking import queries

    theme = get_object_or_404(Theme, pk=pk)
    filters = portfolio.PortfolioFilters.from_query(request.GET)
    internal = queries.is_internal(request.user)
    rows = portfolio.themes(request.user, filters, internal=internal, theme_ids=[theme.pk])
    recs = portfolio.theme_members(request.user, theme, filters)
    if not recs and not rows:
        from django.http import Http404

        raise Http404("No recommendation of this theme is visible here.")
    page = Paginator(recs, 50).get_page(request.GET.get("page"))
    how = portfolio.fared(request.user, [r.pk for r in page])
    return render(
        request,
        "web/recurring_theme.html",
        {
            "theme": theme,
            "row": rows[0] if rows else None,
            "label": (theme.label if internal else theme.public_label) or theme.label,
            "page": page,
            "items": [(r, how[r.pk]) for r in page],
            "filters": filters,
            "nav": "search",
        },
    )
