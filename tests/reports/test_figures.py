"""Every figure against a hand-built data set whose right answers are known."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db.models import Q

from reports import figures
from tests.tracking.factories import make_action, make_evaluation, make_office, make_recommendation
from tracking.models import Evaluation, KeyAction, ManagementResponse, RecommendationTerm, Term

pytestmark = pytest.mark.django_db

ON = dt.date(2026, 11, 23)  # "today" for every figure here
THIS_MONTH = dt.date(2026, 11, 1)
LAST_MONTH = dt.date(2026, 10, 1)
NEXT_MONTH = dt.date(2026, 12, 1)
LONG_AGO = dt.date(2024, 5, 1)  # 30 months before November 2026


def _world():
    """Two offices in two regions; the answers below are counted by hand."""
    kenya = make_office("Kenya", "CO", region="East and Southern Africa")
    ies = make_office("Independent Evaluation Service", "EO", region="Headquarters")
    e1 = make_evaluation(kenya, year=2024)
    e2 = make_evaluation(ies, year=2025)
    r1 = make_recommendation(e1, category="Accepted")
    r2 = make_recommendation(e2, category="Partially Accepted")
    # Kenya, 2024, Accepted:
    make_action(r1, deadline=LONG_AGO, status="Completed")  # due, completed
    make_action(r1, deadline=LONG_AGO, status="Initiated")  # due, overdue 30 months (long)
    make_action(r1, deadline=LAST_MONTH, status="Not Initiated")  # due, overdue 1 month
    make_action(r1, deadline=THIS_MONTH, status="Initiated")  # due this month, NOT overdue
    make_action(r1, deadline=NEXT_MONTH, status="Completed")  # not due, completed early
    make_action(r1, deadline=LONG_AGO, status="No Longer Applicable")  # left out of the rates
    # IES, 2025, Partially Accepted:
    make_action(r2, deadline=LAST_MONTH, status="Completed")  # due, completed
    make_action(r2, deadline=LAST_MONTH, status="Ongoing")  # an older page's status: open, overdue 1 month
    make_action(r2, deadline=None, status="Initiated")  # no deadline: never due
    return kenya, ies, r1, r2


def test_totals():
    _world()
    f = figures.totals(KeyAction.objects.all(), ON)
    assert f.total == 9
    assert f.by_status == {"Not Initiated": 1, "Initiated": 3, "Completed": 3, "No Longer Applicable": 1}
    assert f.other == 1  # Ongoing
    assert f.counted == 8
    assert f.open == 5
    # Due: LONG_AGO x2 (Completed, Initiated), LAST_MONTH x3, THIS_MONTH x1 = 6 (NLA excluded)
    assert f.due == 6
    assert f.completed_due == 2
    assert f.rate_due == pytest.approx(2 / 6)
    assert f.rate_all == pytest.approx(3 / 8)
    assert f.overdue == 3  # LONG_AGO Initiated, LAST_MONTH Not Initiated, LAST_MONTH Ongoing
    assert f.overdue_share == pytest.approx(3 / 5)
    assert f.overdue_long == 1
    assert f.overdue_age_max == 30
    assert f.overdue_age_avg == pytest.approx((30 + 1 + 1) / 3)


def test_no_actions_gives_zeros_and_no_rates():
    f = figures.totals(KeyAction.objects.all(), ON)
    assert (f.total, f.due, f.overdue) == (0, 0, 0)
    assert f.rate_due is None and f.rate_all is None and f.overdue_share is None
    assert f.overdue_age_avg is None and f.overdue_age_max is None
    assert figures.breakdown(KeyAction.objects.all(), "region", ON) == []


def test_all_overdue():
    rec = make_recommendation()
    for status in ("Initiated", "Not Initiated", "Initiated"):
        make_action(rec, deadline=LAST_MONTH, status=status)
    f = figures.totals(KeyAction.objects.all(), ON)
    assert f.overdue == f.total == f.due == 3
    assert f.overdue_share == 1.0
    assert f.rate_due == 0.0


def test_the_overdue_list_reads_what_its_rows_show_and_no_more(django_assert_num_queries):
    """Oldest deadline first, then by office; each row shows its office, its evaluation (an untitled one by its office
    and plan), number, text, deadline and status, read with the list: writing the rows asks nothing more."""
    from web.templatetags.figures_tables import overdue_rows

    kenya, ies, r1, r2 = _world()
    untitled = make_recommendation(make_evaluation(kenya))
    Evaluation.objects.filter(pk=untitled.evaluation_id).update(title="")  # the factory titles every evaluation
    make_action(untitled, deadline=LAST_MONTH, status="Initiated", number="9.<1>", text="Untitled's & action")
    with django_assert_num_queries(2):  # the ids in order, then their rows
        rows = figures.overdue_list(figures.overdue_actions(KeyAction.objects.all(), ON), 10)
    assert [(a.deadline, a.office) for a in rows] == [
        (LONG_AGO, "Kenya"), (LAST_MONTH, "Independent Evaluation Service"), (LAST_MONTH, "Kenya"), (LAST_MONTH, "Kenya"),
    ]
    with django_assert_num_queries(0):
        html = overdue_rows(rows)
    plan = untitled.evaluation.plan
    assert f"(untitled evaluation, Kenya, {plan.start_year} - {plan.end_year})" in html
    assert "<td>9.&lt;1&gt;</td><td>Untitled&#x27;s &amp; action</td><td>2026/10</td><td>Initiated</td>" in html
    assert html.count("<tr>") == 4


def test_deadline_this_month_is_due_not_overdue():
    make_action(deadline=THIS_MONTH, status="Initiated")
    f = figures.totals(KeyAction.objects.all(), ON)
    assert (f.due, f.overdue) == (1, 0)
    # A month later it is overdue, by one month.
    later = figures.totals(KeyAction.objects.all(), dt.date(2026, 12, 2))
    assert (later.overdue, later.overdue_age_max) == (1, 1)


def test_no_longer_applicable_is_excluded_from_both_rates():
    rec = make_recommendation()
    make_action(rec, deadline=LAST_MONTH, status="Completed")
    make_action(rec, deadline=LAST_MONTH, status="No Longer Applicable")
    f = figures.totals(KeyAction.objects.all(), ON)
    assert f.rate_due == 1.0 and f.rate_all == 1.0
    assert f.overdue == 0


def test_breakdown_by_region_office_type_year_and_category():
    _world()
    by_region = {f.label: f for f in figures.breakdown(KeyAction.objects.all(), "region", ON)}
    assert set(by_region) == {"East and Southern Africa", "Headquarters"}
    kenya = by_region["East and Southern Africa"]
    assert (kenya.total, kenya.due, kenya.completed_due, kenya.overdue) == (6, 4, 1, 2)
    assert kenya.rate_due == pytest.approx(1 / 4)
    hq = by_region["Headquarters"]
    assert (hq.total, hq.due, hq.completed_due, hq.overdue, hq.other) == (3, 2, 1, 1, 1)

    by_type = {f.key: f.total for f in figures.breakdown(KeyAction.objects.all(), "office_type", ON)}
    assert by_type == {"CO": 6, "EO": 3}
    by_year = figures.breakdown(KeyAction.objects.all(), "year", ON)
    assert [(f.key, f.total) for f in by_year] == [(2024, 6), (2025, 3)]  # years in order
    by_category = {f.label: f.total for f in figures.breakdown(KeyAction.objects.all(), "category", ON)}
    assert by_category == {"Accepted": 6, "Partially Accepted": 3}


def test_breakdown_by_a_vocabulary_counts_an_action_once_per_tag():
    _, _, r1, r2 = _world()
    wee = Term.objects.get(kind="thematic_area", name="Women's economic empowerment")
    gov = Term.objects.get(kind="thematic_area", name="Governance and participation in public life")
    relevance = Term.objects.get(kind="uneg_criterion", name="Relevance")
    RecommendationTerm.objects.create(recommendation=r1, term=wee, position=0)
    RecommendationTerm.objects.create(recommendation=r1, term=gov, position=1)
    RecommendationTerm.objects.create(recommendation=r1, term=relevance, position=2)
    RecommendationTerm.objects.create(recommendation=r2, term=wee, position=0)
    rows = {f.label: f.total for f in figures.breakdown(KeyAction.objects.all(), "thematic_area", ON)}
    assert rows == {"Women's economic empowerment": 9, "Governance and participation in public life": 6}
    # Another vocabulary's tags do not leak into this one.
    assert {f.label for f in figures.breakdown(KeyAction.objects.all(), "uneg_criterion", ON)} == {"Relevance"}
    assert figures.breakdown(KeyAction.objects.all(), "operating_principle", ON) == []


def test_breakdowns_in_one_pass_give_each_breakdown_s_own_table(django_assert_num_queries):
    """`breakdowns` counts the vocabularies and the other dimensions in one pass: each table as its own gives."""
    _, _, r1, r2 = _world()
    terms = {(t.kind, t.name): t for t in Term.objects.all()}
    for rec, keys in [
        (r1, [("thematic_area", "Women's economic empowerment"), ("thematic_area", "Governance and participation in public life"),
              ("uneg_criterion", "Relevance"), ("uneg_criterion", "Sustainability")]),
        (r2, [("thematic_area", "Women's economic empowerment"), ("uneg_criterion", "Sustainability")]),
    ]:
        for i, key in enumerate(keys):
            RecommendationTerm.objects.create(recommendation=rec, term=terms[key], position=i)
    # A category not given: a group of its own, as the table alone gives it.
    make_action(make_recommendation(make_evaluation(r1.evaluation.office, year=2023), category=""), deadline=LAST_MONTH)
    actions = KeyAction.objects.filter(status__in=["Completed", "Initiated", "Not Initiated", "Ongoing"])
    keys = list(figures.BREAKDOWNS)
    # The vocabularies' terms, then every breakdown in one query; the names of regions, offices and office types.
    with django_assert_num_queries(1 + 1 + 3):
        together = figures.breakdowns(actions, keys, ON)
    assert list(together) == keys
    for key in keys:
        assert together[key] == figures.breakdown(actions, key, ON), key
    assert [f.label for f in together["uneg_criterion"]] == ["Sustainability", "Relevance"]  # largest first
    assert together["operating_principle"] == []
    assert [f.key for f in together["year"]] == [2023, 2024, 2025]
    assert "" in {f.key for f in together["category"]}
    # Fewer breakdowns, with or without vocabularies (the statement's shape differs): the same tables.
    for few in (["office"], ["thematic_area"], ["year", "uneg_criterion"], ["region", "category", "thematic_area", "uneg_criterion"]):
        assert figures.breakdowns(actions, few, ON) == {k: together[k] for k in few}, few


def test_every_breakdown_adds_up_to_the_totals_when_each_action_has_one_group():
    _world()
    total = figures.totals(KeyAction.objects.all(), ON)
    for by in ("region", "office", "office_type", "year", "category"):
        rows = figures.breakdown(KeyAction.objects.all(), by, ON)
        for attr in ("total", "due", "completed_due", "overdue", "overdue_long"):
            assert sum(getattr(f, attr) for f in rows) == getattr(total, attr), (by, attr)


def test_timeliness_of_approval():
    def response(completed, approved, status="Approved"):
        ev = make_evaluation(status=status)
        ev.completion_date = completed
        ev.save()
        ManagementResponse.objects.filter(evaluation=ev).update(
            approved_at=dt.datetime.combine(approved, dt.time(12), tzinfo=dt.UTC) if approved else None
        )

    response(dt.date(2025, 1, 10), dt.date(2025, 2, 21))  # exactly 6 weeks: within
    response(dt.date(2025, 1, 10), dt.date(2025, 2, 22))  # a day later: late
    response(dt.date(2025, 1, 10), None, status="Submitted")  # not approved yet
    response(None, dt.date(2025, 2, 1))  # completion date unknown
    t = figures.timeliness(ManagementResponse.objects.all(), weeks=6)
    assert (t.within, t.late, t.pending, t.unknown) == (1, 1, 1, 1)
    assert t.share == pytest.approx(1 / 3)
    assert figures.timeliness(ManagementResponse.objects.all(), weeks=8).within == 2


@pytest.mark.parametrize("at, within", [(dt.time(23, 59, 59), True), (dt.time(0, 0), False)])
def test_timeliness_at_the_edge_of_the_last_day(at, within):
    """Approved on the last day of the weeks, however late in it (UTC), is on time; the next midnight is not."""
    ev = make_evaluation()
    ev.completion_date = dt.date(2025, 1, 10)
    ev.save()
    day = dt.date(2025, 2, 21) if within else dt.date(2025, 2, 22)
    ManagementResponse.objects.filter(evaluation=ev).update(approved_at=dt.datetime.combine(day, at, tzinfo=dt.UTC))
    t = figures.timeliness(ManagementResponse.objects.all(), weeks=6)
    assert (t.within, t.late) == ((1, 0) if within else (0, 1))
    plan = figures.plan_compliance(Evaluation.objects.all(), weeks=6)[0]
    assert (plan.within, plan.late) == (t.within, t.late)


def test_a_scan_reads_each_part_as_its_own_query_would(django_assert_num_queries):
    """Parts narrowed by their own condition, in one query, give what each separate query gives."""
    _world()
    actions = KeyAction.objects.all()
    in_2024 = Q(completed_on__gte=dt.date(2024, 1, 1), completed_on__lt=dt.date(2025, 1, 1))
    scan = (
        figures.Scan(actions)
        .add("totals", figures._aggregates(ON))
        .add("closure", figures.closure_aggregates(2024))
        .add("outcomes", figures.outcome_aggregates(), in_2024)
        .add("due", figures.accountability_aggregates(ON), Q(deadline__lt=dt.date(2025, 1, 1)))
    )
    with django_assert_num_queries(1):
        rows = {part: scan[part] for part in ("totals", "closure", "outcomes", "due")}
    assert figures._figures(rows["totals"]) == figures.totals(actions, ON)
    assert figures.Closure(year=2024, **rows["closure"]) == figures.closure(actions, 2024)
    assert rows["outcomes"] == {"completed": actions.filter(in_2024, status="Completed").count()}  # the questions: apart
    assert rows["due"] == actions.filter(deadline__lt=dt.date(2025, 1, 1)).aggregate(**figures.accountability_aggregates(ON))
    assert rows["totals"]["total"] > rows["due"]["completed_dated"] >= 0


def test_figures_are_computed_in_the_database(django_assert_num_queries):
    _world()
    with django_assert_num_queries(1):
        figures.totals(KeyAction.objects.all(), ON)
    with django_assert_num_queries(2):  # the GROUP BY, then the group names
        figures.breakdown(KeyAction.objects.all(), "office", ON)
