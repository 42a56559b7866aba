"""A stored evaluation brought in line with its page, without undoing what was done here.

Each record remembers what its page gave when last imported (`imported`,
field by field). On a re-import, for each field:

- the page gives what we hold: nothing to do;
- we hold what the page gave last time (nobody changed it here): the page's
  new value is taken, as a change in the history;
- it was changed here since (a progress update, an edit): ours is kept, and
  the page's value is a conflict: in the import's result (document, line,
  field, ours, theirs) and, once per differing value, on the record's
  history; with `prefer_page` (administrators) the page's value is taken and
  recorded as such.

Records the page no longer has are never deleted: the document is refused
(`ImportRefused`, listing them) unless removals are allowed, and then they
are archived, kept with their progress, visibly. What an import changes on an
approved response is listed in its result and marked in the history.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Prefetch
from django.utils import timezone

from ...models import (
    ActionUpdate,
    ChangeRecord,
    KeyAction,
    ManagementResponse,
    Recommendation,
    RecommendationTerm,
)
from ...models.responses import ResponseStatus, progress_comments
from .. import accountability, history
from .matching import header_units, match_rows, same_words
from .results import UPDATED, Conflict, ImportRefused

CONFLICTS = "@conflicts"  # in a baseline: the page values already recorded as conflicts, by field
COMMENTS_AT = "@comments_at"  # in a key action's baseline: when an import last set its comments


def recommendations_with_actions():
    """Recommendations in order, with their tags and key actions (the actions' units and progress comments)."""
    return Recommendation.objects.order_by("position").prefetch_related(
        Prefetch("tags", queryset=RecommendationTerm.objects.select_related("term").order_by("position")),
        Prefetch(
            "key_actions",
            queryset=KeyAction.objects.order_by("position").prefetch_related("units", progress_comments()),
        ),
    )


def load_responses(evaluation_ids: set[int]) -> dict[int, tuple[ManagementResponse, list[Recommendation]]]:
    """evaluation id -> (its response, its recommendations in order)."""
    responses = {mr.pk: mr for mr in ManagementResponse.objects.filter(evaluation_id__in=evaluation_ids)}
    recommendations: dict[int, list[Recommendation]] = {pk: [] for pk in responses}
    for rec in recommendations_with_actions().filter(management_response_id__in=responses):
        recommendations[rec.management_response_id].append(rec)
    return {mr.evaluation_id: (mr, recommendations[pk]) for pk, mr in responses.items()}


def _shown(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Updating:
    """The update half of `DocumentImport` (see document.py for the rest)."""

    # --- the response --------------------------------------------------------------------------

    def update(self, evaluation, loaded: tuple | None = None) -> None:
        """Bring a stored evaluation's response in line with the document.

        `loaded`: its response and recommendations as `load_responses` read
        them for the whole batch (None: read them here).
        """
        doc = self.doc
        evaluation.office = self.office  # known already: no query for it
        self.evaluation_id = evaluation.pk
        self.result.evaluation_id = evaluation.pk
        if loaded is None:
            mr, existing = ManagementResponse.objects.filter(evaluation=evaluation).first(), None
        else:
            mr, existing = loaded
        if mr is None:
            mr = ManagementResponse.objects.create(evaluation=evaluation)
            existing = []
            self.changed()
        self.result.approved = mr.status == ResponseStatus.APPROVED
        if existing is None:
            existing = list(recommendations_with_actions().filter(management_response=mr))

        plan = self._plan(existing)
        before = history.snapshot(mr)
        ours = {"status": mr.status, "units_as_written": list(mr.units_as_written), "overall_response": mr.overall_response}
        taken = self.merge(mr, "Management response", self.response_values(self.response_status()), ours, line=1)
        for name, value in taken.items():
            setattr(mr, name, value)
        self.save_if_changed(mr, before)
        if "units_as_written" in taken:
            mr.units.set(header_units(self, doc.management_response.units, evaluation.office))

        pairs, gone = plan
        self._park(Recommendation, [row for row, _, _ in pairs], [g for g in gone])
        for i, (row, rec, actions) in enumerate(pairs, start=1):
            tags = self.tags(rec)
            page = self.recommendation_values(rec, tags)
            if row is None:
                fields = {k: v for k, v in page.items() if k != "tags"}
                row = Recommendation.objects.create(
                    management_response=mr, evaluation=evaluation, position=i, label=rec.label[:80], imported=page, **fields
                )
                RecommendationTerm.objects.bulk_create(
                    [RecommendationTerm(recommendation=row, term=t, position=p) for p, t in enumerate(tags)]
                )
                self.created(row)
                self._update_actions(row, ([(None, a) for a in rec.key_actions], []), evaluation)
                continue
            before = history.snapshot(row)
            current_tags = [t.term_id for t in row.tags.all()]
            ours = {name: getattr(row, name) for name in page if name != "tags"}
            ours["tags"] = current_tags
            taken = self.merge(row, f"Recommendation {row.number}", page, ours, line=rec.line)
            for name, value in taken.items():
                if name != "tags":
                    setattr(row, name, value)
            # A document without labels (the JSON form carries none) keeps the ones the page wrote.
            row.position, row.label, row.archived_at = i, rec.label[:80] or row.label, None
            self.save_if_changed(row, before)
            if "tags" in taken:
                by_pk = {t.pk: t for t in tags}
                RecommendationTerm.objects.filter(recommendation=row).delete()
                RecommendationTerm.objects.bulk_create(
                    [RecommendationTerm(recommendation=row, term=by_pk[pk], position=p) for p, pk in enumerate(taken["tags"])]
                )
                self.record(row, {"tags": current_tags}, {"tags": taken["tags"]})
            self._update_actions(row, actions, evaluation)

    def _plan(self, existing: list[Recommendation]) -> tuple[list, list]:
        """Pair stored records with the page's, and refuse the document if it would leave records out.

        Returns ([(recommendation row or None, page recommendation, (action pairs, actions gone))], recommendations gone).
        """
        pairs, gone = match_rows(existing, self.doc.recommendations)
        planned = []
        removed: list[tuple[str, list[KeyAction]]] = []
        for row in gone:
            if row.archived_at is None:
                removed.append((f"recommendation {row.number}", list(row.key_actions.all())))
        for row, rec in pairs:
            if row is None:
                planned.append((None, rec, ([], [])))
                continue
            action_pairs, actions_gone = match_rows(list(row.key_actions.all()), rec.key_actions)
            planned.append((row, rec, (action_pairs, actions_gone)))
            for action in actions_gone:
                if action.archived_at is None:
                    removed.append((f"key action {action.number} of recommendation {row.number}", [action]))
        if removed:
            self._removals(removed)
        return planned, gone

    def _removals(self, removed: list[tuple[str, list[KeyAction]]]) -> None:
        actions = [a for _, group in removed for a in group]
        progress = dict(
            ActionUpdate.objects.filter(key_action__in=actions)
            .values_list("key_action")
            .annotate(n=Count("pk"))
            .values_list("key_action", "n")
        )
        lines = []
        for what, group in removed:
            n = sum(progress.get(a.pk, 0) for a in group)
            extra = []
            if what.startswith("recommendation") and group:
                extra.append(f"{len(group)} key action{'s' if len(group) != 1 else ''}")
            if n:
                extra.append(f"{n} progress update{'s' if n != 1 else ''}")
            lines.append(what + (f" (with {', '.join(extra)})" if extra else ""))
        self.result.removals = lines
        if self.importer.allow_removals:
            return
        cut = f" The page may be cut short ({self.truncated[0]})." if self.truncated else ""
        raise ImportRefused(
            f"refused: the page no longer has {len(lines)} of the records stored for it: "
            + "; ".join(lines)
            + f". Nothing was changed.{cut} To archive them (kept with their progress), import with --allow-removals."
        )

    # --- key actions ----------------------------------------------------------------------------

    def _update_actions(self, rec_row: Recommendation, matched: tuple[list, list], evaluation) -> None:
        pairs, gone = matched
        self._park(KeyAction, [row for row, _ in pairs], gone)
        for i, (row, action) in enumerate(pairs, start=1):
            page = self.action_values(action)
            if row is not None and same_words(row.text + " " + row.responsible, action.text + " " + action.responsible):
                # Same row, read with a different split (the reader knows more
                # units now, or a person corrected it): the stored split stands.
                page["text"], page["responsible"] = row.text, row.responsible
            if row is None:
                fields = dict(page, deadline=_date(page["deadline"]))
                row = KeyAction.objects.create(
                    recommendation=rec_row,
                    evaluation=evaluation,
                    position=i,
                    label=action.label[:20],
                    split_confidence=round(action.split_confidence, 3),
                    imported=page,
                    **fields,
                )
                row.units.set(self.units(row.responsible, evaluation.office))
                self.created(row)
                continue
            before = history.snapshot(row)
            old_status, old_responsible, old_deadline = row.status, row.responsible, row.deadline
            ours = {
                "number": row.number,
                "text": row.text,
                "responsible": row.responsible,
                "deadline": row.deadline.isoformat() if row.deadline else None,
                "status": row.status,
                "comments": row.gate_comments,
            }
            taken = self.merge(row, f"Key action {row.number} of recommendation {rec_row.number}", page, ours, line=action.line)
            for name, value in taken.items():
                if name == "deadline":
                    value = _date(value)
                elif name == "comments":
                    row.imported[COMMENTS_AT] = timezone.now().isoformat()  # the page's comments are the latest now
                setattr(row, name, value)
            row.position, row.label, row.archived_at = i, action.label[:20] or row.label, None
            # Verification, completion date, first deadline: as the services would (services/accountability.py).
            revision = accountability.follow_import(self.actor, row, old_status, old_deadline, self.doc.source, timezone.localdate())
            # Not history (how sure the reader was), saved only with a real change.
            row.split_confidence = round(action.split_confidence, 3)
            self.save_if_changed(row, before)
            if revision is not None:
                revision.save()
                self.created(revision)
            if row.status != old_status:
                self.result.status_changes += 1
                self.updates.append(
                    ActionUpdate(
                        key_action=row,
                        status_before=old_status,
                        status_after=row.status,
                        comment=f"Status changed by the import of {self.doc.source or 'a GATE document'}.",
                        author=self.actor.user if self.actor.is_authenticated else None,
                        author_name=self.actor.name,
                        source=ActionUpdate.Source.IMPORT,
                    )
                )
            if old_responsible == row.responsible:
                # Same responsible text: the units linked to it stand (a person may have corrected them).
                continue
            units = self.units(row.responsible, evaluation.office)
            if {u.pk for u in units} != {u.pk for u in row.units.all()}:
                old_units = sorted(u.pk for u in row.units.all())
                row.units.set(units)
                self.record(row, {"units": old_units}, {"units": sorted(u.pk for u in units)})

    # --- the rules ------------------------------------------------------------------------------

    def merge(self, row, record: str, page: dict[str, Any], ours: dict[str, Any], line: int) -> dict[str, Any]:
        """The page's values to take, field by field (see the module's docstring); conflicts noted.

        Updates the row's baseline (`imported`) in memory; `save_if_changed` writes it.
        """
        original = row.imported or {}
        base = dict(original)
        recorded = dict(base.get(CONFLICTS, {}))
        taken: dict[str, Any] = {}
        prefer = self.importer.prefer_page
        for name, theirs in page.items():
            mine = ours[name]
            if theirs == mine or name not in base or base[name] == mine:
                if theirs != mine:
                    taken[name] = theirs
                base[name] = theirs
                recorded.pop(name, None)
                continue
            self.result.conflicts.append(Conflict(self.doc.source, line, record, name, mine, theirs, taken=prefer))
            if prefer:
                taken[name] = theirs
                base[name] = theirs
                recorded.pop(name, None)
                self.preferred.append(name)
            elif recorded.get(name) != theirs:
                recorded[name] = theirs  # recorded once per differing value, not at every re-import
                self.records.append(
                    history.change(
                        self.actor,
                        ChangeRecord.Action.REFUSED,
                        row,
                        before={name: mine},
                        after={name: theirs},
                        evaluation_id=self.evaluation_id,
                        message=(
                            f"import conflict: {self.doc.source or 'the page'}"
                            + (f" line {line}" if line else "")
                            + f" gives another {name}; kept the value changed here"
                        ),
                    )
                )
        if recorded:
            base[CONFLICTS] = recorded
        else:
            base.pop(CONFLICTS, None)
        row.imported = base
        row._baseline_changed = base != original
        return taken

    def save_if_changed(self, row, before: dict[str, Any], message: str = "") -> bool:
        old, new = history.diff(before, history.snapshot(row))
        if not old and not new:
            if getattr(row, "_baseline_changed", False):
                type(row).objects.filter(pk=row.pk).update(imported=row.imported)
            self.preferred = []
            return False
        row.version = (row.version or 0) + 1
        row.save()
        if self.preferred:
            message = f"{message}; " if message else ""
            message += f"took the page's {', '.join(self.preferred)} over the value changed here (prefer page)"
            self.preferred = []
        self.record(row, old, new, message)
        return True

    def record(self, row, old: dict[str, Any], new: dict[str, Any], message: str = "") -> None:
        if self.result.approved:
            message = "on an approved response" + (f"; {message}" if message else "")
        self.records.append(
            history.change(
                self.actor, ChangeRecord.Action.UPDATE, row, before=old, after=new, evaluation_id=self.evaluation_id, message=message
            )
        )
        fields = ", ".join(f"{k} {_shown(old.get(k))} → {_shown(new.get(k))}" for k in new)
        self.result.changes.append(f"{row}: {fields}")
        self.changed()

    def created(self, row) -> None:
        self.records.append(
            history.change(
                self.actor,
                ChangeRecord.Action.CREATE,
                row,
                after=history.snapshot(row),
                evaluation_id=self.evaluation_id,
                message="on an approved response" if self.result.approved else "",
            )
        )
        self.result.changes.append(f"{row}: added")
        self.changed()

    def changed(self) -> None:
        self.result.outcome = UPDATED

    def _park(self, model, kept: list, gone: list) -> None:
        """Positions: the page's rows in its order, then the rows it no longer has (archived), in theirs.

        Rows that move are first moved out of the way (positions are unique).
        """
        final = {row.pk: i for i, row in enumerate(kept, start=1) if row is not None}
        final.update({row.pk: len(kept) + k for k, row in enumerate(gone, start=1)})
        moving = [row for row in [*kept, *gone] if row is not None and row.position != final[row.pk]]
        if moving:
            for row in moving:
                row.position += 1_000_000
            model.objects.bulk_update(moving, ["position"])
            for row in moving:
                row.position -= 1_000_000
        for row in gone:
            before = history.snapshot(row)
            row.position = final[row.pk]
            message = ""
            if row.archived_at is None:
                row.archived_at = timezone.now()
                message = f"archived: no longer in {self.doc.source or 'the imported page'} (kept with its progress)"
            self.save_if_changed(row, before, message)


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None
