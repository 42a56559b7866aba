"""Records full of payloads in a demo installation, for tests/browser/test_payloads.py.

Run in the installation's environment (FOLLOWTHROUGH_VAR_DIR, after `followthrough
loaddemo`): `python -m tests.browser.seed_payloads`. Everything goes through the
services the forms use (the server-side suite, tests/web/test_payloads.py, sends
every payload through the forms themselves): a GATE page imported, a draft
written by the office focal point, a response returned with a reason, progress
reported by the unit focal point, evaluations created by the evaluation office.
Prints what it made as JSON.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "followthrough.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model

    import gateformat
    from tests.payloads import PAYLOADS, payload_document, stored_form
    from tracking.actor import Actor
    from tracking.models import KeyAction, Office, Unit
    from tracking.services import drafting
    from tracking.services.demo import DEMO_OFFICE, DEMO_UNIT
    from tracking.services.importer import Importer
    from tracking.services.progress import record_progress

    users = {u.username: u for u in get_user_model().objects.all()}
    office_fp, unit_fp, reviewer = (Actor(user=users[n]) for n in ("office", "unit", "evaluation"))
    office = Office.objects.get(name=DEMO_OFFICE)
    unit = Unit.objects.filter(name=DEMO_UNIT).order_by("pk").first()
    payloads = [p for p in PAYLOADS if "\x00" not in p.text]  # NUL: refused by every form (see the server-side suite)

    # 1. A GATE page of the demo office, every field a payload; its key actions are the demo unit's.
    doc = payload_document(payloads, office=DEMO_OFFICE, responsible=DEMO_UNIT)
    imported = Importer(Actor.system("import")).import_text(gateformat.render(doc), source="payloads.txt")
    assert imported.evaluation_id, imported

    # 2. A draft: every payload as a recommendation and a key action.
    draft = drafting.create_evaluation(reviewer, office=office, start_year=2025, end_year=2026, title="Draft <script>alert(1)</script> '+alert(1)+'")
    response = draft.management_response
    for i, p in enumerate(payloads, start=1):
        text = stored_form(p.text) or f"({i})"
        number = text if len(text) <= 20 else str(i)
        rec = drafting.add_recommendation(
            office_fp, response, fields={"number": number, "text": text, "response_text": text, "description": text, "category": "Accepted"}
        )
        drafting.add_action(
            office_fp, rec, fields={"number": number, "text": text, "responsible": text[:500], "comments": text, "status": "Not Initiated"},
            units=[unit],
        )
    response.refresh_from_db()
    drafting.update_response(office_fp, response, version=response.version, overall_response=payloads[16].text, units=[unit])

    # 3. A response returned with a payload as its reason, and one waiting for review.
    returned = drafting.create_evaluation(reviewer, office=office, start_year=2025, end_year=2026, title='Returned "><img src=x onerror=alert(1)>')
    submitted = drafting.create_evaluation(reviewer, office=office, start_year=2025, end_year=2026, title="Submitted {{ 7*7 }} ＝1+1")
    for ev in (returned, submitted):
        r = ev.management_response
        rec = drafting.add_recommendation(office_fp, r, fields={"number": "1", "text": "<svg onload=alert(1)>", "category": "Accepted"})
        drafting.add_action(
            office_fp, rec, fields={"number": "1.1", "text": "'+alert(1)+'", "status": "Not Initiated", "deadline": dt.date(2031, 1, 1)},
            units=[unit],
        )
        r.refresh_from_db()
        drafting.update_response(office_fp, r, version=r.version, overall_response="<b>We accept.</b>", units=[unit])
        r.refresh_from_db()
        drafting.submit_response(office_fp, r, version=r.version)
    r = returned.management_response
    r.refresh_from_db()
    drafting.return_response(reviewer, r, version=r.version, reason="'+alert(1)+' \"><img src=x onerror=alert(1)> <script>alert(1)</script>")

    # 4. Progress on the imported key actions: every payload a comment; links of every kind that are accepted.
    actions = list(KeyAction.objects.filter(evaluation_id=imported.evaluation_id).order_by("recommendation__position"))
    links = ["www.example.org/report.pdf", "example.org", "https://example.org/?q=<script>alert(1)</script>", "https://example.org/#'+alert(1)+'"]
    for i, p in enumerate(payloads):
        action = actions[i % 10]
        action.refresh_from_db()
        link = links[i % len(links)] if i < len(links) else ""
        record_progress(unit_fp, action, version=action.version, status="Initiated", comment=p.text, evidence_url=link)

    # 5. Evaluations created with payload titles.
    titles = []
    for i, p in enumerate(payloads[:40], start=1):
        ev = drafting.create_evaluation(reviewer, office=office, start_year=2023, end_year=2024, title=f"{p.text} ({i})")
        titles.append(ev.pk)

    json.dump(
        {
            "imported": imported.evaluation_id,
            "draft": draft.pk,
            "draft_response": response.pk,
            "returned": returned.pk,
            "returned_response": returned.management_response.pk,
            "submitted": submitted.pk,
            "submitted_response": submitted.management_response.pk,
            "progress_actions": [a.pk for a in actions[:10]],
            "created": titles,
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
