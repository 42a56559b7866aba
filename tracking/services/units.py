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

    Loaded once per import run. New units are made in memory and inserted
    together (`save_new`), so a batch of documents costs one insert for all
    its new units. Units made for documents that then fail are forgotten with
    `rollback()`, so the directory never points at rows that were never committed.
    """

    def __init__(self) -> None:
        # name key -> {office id: unit}; and name key -> a corporate unit (HQ, evaluation office).
        self._by_key: dict[str, dict[int, Unit]] = {}
        self._corporate: dict[str, Unit] = {}
        self._unsaved: list[Unit] = []
        self._pending: list[Unit] = []
        self._resolved: dict[tuple[str, int], tuple[Unit, ...]] = {}
        # How each responsible text divides into unit names. It depends only on the
        # names known when the directory was loaded, so that the same text always
        # divides the same way in a run, and parser processes can do it ahead.
        self.fragments: dict[str, list[Fragment]] = {}
        # What the GATE reader knows of units: the real offices, then ours.
        self.vocabulary = reference_vocabulary().layer()
        units = Unit.objects.select_related("office__type").prefetch_related("aliases")
        for unit in units:
            self._index(unit, unit.names(), corporate=unit.office.type.code in CORPORATE_OFFICE_TYPES)
        self.known_keys = frozenset(self._by_key)

    @staticmethod
    def _keys(unit: Unit, names: list[str]) -> list[str]:
        keys = [normalize_unit(n) for n in names]
        if unit.acronym and unit.name:
            keys.append(normalize_unit(f"{unit.name} ({unit.acronym})"))
        return keys

    def _index(self, unit: Unit, names: list[str], corporate: bool) -> None:
        for name in names:
            self.vocabulary.add(name)
        for key in self._keys(unit, names):
            self._by_key.setdefault(key, {}).setdefault(unit.office_id, unit)
            if corporate:
                self._corporate.setdefault(key, unit)

    def names(self) -> list[str]:
        """Every known name, for the GATE reader to recognise responsibles by."""
        return list(self._by_key)

    def find(self, name: str, office: Office) -> Unit | None:
        key = normalize_unit(name)
        here = self._by_key.get(key)
        if here and office.pk in here:
            return here[office.pk]
        return self._corporate.get(key)

    def resolve(self, responsible: str, office: Office, *, save: bool = True) -> tuple[list[Unit], list[Unit]]:
        """(units named by the text, of which those new). With `save=False` the new ones wait for `save_new`."""
        # The same responsible text comes back row after row: read it once per office.
        cached = self._resolved.get((responsible, office.pk))
        if cached is not None:
            return list(cached), []
        found, created = self._resolve(responsible, office)
        self._resolved[(responsible, office.pk)] = tuple(found)
        if save:
            self.save_new()
        return found, created

    def _resolve(self, responsible: str, office: Office) -> tuple[list[Unit], list[Unit]]:
        found: list[Unit] = []
        created: list[Unit] = []
        parts = self.fragments.get(responsible)
        if parts is None:
            parts = self.fragments[responsible] = fragments(responsible, is_known=self.known_keys.__contains__)
        for fragment in parts:
            unit = self.find(fragment.name, office) or (
                self.find(fragment.acronym, office) if fragment.acronym else None
            )
            if unit is None:
                unit = Unit(office=office, name=fragment.name[:200], acronym=fragment.acronym[:30], auto_created=True)
                self._unsaved.append(unit)
                created.append(unit)
                self._index(unit, [n for n in (unit.name, unit.acronym) if n], office.type.code in CORPORATE_OFFICE_TYPES)
            if all(unit is not u for u in found):
                found.append(unit)
        return found, created

    def save_new(self) -> None:
        """Insert the units made since the last call (one statement), and learn their ids."""
        if not self._unsaved:
            return
        # A concurrent import may have made one of them meanwhile: keep its row, take its id.
        Unit.objects.bulk_create(self._unsaved, ignore_conflicts=True)
        wanted = {(u.office_id, u.name): u for u in self._unsaved}
        rows = Unit.objects.filter(
            office_id__in={u.office_id for u in self._unsaved}, name__in={u.name for u in self._unsaved}
        ).values_list("pk", "office_id", "name")
        for pk, office_id, name in rows:
            unit = wanted.get((office_id, name))
            if unit is not None:
                unit.pk = pk
                unit._state.adding = False
        self._pending += self._unsaved
        self._unsaved = []

    def commit(self) -> None:
        self._pending.clear()

    def rollback(self) -> None:
        if self._pending or self._unsaved:
            self._resolved.clear()  # some answers name units that are gone
        for unit in self._pending + self._unsaved:
            for key in self._keys(unit, [n for n in (unit.name, unit.acronym) if n]):
                here = self._by_key.get(key, {})
                if here.get(unit.office_id) is unit:
                    del here[unit.office_id]
                if self._corporate.get(key) is unit:
                    del self._corporate[key]
        self._pending.clear()
        self._unsaved.clear()
