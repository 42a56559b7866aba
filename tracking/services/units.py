"""From a responsible text ("SPD/Civil Society Section (CSS), Policy Division") to units.

Known units are found by any name they answer to (name, acronym, alias),
preferring the evaluation's own office, then corporate (HQ and evaluation
office) units. What remains is cut into unit-sized fragments at separators
(`/`, `;`, and `,` or `and` where the part before reads as a whole unit) and
each fragment that names a unit becomes one, created under the evaluation's
office and marked as added by an import for someone to review.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gateformat.parser import reference_vocabulary
from gateformat.split import normalize_unit
from gateformat.vocab import UNIT_HEAD_WORDS

from ..models import Office, Unit

CORPORATE_OFFICE_TYPES = ("HQ", "EO")
_ACRONYM_IN_PARENS = re.compile(r"^(?P<name>.+?)\s*\((?P<acr>[A-Z][A-Za-z0-9&\-]{1,14})\)$")
_ACRONYM = re.compile(r"^[A-Z][A-Z0-9&]{1,9}s?$")
_LEADING = re.compile(
    r"^(?:(?:in\s+(?:close\s+)?(?:collaboration|coordination|consultation|partnership|cooperation)\s+with|"
    r"with\s+(?:the\s+)?support\s+(?:of|from)|together\s+with|supported\s+by|with|and|or|the|&|such\s+as)\s+)+",
    re.I,
)
_TRAILING_QUALIFIER = re.compile(r"\s+(?:in|at|for|across|within)\s+[a-z][\w\s\-]*$")
# Longest first: "with support from" must win over "with".
_SOFT_SEPARATORS = re.compile(
    r",\s*|\s+(?:in (?:close )?(?:collaboration|coordination|consultation) with|with (?:the )?support (?:of|from)|"
    r"together with|supported by|and|&|or|with)\s+",
    re.I,
)
MAX_UNIT_NAME = 120


@dataclass(frozen=True)
class Fragment:
    name: str
    acronym: str = ""


def _reads_as_unit(text: str) -> bool:
    """Does this stretch end like a whole unit (a unit noun, an acronym, a bracketed acronym)?"""
    text = text.strip(" ,;.")
    if not text:
        return False
    last = text.split()[-1].strip("(),.;")
    return (
        last.casefold() in UNIT_HEAD_WORDS
        or bool(_ACRONYM.match(last))
        or text.endswith(")")
    )


def fragments(responsible: str, is_known=lambda key: False) -> list[Fragment]:
    """Cut a responsible text into the units it names (not yet matched)."""
    out: list[Fragment] = []
    for hard in re.split(r"\s*[/;]\s*|\s+-\s+", responsible):
        hard = hard.strip(" ,.;:")
        if not hard:
            continue
        # Cut at soft separators only where the part before is a unit on its own.
        pieces: list[str] = []
        start = 0
        for m in _SOFT_SEPARATORS.finditer(hard):
            left = hard[start : m.start()]
            right = hard[m.end() :]
            if right[:1].isupper() and (is_known(normalize_unit(left)) or _reads_as_unit(left)):
                pieces.append(left)
                start = m.end()
        pieces.append(hard[start:])
        for piece in pieces:
            out.extend(_clean(piece))
    seen, unique = set(), []
    for f in out:
        key = normalize_unit(f.name)
        if key not in seen:
            seen.add(key)
            unique.append(f)
    return unique


def _clean(piece: str) -> list[Fragment]:
    piece = _LEADING.sub("", piece.strip(" ,.;:")).strip(" ,.;:")
    if not piece or not re.search(r"[A-Za-z]", piece):
        return []
    if piece[:1].islower():
        # Prose ("other sections and divisions as well, such as CSS"): keep
        # only the acronyms in it, or the whole if it ends on a unit noun.
        if piece.split()[-1].casefold() in UNIT_HEAD_WORDS and len(piece.split()) <= 4:
            return [Fragment(piece)]
        return [Fragment(w) for w in re.findall(r"\b[A-Z][A-Z0-9&]{1,9}\b", piece)]
    piece = _TRAILING_QUALIFIER.sub("", piece)
    if len(piece) > MAX_UNIT_NAME:
        return []
    m = _ACRONYM_IN_PARENS.match(piece)
    if m:
        return [Fragment(m["name"].strip(), m["acr"])]
    if _ACRONYM.match(piece):
        return [Fragment(piece, piece)]
    return [Fragment(piece)]


class UnitDirectory:
    """Every unit by every name it answers to; finds or makes the units of a responsible text.

    Loaded once per import run. Units made for a document that then fails are
    forgotten with `rollback()`, so the directory never points at rows that
    were never committed.
    """

    def __init__(self) -> None:
        self._by_key: dict[str, list[Unit]] = {}
        self._pending: list[Unit] = []
        # What the GATE reader knows of units: the real offices, then ours.
        self.vocabulary = reference_vocabulary().layer()
        units = Unit.objects.select_related("office__type").prefetch_related("aliases")
        for unit in units:
            self._index(unit)

    def _index(self, unit: Unit, names: list[str] | None = None) -> None:
        for name in names if names is not None else unit.names():
            self.vocabulary.add(name)
            bucket = self._by_key.setdefault(normalize_unit(name), [])
            if unit not in bucket:
                bucket.append(unit)
        if unit.acronym and unit.name:
            bucket = self._by_key.setdefault(normalize_unit(f"{unit.name} ({unit.acronym})"), [])
            if unit not in bucket:
                bucket.append(unit)

    def names(self) -> list[str]:
        """Every known name, for the GATE reader to recognise responsibles by."""
        return list(self._by_key)

    def find(self, name: str, office: Office) -> Unit | None:
        candidates = self._by_key.get(normalize_unit(name), [])
        for unit in candidates:
            if unit.office_id == office.pk:
                return unit
        for unit in candidates:
            if unit.office.type.code in CORPORATE_OFFICE_TYPES:
                return unit
        return None

    def resolve(self, responsible: str, office: Office) -> tuple[list[Unit], list[Unit]]:
        """(units named by the text, of which those newly created)."""
        found: list[Unit] = []
        created: list[Unit] = []
        for fragment in fragments(responsible, is_known=lambda key: key in self._by_key):
            unit = self.find(fragment.name, office) or (
                self.find(fragment.acronym, office) if fragment.acronym else None
            )
            if unit is None:
                # get_or_create, not create: another import may have made it since we loaded.
                unit, made = Unit.objects.get_or_create(
                    office=office,
                    name=fragment.name[:200],
                    defaults={"acronym": fragment.acronym[:30], "auto_created": True},
                )
                unit.office = office
                if made:
                    self._pending.append(unit)
                    created.append(unit)
                self._index(unit, [n for n in (unit.name, unit.acronym) if n])
            if unit not in found:
                found.append(unit)
        return found, created

    def commit(self) -> None:
        self._pending.clear()

    def rollback(self) -> None:
        for unit in self._pending:
            for bucket in self._by_key.values():
                if unit in bucket:
                    bucket.remove(unit)
        self._pending.clear()
