"""Finding things: full-text search, similar recommendations, recurring themes.

The pages only read: the index is kept by database triggers, similarities and
themes by a job (`followthrough similarities`); see the `search` package.
Search result pages are not cached: each query is its own page, and a cache
of the long tail of queries would only push out the pages people come back to.
"""

from __future__ import annotations

from django.shortcuts import render

from search import engine

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
            "nav": "search",
        },
        status=status,
    )
