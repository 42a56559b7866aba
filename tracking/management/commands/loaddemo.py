"""followthrough loaddemo: the real offices and regions, and the two real GATE documents."""

from __future__ import annotations

from importlib import resources

from django.core.management.base import BaseCommand

from tracking.actor import Actor
from tracking.services import demo, reference
from tracking.services.importer import FAILED, Importer


class Command(BaseCommand):
    help = "Load reference offices and regions, and import the demo GATE documents. Safe to run again."

    def handle(self, *args, **options):
        regions, offices = reference.load_offices()
        self.stdout.write(f"Reference data: {regions} regions and {offices} offices added.")
        importer = Importer(Actor.system("command"))
        folder = resources.files("tracking").joinpath("demo")
        for item in sorted(folder.iterdir(), key=lambda p: p.name):
            if not item.name.endswith(".txt"):
                continue
            result = importer.import_text(item.read_text("utf-8"), source=item.name)
            if result.outcome == FAILED:
                self.stderr.write(f"{item.name}: {result.error}")
            else:
                self.stdout.write(f"Demo document {item.name}: {result.outcome} (evaluation {result.evaluation_id}).")
        if demo.load_demo_unit_review():
            self.stdout.write("Demo units reviewed: the units the pages' line breaks made merged or renamed.")
        if demo.load_demo_draft():
            self.stdout.write("Demo draft response added (to try submitting and approving).")
        if demo.load_demo_ratings():
            self.stdout.write("Demo reports rated for quality (browse: the best reports).")
        if demo.load_demo_overdue():
            self.stdout.write("Demo response with overdue key actions added (to try `followthrough remind --dry-run`).")
        added = demo.load_demo_plan()
        if added:
            self.stdout.write(f"Demo plan 2025 - 2026: {added} more evaluations (to see a plan's compliance).")
        report = demo.load_demo_report()
        if report:
            self.stdout.write(f"Demo report attached to “{report.evaluation}” ({report.size // 1024} KB PDF, made now).")
        if demo.load_demo_joint():
            self.stdout.write("Demo joint evaluation: two partners, one response approved, the demo office's still drafting.")
        people = demo.load_demo_people()
        from reminders.demo import load_demo_office_head

        if load_demo_office_head(demo.DEMO_OFFICE):
            self.stdout.write(f"Demo office head for escalations: head@example.org ({demo.DEMO_OFFICE}).")
        if demo.load_demo_follow_up():
            self.stdout.write(
                "Demo follow-up: completions verified, sent back and awaiting verification; a revised deadline; "
                "adoption ratings; an outcome confirmed."
            )
        self.stdout.write(f"\nDemo users (local use only), password for all: {demo.DEMO_PASSWORD}")
        for username, role, scope in people:
            self.stdout.write(f"  {username:<11} {role} — {scope}")
