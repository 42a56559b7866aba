"""/api/v1/ (the API, its schema and docs page) and the Atom feeds."""

from django.urls import path

from . import feeds
from .v1 import api

urlpatterns = [
    path("v1/", api.urls),
    path("feeds/offices/<slug:slug>.atom", feeds.OfficeFeed(), name="feed_office"),
    path("feeds/regions/<slug:slug>.atom", feeds.RegionFeed(), name="feed_region"),
    path("feeds/evaluations/<int:pk>.atom", feeds.EvaluationFeed(), name="feed_evaluation"),
]
