"""The figures tables of the dashboard, the annual report and joint evaluations, written in Python
(web/templatetags/figures_tables.py): links, numbers, missing rates, escaping, empty tables, plans."""

from __future__ import annotations

import re

import pytest
from django.template import Context, Template

from reports import figures
from reports.figures import BREAKDOWNS, Figures, PlanCompliance


def _render(source: str, **context) -> str:
    return Template("{% load figures_tables %}" + source).render(Context(context))


def _cells(html: str) -> list[str]:
    return re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", html.split("<tbody>")[1])


def test_a_row_links_each_count_to_the_key_actions_it_counts_within_the_page_s_scope():
    row = Figures(label='Asia & <Pacific> "East"', key=5, total=1234, due=10, overdue=3, completed_verified=2,
                  by_status={"Completed": 7}, completed_due=5, overdue_age_avg=2.0)
    html = _render("{% figures_table rows caption dimension drill %}", rows=[row], caption="By <region>", dimension="Region",
                   drill=BREAKDOWNS["region"], scope={"year": 2023})
    assert "<caption>By &lt;region&gt;</caption>" in html
    assert '<th scope="col">Region</th>' in html
    cells = _cells(html)
    base = "/actions/?year=2023&amp;region=5"
    assert cells[0] == f'<a href="{base}">Asia &amp; &lt;Pacific&gt; &quot;East&quot;</a>'
    assert cells[1] == f'<a href="{base}">1,234</a>'
    assert cells[2] == f'<a href="{base}&amp;status=Completed">{row.completed}</a>'
    assert cells[3] == "2"
    assert cells[4] == f'<a href="{base}&amp;due=1">10</a>'
    assert cells[5] == f"{row.rate_due:.0%}" and cells[6] == f"{row.rate_all:.0%}"
    assert cells[7] == f'<a href="{base}&amp;overdue=1">3</a>'
    assert cells[9] == "2.0"


def test_without_drill_down_nothing_links_and_missing_figures_are_dashes():
    row = Figures(label=2021, key=2021)
    html = _render('{% figures_table rows "By year" "Year" %}', rows=[row])
    assert "<a " not in html
    cells = _cells(html)
    assert cells[0] == "2021" and cells[1] == "0"
    assert cells[5] == cells[6] == cells[8] == cells[9] == "—"  # no rate without key actions, no age without overdue ones


def test_an_empty_table_says_so():
    assert '<tr><td colspan="10">No key action.</td></tr>' in _render('{% figures_table rows "C" "D" %}', rows=[])


def test_plans_name_their_office_and_plan_their_cancellations_and_whether_closed():
    plans = [
        PlanCompliance(plan_id=7, office="Office <A>", office_slug="office-a", period="2022–2025", closed=True, planned=4,
                       completed=2, cancelled=1, in_progress=1, within=1, late=1, pending=0,
                       cancellations=[("Eval <1>", "Funding"), ("Eval 2", "")]),
        PlanCompliance(plan_id=8, office="Office B", office_slug="office-b", period="2023", closed=False, planned=1,
                       in_progress=1),
    ]
    html = _render("{% plan_compliance_table plans weeks %}", plans=plans, weeks=6)
    assert "responses approved within 6 weeks of completion</caption>" in html
    first, second = html.split("<tbody>")[1].split("</tr>")[:2]
    assert '<a href="/offices/office-a/">Office &lt;A&gt;</a>' in first
    assert '<a href="/plans/7/">2022–2025</a> <span class="badge">closed</span>' in first
    assert "<td class=\"num\">67%</td>" in first  # 2 completed of the 3 not cancelled
    assert '<span class="small muted">(1 of 2)</span>' in first
    assert '<td class="small">Eval &lt;1&gt;: Funding; Eval 2: no reason given</td>' in first
    assert "badge" not in second and '<td class="small">—</td>' in second and "<td class=\"num\">—" in second


@pytest.mark.parametrize("language", ["en", "fr", "es", "de"])
def test_counts_are_written_as_intcomma_writes_them_in_each_language(language):
    """The counts skip `intcomma`'s format lookups, not its output (French groups with a narrow space, German with a dot)."""
    from django.contrib.humanize.templatetags.humanize import intcomma
    from django.utils import translation

    values = [0, 7, 999, 1000, -1234, 1234567, 123456789, 10**12]
    with translation.override(language):
        rows = [Figures(label="x", key=1, total=v) for v in values]
        cells = [_cells(_render('{% figures_table rows "C" "D" %}', rows=[r]))[1] for r in rows]
        assert cells == [str(intcomma(v)) for v in values]
    assert cells[5] != "1234567"  # grouped


def test_plan_counts_follow_the_thousands_separator_setting(settings):
    settings.USE_THOUSAND_SEPARATOR = True
    plan = PlanCompliance(plan_id=1, office="O", office_slug="o", period="P", closed=False, planned=12345)
    assert '<td class="num">12,345</td>' in _render("{% plan_compliance_table plans 6 %}", plans=[plan])


# The annual report's overdue rows as reports/templates/reports/annual_body.html wrote them, {% for %} and all.
OVERDUE_ROWS = (
    "{% for a in actions %}\n"
    "    <tr><td>{{ a.evaluation.office.name }}</td><td>{{ a.evaluation|truncatechars:80 }}</td><td>{{ a.number }}</td>"
    "<td>{{ a.text|truncatechars:200 }}</td><td>{{ a.deadline_label }}</td><td>{{ a.status }}</td></tr>\n"
    '  {% empty %}<tr><td colspan="6">No key action is overdue.</td></tr>{% endfor %}'
)
NEW_OVERDUE_ROWS = '{% overdue_rows actions %}{% if not actions %}<tr><td colspan="6">No key action is overdue.</td></tr>{% endif %}'


@pytest.mark.django_db
def test_the_annual_report_s_overdue_rows_are_what_its_template_wrote():
    """Long and short texts, ASCII or not (accents, a combining mark, which truncatechars counts as nothing), untitled
    evaluations, no deadline, and user text with <, & and quotes."""
    import datetime as dt

    from tests.tracking.factories import make_action, make_evaluation, make_office, make_recommendation

    office = make_office('Rock & <roll> "Office"')
    titled = make_evaluation(office, title="Évaluation " + "très longue " * 10)
    untitled = make_evaluation(office, title="")
    texts = [
        "Short & <sweet>", "a" * 200, "a" * 201, "b " * 150, "Réviser " * 40, "e\u0301" * 150 + "x" * 60, "",
        'Quotes "double" and \'single\' ' * 10,
    ]
    actions = []
    for i, text in enumerate(texts):
        rec = make_recommendation(titled if i % 2 else untitled)
        actions.append(make_action(rec, text=text, number=f"{i}.<1>", deadline=dt.date(2020, 1 + i, 1) if i % 3 else None))
    qs = type(actions[0]).objects.filter(pk__in=[a.pk for a in actions]).order_by("pk")
    records = list(qs.select_related("evaluation__office", "evaluation__plan"))
    rows = figures.overdue_list(qs, 100)  # the same key actions read as the list's values
    assert [r.pk for r in rows] == [a.pk for a in records]
    assert _render(NEW_OVERDUE_ROWS, actions=rows) == _render(OVERDUE_ROWS, actions=records)
    assert "…" in _render(NEW_OVERDUE_ROWS, actions=rows)
    assert _render(NEW_OVERDUE_ROWS, actions=[]) == _render(OVERDUE_ROWS, actions=[])


# A search filter's options as web/templates/web/search.html wrote them, {% for %} and all.
FACET_OPTIONS = (
    "{% load humanize %}{% for v in values %}<option value=\"{{ v.value }}\"{% if v.selected %} selected{% endif %}>"
    "{{ v.label }} ({{ v.count|intcomma }})</option>{% endfor %}"
)


@pytest.mark.parametrize("language", ["en", "fr", "de"])
@pytest.mark.parametrize("thousands", [False, True])
def test_a_search_filter_s_options_are_what_its_template_wrote(language, thousands, settings):
    """Numbers and text as values (a year, an office's id, a status), labels with <, & and quotes, lazy labels, counts
    past a thousand, one value selected; with and without the thousands separator (a year is a number: it is grouped
    when every number is)."""
    from django.utils import translation
    from django.utils.translation import gettext_lazy

    from search.engine import FacetValue

    settings.USE_THOUSAND_SEPARATOR = thousands
    values = [
        FacetValue(2023, "2023", 1234),
        FacetValue(7, 'Rock & <roll> "Office"', 0, selected=True),
        FacetValue("Not started", gettext_lazy("Not started"), 1234567),
        FacetValue("a'b", "Réviser l'œuvre", 999),
    ]
    with translation.override(language):
        new = _render("{% facet_options values %}", values=values)
        assert new == _render(FACET_OPTIONS, values=values)
    assert "&lt;roll&gt;" in new and ' selected>' in new
    assert _render("{% facet_options values %}", values=[]) == ""


# The recurring themes' rows as web/templates/web/recurring_body.html wrote them, {% for %} and all.
THEME_ROWS = (
    "{% load humanize l10n %}{% localize off %}{% for t, href in rows %}\n    <tr>\n"
    '      <td><a href="{{ href }}{{ keep_filters }}">{{ t.label }}</a></td>\n'
    '      <td class="num">{{ t.size|intcomma }}</td>\n'
    '      <td class="num">{{ t.evaluations|intcomma }}</td>\n'
    '      <td class="small">{{ t.offices|join:"; " }}{% if t.n_offices > t.offices|length %} and {{ t.n_offices|add:-3 }} more{% endif %}</td>\n'
    "      <td>{% if t.first_year == t.last_year %}{{ t.first_year }}{% else %}{{ t.first_year }}–{{ t.last_year }}{% endif %}</td>\n"
    '      <td class="num">{% if t.implementation_rate is not None %}{% widthratio t.done t.due 100 %}% '
    '<span class="small muted">({{ t.done }}/{{ t.due }})</span>{% else %}—{% endif %}</td>\n'
    "    </tr>\n  {% endfor %}{% endlocalize %}"
)


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("thousands", [False, True])
def test_the_recurring_themes_rows_are_what_their_template_wrote(language, thousands, settings):
    """Labels and offices with <, & and quotes; more offices than the three named, or fewer; one year or several; rates
    that round half to even (1/8 = 12.5%, 5/8 = 62.5%), none (nothing due) and whole; sizes past a thousand; the page's
    filters kept in each link (an & in them)."""
    from django.utils import translation

    from search.portfolio import ThemeRow

    settings.USE_THOUSAND_SEPARATOR = thousands
    rows = [
        (ThemeRow(theme=None, label='Rock & <roll> "theme"', size=1234, evaluations=1001, offices=["A & B", "<C>", "D"],
                  n_offices=7, first_year=2019, last_year=2023, due=8, done=1), "/recurring/12/"),
        (ThemeRow(theme=None, label="Réviser l'œuvre", size=5, evaluations=2, offices=["Only"], n_offices=1,
                  first_year=2021, last_year=2021, due=8, done=5), "/recurring/3/"),
        (ThemeRow(theme=None, label="Nothing due", size=2, evaluations=2, offices=[], n_offices=0, first_year=2020,
                  last_year=2022), "/recurring/4/"),
        (ThemeRow(theme=None, label="All done", size=3, evaluations=3, offices=["X", "Y"], n_offices=2, first_year=2018,
                  last_year=2024, due=3, done=3), "/recurring/5/"),
    ]
    context = {"rows": rows, "keep_filters": "?office=3&year_from=2019"}
    with translation.override(language):
        new = _render("{% theme_rows rows keep_filters %}", **context)
        assert new == _render(THEME_ROWS, **context)
    assert "12% " in new and "62% " in new and "and 4 more" in new and "&lt;roll&gt;" in new
    assert '/recurring/12/?office=3&amp;year_from=2019"' in new
    assert _render("{% theme_rows rows '' %}", rows=[]) == ""


# A search result as web/templates/web/includes/search_hit.html wrote it, included once per hit.
SEARCH_HIT = """{% load followthrough %}{% for hit in hits %}{% with r=hit.record %}
<li class="hit">
  {% if hit.kind.name == "evaluation" %}
    <a class="hit-title" href="{{ hit.url }}">{{ hit.html }}</a>
    <p class="small muted">{{ r.office.name }} · {{ r.year }}</p>
  {% else %}
    {% if hit.kind.name == "response" %}{% with ev=r.evaluation %}<a class="hit-title" href="{{ hit.url }}">Management response</a> <span class="muted">to {{ ev|truncatechars:120 }}</span>{% endwith %}
    {% elif hit.kind.name == "recommendation" %}<a class="hit-title" href="{{ hit.url }}">Recommendation {{ r.number }}</a> <span class="muted">of {{ r.evaluation|truncatechars:120 }}</span>
    {% elif hit.kind.name == "action" %}<a class="hit-title" href="{{ hit.url }}">Key action {{ r.code }}</a> <span class="badge {{ r.status|action_status_class }}">{{ r.status }}</span> <span class="muted">of {{ r.evaluation|truncatechars:120 }}</span>
    {% elif hit.kind.name == "document" %}<a class="hit-title" href="{{ hit.url }}">{{ r.title }}</a> <span class="muted">{{ r.get_kind_display }}{% if r.internal %} (internal){% endif %} of {{ r.evaluation|truncatechars:120 }}</span>
    {% else %}<a class="hit-title" href="{{ hit.url }}">Progress update of {{ r.created_at|date:"j M Y" }}</a> <span class="muted">on key action {{ r.key_action.code }} of {{ r.key_action.evaluation|truncatechars:120 }}</span>
    {% endif %}
    <p class="snippet">{{ hit.html }}</p>
    <p class="small muted">{% if hit.kind.name == "update" %}{{ r.key_action.evaluation.office.name }} · {{ r.key_action.evaluation.year }}{% else %}{{ r.evaluation.office.name }} · {{ r.evaluation.year }}{% endif %}{% if hit.exact %} · exact phrase{% endif %}</p>
  {% endif %}
</li>
{% endwith %}{% endfor %}"""


def _tags_apart(html: str) -> str:
    """The markup with its layout left out (the template's line breaks and indentation)."""
    return re.sub(r">\s+<", "><", re.sub(r"\s+", " ", html)).strip()


@pytest.mark.django_db
@pytest.mark.parametrize("thousands", [False, True])
def test_search_results_are_what_their_template_wrote(thousands, settings, tmp_path):
    """Every kind of result (an internal document too: read by the evaluation office), titles past 120
    characters and with <, & and quotes, an exact phrase and not, a progress update's date in the site's time zone."""
    from django.contrib.auth import get_user_model
    from django.utils import translation

    from search import engine
    from tests.tracking.factories import (
        make_action,
        make_evaluation,
        make_office,
        make_pdf,
        make_recommendation,
    )
    from tracking.actor import Actor
    from tracking.models import Role, RoleAssignment
    from tracking.services import documents
    from tracking.services.progress import record_progress

    settings.MEDIA_ROOT, settings.USE_THOUSAND_SEPARATOR = tmp_path, thousands
    user = get_user_model().objects.create(username="eo-hits")
    RoleAssignment.objects.create(user=user, role=Role.EVALUATION_OFFICE)
    office = make_office('Rock & <roll> "Office"')
    ev = make_evaluation(office, title='Evaluation of the wombat <programme> & "partners" ' + "très longue " * 12)
    ev.management_response.overall_response = "We welcome the wombat findings."
    ev.management_response.save()
    rec = make_recommendation(ev, text="Count every wombat <carefully>.")
    action = make_action(rec, text="Train wombat keepers.", status="Initiated")
    focal = get_user_model().objects.create(username="focal-hits")
    RoleAssignment.objects.create(user=focal, role=Role.OFFICE_FOCAL_POINT, office=office)
    record_progress(Actor(user=focal), action, version=action.version, status="Completed", comment="Wombat count done & signed.",
                    evidence_url="https://example.org/proof.pdf")
    documents.add_document(Actor(user=user), ev, kind="report", title="Wombat <annex>", language="en", internal=True,
                           file_name="annex.pdf", data=make_pdf("The wombat census."))
    for text in ("wombat", '"wombat census"', "wombat count"):
        hits = [h for g in engine.search(user, text).groups for h in g.hits]
        with translation.override("fr"):
            new = _render("{% search_hits hits %}", hits=hits)
            assert _tags_apart(new) == _tags_apart(_render(SEARCH_HIT, hits=hits))
    hits = [h for g in engine.search(user, "wombat").groups for h in g.hits]
    assert {h.kind.name for h in hits} == {"evaluation", "response", "recommendation", "action", "document", "update"}
    new = _render("{% search_hits hits %}", hits=hits)
    assert "&lt;programme&gt; &amp; &quot;partners&quot;" in new and "…" in new and "(internal)" in new and "<mark>" in new
    assert new.count('<li class="hit">') == len(hits)
    assert _render("{% search_hits hits %}", hits=[]) == ""
