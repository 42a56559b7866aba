"""Signing in under attack (issue 21): the probe's findings, each reproduced, and the ways back in.

Through the real sign-in form (CSRF and all) from many client addresses, and
a real SMTP server on loopback for the reset and sign-in link mails.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from django.conf import settings as django_settings
from django.test import Client
from django.utils import timezone

from tests.web.test_auth import (
    LOGIN,
    PASSWORD,
    User,
    browser,
    form_token,
    request_reset,
    reset_path,
    sign_in,
    signed_in_as,
    smtp_server,
)

try:  # (so that this file runs on the code before issue 21, to show each finding failing there)
    from tracking.models import AccountMail
    from web import signin
except ImportError:
    AccountMail = signin = None

pytestmark = pytest.mark.django_db


@pytest.fixture
def mail(settings):
    with smtp_server(settings) as inbox:
        yield inbox


@pytest.fixture
def member():
    return User.objects.create_user("member", email="member@example.org", password=PASSWORD)


def body(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def link_path(message) -> str:
    link = re.search(r"http://testserver(/accounts/login/link/[^/\s]+/[^/\s]+/)", body(message))
    assert link, body(message)
    return link.group(1)


def ask_for_link(client: Client, address: str):
    token = form_token(client, "/accounts/login/link/")
    return client.post("/accounts/login/link/", {"email": address, "csrfmiddlewaretoken": token})


def use_link(client: Client, path: str):
    page = client.get(path)
    if page.status_code != 200:
        return page
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)
    return client.post(path, {"csrfmiddlewaretoken": token})


def alert(response) -> str:
    match = re.search(r'role="alert">(.*?)</li>', response.content.decode(), re.S)
    assert match, response.content.decode()[:2000]
    return " ".join(match.group(1).split())


# --- the probe's findings ------------------------------------------------------------------------------


def test_four_guesses_from_each_of_twenty_addresses_lock_the_account(member):
    refused = 0
    for i in range(20):
        client = browser(f"198.51.100.{i + 1}")
        for _ in range(4):
            refused += sign_in(client, "member", "guess").status_code == 429
    assert refused == 80 - 4, "from the fifth guess on, every one is refused"
    # The right password, from an address that never guessed, is refused too: the account is locked.
    fresh = browser("203.0.113.50")
    locked = sign_in(fresh, "member", PASSWORD)
    assert locked.status_code == 429 and signed_in_as(fresh) is None
    assert "the account <strong>member</strong>" in locked.content.decode()


def test_four_guesses_at_each_of_ten_accounts_from_one_address_lock_the_address():
    for n in range(10):
        User.objects.create_user(f"person{n}", password=PASSWORD)
    User.objects.create_user("bystander", password=PASSWORD)
    guesser = browser("198.51.100.77")
    refused = 0
    for n in range(10):
        for _ in range(4):
            refused += sign_in(guesser, f"person{n}", "guess").status_code == 429
    # From that address nobody signs in with a password now, not even with the right one...
    from_there = sign_in(browser("198.51.100.77"), "bystander", PASSWORD)
    assert from_there.status_code == 429
    assert "from your network address is locked" in from_there.content.decode()
    limit = django_settings.LOGIN_ADDRESS_FAILURE_LIMIT
    assert limit <= 40 and refused == 40 - (limit - 1)
    # ...while no account is locked: each had four failures, under the limit of five.
    assert sign_in(browser("203.0.113.9"), "person3", PASSWORD).status_code == 302


def test_someone_sharing_the_persons_address_cannot_keep_them_out(member, mail):
    # Behind one address (an office, a proxy), someone locks the account and the address.
    shared = "192.0.2.10"
    attacker = browser(shared)
    for _ in range(5):
        sign_in(attacker, "member", "guess")
    for n in range(20):
        sign_in(attacker, f"nobody{n}", "guess")
    person = browser(shared)
    assert sign_in(person, "member", PASSWORD).status_code == 429
    # The way in that still works: a one-time link by e-mail, from the same address, while locked.
    sent = ask_for_link(person, "member@example.org")
    assert sent.status_code == 302 and sent["Location"] == "/accounts/login/link/sent/"
    (message,) = mail.messages
    assert message["To"] == "member@example.org" and message["Subject"] == "Your followthrough sign-in link"
    signed = use_link(person, link_path(message))
    assert signed.status_code == 302 and signed["Location"] == "/workspace/"
    assert signed_in_as(person) == "member"
    # The attacker's failures at the address still count: they did not get another 20 guesses.
    assert sign_in(browser(shared), "nobody99", "guess").status_code == 429
    assert {lock["scope"] for lock in signin.locks("member", shared)} == {"address"}


def test_a_password_reset_lifts_the_lock_and_signs_the_person_in(member, mail):
    for i in range(5):
        sign_in(browser(f"198.51.100.{i + 1}"), "member", "guess")
    person = browser("203.0.113.20")
    assert sign_in(person, "member", PASSWORD).status_code == 429
    request_reset(person, "member@example.org")
    opened = person.get(reset_path(mail.messages[0]))
    token = form_token(person, opened["Location"])
    new = "a fresh long passphrase for member"
    done = person.post(opened["Location"], {"new_password1": new, "new_password2": new, "csrfmiddlewaretoken": token})
    assert done.status_code == 302 and done["Location"] == "/accounts/reset/done/"
    assert signed_in_as(person) == "member"
    assert "You are signed in as member" in person.get(done["Location"]).content.decode()
    # The lock is gone: the new password works from anywhere, including an address that guessed.
    assert not AccessAttempt.objects.filter(username="member").exists()
    again = browser("198.51.100.1")
    assert sign_in(again, "member", new).status_code == 302 and signed_in_as(again) == "member"


def test_reset_mails_are_rate_limited_per_address_asked_for(member, mail):
    answers = [request_reset(browser(f"198.51.100.{i + 1}"), "member@example.org") for i in range(6)]
    assert answers[-1].status_code == 429 and len(mail.messages) < 6
    limit = django_settings.ACCOUNT_MAIL_LIMIT
    assert [a.status_code for a in answers] == [302] * limit + [429] * (6 - limit)
    assert len(mail.messages) == limit
    refused = answers[-1]
    assert 0 < int(refused["Retry-After"]) <= 3600
    # The same words whether or not an account has the address: the limit tells nobody who has one.
    unknown = [request_reset(browser(f"198.51.100.{i + 101}"), "nobody@example.org") for i in range(limit + 1)]
    assert [a.status_code for a in unknown] == [302] * limit + [429]
    # (The time it names is each refusal's own: the two were a minute apart on a loaded machine.)
    worded = lambda response: re.sub(r"\b\d\d:\d\d\b", "HH:MM", alert(response))  # noqa: E731
    assert worded(unknown[-1]) == worded(refused) and "Try again in" in alert(refused)
    assert len(mail.messages) == limit
    # Case and spaces do not make another address.
    assert request_reset(browser("198.51.100.250"), " Member@Example.ORG ").status_code == 429
    assert AccountMail.objects.filter(refused=True).count() == (6 - limit) + 1 + 1


def test_reset_mails_are_rate_limited_per_client_address(mail):
    for n in range(30):
        User.objects.create_user(f"user{n}", email=f"user{n}@example.org", password=PASSWORD)
    client = browser("198.51.100.200")
    answers = [request_reset(client, f"user{n}@example.org") for n in range(29)]
    assert answers[-1].status_code == 429 and len(mail.messages) < 29
    limit = django_settings.ACCOUNT_MAIL_CLIENT_LIMIT
    assert [a.status_code for a in answers] == [302] * limit + [429] * (29 - limit)
    assert len(mail.messages) == limit
    # Sign-in links count with resets: the client address is over its limit for both.
    assert ask_for_link(client, "user29@example.org").status_code == 429
    # Another client address is not affected.
    assert request_reset(browser("198.51.100.201"), "user29@example.org").status_code == 302


def test_forwarded_proto_is_not_believed_without_a_configured_proxy(settings):
    settings.SECURE_SSL_REDIRECT = True
    response = Client().get("/", HTTP_X_FORWARDED_PROTO="https")
    assert response.status_code == 301 and response["Location"].startswith("https://")
    assert settings.TRUSTED_PROXIES == [] and settings.SECURE_PROXY_SSL_HEADER is None


def test_forwarded_for_is_not_believed_without_a_configured_proxy(member):
    for n in range(5):
        client = Client(enforce_csrf_checks=True, REMOTE_ADDR="198.51.100.5", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")
        sign_in(client, f"nobody{n}", "guess")
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"198.51.100.5"}


def settings_of(env: dict[str, str], tmp_path: Path) -> str:
    base = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DEBUG", "TRUSTED_PROXIES")}
    code = "from django.conf import settings; print(repr(settings.SECURE_PROXY_SSL_HEADER))"
    exe = Path(sys.executable).with_name("followthrough")
    p = subprocess.run(
        [str(exe), "shell", "-c", code],
        env={**base, "FOLLOWTHROUGH_VAR_DIR": str(tmp_path), "DEBUG": "0", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    return p.stdout.strip().splitlines()[-1] if p.returncode == 0 else p.stderr


def test_in_production_forwarded_proto_counts_only_with_a_configured_proxy(tmp_path):
    assert settings_of({}, tmp_path) == "None"
    assert settings_of({"TRUSTED_PROXIES": "10.0.0.1"}, tmp_path) == "('HTTP_X_FORWARDED_PROTO', 'https')"
    assert "TRUSTED_PROXIES: 'proxy.example.org' is not an IP address" in settings_of(
        {"TRUSTED_PROXIES": "proxy.example.org"}, tmp_path
    )


# --- behind a configured proxy ------------------------------------------------------------------------------


@pytest.fixture
def behind_proxy(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.1", "10.0.1.0/24"]
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    return settings


def via_proxy(forwarded_for: str, peer: str = "10.0.0.1") -> Client:
    return Client(enforce_csrf_checks=True, REMOTE_ADDR=peer, HTTP_X_FORWARDED_FOR=forwarded_for)


def test_behind_a_configured_proxy_each_client_is_counted_by_its_own_address(behind_proxy, member):
    # Two people behind the proxy: one guesses at 20 accounts, the other is not locked out for it.
    guesser = via_proxy("198.51.100.66")
    for n in range(20):
        sign_in(guesser, f"nobody{n}", "guess")
    assert sign_in(via_proxy("198.51.100.66"), "member", PASSWORD).status_code == 429
    other = via_proxy("198.51.100.67")
    assert sign_in(other, "member", PASSWORD).status_code == 302
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"198.51.100.66"}


def test_behind_a_configured_proxy_only_the_hops_it_added_are_believed(behind_proxy):
    # A client's own X-Forwarded-For is kept by proxies, left of what they add: the right-most
    # address that is not a proxy of ours is the client, whatever it claims further left.
    sign_in(via_proxy("1.2.3.4, 198.51.100.70, 10.0.1.9", peer="10.0.0.1"), "nobody", "guess")
    assert AccessAttempt.objects.get().ip_address == "198.51.100.70"
    AccessAttempt.objects.all().delete()
    # Straight from a client (not a proxy of ours): its forwarding headers are ignored.
    sign_in(via_proxy("198.51.100.71", peer="198.51.100.99"), "nobody", "guess")
    assert AccessAttempt.objects.get().ip_address == "198.51.100.99"


def test_behind_a_configured_proxy_its_https_is_believed_and_nobody_elses(behind_proxy):
    behind_proxy.SECURE_SSL_REDIRECT = True
    assert Client(REMOTE_ADDR="10.0.0.1").get("/", HTTP_X_FORWARDED_PROTO="https").status_code == 200
    spoofed = Client(REMOTE_ADDR="198.51.100.5").get("/", HTTP_X_FORWARDED_PROTO="https")
    assert spoofed.status_code == 301


# --- the lockout page, the records, the logs -------------------------------------------------------------------


def test_the_lockout_page_says_for_how_long_and_how_to_get_in(member):
    client = browser("198.51.100.8")
    for _ in range(5):
        locked = sign_in(client, "member", "guess")
    assert locked.status_code == 429
    minutes = django_settings.AXES_COOLOFF_TIME * 60
    assert int(locked["Retry-After"]) == pytest.approx(minutes * 60, abs=5)
    text = alert(locked)
    until = timezone.localtime(AccessAttempt.objects.get().attempt_time + dt.timedelta(minutes=minutes))
    assert f"for {minutes:.0f} minutes, until {until:%H:%M}" in text
    page = locked.content.decode()
    assert 'href="/accounts/login/link/"' in page and 'href="/accounts/password_reset/"' in page


def test_every_refusal_is_logged_and_recorded(member, mail, caplog):
    caplog.set_level(logging.INFO, logger="followthrough.signin")
    client = browser("198.51.100.9")
    for _ in range(6):
        sign_in(client, "member", "guess")
    failures = AccessFailureLog.objects.filter(username="member", ip_address="198.51.100.9")
    assert failures.count() == 6 and failures.filter(locked_out=True).count() == 2
    lines = [r.getMessage() for r in caplog.records if r.name == "followthrough.signin"]
    assert lines.count("sign-in failed for 'member' from 198.51.100.9") == 6
    assert lines.count("sign-in refused for 'member' from 198.51.100.9: locked (account)") == 2
    for _i in range(django_settings.ACCOUNT_MAIL_LIMIT + 1):
        request_reset(browser("198.51.100.9"), "member@example.org")
    assert any("password_reset mail refused for 'member@example.org' from 198.51.100.9" in r.getMessage()
               for r in caplog.records)


def test_a_success_lifts_only_that_accounts_failures_not_the_addresss(member):
    """A guesser with an account of their own cannot wipe the address's count by signing into it."""
    User.objects.create_user("insider", password=PASSWORD)
    client = browser("198.51.100.10")
    for n in range(5):
        for _ in range(4):
            sign_in(client, f"target{n}", "guess")
        assert sign_in(client, "insider", PASSWORD).status_code in (302, 429)
        client.logout()
    assert sign_in(browser("198.51.100.10"), "insider", PASSWORD).status_code == 429


# --- one-time sign-in links ------------------------------------------------------------------------------------


def test_a_sign_in_link_works_once(member, mail):
    client = browser("198.51.100.11")
    ask_for_link(client, "member@example.org")
    path = link_path(mail.messages[0])
    assert "works once, for 15 minutes" in body(mail.messages[0])
    # Opening it (as a mail scanner would) signs nobody in and does not use it up.
    assert client.get(path).status_code == 200 and client.get(path).status_code == 200
    assert signed_in_as(client) is None
    assert use_link(client, path).status_code == 302 and signed_in_as(client) == "member"
    second = use_link(browser("198.51.100.12"), path)
    assert second.status_code == 400 and "This link no longer works" in second.content.decode()


def test_a_sign_in_link_expires_and_cannot_be_altered(member):
    tokens = signin.sign_in_link_tokens
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    uid = urlsafe_base64_encode(force_bytes(member.pk))
    now = tokens._num_seconds(tokens._now())
    old = tokens._make_token_with_timestamp(member, now - django_settings.SIGN_IN_LINK_MINUTES * 60 - 5, tokens.secret)
    fresh = tokens._make_token_with_timestamp(member, now - 60, tokens.secret)
    assert use_link(browser(), f"/accounts/login/link/{uid}/{old}/").status_code == 400
    altered = fresh[:-1] + ("0" if fresh[-1] != "0" else "1")
    assert use_link(browser(), f"/accounts/login/link/{uid}/{altered}/").status_code == 400
    # A password-reset token is not a sign-in link.
    from django.contrib.auth.tokens import default_token_generator

    reset = default_token_generator.make_token(member)
    assert use_link(browser(), f"/accounts/login/link/{uid}/{reset}/").status_code == 400
    client = browser()
    assert use_link(client, f"/accounts/login/link/{uid}/{fresh}/").status_code == 302
    assert signed_in_as(client) == "member"


def test_a_sign_in_link_ends_when_the_person_signs_in_another_way(member, mail):
    ask_for_link(browser(), "member@example.org")
    path = link_path(mail.messages[0])
    assert sign_in(browser(), "member", PASSWORD).status_code == 302
    assert use_link(browser(), path).status_code == 400


def test_a_sign_in_link_is_not_for_an_inactive_account(member, mail):
    ask_for_link(browser(), "member@example.org")
    path = link_path(mail.messages[0])
    User.objects.filter(pk=member.pk).update(is_active=False)
    client = browser()
    assert use_link(client, path).status_code == 400 and signed_in_as(client) is None


def test_asking_for_a_link_tells_nobody_who_has_an_account(member, mail):
    known = ask_for_link(browser(), "member@example.org")
    unknown = ask_for_link(browser(), "nobody@example.org")
    assert known.status_code == unknown.status_code == 302 and known["Location"] == unknown["Location"]
    assert [m["To"] for m in mail.messages] == ["member@example.org"]


def test_the_sign_in_page_offers_the_link(member):
    page = browser().get(LOGIN).content.decode()
    assert 'href="/accounts/login/link/"' in page
