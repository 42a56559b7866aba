"""Password reset and one-time sign-in links: the ways in that work while a sign-in is locked.

Both are sent by e-mail, rate-limited (web/signin.py), and say the same
thing whether or not an account has the address given.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth import get_user_model, login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.forms import PasswordResetForm
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import urlsafe_base64_decode
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_variables

from tracking.models import AccountMail

from .. import signin

log = logging.getLogger("followthrough.signin")
User = get_user_model()
# Signed in by a link or after a reset: the password was not checked, so no
# backend authenticated the person; this one loads them on later requests.
BACKEND = "django.contrib.auth.backends.ModelBackend"


def _refused(request, template: str, form, retry_at) -> object:
    minutes = max(1, round((retry_at - timezone.now()).total_seconds() / 60)) if retry_at else 60
    context = {"form": form, "limited": True, "retry_minutes": minutes, "retry_at": retry_at}
    response = render(request, template, context, status=429)
    response["Retry-After"] = str(minutes * 60)
    return response


def _send(request, form: PasswordResetForm, kind: str, **mail):
    """Send the form's mail if the rate limits allow; returns (sent, when the next would be allowed)."""
    allowed, retry_at = signin.mail_allowed(kind, form.cleaned_data["email"], request.META.get("REMOTE_ADDR"))
    if allowed:
        form.save(request=request, use_https=request.is_secure(), **mail)
    return allowed, retry_at


class PasswordResetView(auth_views.PasswordResetView):
    """Django's, rate-limited per e-mail address and per client address."""

    def form_valid(self, form):
        sent, retry_at = _send(
            self.request,
            form,
            AccountMail.Kind.PASSWORD_RESET,
            token_generator=self.token_generator,
            email_template_name=self.email_template_name,
            subject_template_name=self.subject_template_name,
        )
        if not sent:
            return _refused(self.request, self.template_name, form, retry_at)
        return redirect(self.get_success_url())


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Django's; on success the account's sign-in lock is lifted and the person signed in.

    Signing them in here, not only lifting the lock, matters when the lock is
    their address's (others behind the same address guessed): the new
    password would not get them past that.
    """

    post_reset_login = True
    post_reset_login_backend = BACKEND

    def form_valid(self, form):
        response = super().form_valid(form)
        signin.lift_lock(self.user.get_username(), reason="password reset")
        return response


@login_not_required
@csrf_protect
@never_cache
def sign_in_link_request(request):
    """Ask for a one-time sign-in link by e-mail."""
    form = PasswordResetForm(request.POST or None)
    template = "registration/sign_in_link_form.html"
    if request.method == "POST" and form.is_valid():
        sent, retry_at = _send(
            request,
            form,
            AccountMail.Kind.SIGN_IN_LINK,
            token_generator=signin.sign_in_link_tokens,
            email_template_name="registration/sign_in_link_email.txt",
            subject_template_name="registration/sign_in_link_subject.txt",
            extra_email_context={"minutes": settings.SIGN_IN_LINK_MINUTES},
        )
        if not sent:
            return _refused(request, template, form, retry_at)
        return redirect("sign_in_link_sent")
    return render(request, template, {"form": form}, status=400 if form.errors else 200)


@login_not_required
def sign_in_link_sent(request):
    return render(request, "registration/sign_in_link_sent.html", {"minutes": settings.SIGN_IN_LINK_MINUTES})


def _link_user(uidb64: str):
    try:
        return User._default_manager.get(pk=User._meta.pk.to_python(urlsafe_base64_decode(uidb64).decode()))
    except (TypeError, ValueError, OverflowError, User.DoesNotExist, ValidationError):
        return None


@login_not_required
@csrf_protect
@never_cache
@sensitive_variables("token")
def sign_in_link(request, uidb64: str, token: str):
    """A sign-in link: GET shows a button (mail scanners that open links use nothing up); POST signs in.

    Works while the account or the address is locked for failed passwords:
    the link proves the person holds the account's mailbox.
    """
    user = _link_user(uidb64)
    valid = user is not None and user.is_active and signin.sign_in_link_tokens.check_token(user, token)
    if request.method == "POST" and valid:
        with transaction.atomic():
            # Taken under a row lock and checked again: of two clicks at once, one signs in.
            user = User._default_manager.select_for_update().get(pk=user.pk)
            if user.is_active and signin.sign_in_link_tokens.check_token(user, token):
                login(request, user, backend=BACKEND)
                log.info("signed in by a one-time link: %r from %s", user.get_username(), request.META.get("REMOTE_ADDR"))
                return redirect(settings.LOGIN_REDIRECT_URL)
        valid = False
    if not valid:
        log.warning("sign-in link refused (used, expired or altered) from %s", request.META.get("REMOTE_ADDR"))
    status = 200 if valid else 400
    return render(request, "registration/sign_in_link_confirm.html", {"validlink": valid, "link_user": user}, status=status)
