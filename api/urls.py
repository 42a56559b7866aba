"""/api/v1/ (the API, its schema and docs page) and the Atom feeds."""

from django.http import JsonResponse
from django.urls import path, re_path

from . import feeds
from .v1 import api


def not_found(request):
    """Anything else under /api/: the API's error shape, not an HTML page."""
    return JsonResponse({"code": "not_found", "message": f"No such endpoint: {request.path} (see /api/v1/docs).", "field": None},
                        status=404)


urlpatterns = [
    path("v1/", api.urls),
    path("feeds/offices/<slug:slug>.atom", feeds.OfficeFeed(), name="feed_office"),
    path("feeds/regions/<slug:slug>.atom", feeds.RegionFeed(), name="feed_region"),
    path("feeds/evaluations/<int:pk>.atom", feeds.EvaluationFeed(), name="feed_evaluation"),
    re_path(r"^", not_found),
]
