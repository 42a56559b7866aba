"""Synthetic GATE management responses whose shape follows the real ones.

Used by tests, the demo and the benchmarks. Seeded: the same seed and count
give the same documents, byte for byte. Offices and regions are the real
ones (offices.json); texts are assembled from phrases of the kind the real
pages use, at realistic lengths. Documents are written in the layouts and
numbering styles real pages show, with key-action cells separated by single
spaces as on the copied pages, so reading them exercises the same inference
real pages need. Each document's exact content is known (`Document`), so a
test can measure how well the reader recovers it.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .model import Document, Evaluation, KeyAction, ManagementResponse, Recommendation
from .render import render
from .vocab import reference_offices

OPERATING_PRINCIPLES = [
    "Oversight/governance", "Internal coordination and communication", "Resource mobilization",
    "Innovation and technology", "Capacity development",
    "Promoting inclusiveness/Leaving no one behind", "Advocacy", "National ownership",
    "Alignment with strategy", "Knowledge management", "Evidence, Data and statistics",
]
ORGANIZATIONAL_PRIORITIES = [
    "Partnership", "Youth engagement", "Engaging men and boys", "UN Coordination",
    "Normative Support", "Operational activities", "Culture of results/RBM", "Humanitarian action",
]
UNEG_CRITERIA = [
    "Relevance", "Effectiveness", "Efficiency", "Sustainability", "Impact", "Coherence",
    "Gender equality", "Human Rights",
]
THEMATIC_AREAS_OLD = [
    "Governance and planning (SPs before 2018)", "Global norms and standards (SPs before 2018)",
    "Ending violence against women (SPs before 2018)", "Peace and security (SPs before 2018)",
    "Women economic empowerment (SPs before 2018)",
    "Leadership and political participation (SPs before 2018)",
]
THEMATIC_AREAS_NEW = [
    "Governance and participation in public life", "Women's economic empowerment",
    "Ending violence against women and girls", "Women, peace and security, humanitarian action",
]
HQ_UNITS = [
    "Strategic Partnerships Division (SPD)", "Policy Division", "Programme Division",
    "Civil Society Section (CSS)", "Intergovernmental Support Division (IGSD)",
    "Human Resources (HR)", "Information Systems and Telecommunications (IST)",
    "Division of Management and Administration (DMA)", "Executive Director's Office (EDO)",
    "Peace, Security and Resilience Unit", "UN System Coordination Division",
    "Independent Evaluation Service (IES)", "Programme Support Management Unit (PSMU)",
    "Gender Statistics Unit", "Knowledge Management Section",
]
FIELD_UNITS = [
    "Programme Unit", "Operations Unit", "Monitoring and Evaluation Unit",
    "Communications Unit", "EVAW Programme Team", "WEE Programme Team", "WPS Programme Team",
    "Deputy Representative", "Country Representative", "Programme Specialist",
    "Resource Mobilization Team", "Coordination Unit", "Finance Unit",
]
VERBS = [
    "Develop", "Strengthen", "Establish", "Review", "Update", "Conduct", "Ensure", "Support",
    "Integrate", "Design", "Expand", "Prepare", "Map", "Document", "Institutionalize",
    "Mobilize", "Disseminate", "Organize", "Assess", "Revise", "Pilot", "Build",
]
OBJECTS = [
    "a resource mobilization strategy", "the monitoring and reporting framework",
    "partnerships with civil society organizations", "the theory of change of the programme",
    "a knowledge management plan", "capacity of national partners on gender-responsive budgeting",
    "guidance on gender-sensitive conflict analysis", "the results framework of the Strategic Note",
    "coordination mechanisms with UN agencies", "a communication and visibility plan",
    "data collection on violence against women", "the annual work plan",
    "the sustainability and exit strategy", "training for implementing partners",
    "a mapping of women's organizations", "South-South exchanges on women's leadership",
    "the country office staffing structure", "joint programmes with sister agencies",
    "baseline and endline surveys", "a gender equality accelerator",
]
QUALIFIERS = [
    "at national and subnational levels", "in close consultation with government counterparts",
    "with a focus on the most marginalized women", "in line with the Strategic Plan 2022-2025",
    "subject to availability of resources", "building on lessons learned from phase I",
    "through the Women Count programme", "across all programme areas",
    "in coordination with the UN Country Team", "for the next Strategic Note period",
    "including women with disabilities and young women", "to inform future programming",
]
SENTENCES = [
    "The evaluation confirmed the relevance of the programme to national priorities.",
    "Progress was reviewed at the mid-year review of the annual work plan.",
    "A draft has been shared with partners for comments.",
    "Funding constraints delayed the start of implementation.",
    "The action was integrated into the new Strategic Note.",
    "Consultations with civil society organizations were held in three regions.",
    "A focal point has been appointed to follow up on implementation.",
    "The guidance note was finalized and disseminated to all staff.",
    "Implementation is on track and will be completed by the end of the year.",
    "The country office welcomes the findings and recommendations of the evaluation.",
    "Management accepts the recommendation and has already started to act on it.",
    "This requires close collaboration with government counterparts and donors.",
    "Lessons learned will be documented and shared across the region.",
    "The recommendation is partially accepted given the resources available.",
    "UN Women will continue to strengthen its coordination mandate.",
    "The evaluation noted that results at outcome level were not consistently reported.",
]
TITLE_TEMPLATES = [
    "Country Portfolio Evaluation of {office} {y1}-{y2}",
    "Final Evaluation of the {project} Project",
    "Mid-Term Evaluation of the {project} Programme",
    "Corporate Evaluation of UN Women's Support to {topic}",
    "Thematic Evaluation of {topic} in {office}",
    "Final Joint Evaluation of the {project} Joint Programme ({code})",
    "Evaluation of the Strategic Note {y1} - {y2}",
]
PROJECTS = [
    "Women's Leadership and Political Participation", "Safe Cities and Safe Public Spaces",
    "Women in Peace Processes", "Gender-Responsive Budgeting", "Ending Child Marriage",
    "Women's Economic Empowerment through Cooperatives", "Climate-Resilient Agriculture",
    "Spotlight Initiative", "Access to Justice for Women", "Second Chance Education",
    "Women Count", "Inclusive Security", "LEAP Humanitarian Response",
]
TOPICS = [
    "Women's Political Participation", "Humanitarian Action", "Gender Statistics",
    "Women, Peace and Security", "Ending Violence against Women", "UN System Coordination",
    "Women's Economic Empowerment", "Governance and National Planning", "Youth Engagement",
]
# Near-duplicate recommendations planted across evaluations: each theme said again and again in
# other words (paraphrases, not copies), in English and in French. What was planted where is
# recorded (Generator.planted, planted.json), so a test can measure how well similar
# recommendations are found. Recommendations of one theme in one language are the same
# recommendation made again; the two languages of a theme are told apart.
PLANTED_THEMES = {
    "risk-appetite": {
        "en": [
            "Define a clear risk appetite statement for partnerships with the private sector",
            "Set out the organization's appetite for risk when it partners with private companies",
            "Adopt an explicit statement of risk appetite covering private sector partnerships",
            "Clarify how much risk the entity is willing to accept in its private sector partnerships",
            "Establish and communicate a risk appetite for engaging with corporate partners",
        ],
        "fr": [
            "Définir une déclaration claire d'appétence au risque pour les partenariats avec le secteur privé",
            "Préciser le niveau de risque que l'organisation accepte dans ses partenariats avec les entreprises privées",
            "Adopter une déclaration explicite d'appétence au risque couvrant les partenariats avec le secteur privé",
            "Établir et communiquer l'appétence au risque de l'entité pour ses partenaires du secteur privé",
        ],
    },
    "donor-crm": {
        "en": [
            "Roll out a single customer relationship management system to track all contacts with donors",
            "Introduce one shared CRM platform so that every interaction with donors is recorded and visible",
            "Use a corporate relationship management tool to record contacts with donors across offices",
            "Deploy a common donor relationship management system that all offices use to log contacts",
        ],
        "fr": [
            "Déployer un système unique de gestion de la relation avec les donateurs pour suivre tous les contacts",
            "Mettre en place une plateforme commune de gestion des relations avec les donateurs visible par tous les bureaux",
            "Utiliser un outil institutionnel de gestion de la relation donateurs pour enregistrer les échanges",
            "Instaurer un système partagé de gestion des contacts avec les donateurs dans tous les bureaux",
        ],
    },
    "exit-strategy": {
        "en": [
            "Design an exit strategy from the outset so that results are sustained after funding ends",
            "Plan for sustainability and a phased handover to national partners before the project closes",
            "Include a handover and exit plan in every project document to secure results beyond the funding period",
            "Develop a clear exit and sustainability plan with national counterparts early in implementation",
        ],
        "fr": [
            "Concevoir une stratégie de sortie dès le départ afin que les résultats perdurent après la fin du financement",
            "Planifier la durabilité et le transfert progressif aux partenaires nationaux avant la clôture du projet",
            "Inclure un plan de transfert et de sortie dans chaque document de projet pour pérenniser les résultats",
            "Élaborer tôt un plan clair de sortie et de durabilité avec les homologues nationaux",
        ],
    },
    "disaggregated-data": {
        "en": [
            "Collect and report data disaggregated by sex, age and disability in all monitoring systems",
            "Ensure monitoring data are broken down by sex, age and disability status and reported regularly",
            "Strengthen the collection of sex-, age- and disability-disaggregated data for programme monitoring",
            "Systematically disaggregate monitoring data by sex, age and disability and use it in reporting",
        ],
        "fr": [
            "Collecter et rendre compte de données ventilées par sexe, âge et handicap dans tous les systèmes de suivi",
            "Veiller à ce que les données de suivi soient ventilées par sexe, âge et situation de handicap",
            "Renforcer la collecte de données désagrégées par sexe, âge et handicap pour le suivi des programmes",
            "Ventiler systématiquement les données de suivi par sexe, âge et handicap et les utiliser dans les rapports",
        ],
    },
    "core-funding": {
        "en": [
            "Diversify the funding base and reduce dependence on a small number of donors for core resources",
            "Broaden the donor base to lessen reliance on a few contributors for regular resources",
            "Reduce the concentration of core funding in a handful of donors by attracting new contributors",
            "Widen the pool of contributors to core resources so that funding depends less on a few donors",
        ],
        "fr": [
            "Diversifier la base de financement et réduire la dépendance à l'égard d'un petit nombre de donateurs",
            "Élargir la base de donateurs afin de moins dépendre de quelques contributeurs pour les ressources de base",
            "Réduire la concentration des ressources de base chez une poignée de donateurs en attirant de nouveaux contributeurs",
            "Accroître le nombre de contributeurs aux ressources de base pour moins dépendre de quelques donateurs",
        ],
    },
    "staff-turnover": {
        "en": [
            "Address high staff turnover by offering longer contracts to programme personnel",
            "Reduce the turnover of programme staff through more stable, longer-term contracts",
            "Retain programme personnel by replacing short-term appointments with longer contracts",
            "Tackle frequent staff changes in programme teams by providing contracts of longer duration",
        ],
        "fr": [
            "Remédier à la forte rotation du personnel en proposant des contrats plus longs au personnel de programme",
            "Réduire la rotation du personnel des programmes grâce à des contrats plus stables et de plus longue durée",
            "Fidéliser le personnel de programme en remplaçant les engagements de courte durée par des contrats plus longs",
            "Limiter les changements fréquents de personnel dans les équipes de programme par des contrats plus durables",
        ],
    },
    "results-framework": {
        "en": [
            "Revise the results framework so that indicators are measurable, with baselines and targets",
            "Improve the results matrix by setting baselines, targets and measurable indicators for each outcome",
            "Make outcome indicators measurable and give each one a baseline and a target value",
            "Strengthen the results framework with SMART indicators, baseline values and annual targets",
        ],
        "fr": [
            "Réviser le cadre de résultats afin que les indicateurs soient mesurables, avec des valeurs de référence et des cibles",
            "Améliorer la matrice de résultats en fixant des valeurs de référence, des cibles et des indicateurs mesurables",
            "Rendre les indicateurs d'effet mesurables et leur donner une valeur de référence et une cible",
            "Renforcer le cadre de résultats avec des indicateurs SMART, des valeurs de départ et des cibles annuelles",
        ],
    },
    "knowledge-sharing": {
        "en": [
            "Systematically document good practices and share lessons learned across country offices",
            "Capture lessons learned and good practices and disseminate them to other offices in the region",
            "Set up a routine for documenting good practices so that lessons are shared between country offices",
            "Record what works and share these lessons and practices with peer country offices",
        ],
        "fr": [
            "Documenter systématiquement les bonnes pratiques et partager les enseignements entre les bureaux de pays",
            "Recueillir les leçons apprises et les bonnes pratiques et les diffuser aux autres bureaux de la région",
            "Mettre en place une pratique régulière de documentation des bonnes pratiques partagées entre bureaux de pays",
            "Consigner ce qui fonctionne et partager ces enseignements avec les autres bureaux de pays",
        ],
    },
}
PLANT_SHARE = 0.12  # of documents that get a planted recommendation
PLANT_TAILS = ["", "", " in the next programming cycle", " at country level", " with the support of headquarters"]
PLANT_TAILS_FR = ["", "", " au cours du prochain cycle de programmation", " au niveau des pays", " avec l'appui du siège"]

STATUS_FUTURE = [("Initiated", 50), ("Not Initiated", 40), ("Completed", 10)]
STATUS_PAST = [("Completed", 60), ("Initiated", 18), ("Not Initiated", 10), ("No Longer Applicable", 12)]
CATEGORY_WEIGHTS = [("Accepted", 75), ("Partially Accepted", 17), ("Rejected", 4), ("Not applicable", 2), ("", 2)]
ACTIONS_PER_RECOMMENDATION = [(1, 25), (2, 25), (3, 25), (4, 15), (5, 10)]
LAYOUT_WEIGHTS = [("compact", 45), ("sample000", 35), ("sample002", 20)]
NUMBERING = [("plain", 55), ("paren", 20), ("dot", 10), ("none", 15)]


@dataclass
class GeneratedDocument:
    document: Document
    text: str
    filename: str
    # (recommendation number, planted group) of the near-duplicates planted in this document.
    planted: tuple[tuple[str, str], ...] = ()


def offices_with_types() -> list[tuple[str, str, str]]:
    """(office, type, region) for every real office, with a type for each."""
    data = reference_offices()
    rows = []
    for region, offices in data["regions"].items():
        for o in offices:
            kind = o.get("type") or ("HQ" if region.startswith("Evaluations by HQ") else "CO")
            rows.append((o["office"], kind, region))
    for o in data.get("offices_in_headers_not_in_menus", []):
        rows.append((o["office"], o["type"], o.get("likely_region", "")))
    return rows


class Generator:
    def __init__(self, seed: int = 0, today_year: int = 2026):
        self.rng = random.Random(seed)
        self.today_year = today_year
        self.offices = offices_with_types()
        self._titles: set[tuple[str, int, int, str]] = set()
        # Planting draws from its own generator: the rest of the corpus is what it was without it.
        self._plant_rng = random.Random(f"plant-{seed}")
        # group ("theme:language") -> [(filename, recommendation number)]
        self.planted: dict[str, list[tuple[str, str]]] = {}

    def _pick(self, weighted):
        values, weights = zip(*weighted)
        return self.rng.choices(values, weights=weights)[0]

    def _sentences(self, lo: int, hi: int) -> str:
        return " ".join(self.rng.sample(SENTENCES, self.rng.randint(lo, hi)))

    def _office(self) -> tuple[str, str, str]:
        # Country offices hold most evaluations; HQ and EO fewer.
        weights = [{"CO": 6, "PP": 2, "MCO": 3, "RO": 3, "HQ": 2, "EO": 4}.get(t, 1) for _, t, _ in self.offices]
        return self.rng.choices(self.offices, weights=weights)[0]

    def _units(self, office: str, kind: str) -> list[str]:
        pool = HQ_UNITS if kind in ("HQ", "EO") else FIELD_UNITS + [office]
        return pool

    def _title(self, office: str, start: int, end: int) -> str:
        for attempt in range(50):
            template = self.rng.choice(TITLE_TEMPLATES)
            title = template.format(
                office=office, y1=start, y2=end, project=self.rng.choice(PROJECTS),
                topic=self.rng.choice(TOPICS), code="".join(self.rng.choices("ABCDEFGHJKLMNPRSTUVW", k=3)),
            )
            if attempt > 5:
                title += f" (phase {attempt - 4})"
            key = (office, start, end, title)
            if key not in self._titles:
                self._titles.add(key)
                return title
        raise RuntimeError("could not find a unique title")

    def _responsible(self, pool: list[str]) -> str:
        n = self._pick([(1, 55), (2, 30), (3, 15)])
        units = self.rng.sample(pool, n)
        if n == 1:
            return units[0]
        sep = self.rng.choice(["/", ", ", "; ", " and ", "/ "])
        return sep.join(units)

    def _action_text(self) -> str:
        text = f"{self.rng.choice(VERBS)} {self.rng.choice(OBJECTS)} {self.rng.choice(QUALIFIERS)}"
        if self.rng.random() < 0.5:
            text += f", and {self.rng.choice(VERBS).lower()} {self.rng.choice(OBJECTS)}"
        return text + ("." if self.rng.random() < 0.85 else "")

    def document(self, numbering: str = "plain") -> Document:
        office, kind, _region = self._office()
        start = self.rng.randint(2011, self.today_year)
        end = min(start + self.rng.choice([0, 1, 1, 2, 3]), self.today_year + 1)
        pool = self._units(office, kind)
        recs = []
        for r in range(1, self.rng.randint(5, 10) + 1):
            actions = []
            for a in range(1, self._pick(ACTIONS_PER_RECOMMENDATION) + 1):
                year = self.rng.randint(end, end + 3)
                month = self.rng.randint(1, 12)
                past = (year, month) < (self.today_year, 11)
                status = self._pick(STATUS_PAST if past else STATUS_FUTURE)
                comments = self._sentences(0, 4) if status != "Not Initiated" or self.rng.random() < 0.3 else ""
                actions.append(
                    KeyAction(
                        # "1)" pages number actions within their recommendation.
                        number=str(a) if numbering == "paren" else f"{r}.{a}",
                        text=self._action_text(),
                        responsible=self._responsible(pool),
                        deadline=f"{year}-{month:02d}",
                        status=status,
                        comments=comments,
                    )
                )
            thematic = self.rng.choice(THEMATIC_AREAS_OLD if start < 2018 else THEMATIC_AREAS_NEW + ["Not applicable"])
            recs.append(
                Recommendation(
                    number=str(r),
                    text=(
                        f"{self.rng.choice(VERBS)} {self.rng.choice(OBJECTS)} {self.rng.choice(QUALIFIERS)}. "
                        + self._sentences(0, 2)
                    ).strip(),
                    management_response=self._sentences(1, 5),
                    description=self._sentences(1, 2) if self.rng.random() < 0.3 else "",
                    category=self._pick(CATEGORY_WEIGHTS),
                    thematic_area=thematic,
                    operating_principles=self.rng.sample(OPERATING_PRINCIPLES, self.rng.randint(1, 3)),
                    organizational_priorities=self.rng.sample(ORGANIZATIONAL_PRIORITIES, self.rng.randint(1, 2)),
                    uneg_criteria=self.rng.sample(UNEG_CRITERIA, self.rng.randint(1, 3)),
                    key_actions=actions,
                )
            )
        return Document(
            evaluation=Evaluation(
                title=self._title(office, start, end),
                office=office,
                plan_office=office,
                office_type=kind,
                plan_start_year=start,
                plan_end_year=end,
            ),
            management_response=ManagementResponse(
                status=self._pick([("Approved", 85), ("Draft", 15)]),
                units=[office],
                overall_response=self._sentences(2, 6) if self.rng.random() < 0.8 else "",
            ),
            recommendations=recs,
        )

    def text(self, doc: Document, numbering: str = "plain") -> str:
        """The document as a copied page would show it, in one of the real styles."""
        layout = self._pick(LAYOUT_WEIGHTS)
        return render(
            doc,
            layout=layout,
            cells="space",
            newline="\r\n" if self.rng.random() < 0.1 else "\n",
            recommendation_label=self.rng.choice(
                ["Recommendation {number}: ", "Evaluation recommendation {number}: ", "{number}. "]
            ),
            numbering=numbering,
        )

    def plant(self, doc: Document, filename: str) -> tuple[tuple[str, str], ...]:
        """Maybe replace one recommendation's text with a paraphrase of a planted theme."""
        rng = self._plant_rng
        if not doc.recommendations or rng.random() >= PLANT_SHARE:
            return ()
        theme = rng.choice(sorted(PLANTED_THEMES))
        language = rng.choice(["en", "en", "fr"])
        sentence = rng.choice(PLANTED_THEMES[theme][language])
        tail = rng.choice(PLANT_TAILS if language == "en" else PLANT_TAILS_FR)
        rec = rng.choice(doc.recommendations)
        rec.text = f"{sentence}{tail}."
        group = f"{theme}:{language}"
        self.planted.setdefault(group, []).append((filename, rec.number))
        return ((rec.number, group),)

    def documents(self, count: int) -> Iterator[GeneratedDocument]:
        for i in range(count):
            numbering = self._pick(NUMBERING)
            doc = self.document(numbering)
            slug = re.sub(r"[^a-z0-9]+", "-", doc.evaluation.office.casefold()).strip("-")[:40]
            filename = f"{i:06d}_{slug}.txt"
            planted = self.plant(doc, filename)
            yield GeneratedDocument(doc, self.text(doc, numbering), filename, planted)


def write(directory: str | Path, count: int, seed: int = 0, expected: bool = False) -> list[Path]:
    """Write `count` documents (and, with `expected`, their JSON truth) to `directory`."""
    import json

    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    generator = Generator(seed)
    for g in generator.documents(count):
        path = out / g.filename
        path.write_text(g.text, encoding="utf-8", newline="")
        if expected:
            truth = g.document.to_dict()
            truth["source"] = g.filename
            (out / g.filename.replace(".txt", ".expected.json")).write_text(
                json.dumps(truth, ensure_ascii=False, indent=1), encoding="utf-8"
            )
        paths.append(path)
    # What was planted where: the truth the similar lists are measured against.
    planted = {group: [{"source": f, "number": n} for f, n in members] for group, members in sorted(generator.planted.items())}
    (out / "planted.json").write_text(json.dumps({"seed": seed, "groups": planted}, ensure_ascii=False, indent=1), encoding="utf-8")
    return paths
