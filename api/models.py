"""Personal API tokens: made, named, given an expiry and revoked by their owner (the profile's token page).

Only a hash of the token is stored (SHA-256 of a random 32-byte secret: the
secret is high-entropy, so a fast hash is as good as a slow one here and
keeps every request cheap). The token is shown once, when it is made.
"""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

PREFIX = "ft_"


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    # The first characters, shown so their owner can tell tokens apart (not enough to use one).
    hint = models.CharField(max_length=12, editable=False)
    read_only = models.BooleanField(_("read only"), default=False)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(_("expires on"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked on"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("API token")

    def __str__(self) -> str:
        return f"{self.name} ({self.hint}…)"

    @classmethod
    def issue(cls, user, name: str, *, expires_at=None, read_only: bool = False) -> tuple[ApiToken, str]:
        """A new token and its secret (shown once: only the hash is kept)."""
        raw = PREFIX + secrets.token_urlsafe(32)
        token = cls.objects.create(
            user=user, name=name, key_hash=hash_token(raw), hint=raw[:10], expires_at=expires_at, read_only=read_only
        )
        return token, raw

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > timezone.now())
