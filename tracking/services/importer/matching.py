"""Matching: stored rows with the page's items, and responsible texts with units."""

from __future__ import annotations

from typing import Any


def match_rows(existing: list, incoming: list) -> tuple[list[tuple[Any, Any]], list]:
    """Pair stored rows with incoming items: by number where unique on both sides, else by position.

    Returns the pairs (row or None, item), in the incoming order, and the stored rows left over.
    """
    numbers_in = [i.number for i in incoming]
    numbers_db = [r.number for r in existing]
    by_number = len(set(numbers_in)) == len(numbers_in) and len(set(numbers_db)) == len(numbers_db)
    pairs = []
    used: set[int] = set()
    if by_number:
        rows = {r.number: r for r in existing}
        for item in incoming:
            row = rows.get(item.number)
            pairs.append((row, item))
            if row is not None:
                used.add(row.pk)
    else:
        for i, item in enumerate(incoming):
            row = existing[i] if i < len(existing) else None
            pairs.append((row, item))
            if row is not None:
                used.add(row.pk)
    gone = [r for r in existing if r.pk not in used]
    return pairs, gone


def same_words(a: str, b: str) -> bool:
    return a.split() == b.split()


def resolve_units(job, responsible: str, office, save: bool = True) -> list:
    """The units a responsible text names (tracking.services.units), the new ones reported on the document."""
    units, created = job.importer.units.resolve(responsible, office, save=save)
    job.result.units_created += len(created)
    for unit in created:
        job.warnings.append(f"new unit '{unit.name}' added under {office.name} (from '{responsible}')")
    return units


def header_units(job, names: list[str], office, save: bool = True) -> list:
    """The coordinating units of a response header, each once."""
    units: list = []
    for name in names:
        units += [u for u in resolve_units(job, name, office, save=save) if all(u is not h for h in units)]
    return units
