"""Key-action rows written in Python for the long lists: the key-action list and my actions.

Fifty rows through the templates cost more than the page's SQL at L: per row an include or two, a dozen filters
and {% url %} tags. Here a row is one f-string; user text is escaped as the templates' autoescape does
(`django.utils.html.escape`) and cut as `truncatechars` cuts (`truncated`), and the rules come from their
one place (`KeyAction.is_overdue`, `deadline_label`, `code`, `action_status_class`, `action_name`). The HTML is
the templates', byte for byte: tests/web/test_action_rows.py renders the shared includes beside these rows.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from .paths import path_of
from .templatetags.followthrough import action_name, action_status_class, truncated

# The badge beside a key action's status for its verification (tracking/models/accountability.py), as
# web/includes/verification_badge.html writes it.
VERIFICATION_BADGES = {
    "awaiting": ("warn", "Awaiting verification"),
    "verified": ("ok", "Verified"),
    "sent_back": ("bad", "Completion sent back"),
}
OVERDUE = ' class="overdue"'


def _cut(text, chars: int) -> str:
    """`{{ text|truncatechars:chars }}`, escaped as autoescape does."""
    return escape(truncated(text, chars))


def status_cell(a, overdue: bool) -> str:
    """What web/includes/action_cells.html writes for `a`: its status, verification and overdue badges.

    The newlines are the include files' own (status_badges.html and verification_badge.html end with one).
    """
    verification = ""
    if a.verification:
        badge = VERIFICATION_BADGES.get(a.verification)
        verification = f' <span class="badge {badge[0]}">{badge[1]}</span>\n' if badge else " \n"
    late = ' <span class="badge bad">Overdue</span>' if overdue else ""
    return (
        f'\n<td>\n<span id="status-{a.pk}"><span class="badge {action_status_class(a.status)}">{escape(a.status)}</span>'
        f"{verification}{late}</span>\n</td>\n"
    )


def action_list_rows(actions: Iterable, on) -> list[SafeString]:
    """The rows of the key-action list (web/action_list_body.html), for actions read by `queries.action_list`."""
    action_path = path_of("web:action")
    evaluation_path = path_of("web:evaluation")
    rows = []
    for a in actions:
        overdue = a.is_overdue(on)
        ev = a.evaluation
        rows.append(mark_safe(
            f"<tr{OVERDUE if overdue else ''}>\n"
            f'      <td><a href="{evaluation_path(ev.pk)}#recommendation-{a.recommendation_id}">{_cut(str(ev), 70)}</a>'
            f'<br><span class="small muted">{escape(ev.office.name)}</span></td>\n'
            f'      <td><a href="{action_path(a.pk)}">{escape(a.code)}</a></td>\n'
            f"      <td>{_cut(a.text, 220)}</td>\n"
            f"      <td>{_cut(a.responsible or '—', 120)}</td>\n"
            f"      <td>{escape(a.deadline_label or '—')}</td>\n"
            f"      {status_cell(a, overdue)}\n"
            f"    </tr>"
        ))
    return rows


def my_action_rows(actions: Iterable, on) -> list[SafeString]:
    """The rows of my actions (web/my_actions_body.html), for actions read by `queries.action_list`."""
    action_path = path_of("web:action")
    update_path = path_of("web:action_update")
    evaluation_path = path_of("web:evaluation")
    rows = []
    for a in actions:
        overdue = a.is_overdue(on)
        ev = a.evaluation
        update = update_path(a.pk)
        rows.append(mark_safe(
            f'<tr id="key-action-{a.pk}"{OVERDUE if overdue else ""}>\n'
            f'      <td><a href="{action_path(a.pk)}">{escape(action_name(a, 60))}</a> {_cut(a.text, 160)}</td>\n'
            f'      <td data-label="Evaluation"><a href="{evaluation_path(ev.pk)}">{_cut(str(ev), 60)}</a>'
            f'<br><span class="small muted">{escape(ev.office.name)}</span></td>\n'
            f'      <td data-label="Responsible">{_cut(a.responsible, 80)}</td>\n'
            f'      <td data-label="Deadline">{escape(a.deadline_label or "—")}</td>\n'
            f"      {status_cell(a, overdue)}\n"
            f'      <td><a href="{update}" hx-get="{update}" hx-target="#panel-{a.pk}">Update</a>'
            f'<div id="panel-{a.pk}" class="panel" aria-live="polite"></div></td>\n'
            f"    </tr>"
        ))
    return rows
