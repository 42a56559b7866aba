"""Error pages that say what went wrong when it is safe to: a filter that cannot be read names itself."""

from __future__ import annotations

from django.http import HttpResponseBadRequest
from django.template import loader

from tracking.params import BadParameter


def bad_request(request, exception=None):
    """400: the page says which filter of the address was not understood, and why (text, escaped)."""
    message = str(exception) if isinstance(exception, BadParameter) else ""
    template = loader.get_template("400.html")
    return HttpResponseBadRequest(template.render({"message": message}))
