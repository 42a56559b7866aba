"""What pages ask of the reminders: when a key action was last named in a reminder that went out."""

from __future__ import annotations

from .models import Message


def last_reminded(action_id: int) -> Message | None:
    return Message.objects.filter(actions__pk=action_id, status=Message.Status.SENT).order_by("-sent_at", "-pk").first()
