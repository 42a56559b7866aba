"""Key-action rows written in Python for the long lists: the key-action list, my actions, the evaluation page.

Fifty rows through the templates cost more than the page's SQL at L: per row an include or two, a dozen filters
and {% url %} tags. Here a row is one f-string; user text is escaped as the templates' autoescape does
(`django.utils.html.escape`'s own call of the standard library) and cut as `truncatechars` cuts (`truncated`), and the rules come from their
one place (`KeyAction.is_overdue`, `deadline_label`, `code`, `action_status_class`, `action_name`). The HTML is
the templates', byte for byte: tests/web/test_action_rows.py renders the shared includes beside these rows.
"""

from __future__ import annotations

import html
from collections.abc import Iterable

from django.template.defaultfilters import linebreaksbr
from django.utils.safestring import SafeString, mark_safe

from .paths import path_of
from .templatetags.followthrough import action_name, action_status_class, truncated, web_link

# The badge beside a key action's status for its verification (tracking/models/accountability.py), as
# web/includes/verification_badge.html writes it.
VERIFICATION_BADGES = {
    "awaiting": ("warn", "Awaiting verification"),
    "verified": ("ok", "Verified"),
    "sent_back": ("bad", "Completion sent back"),
}
OVERDUE = ' class="overdue"'


def escape(text) -> str:
    """What `django.utils.html.escape` writes, without its check for lazy text on each call (~500 calls a page)."""
    return html.escape(str(text))


def _cut(text, chars: int) -> str:
    """`{{ text|truncatechars:chars }}`, escaped as autoescape does."""
    return escape(truncated(text, chars))


def _status_badges(pk, status_class: str, status: str, verification: str, overdue: bool) -> str:
    """A key action's status badges (web/includes/status_badges.html): its status, `verification` as written, and
    overdue or not."""
    late = ' <span class="badge bad">Overdue</span>' if overdue else ""
    return f'<span id="status-{pk}"><span class="badge {status_class}">{escape(status)}</span>{verification}{late}</span>'


def status_cell(a, overdue: bool) -> str:
    """What web/includes/action_cells.html writes for `a`: its status, verification and overdue badges.

    The newlines are the include files' own (status_badges.html and verification_badge.html end with one).
    """
    verification = ""
    if a.verification:
        badge = VERIFICATION_BADGES.get(a.verification)
        verification = f' <span class="badge {badge[0]}">{badge[1]}</span>\n' if badge else " \n"
    return f"\n<td>\n{_status_badges(a.pk, action_status_class(a.status), a.status, verification, overdue)}\n</td>\n"


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


# --- the evaluation page (web/includes/evaluation_body.html) ---------------------------------------------------
# Its rows were the page's time at L: ~40 key actions and ~120 updates, some thirty template nodes each. Here
# each row is written from the values the view worked out (web/views/portal.py evaluation_body_html), with the
# template's own whitespace: tests/web/test_evaluation_rows.py holds them equal, byte for byte, to the loop the
# template had.
_SHOW = '<span class="show-more">Show more</span><span class="show-less">Show less</span></summary>'
_ARCHIVED = ' <span class="badge plain" title="No longer on the imported page; kept with its progress">Archived</span>'
_IN = "\n                "  # an update's lines


def _folded(text: str, small: str) -> str:
    """A long text folded behind its first 280 characters (web/includes/folded.html, as the page wrote it out)."""
    return (
        f'<details class="folded prose{small}"><summary><span class="preview">{_cut(text, 280)}</span> {_SHOW}'
        f"{linebreaksbr(text, autoescape=True)}</details>"
    )


def _evidence(u: dict, evidence_path) -> str:
    inside = " (internal)" if u["evidence_internal"] else ""
    url = ""
    if u["evidence_url"]:
        href, label = web_link(u["evidence_url"]), _cut(u["evidence_url"], 80)
        link = f'<a href="{escape(href)}" rel="noopener noreferrer">{label}</a>' if href else label
        url = f'<p class="small">Evidence{inside}: {link}</p>'
    file = ""
    if u["evidence_file"]:
        file = f'<p class="small">Evidence{inside}: <a href="{evidence_path(u["pk"])}">{_cut(u["evidence_label"], 80)}</a></p>'
    return f"{_IN}{url}{_IN}{file}{_IN}"


def _update(u: dict, internal: bool, evidence_path) -> str:
    """One update of a key action's timeline (web/includes/timeline.html, as the page wrote it out)."""
    author = f'<span>{escape(u["author"] or "—")}</span>' if internal else ""
    before = f'<span class="badge {u["before_class"]}">{escape(u["before"])}</span> →' if u["before"] else ""
    source = f'<span class="muted small">({escape(u["source"])})</span>' if u["source"] else ""
    comment = u["comment"]
    if comment:
        comment = _folded(comment, "") if u["long"] else f'<p class="prose">{escape(comment)}</p>'
    more = ""
    if u["more"]:
        reopen = u["reopen_reason"]
        reopen = f'<p class="prose"><strong>Reason for reopening:</strong> {escape(reopen)}</p>' if reopen else ""
        more = f"{_IN}{reopen}{_IN}{_IN}{_evidence(u, evidence_path) if u['evidence'] else ''}{_IN}"
    return (
        f'\n              <li id="update-{u["pk"]}">{_IN}<time datetime="{escape(u["iso"])}">{escape(u["when"])}</time>'
        f'{_IN}{_IN}{author}{_IN}{before}{_IN}<span class="badge {u["after_class"]}">{escape(u["after"])}</span>'
        f"{_IN}{source}{_IN}{comment}{_IN}{more}\n              </li>\n              "
    )


def evaluation_row(a: dict, internal: bool, evidence_path) -> str:
    """One key action's row of the evaluation page, from the values `evaluation_body_html` worked out.

    `evidence_path`: `path_of("web:evidence")`, made once a page.
    """
    pk, overdue = a["pk"], a["overdue"]
    verification = a["verification"]
    verification = f' <span class="badge {verification[0]}">{verification[1]}</span>' if verification else ""
    badges = _status_badges(pk, a["status_class"], a["status"], verification, overdue)
    comments = a["comments"]
    if comments:
        comments = _folded(comments, " small") if len(comments) > 400 else f'<p class="prose small">{escape(comments)}</p>'
    timeline = ""
    updates = a["updates"]
    if updates:
        n = len(updates)
        timeline = (
            f'\n            <details class="small"><summary>Timeline ({n} update{"" if n == 1 else "s"})</summary>'
            '\n              <ol class="timeline">\n              '
            + "".join(_update(u, internal, evidence_path) for u in updates)
            + "\n              </ol>\n            </details>"
        )
    outcome = a["outcome"]
    if outcome is not None:
        ok, said = ("ok", "Outcome confirmed") if outcome.confirmed else ("warn", "Outcome not confirmed")
        outcome = f'\n            <p class="small"><span class="badge {ok}">{said}</span> {_cut(outcome.answer, 200)}</p>'
    else:
        outcome = ""
    update = a["update_url"]
    if update:
        update = (
            f'\n            <p class="no-print"><a href="{update}" hx-get="{update}" hx-target="#panel-{pk}" '
            'hx-swap="innerHTML">Update progress</a></p>\n            '
        )
    return (
        f'\n        <tr id="key-action-{pk}"{OVERDUE if overdue else ""}>'
        f'\n          <td><a href="{a["url"]}">{escape(a["code"])}</a>{_ARCHIVED if a["archived"] else ""}</td>'
        f'\n          <td>{escape(a["text"])}</td>'
        f'\n          <td>{escape(a["responsible"] or "—")}</td>'
        f'\n          <td>{escape(a["deadline"] or "—")}</td>'
        f"\n          <td>\n{badges}\n</td>\n          <td>"
        f"\n            {comments}\n            {timeline}\n            {outcome}\n            {update}"
        f'\n            <div id="panel-{pk}" class="panel" aria-live="polite"></div>\n          </td>\n        </tr>\n      '
    )
