"""Derived tables of recurring recommendations: vectors, nearest neighbours, themes.

Written only by `search.recurring` (a job or `followthrough similarities`),
read by the pages. They point at recommendations without a database
constraint or a cascade: deleting a recommendation costs its deletion no
extra query, and the pages join on what still exists (the next refresh
clears what was left behind).

The full-text index itself (`search_entry`) is no model: it is an FTS5 table
on SQLite and a table with a generated tsvector on PostgreSQL, made and kept
by the migrations' triggers (schema.py).
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def _to_recommendation(**kwargs):
    return models.ForeignKey(
        "tracking.Recommendation", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+", **kwargs
    )


class RecommendationVector(models.Model):
    """What the similarity of one recommendation was computed from, and (embeddings) its vector.

    One row per recommendation and method: switching between TF-IDF and embeddings keeps what
    was embedded (the costly part)."""

    # No index of its own: the unique (recommendation, method) index serves it.
    recommendation = _to_recommendation(db_index=False)
    method = models.CharField(max_length=80)
    # A hash of the text the vector was computed from: a changed text shows as a different hash.
    text_hash = models.CharField(max_length=40)
    # float32, L2-normalised; empty for TF-IDF (its weights depend on the whole corpus: recomputed each time).
    vector = models.BinaryField(blank=True, default=b"")
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["recommendation", "method"], name="vector_unique_per_method")]
        verbose_name = _("recommendation vector")


class SimilarRecommendation(models.Model):
    """One of the recommendations of other evaluations most like a recommendation."""

    # No index of its own: the unique (recommendation, similar) index serves it.
    recommendation = _to_recommendation(db_index=False)
    similar = _to_recommendation()
    score = models.FloatField(_("similarity"))
    rank = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["recommendation", "rank"]
        constraints = [models.UniqueConstraint(fields=["recommendation", "similar"], name="similar_unique_pair")]
        verbose_name = _("similar recommendation")


class Theme(models.Model):
    """A recurring theme: recommendations of many evaluations that say much the same."""

    # Its commonest distinctive terms, from all members (for people with a role) ...
    label = models.CharField(_("theme"), max_length=300)
    terms = models.JSONField(default=list)
    # ... and from the members in approved responses only (for the public: drafts never show through).
    public_label = models.CharField(max_length=300, blank=True)
    public_terms = models.JSONField(default=list)
    method = models.CharField(max_length=80)
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("recurring theme")

    def __str__(self) -> str:
        return self.label


class ThemeMember(models.Model):
    # `theme_membership`: the kept counts of themes (tracking.services.tallies) reach the theme from the key actions.
    recommendation = models.OneToOneField(
        "tracking.Recommendation", on_delete=models.DO_NOTHING, db_constraint=False, related_name="theme_membership",
        primary_key=True,
    )
    theme = models.ForeignKey(Theme, on_delete=models.CASCADE, related_name="members")
    # Cosine similarity to the theme's centre: the most typical members first.
    closeness = models.FloatField()

    class Meta:
        ordering = ["theme", "-closeness"]


class CommonWord(models.Model):
    """A word of many rows of SQLite's full-text index, and in how many, as last counted (`engine.count_common_words`:
    after an import from the command line, and every night by a job).

    A search asks whether its words are in more than half the index's rows (bm25 weighs such a word nothing, and
    counting its rows for it reads them all, once per kind: `engine._sqlite_weightless`). Asking FTS5 reads the
    word's rows too: 14 ms for the 658,000 of "partners" at L, for each search of it. A count of last night answers
    as well, against the index's size now; a word not kept here is counted when searched for (its rows are few, or
    it grew common since the last count). PostgreSQL's planner statistics answer there: nothing is kept.
    """

    word = models.CharField(max_length=200, primary_key=True)
    documents = models.PositiveIntegerField()
    index_rows = models.PositiveIntegerField()  # the index's rows when counted
    counted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("common word")

    def __str__(self) -> str:
        return f"{self.word} ({self.documents:,})"
