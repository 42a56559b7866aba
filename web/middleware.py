"""Who is acting on this request: one Actor (with a request id that groups its history)."""

from __future__ import annotations

from tracking.actor import Actor


class ActorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user if request.user.is_authenticated else None
        request.actor = Actor(user=user, source="web")
        return self.get_response(request)
