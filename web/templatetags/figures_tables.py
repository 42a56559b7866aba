"""The figures table of the dashboard, the annual report and joint evaluations, written in Python; and the
other long lists of numbers (a search's filter options, the recurring themes).

A dashboard has hundreds of rows of ten cells. As a template (an include, a tag and eight filters per
row) the table took most of the dashboard's time at L: 1.2 s of 1.5 s on SQLite. Here each row is a
few string joins. Numbers go through the same filters the template used (`intcomma` and
`floatformat`), so the output is the same in every language.
"""

from __future__ import annotations

import html

from django import template
from django.conf import settings
from django.contrib.humanize.templatetags.humanize import intcomma
from django.template.defaultfilters import floatformat
from django.utils import numberformat
from django.utils.formats import date_format, get_format, localize
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe
from django.utils.timezone import template_localtime
from django.utils.translation import get_language

from ..paths import path_of
from .followthrough import action_status_class, drill_links, percent, truncated

register = template.Library()
CLOSED = ' <span class="badge">closed</span>'

HEAD = (
    '<thead><tr>\n'
    '    <th scope="col">{dimension}</th><th scope="col" class="num">Key actions</th><th scope="col" class="num">Completed</th>'
    '<th scope="col" class="num">of which verified</th>\n'
    '    <th scope="col" class="num">Due</th><th scope="col" class="num">Rate (due)</th><th scope="col" class="num">Rate (all)</th>\n'
    '    <th scope="col" class="num">Overdue</th><th scope="col" class="num">Overdue share</th>'
    '<th scope="col" class="num">Average age (months)</th>\n'
    '  </tr></thead>'
)


@register.simple_tag(takes_context=True)
def figures_table(context, rows, caption, dimension, drill=None) -> str:
    """One table of `Figures` rows; with `drill` (a breakdown), its counts link to the key actions they count,
    within the page's `scope` (the filters the page is computed for)."""
    scope = context.get("scope")
    counts: dict = {}  # the same few numbers recur in every table (0, 1, ...): each formatted once
    grouped = _intcomma()

    def n(value) -> str:
        if value not in counts:
            counts[value] = conditional_escape(grouped(value))
        return counts[value]

    def linked(href: str, text: str) -> str:
        return f'<a href="{conditional_escape(href)}">{text}</a>' if drill else text

    out = [
        '\n<div class="table-wrap"><table class="figures-table">\n',
        f"  <caption>{conditional_escape(caption)}</caption>\n  ",
        HEAD.format(dimension=conditional_escape(dimension)),
        "\n  <tbody>\n  ",
    ]
    for f in rows or ():
        links = drill_links(scope, drill, f) if drill else dict.fromkeys(("all", "completed", "due", "overdue"), "")
        age = floatformat(f.overdue_age_avg, 1) or "—"
        out.append(
            "\n    <tr>\n"
            f'      <th scope="row">{linked(links["all"], _value(f.label))}</th>\n'
            f'      <td class="num">{linked(links["all"], n(f.total))}</td>\n'
            f'      <td class="num">{linked(links["completed"], n(f.completed))}</td>\n'
            f'      <td class="num">{n(f.completed_verified)}</td>\n'
            f'      <td class="num">{linked(links["due"], n(f.due))}</td>\n'
            f'      <td class="num">{percent(f.rate_due)}</td>\n'
            f'      <td class="num">{percent(f.rate_all)}</td>\n'
            f'      <td class="num">{linked(links["overdue"], n(f.overdue))}</td>\n'
            f'      <td class="num">{percent(f.overdue_share)}</td>\n'
            f'      <td class="num">{conditional_escape(age)}</td>\n'
            "    </tr>\n  "
        )
    if not rows:
        out.append('<tr><td colspan="10">No key action.</td></tr>')
    out.append("\n  </tbody>\n</table></div>\n")
    return mark_safe("".join(out))


@register.simple_tag
def plan_compliance_table(plans, weeks) -> str:
    """Evaluation plans side by side (`reports.figures.plan_compliance` rows): the dashboard's hundreds of
    plans of the year, each with two links and its cancellations."""
    office_path, plan_path = path_of("web:office"), path_of("web:plan")
    out = [
        '\n<div class="table-wrap"><table>\n'
        f"  <caption>Evaluation plans: planned, completed and cancelled evaluations; responses approved within {_value(weeks)} weeks of completion</caption>\n"
        '  <thead><tr><th scope="col">Office</th><th scope="col">Plan</th><th scope="col" class="num">Planned</th>'
        '<th scope="col" class="num">Completed</th><th scope="col" class="num">Cancelled</th><th scope="col" class="num">Planned or ongoing</th>'
        '<th scope="col" class="num">Completion rate</th><th scope="col" class="num">Responses on time</th><th scope="col">Cancelled, and why</th></tr></thead>\n'
        "  <tbody>\n  "
    ]
    for c in plans:
        cancellations = "; ".join(f"{_value(title)}: {_value(reason or 'no reason given')}" for title, reason in c.cancellations) or "—"
        out.append(
            "\n    <tr>\n"
            f'      <th scope="row"><a href="{_value(office_path(c.office_slug))}">{_value(c.office)}</a></th>\n'
            f'      <td><a href="{plan_path(c.plan_id)}">{_value(c.period)}</a>'
            f'{CLOSED if c.closed else ""}</td>\n'
            f'      <td class="num">{_value(c.planned)}</td><td class="num">{_value(c.completed)}</td>'
            f'<td class="num">{_value(c.cancelled)}</td><td class="num">{_value(c.in_progress)}</td>\n'
            f'      <td class="num">{percent(c.completion_rate)}</td>\n'
            f'      <td class="num">{percent(c.timely_share)} <span class="small muted">({_value(c.within)} of {_value(c.within + c.late + c.pending)})</span></td>\n'
            f'      <td class="small">{cancellations}</td>\n'
            "    </tr>\n  "
        )
    out.append("\n  </tbody>\n</table></div>\n")
    return mark_safe("".join(out))


@register.simple_tag
def facet_options(values) -> str:
    """A search filter's options with their counts (`search.engine.FacetValue`s), as the template wrote them: the
    office filter has hundreds of options, and four lookups and a filter each were a sixth of a search page."""
    grouped = _intcomma()
    return mark_safe("".join(
        f'<option value="{_value(v.value)}"{" selected" if v.selected else ""}>{_value(v.label)} ({conditional_escape(grouped(v.count))})</option>'
        for v in values
    ))


def _value(value) -> str:
    """A value as `{{ value }}` writes it: localized, escaped. Whole numbers are as they are unless
    thousands are separated (localizing each asks for the language: a third of the table's time); text
    (not marked safe) is escaped as `escape` does, without its checks for lazy text."""
    if type(value) is int and not settings.USE_THOUSAND_SEPARATOR:
        return str(value)
    if type(value) is str:
        return html.escape(value)
    return conditional_escape(localize(value))


def _intcomma():
    """`intcomma` with the language's formats read once: for a whole number, the steps it takes (`number_format`
    reads three formats for each number, a third of a dashboard's tables' time); anything else, `intcomma`."""
    lang = get_language()
    decimal, grouping, thousands = (get_format(f, lang, use_l10n=True) for f in ("DECIMAL_SEPARATOR", "NUMBER_GROUPING", "THOUSAND_SEPARATOR"))

    def grouped(value) -> str:
        if type(value) is not int:
            return intcomma(value)
        return numberformat.format(value, decimal, None, grouping, thousands, force_grouping=True, use_l10n=True)

    return grouped


@register.simple_tag
def overdue_rows(actions) -> str:
    """The annual report's overdue key actions (up to 500 `reports.figures.OverdueRow`) as its template wrote them,
    a row at a time. Each value is plain text (str): escaped as Django's `escape` does (`html.escape`), without
    its test for safe strings and the safe string it makes of each."""
    e = html.escape
    return mark_safe("".join(
        f"\n    <tr><td>{e(a.office)}</td><td>{e(truncated(a.evaluation, 80))}</td><td>{e(a.number)}</td>"
        f"<td>{e(truncated(a.text, 200))}</td><td>{e(a.deadline_label)}</td><td>{e(a.status)}</td></tr>\n  "
        for a in actions
    ))


@register.simple_tag
def theme_rows(rows, keep_filters: str) -> str:
    """The recurring themes' table rows (`(search.portfolio.ThemeRow, its path)`, up to 50) as their template wrote
    them, `{% localize off %}` (years and counts of one theme's figures as they are; its sizes grouped by `intcomma`):
    at L on PostgreSQL, the page's template took 4.6 ms of its 39."""
    e, grouped, keep = conditional_escape, _intcomma(), conditional_escape(keep_filters)
    out = []
    for t, href in rows:
        offices = "; ".join(map(e, t.offices))
        if t.n_offices > len(t.offices):
            offices += f" and {t.n_offices - 3} more"
        years = str(t.first_year) if t.first_year == t.last_year else f"{t.first_year}–{t.last_year}"
        # As `{% widthratio %}` rounds (Python's round: half to even).
        rate = "—" if t.implementation_rate is None else f'{round(t.implementation_rate * 100)}% <span class="small muted">({t.done}/{t.due})</span>'
        out.append(
            "\n    <tr>\n"
            f'      <td><a href="{e(href)}{keep}">{e(t.label)}</a></td>\n'
            f'      <td class="num">{e(grouped(t.size))}</td>\n'
            f'      <td class="num">{e(grouped(t.evaluations))}</td>\n'
            f'      <td class="small">{offices}</td>\n'
            f"      <td>{years}</td>\n"
            f'      <td class="num">{rate}</td>\n'
            "    </tr>\n  "
        )
    return mark_safe("".join(out))


@register.simple_tag
def search_hits(hits) -> str:
    """A search's results (`search.engine.Hit`s with their records, up to 20) as the include of each did
    (web/includes/search_hit.html, gone): at L on SQLite, it took 3 ms of a 35 ms search page. Where each is, the
    words that matched (the snippet: escaped, only <mark> is ours), its place."""
    e, evaluation_path, action_path = conditional_escape, path_of("web:evaluation"), path_of("web:action")
    out = []
    for hit in hits:
        r, kind, url = hit.record, hit.kind.name, e(hit.path(evaluation_path, action_path))
        if kind == "evaluation":
            out.append(
                f'<li class="hit">\n    <a class="hit-title" href="{url}">{e(hit.html)}</a>\n'
                f'    <p class="small muted">{e(r.office.name)} · {_value(r.year)}</p>\n</li>\n'
            )
            continue
        ev = r.key_action.evaluation if kind == "update" else r.evaluation
        named = e(truncated(str(ev), 120))  # the evaluation's name (its label is built from its office and plan)
        of = f'<span class="muted">of {named}</span>'
        # The link's text, then what follows it.
        if kind == "response":
            text, after = "Management response", f'<span class="muted">to {named}</span>'
        elif kind == "recommendation":
            text, after = f"Recommendation {_value(r.number)}", of
        elif kind == "action":
            text, after = f"Key action {e(r.code)}", f'<span class="badge {action_status_class(r.status)}">{e(r.status)}</span> {of}'
        elif kind == "document":
            internal = " (internal)" if r.internal else ""
            text, after = e(r.title), f'<span class="muted">{e(r.get_kind_display())}{internal} of {named}</span>'
        else:
            text = f'Progress update of {e(date_format(template_localtime(r.created_at), "j M Y"))}'
            after = f'<span class="muted">on key action {e(r.key_action.code)} of {named}</span>'
        exact = " · exact phrase" if hit.exact else ""
        out.append(
            f'<li class="hit">\n    <a class="hit-title" href="{url}">{text}</a> {after}\n    <p class="snippet">{e(hit.html)}</p>\n'
            f'    <p class="small muted">{e(ev.office.name)} · {_value(ev.year)}{exact}</p>\n</li>\n'
        )
    return mark_safe("".join(out))
