"""/bench/ceiling/: a small JSON answer through the app's whole middleware stack, with no query (bench only).

What serving any request costs here (gunicorn, Django, sessions, CSRF, CSP,
axes): the fastest an API endpoint could be on this machine.
"""

from django.http import JsonResponse
from django.urls import include, path


def ceiling(request):
    return JsonResponse({"items": [], "next": None})


urlpatterns = [path("bench/ceiling/", ceiling), path("", include("followthrough.urls"))]
