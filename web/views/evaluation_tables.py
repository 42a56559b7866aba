"""The tables of evaluations of the office page and the evaluation list, written out in Python.

~180 rows and ~50 plans on an office page at L: a template tag, filter or variable per cell cost more than the
SQL of the page (~0.1 ms a row). Each row is written here once with plain string formatting instead; the HTML is
the same, byte for byte, as the templates wrote it (tests/web/test_evaluation_tables.py holds it to
web/includes/plan_compliance.html and the rows the templates wrote).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.utils.safestring import SafeString, mark_safe

from ..action_rows import escape
from ..templatetags.followthrough import percent, response_status_class


def _e(value) -> str:
    """As a template writes {{ value }} with autoescaping and localization off (conditional_escape, without its
    lazy-string wrapper: ~700 calls an office page)."""
    return value.__html__() if hasattr(value, "__html__") else escape(value)


def _response(e) -> str:
    """The response's status badge, or nothing (no response, or one this reader does not read)."""
    response = getattr(e, "management_response", None)  # a missing reverse one-to-one raises an AttributeError
    if not response:
        return ""
    status = _e(response.status)
    return f'<span class="badge {response_status_class(response.status)}">{status}</span>'


def office_rows(evaluations: Iterable, evaluation_path: Callable[[int], str]) -> SafeString:
    """One plan's evaluations on the office page (with_counts' n_recommendations, n_key_actions, n_overdue)."""
    out = []
    for e in evaluations:
        overdue = f'<span class="badge bad">{e.n_overdue}</span>' if e.n_overdue else "0"
        out.append(
            "\n      <tr>\n"
            f'        <td><a href="{_e(evaluation_path(e.pk))}">{_e(str(e))}</a></td>\n'
            f"        <td>{_response(e)}</td>\n"
            f'        <td class="num">{e.n_recommendations}</td><td class="num">{e.n_key_actions}</td>\n'
            f'        <td class="num">{overdue}</td>\n'
            "      </tr>\n    "
        )
    return mark_safe("".join(out))


def list_rows(evaluations: Iterable, evaluation_path: Callable[[int], str], actions_path: str) -> SafeString:
    """A page of the evaluation list (with_counts' counts; office__type and plan selected)."""
    out = []
    for e in evaluations:
        actions = f"{_e(actions_path)}?evaluation={e.pk}"
        overdue = f'<a class="badge bad" href="{actions}&amp;overdue=1">{e.n_overdue}</a>' if e.n_overdue else "0"
        out.append(
            "\n    <tr>\n"
            f'      <td><a href="{_e(evaluation_path(e.pk))}">{_e(str(e))}</a></td>\n'
            f'      <td>{_e(e.office.name)} <span class="muted">({_e(e.office.type.code)})</span></td>\n'
            f"      <td>{_e(e.plan.period)}</td>\n"
            f"      <td>{e.year}</td>\n"
            f"      <td>{_response(e)}</td>\n"
            f'      <td class="num">{e.n_recommendations}</td>\n'
            f'      <td class="num"><a href="{actions}">{e.n_key_actions}</a></td>\n'
            f'      <td class="num">{overdue}</td>\n'
            "    </tr>\n  "
        )
    return mark_safe("".join(out))


_PLAN_TABLE_HEAD = (
    '<thead><tr><th scope="col">Evaluation</th><th scope="col">Response</th><th scope="col" class="num">Recommendations</th>'
    '<th scope="col" class="num">Key actions</th><th scope="col" class="num">Overdue</th></tr></thead>'
)


def plan_sections(plans: Iterable[tuple]) -> SafeString:
    """The office page's plans, a section each: (plan, its path, its rows (`office_rows`), its compliance
    (`plan_compliance`, or "")); ~50 at L, a dozen template lookups each."""
    out = []
    for plan, plan_url, rows, compliance in plans:
        closed = ' <span class="badge">closed</span>' if plan.closed else ""
        table = (
            f'\n  <div class="table-wrap"><table>\n    {_PLAN_TABLE_HEAD}\n    <tbody>\n    {rows}\n    </tbody>\n  </table></div>\n  '
            if rows else '<p class="muted">No evaluation of this plan to show.</p>'
        )
        out.append(
            f'\n<section class="card" aria-labelledby="plan-{plan.pk}">\n'
            f'  <h3 id="plan-{plan.pk}"><a href="{_e(plan_url)}">Plan {_e(plan.period)}</a>{closed}</h3>\n'
            f"  {_e(compliance)}\n  {table}\n</section>\n"
        )
    if not out:
        return mark_safe('\n<p class="muted">No evaluation of this office to show.</p>\n')
    return mark_safe("".join(out))


def plan_compliance(c, weeks: int) -> SafeString:
    """As web/includes/plan_compliance.html writes a reports.figures.PlanCompliance (~50 plans an office page)."""
    unknown = f"; completion date unknown for {c.unknown}" if c.unknown else ""
    html = (
        '\n<ul class="figures compact">\n'
        f'  <li><span class="value">{c.planned}</span> planned</li>\n'
        f'  <li><span class="value">{c.completed}</span> completed</li>\n'
        f'  <li><span class="value">{c.cancelled}</span> cancelled</li>\n'
        f'  <li><span class="value">{c.in_progress}</span> planned or ongoing</li>\n'
        f'  <li><span class="value">{percent(c.completion_rate)}</span> completion rate'
        ' <span class="small muted">(completed ÷ planned, cancelled left out)</span></li>\n'
        f'  <li><span class="value">{percent(c.timely_share)}</span> responses approved within {weeks} weeks'
        f' <span class="small muted">({c.within} of {c.within + c.late + c.pending}; {c.late} later, {c.pending} not yet{unknown})</span></li>\n'
        "</ul>\n"
    )
    if c.cancellations:
        items = "".join(f"<li>{_e(title)}: {_e(reason or 'no reason given')}</li>" for title, reason in c.cancellations)
        html += f'\n<p class="small">Cancelled:</p>\n<ul class="small">{items}</ul>\n'
    return mark_safe(html + "\n")
