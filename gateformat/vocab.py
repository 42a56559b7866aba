"""Words the GATE format is made of: statuses, categories, list values, unit words.

These are vocabularies of the *format* (what GATE pages print), not answers
for particular documents. The domain app keeps the administrator-editable
versions; the reader only needs them to find boundaries in run-together text.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib import resources

# Key-action statuses. The first four are today's; the rest are seen on older
# pages (or plausible spellings of them). Longest first so that a multi-word
# status wins over its first word ("Not Initiated" over "Not").
KEY_ACTION_STATUSES = ("Not Initiated", "Initiated", "Completed", "No Longer Applicable")
LEGACY_KEY_ACTION_STATUSES = (
    "Overdue-Initiated",
    "Overdue-Not Initiated",
    "Overdue - Initiated",
    "Over due",
    "Overdue",
    "Ongoing",
    "On going",
    "On-going",
    "In Progress",
    "Not Started",
    "Partially Completed",
    "Pending",
    "Delayed",
    "Cancelled",
    "Canceled",
    "Closed",
    "Not Applicable",
)
ALL_KEY_ACTION_STATUSES = tuple(
    sorted(KEY_ACTION_STATUSES + LEGACY_KEY_ACTION_STATUSES, key=len, reverse=True)
)

CATEGORIES = ("Accepted", "Partially Accepted", "Rejected", "Not applicable")

# Values of the comma-separated fields that themselves contain a comma: the
# list must not be cut inside them.
MULTI_COMMA_TERMS = (
    "Evidence, Data and statistics",
    "Peace, Security and Resilience",
)

RESPONSE_STATUSES = ("Approved", "Draft", "Submitted", "Returned", "Pending", "Not Approved")

OFFICE_TYPES = ("EO", "HQ", "RO", "MCO", "CO", "PP")

# Words that make a phrase read as an organisational unit or a role.
UNIT_WORDS = frozenset(
    w.casefold()
    for w in """
    Division Divisions Section Sections Unit Units Office Offices Secretariat Team Teams
    Bureau Branch Service Services Department Departments Directorate Ministry Committee
    Group Groups Fund Centre Center Cluster Programme Programmes Program Staff Manager
    Managers Officer Officers Specialist Specialists Representative Representatives Head
    Heads Director Directors Coordinator Coordinators Advisor Adviser Advisers Analyst
    Associate Chief Deputy Focal Point Points Lead Leads Management Mission Presence
    Liaison Agency Agencies Partners Board Council Network Facility Task Force Desk
    Practice Area Portfolio Operations Finance Procurement Communications Country
    Regional Headquarters HQ Executive Assistant Secretary-General Personnel Leadership
    Offices in collaboration coordination support with and of the for
    """.split()
)

# Unit words proper: the head nouns (not the connectors listed above).
UNIT_HEAD_WORDS = frozenset(
    w.casefold()
    for w in """
    Division Divisions Section Sections Unit Units Office Offices Secretariat Team Teams
    Bureau Branch Service Services Department Departments Directorate Ministry Committee
    Group Groups Centre Center Cluster Staff Manager Managers Officer Officers Specialist
    Specialists Representative Representatives Head Heads Director Directors Coordinator
    Coordinators Advisor Adviser Advisers Analyst Chief Deputy Point Points Lead Presence
    Liaison Agency Agencies Partners Board Council Facility Desk Personnel Secretary
    """.split()
)

# Words a phrase cannot end on if it is a whole action text ("... by the").
DANGLING_WORDS = frozenset(
    """
    a an the of to for by with in on at from and or as such including include includes
    its their our his her this that these those into onto upon via per between among
    through towards toward within without under over about across than both either
    de la le les des du et en pour par avec y el los las del con para por una un
    """.split()
)


def canonical(value: str, vocabulary: tuple[str, ...]) -> str | None:
    """The vocabulary's own spelling of `value` (case- and space-insensitive)."""
    return _keyed(vocabulary).get(_key(value))


@lru_cache(maxsize=32)
def _keyed(vocabulary: tuple[str, ...]) -> dict[str, str]:
    return {_key(term): term for term in vocabulary}


_KEY_SEPARATORS = re.compile(r"[\s\-]+")


@lru_cache(maxsize=8192)
def _key(value: str) -> str:
    # Cached: the same few field values recur on every page of a corpus.
    return _KEY_SEPARATORS.sub(" ", value).strip().casefold()


# The comma-holding terms, by the key of their first part: a part that starts none is kept as is.
_MULTI_BY_FIRST: dict[str, list[tuple[int, str]]] = {}
for _term in MULTI_COMMA_TERMS:
    _MULTI_BY_FIRST.setdefault(_key(_term.split(",")[0]), []).append((_term.count(",") + 1, _key(_term)))


def split_list(value: str) -> list[str]:
    """Split a comma-separated field, keeping values that contain a comma whole."""
    value = value.strip()
    if not value or value == ",":
        return []
    parts = [p.strip() for p in value.split(",")]
    items: list[str] = []
    i = 0
    while i < len(parts):
        for width, term_key in _MULTI_BY_FIRST.get(_key(parts[i]), ()):
            candidate = ", ".join(parts[i : i + width])
            if _key(candidate) == term_key:
                items.append(candidate)
                i += width
                break
        else:
            if parts[i]:
                items.append(parts[i])
            i += 1
    return items


def join_list(items: list[str]) -> str:
    return ", ".join(items)


@lru_cache(maxsize=1)
def reference_offices() -> dict:
    """The real regions and offices shipped with the package (offices.json)."""
    text = resources.files("gateformat").joinpath("data/offices.json").read_text("utf-8")
    return json.loads(text)


@lru_cache(maxsize=1)
def reference_office_names() -> tuple[str, ...]:
    data = reference_offices()
    names = [o["office"] for offices in data["regions"].values() for o in offices]
    names += [o["office"] for o in data.get("offices_in_headers_not_in_menus", [])]
    return tuple(dict.fromkeys(names))
