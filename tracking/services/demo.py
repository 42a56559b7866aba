"""Demo people (one per role), a demo draft, a plan with its compliance and a report attached, for trying the system after `make run`."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from ..actor import Actor
from ..models import (
    Evaluation,
    EvaluationDocument,
    KeyAction,
    Office,
    Recommendation,
    Role,
    RoleAssignment,
    Unit,
)
from ..models.responses import ActionStatus
from . import (
    deadlines,
    documents,
    drafting,
    joint,
    outcomes,
    progress,
    quality,
    ratings,
    unit_admin,
    verification,
)

DEMO_PASSWORD = "followthrough-demo"
DEMO_OFFICE = "Policy, Programme and Intergovernmental Division"
DEMO_UNIT = "PPID"
DEMO_COMPLETION = dt.date(2026, 1, 30)
# The rest of the demo office's plan for 2025 - 2026: (title, status, type, reason for cancelling).
DEMO_PLAN = [
    ("Evaluation of the regional gender statistics initiative (demo plan)", Evaluation.Status.CANCELLED, Evaluation.Type.PROGRAMME,
     "Merged into the corporate evaluation of gender data, to avoid evaluating the same work twice."),
    ("Evaluation of the women's leadership and governance portfolio (demo plan)", Evaluation.Status.ONGOING, Evaluation.Type.THEMATIC, ""),
    ("Evaluation of UN Women's coordination mandate (demo plan)", Evaluation.Status.PLANNED, Evaluation.Type.CORPORATE, ""),
]
DEMO_REPORT_TITLE = "Evaluation report (demo file)"


# Units the demo pages' line breaks made ("DM A", "Intergovernm ental"), reviewed as an administrator does on
# the units page: merged into the right unit (the broken name kept as its alias, so imports find it) or renamed.
DEMO_UNIT_REVIEW = [
    ("merge", "DM A", "DMA"),
    ("rename", "Intergovernm ental Support Division", "Intergovernmental Support Division"),
]


def load_demo_unit_review() -> int:
    """The demo's import-made junk units merged or renamed (nothing to do the second time): how many."""
    actor = Actor.system("command")
    done = 0
    for how, name, to in DEMO_UNIT_REVIEW:
        unit = Unit.objects.filter(name=name).order_by("pk").first()
        if unit is None:
            continue
        if how == "rename":
            unit_admin.rename_unit(actor, unit, name=to)
            done += 1
            continue
        target = (
            Unit.objects.filter(office=unit.office_id).filter(name=to).exclude(pk=unit.pk).first()
            or Unit.objects.filter(office=unit.office_id).filter(acronym=to).exclude(pk=unit.pk).first()
        )
        if target is not None:
            unit_admin.merge_units(actor, unit, target)
            done += 1
    return done


def demo_people() -> list[tuple[str, str, str]]:
    """(username, role, scope) of the demo users."""
    return [
        ("admin", Role.ADMINISTRATOR, "everything"),
        ("evaluation", Role.EVALUATION_OFFICE, "everything"),
        ("office", Role.OFFICE_FOCAL_POINT, DEMO_OFFICE),
        ("unit", Role.UNIT_FOCAL_POINT, f"{DEMO_UNIT} ({DEMO_OFFICE})"),
        ("viewer", Role.VIEWER, "everything"),
    ]


@transaction.atomic
def load_demo_people() -> list[tuple[str, str, str]]:
    """Create the demo users if missing (idempotent); needs the demo documents imported first."""
    User = get_user_model()
    office = Office.objects.get(name=DEMO_OFFICE)
    unit = Unit.objects.filter(name=DEMO_UNIT).order_by("pk").first()
    people = []
    for username, role, scope in demo_people():
        user, created = User.objects.get_or_create(
            username=username, defaults={"email": f"{username}@example.org", "first_name": username.title()}
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        RoleAssignment.objects.get_or_create(
            user=user,
            role=role,
            office=office if role == Role.OFFICE_FOCAL_POINT else None,
            unit=unit if role == Role.UNIT_FOCAL_POINT else None,
            region=None,
        )
        people.append((username, Role(role).label, scope))
    return people


def load_demo_draft() -> Evaluation | None:
    """A response still being drafted, to try submitting and approving (made once)."""
    office = Office.objects.get(name=DEMO_OFFICE)
    title = "Evaluation of the Women Count data programme (demo draft)"
    if Evaluation.objects.filter(office=office, title=title).exists():
        return None
    system = Actor.system("command")
    evaluation = drafting.create_evaluation(
        system, office=office, start_year=2025, end_year=2026, title=title, type=Evaluation.Type.PROGRAMME,
        completion_date=DEMO_COMPLETION,
    )
    response = evaluation.management_response
    rec = drafting.add_recommendation(
        system,
        response,
        fields={
            "number": "1",
            "text": "Strengthen the production and use of gender data at country level.",
            "response_text": "Accepted. The programme will expand its support to national statistical offices.",
            "category": "Accepted",
        },
    )
    unit = Unit.objects.filter(name=DEMO_UNIT).order_by("pk").first()
    drafting.add_action(
        system,
        rec,
        fields={
            "number": "1.1",
            "text": "Publish a guidance note on gender data for country offices.",
            "responsible": "PPID",
            "status": ActionStatus.NOT_INITIATED,
            "deadline": __import__("datetime").date(2027, 6, 1),
        },
        units=[unit] if unit else [],
    )
    return evaluation


def load_demo_ratings() -> int:
    """The evaluation office's quality rating of the imported demo reports (once: a rating set is kept)."""
    system = Actor.system("command")
    rated = 0
    scale = [Evaluation.Quality.VERY_GOOD, Evaluation.Quality.GOOD]
    for evaluation, rating in zip(Evaluation.objects.exclude(source="").filter(quality="").order_by("pk"), scale):
        quality.rate_report(system, evaluation, rating)
        rated += 1
    return rated
def _months_before(day, months: int):
    """The first day of the month `months` before the month of `day`."""
    index = day.year * 12 + day.month - 1 - months
    return day.replace(year=index // 12, month=index % 12 + 1, day=1)


def load_demo_overdue() -> Evaluation | None:
    """An approved response whose key actions are overdue by different ages, and one due this month (made once).

    Deadlines are counted back from the day it is loaded, so the demo always has something for
    `followthrough remind` to tell: the PPID unit focal point of all of them, the office focal point
    and its head (escalation) of the long-overdue ones.
    """
    from ..models.responses import today

    office = Office.objects.get(name=DEMO_OFFICE)
    title = "Evaluation of the gender statistics helpdesk (demo, with overdue key actions)"
    if Evaluation.objects.filter(office=office, title=title).exists():
        return None
    system = Actor.system("command")
    on = today()
    evaluation = drafting.create_evaluation(system, office=office, start_year=on.year - 3, end_year=on.year - 2, title=title)
    response = evaluation.management_response
    rec = drafting.add_recommendation(
        system,
        response,
        fields={
            "number": "1",
            "text": "Answer requests from country offices for gender statistics within a set time.",
            "response_text": "Accepted. A helpdesk with a service standard will be set up.",
            "category": "Accepted",
        },
    )
    unit = Unit.objects.filter(name=DEMO_UNIT).order_by("pk").first()
    actions = [
        ("1.1", "Set up the helpdesk and publish its service standard.", 14, ActionStatus.INITIATED),
        ("1.2", "Train the helpdesk staff on the main survey instruments.", 3, ActionStatus.NOT_INITIATED),
        ("1.3", "Report the helpdesk's response times to management each year.", 0, ActionStatus.INITIATED),
    ]
    for number, text, months, status in actions:
        drafting.add_action(
            system,
            rec,
            fields={"number": number, "text": text, "responsible": DEMO_UNIT, "status": status,
                    "deadline": _months_before(on, months)},
            units=[unit] if unit else [],
        )
    response.refresh_from_db()
    response = drafting.update_response(
        system, response, version=response.version, units=[unit] if unit else [],
        overall_response="Management accepts the evaluation's recommendation and will set up the helpdesk.",
    )
    response = drafting.submit_response(system, response, version=response.version)
    drafting.approve_response(system, response, version=response.version)
    return evaluation


def load_demo_plan() -> int:
    """The demo office's plan for 2025 - 2026 beside the demo draft: a cancelled evaluation (with its reason),
    an ongoing and a planned one, so that the plan's compliance has something to show. Returns how many were added."""
    office = Office.objects.get(name=DEMO_OFFICE)
    system = Actor.system("command")
    added = 0
    for title, status, kind, reason in DEMO_PLAN:
        if Evaluation.objects.filter(office=office, title=title).exists():
            continue
        drafting.create_evaluation(
            system, office=office, start_year=2025, end_year=2026, title=title, year=2026, type=kind, status=status,
            cancellation_reason=reason,
        )
        added += 1
    return added


def demo_report_pdf(evaluation: Evaluation) -> bytes:
    """A small PDF made at load time from the evaluation's own record (no binary kept in the repository)."""
    from html import escape

    from weasyprint import HTML

    recommendations = "".join(
        f"<h3>Recommendation {escape(r.number)}</h3><p>{escape(r.text)}</p>" for r in evaluation.recommendations.order_by("position")
    )
    html = (
        f"<h1>{escape(evaluation.title)}</h1>"
        f"<p>{escape(evaluation.office.name)}. Evaluation report, made for the followthrough demo from the "
        f"recommendations published in GATE; not the report itself.</p><h2>Recommendations</h2>{recommendations}"
    )
    return HTML(string=html).write_pdf()


def load_demo_report() -> EvaluationDocument | None:
    """A report PDF attached to the demo office's approved evaluation (made once)."""
    office = Office.objects.get(name=DEMO_OFFICE)
    evaluation = (
        Evaluation.objects.filter(office=office, management_response__status="Approved").order_by("pk").first()
    )
    if evaluation is None or EvaluationDocument.objects.filter(evaluation=evaluation, title=DEMO_REPORT_TITLE).exists():
        return None
    return documents.add_document(
        Actor.system("command"), evaluation, kind=EvaluationDocument.Kind.REPORT, title=DEMO_REPORT_TITLE,
        language=EvaluationDocument.Language.ENGLISH, internal=False, file_name="evaluation-report.pdf",
        data=demo_report_pdf(evaluation),
    )


FOLLOW_UP_TITLE = "Evaluation of the gender-responsive budgeting programme (demo follow-up)"


def load_demo_follow_up() -> bool:
    """An approved response of the demo office, typed in (not imported: a re-import would put its statuses back),
    whose key actions show the follow-up in every state (made once; needs the demo people):

    - 1: reported Completed with evidence by the demo unit, verified by the demo evaluation office;
    - 2: reported Completed, sent back with a reason (reopened);
    - 3: reported Completed, awaiting verification;
    - 4: its deadline revised by the unit, with a reason (late against its first deadline, not the revised one);

    and its recommendation's adoption rated by the demo office focal point, validated lower by the evaluation office;
    the outcome of 1 asked by the evaluation office and confirmed by the unit.
    """
    import datetime as dt

    office = Office.objects.get(name=DEMO_OFFICE)
    if Evaluation.objects.filter(office=office, title=FOLLOW_UP_TITLE).exists():
        return False
    User = get_user_model()
    unit_person = Actor(user=User.objects.get(username="unit"), source="command")
    verifier = Actor(user=User.objects.get(username="evaluation"), source="command")
    unit = Unit.objects.filter(name=DEMO_UNIT).order_by("pk").first()
    system = Actor.system("command")
    evaluation = drafting.create_evaluation(
        system, office=office, start_year=2024, end_year=2025, title=FOLLOW_UP_TITLE, type=Evaluation.Type.THEMATIC
    )
    response = evaluation.management_response
    rec = drafting.add_recommendation(
        system,
        response,
        fields={
            "number": "1",
            "text": "Make gender-responsive budgeting part of every country programme's annual plan.",
            "response_text": "Accepted. Country offices will be supported to plan and track gender budget allocations.",
            "category": "Accepted",
        },
    )
    texts = [
        ("Issue guidance on gender-responsive budgeting to all country offices.", dt.date(2025, 6, 1)),
        ("Hold a training workshop with each regional office.", dt.date(2025, 9, 1)),
        ("Add a gender budget marker to the annual work plan template.", dt.date(2025, 12, 1)),
        ("Review the gender budget allocations of ten country programmes.", dt.date(2026, 3, 1)),
    ]
    actions = [
        drafting.add_action(
            system,
            rec,
            fields={"number": f"1.{i}", "text": text, "responsible": DEMO_UNIT, "status": ActionStatus.INITIATED, "deadline": deadline},
            units=[unit] if unit else [],
        )
        for i, (text, deadline) in enumerate(texts, start=1)
    ]
    response.refresh_from_db()
    response = drafting.update_response(
        system, response, version=response.version, units=[unit] if unit else [],
        overall_response="Management accepts the evaluation and will make gender-responsive budgeting routine.",
    )
    drafting.submit_response(system, response, version=response.version)
    response.refresh_from_db()
    drafting.approve_response(system, response, version=response.version)

    claims = [
        ("Guidance note issued to all country offices in May.", "https://www.unwomen.org/en/digital-library"),
        ("Workshops held with the regional offices.", "https://www.unwomen.org/en/how-we-work"),
        ("The template now has a gender budget marker.", "https://www.unwomen.org/en/about-us"),
    ]
    for action, (comment, link) in zip(actions, claims):
        action = KeyAction.objects.get(pk=action.pk)
        progress.record_progress(
            unit_person, action, version=action.version, status=ActionStatus.COMPLETED, comment=comment, evidence_url=link
        )
    accepted, sent_back = (KeyAction.objects.get(pk=a.pk) for a in actions[:2])
    verification.verify_completion(verifier, accepted, version=accepted.version, accept=True)
    verification.verify_completion(
        verifier,
        sent_back,
        version=sent_back.version,
        accept=False,
        reason="The link is a general page, not the workshop reports: attach the reports or their minutes.",
    )
    revised = KeyAction.objects.get(pk=actions[3].pk)
    deadlines.revise_deadline(
        unit_person,
        revised,
        version=revised.version,
        deadline=dt.date(2027, 6, 1),
        reason="Six of the ten country programmes start their new cycle in 2027; the review waits for their plans.",
    )
    outcomes.schedule_outcome(verifier, accepted, ask_on=timezone.localdate(), question="")
    outcomes.answer_outcome(
        unit_person,
        accepted,
        confirmed=True,
        answer="Country offices now cite the guidance in their annual plans; eight of ten include a gender budget line.",
    )
    rec = Recommendation.objects.get(pk=rec.pk)
    rec = ratings.rate_adoption(
        Actor(user=User.objects.get(username="office"), source="command"),
        rec,
        version=rec.version,
        side=ratings.MANAGEMENT,
        rating="substantial",
        note="Guidance and template in place; workshops still to be held.",
    )
    ratings.rate_adoption(
        verifier,
        rec,
        version=rec.version,
        side=ratings.EVALUATION_OFFICE,
        rating="partial",
        note="The workshops were not evidenced; the review of allocations has not started.",
    )
    return True


DEMO_JOINT_TITLE = "Joint evaluation of the ending violence against women programme (demo, joint)"


def load_demo_joint() -> Evaluation | None:
    """A joint evaluation led by another office, with two partners: one approved, the demo office drafting (made once)."""
    office = Office.objects.get(name=DEMO_OFFICE)
    if Evaluation.objects.filter(title=DEMO_JOINT_TITLE).exists():
        return None
    others = list(Office.objects.exclude(pk=office.pk).order_by("name")[:2])
    if len(others) < 2:
        return None
    lead_office, partner_office = others
    system = Actor.system("command")
    lead = drafting.create_evaluation(
        system, office=lead_office, start_year=2024, end_year=2025, title=DEMO_JOINT_TITLE, type=Evaluation.Type.JOINT,
        completion_date=DEMO_COMPLETION,
    )
    shared = [
        ("1", "Agree one set of indicators on violence against women across the partners."),
        ("2", "Pool the partners' funding for survivor services in the pilot countries."),
    ]
    for number, text in shared:
        drafting.add_recommendation(system, lead.management_response, fields={"number": number, "text": text, "category": "Accepted"})
    approved_partner = joint.add_partner(system, lead, office=partner_office)
    joint.add_partner(system, lead, office=office)  # the demo office drafts its own response ("office" signs in); a plan of its own for 2024 - 2025
    for evaluation, deadline, status in ((lead, dt.date(2026, 6, 1), ActionStatus.INITIATED),
                                         (approved_partner, dt.date(2026, 9, 1), ActionStatus.NOT_INITIATED)):
        response = evaluation.management_response
        response.refresh_from_db()
        unit = Unit.objects.filter(office=evaluation.office).order_by("pk").first() or Unit.objects.create(
            office=evaluation.office, name="Programme unit (demo)")
        for rec in Recommendation.objects.filter(evaluation=evaluation).order_by("position"):
            if evaluation is approved_partner:
                rec = drafting.update_recommendation(system, rec, version=rec.version, fields={"number": rec.number, "text": rec.text, "category": "Partially Accepted"})
            drafting.add_action(system, rec, fields={
                "number": f"{rec.number}.1", "text": f"{evaluation.office}: put recommendation {rec.number} into practice with the partners.",
                "responsible": unit.name, "status": status, "deadline": deadline,
            }, units=[unit])
        response.refresh_from_db()
        response = drafting.update_response(system, response, version=response.version, units=[unit],
                                            overall_response=f"{evaluation.office} accepts the joint evaluation's recommendations.")
        response = drafting.submit_response(system, response, version=response.version)
        drafting.approve_response(system, response, version=response.version)
    return lead
