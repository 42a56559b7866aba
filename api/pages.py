"""The profile's API tokens page: make (named, with an expiry, optionally read only), see and revoke your tokens."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from .models import ApiToken

EXPIRY_CHOICES = [("30", "in 30 days"), ("90", "in 90 days"), ("365", "in a year"), ("never", "never")]
MAX_ACTIVE = 20


class TokenForm(forms.Form):
    name = forms.CharField(label="Name", max_length=100, help_text="What the token is for, e.g. “results framework sync”.")
    expires = forms.ChoiceField(label="Expires", choices=EXPIRY_CHOICES, initial="90")
    read_only = forms.BooleanField(label="Read only (it cannot change anything)", required=False)

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if not name or "\x00" in name:
            raise forms.ValidationError("Give the token a name.")
        return name


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def tokens(request):
    mine = ApiToken.objects.filter(user=request.user)
    form = TokenForm()
    made = None
    if request.method == "POST" and "revoke" in request.POST:
        token = mine.filter(pk=request.POST.get("revoke", "") if request.POST.get("revoke", "").isdigit() else 0).first()
        if token is not None and token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
            messages.success(request, f"Token “{token.name}” revoked: it no longer works.")
        return redirect("api_tokens")
    if request.method == "POST":
        form = TokenForm(request.POST)
        active = [t for t in mine if t.is_active]
        if form.is_valid() and len(active) >= MAX_ACTIVE:
            form.add_error(None, f"You have {MAX_ACTIVE} tokens in use: revoke one first.")
        if form.is_valid():
            days = form.cleaned_data["expires"]
            expires = None if days == "never" else timezone.now() + dt.timedelta(days=int(days))
            token, made = ApiToken.issue(request.user, form.cleaned_data["name"], expires_at=expires,
                                         read_only=form.cleaned_data["read_only"])
            form = TokenForm()
    status = 200 if request.method == "GET" or made or form.is_valid() else 400
    tokens = list(ApiToken.objects.filter(user=request.user))  # afresh: with the one just made
    return render(request, "api/tokens.html", {"form": form, "tokens": tokens, "made": made}, status=status)
