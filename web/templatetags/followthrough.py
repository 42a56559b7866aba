"""Small presentation helpers for the templates."""

from __future__ import annotations

import functools

from django import template
from django.db.models import QuerySet
from django.utils.html import conditional_escape
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.utils.text import Truncator, add_truncation_text, calculate_truncate_chars_length

register = template.Library()


def truncated(text: str, length: int) -> str:
    """What `{{ text|truncatechars:length }}` writes, before escaping. Django's walk over every character (combining
    marks count for nothing) is skipped for ASCII text, which has none: 110 walks were a tenth of "my actions" at L.
    The ellipsis is still the language's (`add_truncation_text`)."""
    length = int(length)
    if length <= 0:
        return ""
    if not text.isascii():
        return Truncator(text).chars(length)
    if len(text) <= length:
        return text
    return add_truncation_text(text[: calculate_truncate_chars_length(length, None)])

ACTION_STATUS_CLASS = {
    "Completed": "ok",
    "Initiated": "info",
    "Not Initiated": "plain",
    "No Longer Applicable": "plain",
}
RESPONSE_STATUS_CLASS = {"Approved": "ok", "Draft": "warn", "Submitted": "info", "Returned": "bad"}
CATEGORY_CLASS = {"Accepted": "ok", "Partially Accepted": "warn", "Rejected": "bad"}


@register.filter
def action_status_class(status: str) -> str:
    return ACTION_STATUS_CLASS.get(status, "info")


@register.filter
def response_status_class(status: str) -> str:
    return RESPONSE_STATUS_CLASS.get(status, "plain")


@register.filter
def category_class(category: str) -> str:
    return CATEGORY_CLASS.get(category, "plain")


@register.simple_tag(takes_context=True)
def query_with(context, **changes) -> str:
    """The current query string with some parameters replaced (for pagination links)."""
    params = context["request"].GET.copy()
    for key, value in changes.items():
        if value in (None, ""):
            params.pop(key, None)
        else:
            params[key] = value
    return "?" + urlencode(sorted(params.items()), doseq=False) if params else "?"


@register.filter
def web_link(value) -> str:
    """The value if it is a web address (http or https) a link may point to; "" otherwise.

    Links stored before the service refused other schemes, or written behind
    its back, are then shown as text: a `javascript:` or `data:` value never
    becomes an href. Browsers drop tabs and line breaks inside an address, so
    a value with any whitespace or control character is no link either.
    """
    text = str(value or "")
    if not text or any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in text):
        return ""
    scheme, sep, rest = text.partition(":")
    if scheme.lower() in ("http", "https") and sep and rest.startswith("//") and len(rest) > 2:
        return text
    return ""


@register.filter
def action_name(action, evaluation_chars=None) -> str:
    """A key action as people name it: "3.2"; with `evaluation_chars`, "Evaluation title — 3.2" (the title cut
    to that many characters, never the number), for lists and titles that cross evaluations."""
    if evaluation_chars in (None, ""):
        return action.code
    return f"{truncated(str(action.evaluation), evaluation_chars)} — {action.code}"


@register.filter
def readable(records) -> list:
    """Change records with `lines` in words (web/history_display.py): one query per kind of row named."""
    from web.history_display import readable as _readable

    return _readable(records)


@register.filter
def is_overdue(action, on) -> bool:
    return action.is_overdue(on)


@functools.lru_cache(maxsize=8)
def _actions_path(prefix: str) -> str:
    from django.urls import reverse

    return reverse("web:actions")


@register.simple_tag
def actions_url(scope=None, **params) -> str:
    """The key action list for a figure: its scope (e.g. an office) plus the figure's own filter.

    The list's address is resolved once per script prefix: a dashboard links a thousand figures.
    """
    from django.urls import get_script_prefix

    query = {**(scope or {}), **{k: v for k, v in params.items() if v not in (None, "")}}
    return _actions_path(get_script_prefix()) + ("?" + urlencode(query) if query else "")


@register.simple_tag
def options(items, selected, value=None, label=None) -> str:
    """A select's <option>s, the one equal to `selected` selected (web/includes/filters.html).

    `value` and `label`: attribute names of each item (e.g. "pk", "name"), or indexes into (value, label) pairs;
    without them each item is its own value, written without a value attribute. Written here rather than with
    {% for %} and {% if %}: the filter form's ~170 options cost ~8 ms a page.
    """
    if value is None:
        return mark_safe("".join(f"<option {'selected' if x == selected else ''}>{conditional_escape(x)}</option>" for x in items))
    if isinstance(items, QuerySet) and isinstance(value, str):
        # Only the two columns, as pairs: a model instance per office (~120 a page) cost more than its query.
        items = ((v, v) for (v,) in items.values_list(value)) if value == label else items.values_list(value, label)
        value, label = 0, 1
    get = (lambda item, key: item[key]) if isinstance(value, int) else getattr
    out = []
    for item in items:
        v = get(item, value)
        out.append(f'<option value="{conditional_escape(v)}" {"selected" if v == selected else ""}>{conditional_escape(get(item, label))}</option>')
    return mark_safe("".join(out))


@register.filter
def may_update(access, action) -> bool:
    """Offer the progress form? (Uses the action's prefetched units: no query per row.)

    Only what to show: the service decides again when the form is sent.
    """
    from tracking import permissions

    if access is None:
        return False
    return permissions.can(access.user, permissions.UPDATE_ACTION, action) if access.user is not None else False


@register.filter
def percent(value) -> str:
    """0.8333 -> "83%"; no value -> "—"."""
    if value is None:
        return "—"
    return f"{value:.0%}"


@register.simple_tag
def drill_url(scope, breakdown, figures, **params) -> str:
    """The key action list behind a figure of a breakdown table: scope + group + the figure's filter."""
    group = {breakdown.filter_param: figures.key if figures.key is not None else ""}
    return actions_url(scope, **group, **params)


@register.filter
def printed(value, budget) -> str:
    """A text as a printed document shows it: within its budget (reports.pdf.PrintBudget), cut with a note past it."""
    return budget.take(value) if budget is not None else ("" if value is None else str(value))


@register.filter
def adoption_label(value: str) -> str:
    """A stored adoption rating as its label on settings.ADOPTION_SCALE."""
    from tracking.services.ratings import label

    return label(value or "")


@register.simple_tag
def drill_links(scope, breakdown, figures) -> dict[str, str]:
    """The four links of a figures table row at once (all, completed, due, overdue): one tag per row, not five."""
    from django.urls import get_script_prefix

    base = {**(scope or {}), breakdown.filter_param: figures.key if figures.key is not None else ""}
    base = {k: v for k, v in base.items() if v not in (None, "")}
    path = _actions_path(get_script_prefix())
    head = urlencode(base)

    def link(extra: str) -> str:
        query = "&".join(q for q in (head, extra) if q)
        return path + ("?" + query if query else "")

    return {"all": link(""), "completed": link("status=Completed"), "due": link("due=1"), "overdue": link("overdue=1")}

