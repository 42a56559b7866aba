"""The pages and endpoints the benchmarks measure, each with several URLs (evaluations, filters, readers).

One repeated URL measures one cache entry; people open many. Each page here
is a set of URLs that `bench/run.py` spreads its load over (wrk picks them in
turn) and `bench/afresh.py` requests one by one. Needs Django set up, on the
benchmark's database after `bench/seed.py` (whose JSON line is `info`).

Readers: "" is the public; "bench-unit", "bench-office", "bench-viewer" are
the seeded accounts (session cookies in `info["cookies"]`); "token" is the
office focal point's API token.
"""

from __future__ import annotations

import urllib.parse

# Words of the generated corpus: common, a phrase, a prefix, rare (planted), French with its accents dropped.
SEARCH_QUERIES = ["partners", '"resource mobilization strategy"', "sustainab*", "risk appetite", "evaluation donnees ventilees"]

# Pages whose targets differ (the issue's): computed-afresh bound, or not pages at all.
SLOW_PAGES = ("dashboard", "annual report")
API_PAGES = ("API list: key actions", "API list: evaluations", "API detail: key action", "API detail: evaluation", "API changes")
CEILING = "bare Django (ceiling)"


def picks(values: list, n: int = 3) -> list:
    """n values spread over the list (its quartiles), not its first few."""
    if not values:
        return []
    return list(dict.fromkeys(values[len(values) * k // (n + 1)] for k in range(1, n + 1)))


def page_sets(info: dict) -> dict[str, list[tuple[str, str]]]:
    """{page: [(path, reader), ...]}: every page and endpoint the performance issue names."""
    from django.db.models import Count

    from tracking.models import Evaluation, KeyAction, Office, Recommendation, Region

    evaluations = list(
        Evaluation.objects.filter(management_response__status="Approved").annotate(n=Count("key_actions")).filter(n__gte=10)
        .order_by("pk").values_list("pk", flat=True)
    ) or [info["evaluation_id"]]
    ev = picks(evaluations, 4)
    actions = list(KeyAction.objects.filter(evaluation_id__in=ev).order_by("pk").values_list("pk", flat=True)[:400])
    acts = picks(actions, 4) or [info["action_id"]]
    recs = picks(list(Recommendation.objects.filter(evaluation_id__in=ev).order_by("pk").values_list("pk", flat=True)), 3) \
        or [info["recommendation_id"]]
    offices = list(Office.objects.annotate(n=Count("evaluations")).order_by("-n", "pk").values_list("slug", "pk")[:3])
    regions = list(Region.objects.order_by("pk").values_list("pk", flat=True)[:2])
    year = info.get("year", 2020)
    unit = info["unit_id"]
    q = urllib.parse.quote
    return {
        "home": [("/", ""), ("/", "bench-office"), ("/", "bench-viewer")],
        "evaluation page": [(f"/evaluations/{pk}/", "") for pk in ev] + [(f"/evaluations/{ev[0]}/", "bench-viewer")],
        "office page": [(f"/offices/{slug}/", "") for slug, _ in offices] + [(f"/offices/{offices[0][0]}/", "bench-office")],
        "action page": [(f"/actions/{pk}/", "") for pk in acts] + [(f"/actions/{acts[0]}/", "bench-office")],
        "my actions": [("/workspace/actions/", "bench-unit"), ("/workspace/actions/", "bench-office"),
                       ("/workspace/actions/?overdue=1", "bench-unit")],
        "key-action list": [("/actions/?status=Initiated", ""), ("/actions/?overdue=1", "bench-viewer"),
                            (f"/actions/?office={offices[0][1]}", ""), (f"/actions/?overdue=1&unit={unit}", "bench-office"),
                            (f"/actions/?year={year}&status=Completed", "")],
        "evaluation list": [("/evaluations/", ""), (f"/evaluations/?year={year}", ""), ("/evaluations/?page=5", "bench-viewer"),
                            (f"/evaluations/?office={offices[1 % len(offices)][1]}", "")],
        "dashboard": [("/dashboard/", ""), ("/dashboard/", "bench-viewer"), *((f"/dashboard/?region={r}", "") for r in regions),
                      (f"/dashboard/?year={year}", "")],
        "annual report": [(f"/reports/annual/?year={year}", ""), ("/reports/annual/?year=2022", "bench-viewer"),
                          (f"/reports/annual/?year={year}&region={regions[0]}", "")],
        "search": [(f"/search/?q={q(s)}", "") for s in SEARCH_QUERIES] + [("/search/?q=partners", "bench-viewer"),
                   (f"/search/?q=strategy&kind=recommendation&year={year}", "")],
        "similar recommendations": [(f"/recommendations/{pk}/similar/", "") for pk in recs],
        "recurring themes": [("/recurring/", ""), (f"/recurring/?office={offices[0][1]}", "")],
        "API list: key actions": [("/api/v1/key-actions?limit=100", ""), ("/api/v1/key-actions?limit=100&status=Initiated", "token"),
                                  (f"/api/v1/key-actions?limit=100&office={offices[0][1]}", "")],
        "API list: evaluations": [("/api/v1/evaluations?limit=100", ""), (f"/api/v1/evaluations?limit=100&year={year}", "token")],
        "API detail: key action": [(f"/api/v1/key-actions/{pk}", "token") for pk in acts] + [(f"/api/v1/key-actions/{acts[1 % len(acts)]}", "")],
        "API detail: evaluation": [(f"/api/v1/evaluations/{pk}", "") for pk in ev],
        "API changes": [("/api/v1/changes?limit=200", "token"), ("/api/v1/changes?limit=200", "")],
        # The framework's ceiling: one query through the app's whole middleware stack (bench/ceiling_urls.py).
        CEILING: [(f"/bench/ceiling/{pk}/", "") for pk in ev],
    }


def header(info: dict, reader: str) -> str:
    """The request header that makes a request the reader's: "Cookie: ..." or "Authorization: Bearer ..."."""
    if not reader:
        return ""
    if reader == "token":
        return "Authorization: Bearer " + info["token"]
    return "Cookie: " + info["cookies"][reader]
