"""Signing in: the real form, throttling after failures, sessions that expire, password reset by email.

The password reset goes through a real SMTP server on loopback (aiosmtpd),
with Django's SMTP backend, and the link from the delivered message.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email
import email.policy
import re
import socket

import pytest
from aiosmtpd.controller import Controller
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

pytestmark = pytest.mark.django_db
User = get_user_model()
PASSWORD = "correct horse battery staple"
LOGIN = "/accounts/login/"


@pytest.fixture
def member():
    return User.objects.create_user("member", email="member@example.org", password=PASSWORD)


def browser(ip: str = "127.0.0.1") -> Client:
    """A client that, like a browser, must carry the CSRF token of the form it was given."""
    return Client(enforce_csrf_checks=True, REMOTE_ADDR=ip)


def form_token(client: Client, url: str) -> str:
    page = client.get(url)
    assert page.status_code == 200
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())
    assert match, "the form carries a CSRF token"
    return match.group(1)


def sign_in(client: Client, username: str, password: str, next_url: str = ""):
    token = form_token(client, LOGIN + (f"?next={next_url}" if next_url else ""))
    return client.post(LOGIN, {"username": username, "password": password, "next": next_url, "csrfmiddlewaretoken": token})


def signed_in_as(client: Client) -> str | None:
    user_id = client.session.get("_auth_user_id")
    return User.objects.get(pk=user_id).username if user_id else None


# --- signing in ------------------------------------------------------------------------------------


def test_signing_in_through_the_form(member):
    client = browser()
    response = sign_in(client, "member", PASSWORD)
    assert response.status_code == 302 and response["Location"] == "/workspace/"
    assert signed_in_as(client) == "member"
    assert "Signed in as member" in client.get("/workspace/").content.decode()


def test_a_wrong_password_is_refused_with_a_message(member):
    client = browser()
    response = sign_in(client, "member", "not the password")
    assert response.status_code == 200
    assert "did not match" in response.content.decode()
    assert signed_in_as(client) is None
    assert client.get("/workspace/")["Location"].startswith(LOGIN)


def test_the_form_needs_its_csrf_token(member):
    client = browser()
    client.get(LOGIN)
    response = client.post(LOGIN, {"username": "member", "password": PASSWORD})
    assert response.status_code == 403
    assert signed_in_as(client) is None


def test_sign_in_returns_to_the_page_asked_for_but_never_elsewhere(member):
    client = browser()
    assert sign_in(client, "member", PASSWORD, next_url="/history/")["Location"] == "/history/"
    other = browser()
    assert sign_in(other, "member", PASSWORD, next_url="https://evil.example.org/")["Location"] == "/workspace/"


def test_an_inactive_account_cannot_sign_in(member):
    member.is_active = False
    member.save()
    client = browser()
    assert sign_in(client, "member", PASSWORD).status_code == 200
    assert signed_in_as(client) is None


def test_signing_out_is_a_post():
    user = User.objects.create_user("leaver", password=PASSWORD)
    client = browser()
    sign_in(client, "leaver", PASSWORD)
    assert client.get("/accounts/logout/").status_code == 405
    token = client.cookies[django_settings.CSRF_COOKIE_NAME].value
    assert client.post("/accounts/logout/", {"csrfmiddlewaretoken": token}).status_code in (200, 302)
    assert signed_in_as(client) is None and user.pk


# --- throttling ------------------------------------------------------------------------------------


def test_five_failures_lock_the_account_wherever_they_come_from(member):
    assert django_settings.AXES_FAILURE_LIMIT == 5
    client = browser("10.1.1.1")
    for _ in range(4):
        assert sign_in(client, "member", "wrong").status_code == 200
    fifth = sign_in(client, "member", "wrong")
    assert fifth.status_code == 429 and "Too many failed sign-ins" in fifth.content.decode()
    # Locked: even the right password is refused now, from that address and from any other.
    locked = sign_in(client, "member", PASSWORD)
    assert locked.status_code == 429 and signed_in_as(client) is None
    elsewhere = browser("10.2.2.2")
    assert sign_in(elsewhere, "member", PASSWORD).status_code == 429 and signed_in_as(elsewhere) is None
    # Another person at the first address is not locked out: the address is under its own, higher limit.
    User.objects.create_user("neighbour", password=PASSWORD)
    neighbour = browser("10.1.1.1")
    assert sign_in(neighbour, "neighbour", PASSWORD).status_code == 302


def test_the_lock_lasts_for_the_cool_off_time(member):
    client = browser("10.3.3.3")
    for _ in range(5):
        sign_in(client, "member", "wrong")
    assert sign_in(client, "member", PASSWORD).status_code == 429
    from axes.models import AccessAttempt

    cool_off = dt.timedelta(hours=django_settings.AXES_COOLOFF_TIME)
    assert dt.timedelta(minutes=5) <= cool_off <= dt.timedelta(hours=24)
    AccessAttempt.objects.update(attempt_time=timezone.now() - cool_off - dt.timedelta(minutes=1))
    assert sign_in(client, "member", PASSWORD).status_code == 302


def test_a_success_resets_the_count(member):
    client = browser("10.4.4.4")
    for _ in range(4):
        sign_in(client, "member", "wrong")
    assert sign_in(client, "member", PASSWORD).status_code == 302
    client.logout()
    for _ in range(4):
        assert sign_in(client, "member", "wrong").status_code == 200
    assert sign_in(client, "member", PASSWORD).status_code == 302


# --- sessions --------------------------------------------------------------------------------------------


def test_sessions_end_with_the_browser_and_after_a_while():
    assert django_settings.SESSION_EXPIRE_AT_BROWSER_CLOSE is True
    assert 0 < django_settings.SESSION_COOKIE_AGE <= 24 * 3600
    assert django_settings.SESSION_COOKIE_HTTPONLY is True


def test_the_session_cookie_is_a_browser_session_cookie_and_expires_on_the_server(member):
    client = browser()
    response = sign_in(client, "member", PASSWORD)
    cookie = response.cookies[django_settings.SESSION_COOKIE_NAME]
    assert cookie["max-age"] == "" and cookie["expires"] == ""  # gone when the browser closes
    stored = Session.objects.get(session_key=cookie.value)
    age = (stored.expire_date - timezone.now()).total_seconds()
    assert django_settings.SESSION_COOKIE_AGE - 60 < age <= django_settings.SESSION_COOKIE_AGE
    assert client.get("/workspace/").status_code == 200
    # Past its age, the session no longer signs anyone in.
    Session.objects.filter(pk=stored.pk).update(expire_date=timezone.now() - dt.timedelta(seconds=1))
    assert client.get("/workspace/")["Location"].startswith(LOGIN)


# --- password reset by email, through a real SMTP server -------------------------------------------------------


class Inbox:
    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.recipients: list[list[str]] = []

    async def handle_DATA(self, server, session, envelope):
        self.recipients.append(list(envelope.rcpt_tos))
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def smtp_server(settings):
    """A real SMTP server on loopback, and Django's SMTP backend sending to it."""
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    try:
        yield inbox
    finally:
        controller.stop()


@pytest.fixture
def smtp(settings):
    with smtp_server(settings) as inbox:
        yield inbox


def request_reset(client: Client, address: str):
    token = form_token(client, "/accounts/password_reset/")
    return client.post("/accounts/password_reset/", {"email": address, "csrfmiddlewaretoken": token})


def reset_path(message) -> str:
    body = message.get_body(preferencelist=("plain",)).get_content()
    link = re.search(r"http://testserver(/accounts/reset/[^/\s]+/[^/\s]+/)", body)
    assert link, body
    return link.group(1)


def test_password_reset_by_email(member, smtp):
    client = browser()
    response = request_reset(client, "member@example.org")
    assert response.status_code == 302 and response["Location"] == "/accounts/password_reset/done/"
    assert smtp.recipients == [["member@example.org"]]
    (message,) = smtp.messages
    assert message["To"] == "member@example.org" and message["From"] == django_settings.DEFAULT_FROM_EMAIL
    assert "member" in message.get_body(preferencelist=("plain",)).get_content()
    path = reset_path(message)

    # The link leads to the form to choose a new password (the token moves to the session).
    opened = client.get(path)
    assert opened.status_code == 302 and opened["Location"].endswith("/set-password/")
    token = form_token(client, opened["Location"])
    new_password = "a brand new long passphrase"
    done = client.post(
        opened["Location"], {"new_password1": new_password, "new_password2": new_password, "csrfmiddlewaretoken": token}
    )
    assert done.status_code == 302 and done["Location"] == "/accounts/reset/done/"

    # The new password signs in; the old one does not; the link does not work twice.
    fresh = browser()
    assert sign_in(fresh, "member", PASSWORD).status_code == 200
    assert sign_in(fresh, "member", new_password).status_code == 302
    assert signed_in_as(fresh) == "member"
    again = browser().get(path, follow=True)
    assert again.status_code == 200 and again.context["validlink"] is False


def test_the_reset_email_and_pages_are_the_projects_own(member, smtp):
    client = browser()
    request_reset(client, "member@example.org")
    (message,) = smtp.messages
    assert message["Subject"] == "Reset your followthrough password"
    assert "it works once, for a few hours" in message.get_body(preferencelist=("plain",)).get_content()
    page = browser().get("/accounts/password_reset/").content.decode()
    assert '<a class="brand" href="/">followthrough</a>' in page


def test_password_reset_does_not_tell_who_has_an_account(member, smtp):
    client = browser()
    response = request_reset(client, "nobody@example.org")
    assert response.status_code == 302 and response["Location"] == "/accounts/password_reset/done/"
    assert smtp.messages == []


def test_a_reset_password_must_be_a_good_one(member, smtp):
    client = browser()
    request_reset(client, "member@example.org")
    form = client.get(reset_path(smtp.messages[0]))["Location"]
    token = form_token(client, form)
    refused = client.post(form, {"new_password1": "12345678", "new_password2": "12345678", "csrfmiddlewaretoken": token})
    assert refused.status_code == 200
    member.refresh_from_db()
    assert member.check_password(PASSWORD)
