"""Demo people (one per role) and a demo draft, for trying the system after `make run`."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction

from ..actor import Actor
from ..models import Evaluation, KeyAction, Office, Role, RoleAssignment, Unit, Verification
from ..models.responses import ActionStatus, ResponseStatus
from . import drafting, progress, quality, verification

DEMO_PASSWORD = "followthrough-demo"
DEMO_OFFICE = "Policy, Programme and Intergovernmental Division"
DEMO_UNIT = "PPID"


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
        system, office=office, start_year=2025, end_year=2026, title=title, type=Evaluation.Type.THEMATIC
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


def load_demo_verification() -> bool:
    """Verified completion in every state (once): the demo unit reports three key actions Completed, with
    evidence; the demo evaluation office accepts one, sends one back with a reason and leaves one awaiting.

    The actions are the unit's approved ones with the latest deadlines, so the first ones of "My key actions"
    stay as imported. Needs the demo people (`load_demo_people`).
    """
    if Verification.objects.exists():
        return False
    User = get_user_model()
    unit_user, office_user = User.objects.get(username="unit"), User.objects.get(username="evaluation")
    unit = Unit.objects.filter(name=DEMO_UNIT).order_by("pk").first()
    actions = list(
        KeyAction.objects.filter(
            units=unit, evaluation__management_response__status=ResponseStatus.APPROVED, status=ActionStatus.INITIATED
        ).order_by("-deadline", "-pk")[:3]
    )
    if len(actions) < 3:
        return False
    reported = Actor(user=unit_user, source="command")
    verifier = Actor(user=office_user, source="command")
    claims = [
        ("Guidance issued to all country offices; the note is on the intranet.", "https://www.unwomen.org/en/digital-library"),
        ("Workshop held with the regional offices; the report is attached.", "https://www.unwomen.org/en/how-we-work"),
        ("Done.", "https://www.unwomen.org/en"),
    ]
    for action, (comment, link) in zip(actions, claims):
        progress.record_progress(
            reported, action, version=action.version, status=ActionStatus.COMPLETED, comment=comment, evidence_url=link
        )
    accepted, sent_back, _awaiting = (KeyAction.objects.get(pk=a.pk) for a in actions)
    verification.verify_completion(verifier, accepted, version=accepted.version, accept=True)
    verification.verify_completion(
        verifier,
        sent_back,
        version=sent_back.version,
        accept=False,
        reason="The link is a general page, not the workshop report: attach the report or its minutes.",
    )
    return True
