"""Who is told what, on a given day: the reminders a run would send, computed and not yet sent.

Thin over the domain: the overdue and due rules are tracking.models.responses'
(`overdue_q`, `due_q`), and what each person is told of is what they may read
(`restrict`): a unit focal point hears of the key actions they report on, an
office focal point of their office's, the evaluation office of the offices in
its review scope. Escalations are the installation's own reading (the system
actor): an overdue key action of an approved response is public anyway.

A planned reminder is keyed (address, kind, period): daily digests by the day,
weekly ones by the ISO week, the quarterly call by the quarter, escalations by
the day they were found (each key action and level once per address, kept in
`Escalation`). A person receives nothing when there is nothing to say.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import formats, translation
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from tracking.actor import Actor
from tracking.models import KeyAction, ManagementResponse, Office, Role, RoleAssignment
from tracking.models.accountability import VerificationState
from tracking.models.responses import ActionStatus, ResponseStatus, due_q, month_start, overdue_q
from tracking.permissions import EDITABLE_STATUSES, UPDATE, Access, restrict

from .models import Escalation, Frequency, Kind, OfficeHead, Preference, Reminder

User = get_user_model()


def reminder_today() -> dt.date:
    """The day reminders are computed for: REMINDER_TODAY when set (to try them on another day), else today."""
    from django.core.exceptions import ImproperlyConfigured

    value = getattr(settings, "REMINDER_TODAY", "")
    if not value:
        from tracking.models.responses import today

        return today()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ImproperlyConfigured(f"REMINDER_TODAY must be a date like 2026-12-02, not {value!r}") from None


# --- periods and ages -------------------------------------------------------------------------


def week_of(day: dt.date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def quarter_of(day: dt.date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def digest_period(day: dt.date, frequency: str) -> str:
    return week_of(day) if frequency == Frequency.WEEKLY else day.isoformat()


def call_due(day: dt.date) -> dt.date | None:
    """The quarterly call date this day answers to (on it or within the window after it), or None."""
    window = dt.timedelta(days=settings.REMINDER_CALL_WINDOW_DAYS)
    latest = None
    for spec in settings.REMINDER_QUARTER_CALLS:
        month, dom = (int(v) for v in spec.split("-"))
        for year in (day.year - 1, day.year):
            try:
                date = dt.date(year, month, dom)
            except ValueError:  # 29 February in another year
                continue
            if date <= day < date + window + dt.timedelta(days=1) and (latest is None or date > latest):
                latest = date
    return latest


def end_of_month(day: dt.date) -> dt.date:
    return (month_start(day) + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)


def overdue_days(deadline: dt.date, on: dt.date) -> int:
    """How long an overdue key action has been overdue: days since its deadline month ended."""
    return (on - end_of_month(deadline)).days


# Completions awaiting verification named one by one in the weekly summary (the rest counted).
VERIFY_LISTED = 10


# Overdue key actions by age: at most N days since the deadline month ended, and the rest.
AGE_LIMITS = ((90, "1–90"), (180, "91–180"), (365, "181–365"))
AGE_OVER = "> 365"
AGE_BUCKETS = (*(label for _, label in AGE_LIMITS), AGE_OVER)


def age_counts(overdue, on: dt.date) -> dict[str, int]:
    """{`age_bucket`: how many of the `overdue` key actions}, counted in the database: "at most N days since
    the deadline month ended" is "the deadline is in the month of (on - N days) or later"."""
    edges = [month_start(on - dt.timedelta(days=n)) for n, _ in AGE_LIMITS]
    counts, newer = {}, None
    for i, edge in enumerate(edges):
        counts[f"b{i}"] = Count("pk", filter=Q(deadline__gte=edge) & (Q(deadline__lt=newer) if newer else Q()))
        newer = edge
    counts[f"b{len(edges)}"] = Count("pk", filter=Q(deadline__lt=newer))
    row = overdue.aggregate(**counts)
    return {label: row[f"b{i}"] for i, label in enumerate(AGE_BUCKETS) if row[f"b{i}"]}


def age_bucket(days: int) -> str:
    for limit, label in AGE_LIMITS:
        if days <= limit:
            return label
    return AGE_OVER


# --- what is planned --------------------------------------------------------------------------


@dataclass
class Planned:
    address: str
    user_id: int | None
    kind: str
    period: str
    reason: str
    language: str
    # Template context: sections of items (each item a line and a link); counts for the subject.
    sections: list[dict] = field(default_factory=list)
    action_ids: list[int] = field(default_factory=list)
    escalations: list[tuple[int, int]] = field(default_factory=list)  # (key action id, level)
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def kind_label(self) -> str:
        return str(Kind(self.kind).label)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.address, self.kind, self.period)

    def summary(self) -> str:
        """One line for `--dry-run` and the notifications page: what, to whom, why."""
        items = "; ".join(
            f"{s['heading']}: " + ", ".join(i["short"] for i in s["items"]) for s in self.sections if s["items"]
        )
        return f"{Kind(self.kind).label} to {self.address} ({self.period}), as {self.reason} — {items}"


def absolute(path: str) -> str:
    return settings.SITE_URL + path


def _action_item(action: KeyAction, on: dt.date, link: str = "web:action") -> dict:
    parts = [str(action.evaluation.office), Truncator(action.evaluation.title).chars(80)]
    if action.deadline:
        parts.append(_("deadline %(month)s") % {"month": formats.date_format(action.deadline, "YEAR_MONTH_FORMAT")})
    parts.append(str(action.status))
    short = action.code
    if action.is_overdue(on):
        days = overdue_days(action.deadline, on)
        parts.append(ngettext("overdue %(days)d day", "overdue %(days)d days", days) % {"days": days})
        short = f"{action.code} ({ngettext('%(days)d day overdue', '%(days)d days overdue', days) % {'days': days}})"
    return {
        "label": _("Key action %(number)s: %(text)s") % {"number": action.code, "text": Truncator(action.text).chars(140)},
        "detail": " · ".join(parts),
        "url": absolute(reverse(link, args=[action.pk])),
        "path": reverse(link, args=[action.pk]),
        "short": f"{Truncator(action.evaluation.title).chars(40)} — {short}",
    }


def _response_item(response: ManagementResponse) -> dict:
    evaluation = response.evaluation
    return {
        "label": Truncator(evaluation.title).chars(140),
        "detail": f"{evaluation.office} · {ResponseStatus(response.status).label}",
        "url": absolute(reverse("web:response_edit", args=[response.pk])),
        "path": reverse("web:response_edit", args=[response.pk]),
        "short": f"response to {Truncator(evaluation.title).chars(40)} ({response.status})",
    }


def _actions(qs):
    return list(qs.select_related("evaluation__office", "recommendation").order_by("deadline", "evaluation_id", "position", "pk"))


class Planner:
    """Computes the reminders of one day. `only` limits it to one address (the notifications page)."""

    def __init__(self, on: dt.date, only: str | None = None):
        self.on = on
        self.only = only.strip().lower() if only else None
        self.preferences = {p.address: p for p in self._preferences()}
        self._office_names: dict[int, str] | None = None

    @property
    def office_names(self) -> dict[int, str]:
        if self._office_names is None:
            self._office_names = dict(Office.objects.values_list("pk", "name"))
        return self._office_names

    def _preferences(self):
        qs = Preference.objects.all()
        return qs.filter(address=self.only) if self.only else qs

    def preference(self, address: str) -> Preference:
        return self.preferences.get(address) or Preference(address=address)

    def _people(self, role: str) -> dict[int, tuple]:
        """Active people with an address holding `role`: user id -> (user, address)."""
        rows = RoleAssignment.objects.filter(role=role, user__is_active=True).exclude(user__email="")
        if self.only:
            rows = rows.filter(user__email__iexact=self.only)
        people = {}
        for a in rows.select_related("user").order_by("user_id"):
            people[a.user_id] = (a.user, a.user.email.strip().lower())
        return people

    def _make(self, kind: str, address: str, user_id: int | None, reason: str, period: str) -> Planned | None:
        pref = self.preference(address)
        if not pref.wants(kind):
            return None
        language = pref.language or settings.LANGUAGE_CODE
        return Planned(address=address, user_id=user_id, kind=kind, period=period, reason=reason, language=language)

    def plan(self) -> list[Planned]:
        planned: list[Planned] = []
        for make in (self.unit_digests, self.office_digests, self.weekly_summaries, self.escalations, self.quarterly_calls):
            planned.extend(make())
        return planned

    # Each builder renders its words in the recipient's language.

    def unit_digests(self) -> list[Planned]:
        out = []
        soon = due_q(self.on + dt.timedelta(days=settings.REMINDER_DUE_WITHIN_DAYS)) & ~overdue_q(self.on)
        for user, address in self._people(Role.UNIT_FOCAL_POINT).values():
            access = Access.of(user)
            pref = self.preference(address)
            p = self._make(Kind.UNIT_DIGEST, address, user.pk, "", digest_period(self.on, pref.frequency))
            if p is None:
                continue
            mine = restrict(user, KeyAction, UPDATE).filter(units__in=sorted(access.focal_unit_ids)).open().distinct()
            both = _actions(mine.filter(overdue_q(self.on) | soon))  # one query, split by the same rule
            overdue = [a for a in both if a.is_overdue(self.on)]
            due = [a for a in both if not a.is_overdue(self.on)]
            if not overdue and not due:
                continue
            with translation.override(p.language):
                units = ", ".join(sorted(str(a.unit) for a in access.assignments if a.role == Role.UNIT_FOCAL_POINT))
                p.reason = _("unit focal point of %(units)s") % {"units": units}
                p.sections = [
                    {"heading": _("Overdue"), "items": [_action_item(a, self.on, "web:action_update") for a in overdue]},
                    {
                        "heading": _("Due within %(days)d days") % {"days": settings.REMINDER_DUE_WITHIN_DAYS},
                        "items": [_action_item(a, self.on, "web:action_update") for a in due],
                    },
                ]
            p.action_ids = [a.pk for a in overdue + due]
            p.counts = {"overdue": len(overdue), "due": len(due)}
            out.append(p)
        return out

    def office_digests(self) -> list[Planned]:
        out = []
        for user, address in self._people(Role.OFFICE_FOCAL_POINT).values():
            access = Access.of(user)
            offices = sorted(access.focal_office_ids)
            pref = self.preference(address)
            p = self._make(Kind.OFFICE_DIGEST, address, user.pk, "", digest_period(self.on, pref.frequency))
            if p is None:
                continue
            responses = list(
                restrict(user, ManagementResponse)
                .filter(status__in=EDITABLE_STATUSES, evaluation__office_id__in=offices)
                .select_related("evaluation__office")
                .order_by("evaluation__title", "pk")
            )
            overdue = _actions(
                restrict(user, KeyAction, UPDATE).filter(evaluation__office_id__in=offices).filter(overdue_q(self.on))
            )
            if not responses and not overdue:
                continue
            with translation.override(p.language):
                names = ", ".join(sorted(self.office_names[pk] for pk in offices))
                p.reason = _("office focal point of %(offices)s") % {"offices": names}
                p.sections = [
                    {"heading": _("Management responses to draft or submit"), "items": [_response_item(r) for r in responses]},
                    {"heading": _("Overdue key actions of your office"), "items": [_action_item(a, self.on) for a in overdue]},
                ]
            p.action_ids = [a.pk for a in overdue]
            p.counts = {"responses": len(responses), "overdue": len(overdue)}
            out.append(p)
        return out

    def weekly_summaries(self) -> list[Planned]:
        out = []
        week_ago = self.on - dt.timedelta(days=7)
        for user, address in self._people(Role.EVALUATION_OFFICE).values():
            access = Access.of(user)
            p = self._make(Kind.WEEKLY_SUMMARY, address, user.pk, "", week_of(self.on))
            if p is None:
                continue
            scope = access.review_scope("evaluation__office")
            approved = restrict(user, KeyAction).filter(evaluation__management_response__status=ResponseStatus.APPROVED)
            overdue_all = approved.filter(scope).filter(overdue_q(self.on))
            new = _actions(overdue_all.exclude(overdue_q(week_ago)))
            buckets = age_counts(overdue_all, self.on)
            awaiting = list(
                restrict(user, ManagementResponse)
                .filter(status=ResponseStatus.SUBMITTED)
                .filter(scope)
                .select_related("evaluation__office")
                .order_by("submitted_at", "pk")
            )
            # Completions the units claimed, waiting for the evaluation office to accept their evidence: the oldest
            # claims listed, the rest counted (the verification list has them all).
            verifying = approved.filter(scope).filter(status=ActionStatus.COMPLETED, verification=VerificationState.AWAITING)
            claims = verifying.count()
            oldest = list(
                verifying.select_related("evaluation__office", "recommendation").order_by("updated_at", "pk")[:VERIFY_LISTED]
            ) if claims else []
            if not new and not awaiting and not buckets and not claims:
                continue
            with translation.override(p.language):
                p.reason = _("evaluation office")
                age = [
                    {"label": _("%(bucket)s days overdue: %(count)d") % {"bucket": b, "count": buckets[b]}, "detail": "",
                     "url": absolute(reverse("web:actions") + "?overdue=1"), "path": reverse("web:actions") + "?overdue=1",
                     "short": f"{b}: {buckets[b]}"}
                    for b in AGE_BUCKETS if buckets.get(b)
                ]
                awaiting_items = []
                for r in awaiting:
                    item = _response_item(r)
                    item["path"] = reverse("web:evaluation", args=[r.evaluation_id])
                    item["url"] = absolute(item["path"])
                    awaiting_items.append(item)
                to_verify = [_action_item(a, self.on) for a in oldest]  # its page has the verification panel
                if claims > len(oldest):
                    path = reverse("web:verification")
                    more = claims - len(oldest)
                    to_verify.append({
                        "label": ngettext("and %(count)d more completion awaiting verification",
                                          "and %(count)d more completions awaiting verification", more) % {"count": more},
                        "detail": "", "url": absolute(path), "path": path, "short": f"+{more}",
                    })
                p.sections = [
                    {"heading": _("Newly overdue this week"), "items": [_action_item(a, self.on) for a in new]},
                    {"heading": _("Management responses awaiting approval"), "items": awaiting_items},
                    {"heading": _("Completed key actions awaiting verification"), "items": to_verify},
                    {"heading": _("Overdue key actions by age"), "items": age},
                ]
            p.action_ids = [a.pk for a in new]
            p.counts = {"new": len(new), "awaiting": len(awaiting), "verify": claims, "overdue": sum(buckets.values())}
            out.append(p)
        return out

    def escalations(self) -> list[Planned]:
        first, second = settings.REMINDER_ESCALATION_DAYS
        system = Actor.system("reminders")
        overdue = [
            a
            for a in _actions(
                restrict(system, KeyAction)
                .filter(evaluation__management_response__status=ResponseStatus.APPROVED)
                .filter(overdue_q(self.on))
            )
            if overdue_days(a.deadline, self.on) > first
        ]
        if not overdue:
            return []
        offices = {a.evaluation.office_id for a in overdue}
        focal: dict[int, list[tuple]] = defaultdict(list)
        rows = RoleAssignment.objects.filter(
            role=Role.OFFICE_FOCAL_POINT, office_id__in=offices, user__is_active=True
        ).exclude(user__email="").select_related("user")
        for a in rows.order_by("user_id"):
            focal[a.office_id].append((a.user.pk, a.user.email.strip().lower()))
        heads = {h.office_id: h for h in OfficeHead.objects.filter(office_id__in=offices).select_related("user")}
        done = set(
            Escalation.objects.filter(key_action_id__in=[a.pk for a in overdue]).values_list("key_action_id", "level", "address")
        )
        # address -> (user id, [(action, level)])
        found: dict[str, tuple[int | None, list[tuple[KeyAction, int]]]] = {}
        for action in overdue:
            days = overdue_days(action.deadline, self.on)
            targets = [(1, uid, addr) for uid, addr in focal[action.evaluation.office_id]]
            head = heads.get(action.evaluation.office_id)
            if days > second and head is not None and head.email:
                targets.append((2, head.user_id, head.email))
            for level, uid, addr in targets:
                if self.only and addr != self.only:
                    continue
                if (action.pk, level, addr) in done:
                    continue
                found.setdefault(addr, (uid, []))[1].append((action, level))
        out = []
        for address, (uid, items) in found.items():
            p = self._make(Kind.ESCALATION, address, uid, "", self.on.isoformat())
            if p is None:
                continue
            with translation.override(p.language):
                levels = sorted({level for _a, level in items})
                p.reason = (
                    _("office head") if levels == [2] else _("office focal point") if levels == [1] else _("office focal point and head")
                )
                p.sections = [
                    {
                        "heading": (
                            _("Overdue for more than %(days)d days") % {"days": second if level == 2 else first}
                        ),
                        "items": [_action_item(a, self.on) for a, lv in items if lv == level],
                    }
                    for level in sorted(levels, reverse=True)
                ]
            p.escalations = [(a.pk, level) for a, level in items]
            p.action_ids = sorted({a.pk for a, _lv in items})
            p.counts = {"actions": len(p.action_ids)}
            out.append(p)
        return out

    def quarterly_calls(self) -> list[Planned]:
        call = call_due(self.on)
        if call is None:
            return []
        out = []
        for user, address in self._people(Role.UNIT_FOCAL_POINT).values():
            access = Access.of(user)
            p = self._make(Kind.QUARTERLY_CALL, address, user.pk, "", quarter_of(call))
            if p is None:
                continue
            actions = _actions(restrict(user, KeyAction, UPDATE).filter(units__in=sorted(access.focal_unit_ids)).open().distinct())
            if not actions:
                continue
            with translation.override(p.language):
                units = ", ".join(sorted(str(a.unit) for a in access.assignments if a.role == Role.UNIT_FOCAL_POINT))
                p.reason = _("unit focal point of %(units)s") % {"units": units}
                p.sections = [
                    {
                        "heading": _("Open key actions: report their progress for %(quarter)s") % {"quarter": quarter_of(call)},
                        "items": [_action_item(a, self.on, "web:action_update") for a in actions],
                    }
                ]
            p.action_ids = [a.pk for a in actions]
            p.counts = {"open": len(actions)}
            out.append(p)
        return out


def plan(on: dt.date, only: str | None = None) -> list[Planned]:
    """Every reminder of the day `on` (for one address with `only`), whether or not already sent."""
    return Planner(on, only).plan()


def claimed_keys(planned: list[Planned]) -> set[tuple[str, str, str]]:
    """Which of these are already claimed (sent, being sent, or failed and to be tried again)."""
    if not planned:
        return set()
    q = Q(pk__in=[])
    for p in planned:
        q |= Q(address=p.address, kind=p.kind, period=p.period)
    return set(Reminder.objects.filter(q).values_list("address", "kind", "period"))
