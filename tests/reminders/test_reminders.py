"""Reminders (issue 18): real mail to a real SMTP server on loopback, on days the test sets.

The world: office A (unit UA) with an approved response whose key actions are
overdue long ago, overdue lately, due this month, and due in years, one closed;
office B with an overdue action of its own (nobody of A hears of it). People:
a unit focal point of UA, an office focal point of A, the evaluation office,
and A's head as an address. The clock is the `on` day given to each run.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email
import email.policy
import re

import pytest
from aiosmtpd.controller import Controller
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

from reminders.models import Escalation, Kind, Message, OfficeHead, Preference, Reminder
from reminders.plan import call_due, overdue_days, plan
from reminders.send import run, unsubscribe_token
from tests.processes import EXE, Processes, environment, free_port, shared_database
from tests.tracking.factories import make_action, make_evaluation, make_office, make_recommendation
from tracking.models import Role, RoleAssignment, Unit

User = get_user_model()
DAY = dt.date(2026, 12, 2)  # a Wednesday of ISO week 49, in the fourth quarter


class Inbox:
    """An SMTP server's handler: keeps what it accepts, refuses the addresses in `refuse`."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.refuse: set[str] = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[email.message.EmailMessage]:
        return [m for m in self.messages if m["To"] == address]

    def text(self, message) -> str:
        return message.get_body(preferencelist=("plain",)).get_content()

    def html(self, message) -> str:
        return message.get_body(preferencelist=("html",)).get_content()


@contextlib.contextmanager
def smtp_server(settings=None):
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    if settings is not None:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    inbox.port = port
    try:
        yield inbox
    finally:
        controller.stop()


@pytest.fixture
def smtp(settings):
    settings.SITE_URL = "http://testserver"
    settings.REMINDER_ESCALATION_DAYS = [30, 90]
    settings.REMINDER_DUE_WITHIN_DAYS = 30
    settings.REMINDER_QUARTER_CALLS = ["03-15", "06-15", "09-15", "12-15"]
    settings.REMINDER_CALL_WINDOW_DAYS = 14
    with smtp_server(settings) as inbox:
        yield inbox


def person(username: str, role: str | None = None, **scope):
    user = User.objects.create(username=username, email=f"{username}@example.org")
    if role:
        RoleAssignment.objects.create(user=user, role=role, **scope)
    return user


def build():
    w = type("World", (), {})()
    a, b = make_office("Office A", region="Region One"), make_office("Office B", region="Region Two")
    w.unit = Unit.objects.create(office=a, name="Unit UA")
    unit_b = Unit.objects.create(office=b, name="Unit UB")
    ev = make_evaluation(a, title="Evaluation of A", status="Approved")
    rec = make_recommendation(ev)
    # On DAY (2026-12-02): January 2025 ended 670 days ago; October 2026, 32 days ago.
    w.old = make_action(rec, deadline=dt.date(2025, 1, 1), units=[w.unit], text="OLD overdue action")
    w.late = make_action(rec, deadline=dt.date(2026, 10, 1), units=[w.unit], text="LATE overdue action")
    w.soon = make_action(rec, deadline=dt.date(2026, 12, 1), units=[w.unit], text="SOON due action")
    w.far = make_action(rec, deadline=dt.date(2029, 6, 1), units=[w.unit], text="FAR future action")
    w.done = make_action(rec, deadline=dt.date(2024, 1, 1), units=[w.unit], status="Completed", text="DONE action")
    draft = make_evaluation(a, title="Draft of A", status="Draft")
    make_action(make_recommendation(draft), deadline=dt.date(2024, 1, 1), units=[w.unit], text="DRAFT action")
    ev_b = make_evaluation(b, title="Evaluation of B", status="Approved")
    w.other = make_action(make_recommendation(ev_b), deadline=dt.date(2025, 1, 1), units=[unit_b], text="OTHER office action")
    make_evaluation(b, title="Submitted of B", status="Submitted")
    w.ufp = person("ufp", Role.UNIT_FOCAL_POINT, unit=w.unit)
    w.fp = person("fp", Role.OFFICE_FOCAL_POINT, office=a)
    w.eo = person("eo", Role.EVALUATION_OFFICE)
    w.eo_a = person("eo_a", Role.EVALUATION_OFFICE, office=a)
    OfficeHead.objects.create(office=a, address="head@example.org")
    w.office_a = a
    return w


@pytest.fixture
def world(db):
    return build()


def kinds_to(address: str) -> set[str]:
    return set(Reminder.objects.filter(address=address).values_list("kind", flat=True))


def links(text: str) -> list[str]:
    return re.findall(r"http://testserver(/\S+)", text)


# --- digests ----------------------------------------------------------------------------------------------


def test_each_person_gets_one_digest_of_what_is_theirs_by_real_mail(world, smtp):
    result = run(DAY)
    assert not result.failed
    unit_mail = smtp.to("ufp@example.org")
    digest = [m for m in unit_mail if "overdue" in m["Subject"]]
    assert len(digest) == 1, [m["Subject"] for m in unit_mail]
    text, html = smtp.text(digest[0]), smtp.html(digest[0])
    assert "OLD overdue action" in text and "LATE overdue action" in text and "SOON due action" in text
    assert "overdue 670 days" in text and "overdue 32 days" in text
    for absent in ("FAR future", "DONE action", "DRAFT action", "OTHER office"):
        assert absent not in text and absent not in html
    assert digest[0]["Subject"] == "Key actions: 2 overdue, 1 due soon"
    assert '<a href="http://testserver/actions/' in html
    # Each link opens the right action's progress form, for the person it was sent to.
    client = Client()
    client.force_login(world.ufp)
    update_links = [path for path in links(text) if path.startswith("/actions/")]
    assert update_links == [f"/actions/{a.pk}/update/" for a in (world.old, world.late, world.soon)]
    page = client.get(update_links[0])
    assert page.status_code == 200 and "OLD overdue action" in page.content.decode()

    # The office focal point's digest and escalation: one mail.
    office = smtp.to("fp@example.org")
    assert len(office) == 1
    assert office[0]["Subject"].strip() == (
        "Your office: 1 responses to draft or submit, 2 overdue key actions · Escalation: 2 key actions long overdue")
    text = smtp.text(office[0])
    assert "== Office focal point digest ==" in text and "== Escalation of overdue key actions ==" in text
    assert "Draft of A" in text and "OLD overdue action" in text and "Submitted of B" not in text
    assert "OTHER office" not in text

    (summary,) = [m for m in smtp.to("eo_a@example.org") if m["Subject"].startswith("Weekly")]
    text = smtp.text(summary)
    # Newly overdue this week: none (LATE went overdue on 1 November); by age, A's only (the scope).
    assert "Newly overdue" not in text and "> 365 days overdue: 1" in text and "1–90 days overdue: 1" in text
    (everything,) = [m for m in smtp.to("eo@example.org") if m["Subject"].startswith("Weekly")]
    assert "> 365 days overdue: 2" in smtp.text(everything)  # every office
    assert "Submitted of B" in smtp.text(everything) and "Submitted of B" not in text
    # Every message is recorded as sent, with the key actions it named.
    assert Message.objects.exclude(status=Message.Status.SENT).count() == 0
    assert set(Message.objects.get(address="ufp@example.org", reminders__kind=Kind.UNIT_DIGEST).actions.all()) == {
        world.old, world.late, world.soon}
    assert Message.objects.count() == 5 and Reminder.objects.count() == 6


def test_newly_overdue_actions_are_in_the_weekly_summary(world, smtp):
    run(dt.date(2026, 11, 2))  # October ended yesterday: LATE is new this week
    (summary,) = [m for m in smtp.to("eo@example.org") if m["Subject"].startswith("Weekly")]
    assert summary["Subject"] == "Weekly summary: 1 newly overdue, 1 responses awaiting approval"
    assert "Newly overdue this week" in smtp.text(summary) and "LATE overdue action" in smtp.text(summary)


def test_completions_awaiting_verification_are_in_the_weekly_summary(world, smtp, monkeypatch):
    """The evaluation office is told of the completions waiting for it: the oldest claims by name, the rest counted."""
    from reminders import plan as planning
    from tracking.models import KeyAction
    from tracking.models.accountability import VerificationState

    KeyAction.objects.filter(pk=world.done.pk).update(verification=VerificationState.AWAITING)
    run(DAY)
    (summary,) = [m for m in smtp.to("eo@example.org") if m["Subject"].startswith("Weekly")]
    assert summary["Subject"] == "Weekly summary: 0 newly overdue, 1 responses awaiting approval, 1 completions awaiting verification"
    text = smtp.text(summary)
    assert "Completed key actions awaiting verification" in text and "DONE action" in text
    assert f"http://testserver/actions/{world.done.pk}/" in text  # its page, where the verification panel is

    # More than are named: the rest counted, with the verification list's link.
    monkeypatch.setattr(planning, "VERIFY_LISTED", 0)
    run(DAY + dt.timedelta(days=7))
    (later,) = [m for m in smtp.to("eo@example.org") if m["Subject"].startswith("Weekly")][1:]
    text = smtp.text(later)
    assert "and 1 more completion awaiting verification" in text and "http://testserver/workspace/verification/" in text
    assert "DONE action" not in text


def test_a_second_run_sends_nothing_again_and_the_next_period_does(world, smtp):
    run(DAY)
    first = len(smtp.messages)
    assert first > 0
    again = run(DAY)
    assert len(smtp.messages) == first and again.claimed == 0 and again.already == len(again.planned)
    # The next day: the daily digests again; the weekly summary and escalations not.
    run(DAY + dt.timedelta(days=1))
    new = smtp.messages[first:]
    assert sorted(m["To"] for m in new) == ["fp@example.org", "ufp@example.org"]
    assert Reminder.objects.filter(address="eo@example.org", kind=Kind.WEEKLY_SUMMARY).count() == 1
    # Next week: the summary again.
    run(DAY + dt.timedelta(days=7))
    assert Reminder.objects.filter(address="eo@example.org", kind=Kind.WEEKLY_SUMMARY).count() == 2


def test_weekly_digests_for_who_asks_for_them(world, smtp):
    Preference.objects.create(address="ufp@example.org", frequency="weekly")
    for day in range(5):  # Wednesday to Sunday of week 49
        run(DAY + dt.timedelta(days=day))
    assert Reminder.objects.filter(address="ufp@example.org", kind=Kind.UNIT_DIGEST).count() == 1
    run(dt.date(2026, 12, 7))  # Monday of week 50
    assert list(
        Reminder.objects.filter(address="ufp@example.org", kind=Kind.UNIT_DIGEST).order_by("period").values_list("period", flat=True)
    ) == ["2026-W49", "2026-W50"]


# --- escalation -------------------------------------------------------------------------------------------


def escalated() -> set[tuple[str, int, str]]:
    return set(Escalation.objects.values_list("key_action__text", "level", "address"))


def test_escalation_levels_each_once_per_action_and_level(world, smtp):
    run(dt.date(2026, 11, 30))  # LATE: 30 days overdue, not more than 30: not yet
    assert ("LATE overdue action", 1, "fp@example.org") not in escalated()
    assert ("OLD overdue action", 1, "fp@example.org") in escalated()
    assert ("OLD overdue action", 2, "head@example.org") in escalated()
    head = smtp.to("head@example.org")
    assert len(head) == 1 and "OLD overdue action" in smtp.text(head[0]) and "LATE" not in smtp.text(head[0])

    run(dt.date(2026, 12, 1))  # 31 days: LATE goes to the office focal point, once
    assert ("LATE overdue action", 1, "fp@example.org") in escalated()
    fp_second = Reminder.objects.get(address="fp@example.org", kind=Kind.ESCALATION, period="2026-12-01").message
    assert set(fp_second.escalations.values_list("key_action__text", flat=True)) == {"LATE overdue action"}  # OLD: told already
    for day in range(2, 20):
        run(dt.date(2026, 12, day))
    assert Reminder.objects.filter(address="fp@example.org", kind=Kind.ESCALATION).count() == 2
    assert Reminder.objects.filter(address="head@example.org", kind=Kind.ESCALATION).count() == 1

    run(dt.date(2027, 1, 30))  # LATE: 91 days: to the head, once; the office focal point hears nothing new
    assert ("LATE overdue action", 2, "head@example.org") in escalated()
    assert Reminder.objects.filter(address="fp@example.org", kind=Kind.ESCALATION).count() == 2
    run(dt.date(2027, 1, 31))  # SOON (December 2026): 31 days, to the office focal point
    assert Reminder.objects.filter(address="head@example.org", kind=Kind.ESCALATION).count() == 2
    assert Reminder.objects.filter(address="fp@example.org", kind=Kind.ESCALATION).count() == 3
    assert escalated() == {
        ("OLD overdue action", 1, "fp@example.org"), ("OLD overdue action", 2, "head@example.org"),
        ("LATE overdue action", 1, "fp@example.org"), ("LATE overdue action", 2, "head@example.org"),
        ("SOON due action", 1, "fp@example.org"),
    }
    assert not any("OTHER" in text for text, *_ in escalated())  # office B has no focal point nor head


def test_the_age_of_an_overdue_action():
    assert overdue_days(dt.date(2026, 10, 1), dt.date(2026, 11, 1)) == 1
    assert overdue_days(dt.date(2026, 10, 1), dt.date(2026, 12, 2)) == 32
    assert overdue_days(dt.date(2024, 2, 1), dt.date(2024, 3, 1)) == 1  # a leap February


# --- the quarterly call -----------------------------------------------------------------------------------


def test_the_quarterly_call_goes_once_per_quarter_with_one_link_per_open_action(world, smtp):
    assert call_due(dt.date(2026, 12, 14)) is None
    run(dt.date(2026, 12, 14))
    assert Kind.QUARTERLY_CALL not in kinds_to("ufp@example.org")
    run(dt.date(2026, 12, 15))
    (call,) = [m for m in smtp.to("ufp@example.org") if "Quarterly" in m["Subject"]]
    assert call["Subject"].strip() == "Key actions: 2 overdue, 1 due soon · Quarterly call for progress: 4 open key actions"
    text = smtp.text(call).split("== Quarterly call for progress ==")[1]  # with the day's digest, in one mail
    assert links(text)[:4] == [f"/actions/{a.pk}/update/" for a in (world.old, world.late, world.soon, world.far)]
    assert "DONE action" not in text and "2026-Q4" in text
    run(dt.date(2026, 12, 16))
    run(dt.date(2026, 12, 29))  # within the window: the same quarter's call, not again
    run(dt.date(2027, 1, 5))  # outside it
    assert Reminder.objects.filter(kind=Kind.QUARTERLY_CALL, address="ufp@example.org").count() == 1
    run(dt.date(2027, 3, 15))
    assert list(Reminder.objects.filter(kind=Kind.QUARTERLY_CALL).order_by("period").values_list("period", flat=True)) == [
        "2026-Q4", "2027-Q1"]
    assert Kind.QUARTERLY_CALL not in kinds_to("fp@example.org")  # to units


def test_a_missed_call_day_is_made_up_within_the_window(settings):
    settings.REMINDER_QUARTER_CALLS = ["01-10", "04-10", "07-10", "10-10"]
    settings.REMINDER_CALL_WINDOW_DAYS = 14
    assert call_due(dt.date(2027, 1, 9)) is None
    assert call_due(dt.date(2027, 1, 24)) == dt.date(2027, 1, 10)
    assert call_due(dt.date(2027, 1, 25)) is None
    settings.REMINDER_QUARTER_CALLS = ["12-31"]
    assert call_due(dt.date(2027, 1, 3)) == dt.date(2026, 12, 31)  # across the new year


# --- failures ---------------------------------------------------------------------------------------------


def test_a_refused_recipient_does_not_stop_the_others_and_goes_on_the_next_run(world, smtp, capsys):
    smtp.refuse = {"fp@example.org"}
    result = run(DAY)
    assert {m["To"] for m in smtp.messages} == {"ufp@example.org", "eo@example.org", "eo_a@example.org", "head@example.org"}
    failed = Message.objects.filter(address="fp@example.org")
    assert failed.count() == 1 and set(failed.values_list("status", flat=True)) == {Message.Status.FAILED}
    assert all("550" in m.error for m in failed) and len(result.failed) == 1
    assert Message.objects.filter(status=Message.Status.SENT).count() == 4

    call_command("remind", "--dry-run", "--today", DAY.isoformat())
    assert "Tried again: Your office: 1 responses to draft or submit" in capsys.readouterr().out
    smtp.refuse = set()
    before = len(smtp.messages)
    result = run(DAY)  # the same day: nothing new is planned, the failed ones go
    assert result.claimed == 0 and len(result.sent) == 1
    new = smtp.messages[before:]
    assert [m["To"] for m in new] == ["fp@example.org"]
    assert set(failed.values_list("status", "attempts")) == {(Message.Status.SENT, 2)}
    run(DAY)
    assert len(smtp.messages) == before + 1


def test_a_send_left_unfinished_by_a_crash_goes_again_after_the_lease(world, smtp, settings):
    from django.utils import timezone

    settings.REMINDER_SENDING_LEASE_SECONDS = 600
    smtp.refuse = set(User.objects.values_list("email", flat=True)) | {"head@example.org"}
    run(DAY)
    # As if a run had taken them and died: being sent, recently, then long ago.
    Message.objects.update(status=Message.Status.SENDING, claimed_at=timezone.now())
    smtp.refuse = set()
    run(DAY)
    assert smtp.messages == []
    Message.objects.update(claimed_at=timezone.now() - dt.timedelta(seconds=601))
    run(DAY)
    assert len(smtp.messages) == Message.objects.count() == 5


# --- two runs at once, as two servers would ---------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_two_parallel_runs_send_each_reminder_once(tmp_path):
    with shared_database(tmp_path) as url:
        w = build()
        # More people, so that the two runs overlap.
        for n in range(12):
            person(f"ufp{n}", Role.UNIT_FOCAL_POINT, unit=w.unit)
        with smtp_server() as inbox:
            env = environment(url, tmp_path, EMAIL_HOST="127.0.0.1", EMAIL_PORT=str(inbox.port), SITE_URL="http://testserver",
                              REMINDER_TODAY=DAY.isoformat())
            procs = Processes(tmp_path)
            try:
                runs = [procs.start(f"remind-{n}", [str(EXE), "remind"], env) for n in range(2)]
                for p in runs:
                    assert p.wait(timeout=120) == 0, procs.logs()
            finally:
                procs.stop_all()
            expected = Message.objects.count()
            assert expected == 12 + 5  # the 12 extra digests and the world's 5 (6 reminders)
            assert Reminder.objects.count() == 12 + 6
            addresses = sorted((m["To"], m["Subject"]) for m in inbox.messages)
            assert len(addresses) == len(set(addresses)) == expected, procs.logs()
            assert Message.objects.filter(status=Message.Status.SENT).count() == expected
            # Both runs did part of the claiming or found it done: one log says what the other did not.
            logs = procs.logs()
            assert logs.count("Reminders for 2026-12-02") == 2


# --- choosing, unsubscribing, language --------------------------------------------------------------------


def test_one_click_unsubscribe_without_signing_in(world, smtp):
    run(DAY)
    (digest,) = [m for m in smtp.to("ufp@example.org") if m["Subject"].startswith("Key actions")]
    assert digest["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = re.fullmatch(r"<http://testserver(/\S+)>", digest["List-Unsubscribe"].strip()).group(1)
    assert link in smtp.text(digest)
    anonymous = Client(enforce_csrf_checks=True)
    page = anonymous.get(link)
    assert page.status_code == 200 and "unit focal point digest" in page.content.decode()
    assert not Preference.objects.filter(address="ufp@example.org").exists()  # a GET changes nothing
    # What a mail client does with List-Unsubscribe-Post: a POST without cookies nor a form token.
    done = anonymous.post(link, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded")
    assert done.status_code == 200 and "no longer receives" in done.content.decode()
    pref = Preference.objects.get(address="ufp@example.org")
    assert not pref.unit_digest and pref.quarterly_call  # that kind only
    run(DAY + dt.timedelta(days=1))
    assert Reminder.objects.filter(address="ufp@example.org", kind=Kind.UNIT_DIGEST).count() == 1
    assert Reminder.objects.filter(address="fp@example.org", kind=Kind.OFFICE_DIGEST).count() == 2


def test_a_tampered_unsubscribe_link_is_refused(world):
    token = unsubscribe_token("ufp@example.org", "all")
    assert Client().post(f"/notifications/unsubscribe/{token[:-2]}xx/").status_code == 404
    # Another address's payload under this signature.
    forged = unsubscribe_token("fp@example.org", "all").split(":")[0] + ":" + token.split(":")[1]
    assert Client().get(f"/notifications/unsubscribe/{forged}/").status_code == 404
    assert Client().post(f"/notifications/unsubscribe/{token}/").status_code == 200
    assert not Preference.objects.get(address="ufp@example.org").wants(Kind.ESCALATION)


def test_mail_in_the_persons_language(world, smtp):
    Preference.objects.create(address="ufp@example.org", language="fr")
    run(DAY)
    (digest,) = [m for m in smtp.to("ufp@example.org") if "2" in m["Subject"]]
    assert digest["Content-Language"] == "fr"
    text = smtp.text(digest)
    assert "octobre 2026" in text and "janvier 2025" in text  # Django's own words are translated
    (office,) = smtp.to("fp@example.org")
    assert "January 2025" in smtp.text(office) and "janvier" not in smtp.text(office)


def test_the_notifications_page_lists_what_was_sent_and_what_is_pending(world, smtp, settings):
    settings.REMINDER_TODAY = DAY.isoformat()
    client = Client()
    client.force_login(world.ufp)
    page = client.get("/notifications/").content.decode()
    assert "Unit focal point digest" in page and "Nothing is waiting" not in page  # pending
    assert "No reminder has been sent to you yet" in page
    run(DAY)
    page = client.get("/notifications/").content.decode()
    assert "Nothing is waiting to be sent to you today" in page
    assert "Key actions: 2 overdue, 1 due soon" in page
    assert "Your office" not in page  # another person's messages
    # Choices are saved for the person's address.
    response = client.post("/notifications/preferences/", {"frequency": "weekly", "unit_digest": "on", "language": "es"})
    assert response.status_code == 302
    pref = Preference.objects.get(address="ufp@example.org")
    assert pref.frequency == "weekly" and pref.language == "es" and pref.unit_digest and not pref.quarterly_call
    assert client.post("/notifications/preferences/", {"frequency": "hourly"}).status_code == 302
    assert Preference.objects.get(address="ufp@example.org").frequency == "weekly"  # refused, kept
    assert Client().get("/notifications/").status_code == 302  # sign in first


def test_the_action_page_says_when_it_was_last_reminded(world, smtp):
    run(DAY)
    client = Client()
    client.force_login(world.eo)
    page = client.get(f"/actions/{world.old.pk}/").content.decode()
    assert re.search(r'id="last-reminded">Last reminded \d+ \w+ \d{4}', page)
    assert 'id="last-reminded"' not in client.get(f"/actions/{world.far.pk}/").content.decode()  # never named
    assert 'id="last-reminded"' not in Client().get(f"/actions/{world.old.pk}/").content.decode()  # not public


# --- the command and the schedule -------------------------------------------------------------------------


def test_dry_run_lists_what_to_whom_and_why_and_sends_nothing(world, smtp, capsys):
    call_command("remind", "--dry-run", "--today", DAY.isoformat())
    out = capsys.readouterr().out
    assert "Unit focal point digest to ufp@example.org (2026-12-02), as unit focal point of Unit UA" in out
    assert "Escalation of overdue key actions to head@example.org (2026-12-02), as office head" in out
    assert "1 (670 days overdue)" in out
    assert "Dry run for 2026-12-02: 6 reminders planned, 0 of them already claimed; nothing sent." in out
    assert smtp.messages == [] and Message.objects.count() == 0
    call_command("remind", "--today", DAY.isoformat())
    assert len(smtp.messages) == 5  # 6 reminders, one mail per person
    call_command("remind", "--dry-run", "--today", DAY.isoformat())
    assert "4 reminders planned, 4 of them already claimed" in capsys.readouterr().out


def test_a_bad_day_is_refused_clearly(world):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--today must be a date like 2026-12-02, not '2026-13-01'"):
        call_command("remind", "--today", "2026-13-01")


def test_the_worker_runs_the_reminders_daily():
    from jobs import schedule
    from jobs.tasks import send_reminders

    entry = {p.name: p for p in schedule.registered()}[send_reminders.name]
    assert (entry.task, entry.every, entry.at) == (send_reminders, dt.timedelta(days=1), dt.time(6, 0))


def test_the_daily_job_sends_the_days_reminders(world, smtp, settings):
    from jobs.tasks import send_reminders

    settings.REMINDER_TODAY = DAY.isoformat()
    assert send_reminders.call() == {"planned": 6, "already": 0, "claimed": 6, "sent": 5, "failed": 0}
    assert send_reminders.call()["sent"] == 0  # run again (a retried job): nothing twice
    assert len(smtp.messages) == 5


def test_a_language_that_is_not_offered_is_refused(world):
    from reminders.preferences import save_preferences

    with pytest.raises(ValueError, match="language 'xx' is not one of en, fr, es"):
        save_preferences("ufp@example.org", {"language": "xx"})
    assert not Preference.objects.exists()


def test_nobody_without_a_role_nor_inactive_is_told(world, smtp):
    world.fp.is_active = False
    world.fp.save()
    person("nobody")
    planned = plan(DAY)
    assert {p.address for p in planned} == {"ufp@example.org", "eo@example.org", "eo_a@example.org", "head@example.org"}


def test_planning_costs_the_same_queries_however_many_actions(world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            planned = plan(DAY)
        assert planned
        return len(ctx)

    before = queries()
    ev = make_evaluation(world.office_a, title="More of A", status="Approved")
    for n in range(8):
        rec = make_recommendation(ev)
        make_action(rec, deadline=dt.date(2025, 1 + n, 1), units=[world.unit])
        make_evaluation(world.office_a, title=f"Draft {n}", status="Draft")
    assert queries() == before


@pytest.mark.django_db
@pytest.mark.parametrize("on", [dt.date(2026, 12, 1), dt.date(2026, 3, 31), dt.date(2024, 3, 1)])
def test_the_summary_s_age_counts_are_each_overdue_action_s_age_bucket(on):
    """Counted in the database, the buckets hold what `age_bucket` of each action's days overdue says, edges included."""
    from collections import Counter

    from reminders.plan import age_bucket, age_counts
    from tracking.models import KeyAction
    from tracking.models.responses import overdue_q

    rec = make_recommendation(make_evaluation(make_office("Kenya", "CO")))
    for days in range(1, 800, 7):
        make_action(rec, deadline=on - dt.timedelta(days=days), status="Initiated")
    overdue = KeyAction.objects.filter(overdue_q(on))
    expected = Counter(age_bucket(overdue_days(d, on)) for d in overdue.values_list("deadline", flat=True))
    assert age_counts(overdue, on) == dict(expected)
    assert len(expected) == 4
