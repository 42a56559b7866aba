"""Seed the office types and the four controlled vocabularies GATE pages use.

Administrators extend or retire values in the admin; imports add values they
meet that are not here (marked as added by an import).
"""

from django.db import migrations

OFFICE_TYPES = [
    ("EO", "Evaluation office"),
    ("HQ", "Headquarters division"),
    ("RO", "Regional office"),
    ("MCO", "Multi-country office"),
    ("CO", "Country office"),
    ("PP", "Programme presence"),
]

TERMS = {
    "thematic_area": [
        "Governance and participation in public life",
        "Women's economic empowerment",
        "Ending violence against women and girls",
        "Women, peace and security, humanitarian action",
        "Governance and planning (SPs before 2018)",
        "Global norms and standards (SPs before 2018)",
        "Leadership and political participation (SPs before 2018)",
        "Women economic empowerment (SPs before 2018)",
        "Ending violence against women (SPs before 2018)",
        "Peace and security (SPs before 2018)",
        "Not applicable",
    ],
    "operating_principle": [
        "Oversight/governance",
        "Internal coordination and communication",
        "Resource mobilization",
        "Innovation and technology",
        "Capacity development",
        "Promoting inclusiveness/Leaving no one behind",
        "Advocacy",
        "National ownership",
        "Alignment with strategy",
        "Knowledge management",
        "Evidence, Data and statistics",
        "Not applicable",
    ],
    "organizational_priority": [
        "Partnership",
        "Youth engagement",
        "Engaging men and boys",
        "UN Coordination",
        "Normative Support",
        "Operational activities",
        "Culture of results/RBM",
        "Humanitarian action",
        "Organizational efficiency",
        "Not applicable",
    ],
    "uneg_criterion": [
        "Relevance",
        "Effectiveness",
        "Efficiency",
        "Sustainability",
        "Impact",
        "Coherence",
        "Gender equality",
        "Human Rights",
        "Not applicable",
    ],
}


def seed(apps, schema_editor):
    OfficeType = apps.get_model("tracking", "OfficeType")
    Term = apps.get_model("tracking", "Term")
    for i, (code, name) in enumerate(OFFICE_TYPES):
        OfficeType.objects.get_or_create(code=code, defaults={"name": name, "position": i})
    for kind, names in TERMS.items():
        for i, name in enumerate(names):
            Term.objects.get_or_create(kind=kind, name=name, defaults={"position": i})


class Migration(migrations.Migration):
    dependencies = [("tracking", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
