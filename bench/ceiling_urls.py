"""/bench/ceiling/<pk>/: the bare Django one-query page, through the app's whole middleware stack (bench only).

One query (an evaluation's title) and a few lines of HTML: what serving any
page costs here (gunicorn, Django, sessions, CSRF, CSP, axes) and so the
fastest any page of ours could be on this machine; each page's req/s is
reported as a ratio to it.
"""

from django.http import HttpResponse
from django.urls import include, path
from django.utils.html import escape

from tracking.models import Evaluation


def ceiling(request, pk):
    title = Evaluation.objects.filter(pk=pk).values_list("title", flat=True).first() or ""
    return HttpResponse(f"<!doctype html><title>{escape(title)}</title><h1>{escape(title)}</h1>")


urlpatterns = [path("bench/ceiling/<int:pk>/", ceiling), path("", include("followthrough.urls"))]
