"""Cold start: clips or images held out of training entirely, then scored from their features.

Leave-one-out (:mod:`.split`) tests clips and images the model has seen.  To
measure what the content-aware option does for *new* items, :func:`cold_split`
removes a seeded fraction of the clips (``which="clip"``) or of the images
(``which="image"``) from the training data altogether — the items leave the
catalogue the model is built on, and every pair that names them leaves
training — as if they were added to the library after training:

* cold images: each pair (clip, cold image) is a test row; the cold image is
  ranked among **all cold images** (the new photos), less the clip's other cold
  images.  Chance HR@K ≈ K / number of cold images.
* cold clips: each pair (cold clip, image) is a test row; the image is ranked
  among the **whole image catalogue**, less the clip's other images.

An ID model has no vector for a cold item and cannot take part; a content
model scores it through :meth:`FittedRecommender.score
<moodbridge.recommend.recommender.FittedRecommender.score>`, the path every
unseen item takes in the product.  Any ``scorer(clips, images) -> scores``
(the baselines too) is evaluated by :func:`evaluate_cold` alike.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from moodbridge.errors import InvalidValueError
from moodbridge.recommend.data import Interactions
from moodbridge.recommend.evaluate import EvalResult
from moodbridge.recommend.metrics import hit_rate, ndcg

__all__ = ["ColdSplit", "cold_split", "evaluate_cold"]

Scorer = Callable[[Sequence[str], Sequence[str]], np.ndarray]


@dataclass(frozen=True, eq=False)
class ColdSplit:
    """Clips or images held out of training entirely.

    Attributes
    ----------
    interactions
        All pairs, on the full catalogue.
    which
        ``"clip"`` or ``"image"``.
    cold
        Paths of the held-out clips or images, sorted.
    train
        The training pairs on the catalogue without the cold items (its own index maps).
    seed
        The seed that chose them.
    """

    interactions: Interactions
    which: str
    cold: tuple[str, ...]
    train: Interactions
    seed: int

    def test_pairs(self) -> list[tuple[str, str]]:
        """The (clip, image) pairs that name a cold item."""
        inter, cold = self.interactions, set(self.cold)
        return [(inter.users[u], inter.items[i]) for u, i in zip(inter.user_idx, inter.item_idx)
                if (inter.users[u] if self.which == "clip" else inter.items[i]) in cold]


def cold_split(interactions: Interactions, *, which: str, fraction: float = 0.2, seed: int = 0) -> ColdSplit:
    """Hold ``fraction`` of the clips or of the catalogue's images out of training entirely.

    Raises
    ------
    InvalidValueError
        On an unknown ``which``, a fraction outside (0, 1), or a split that leaves no
        test pair or no training pair.
    """
    if which not in ("clip", "image"):
        raise InvalidValueError(f"which must be 'clip' or 'image', got {which!r}")
    if not 0.0 < fraction < 1.0:
        raise InvalidValueError(f"fraction must be in (0, 1), got {fraction}")
    inter = interactions
    ids = inter.users if which == "clip" else inter.items
    rng = np.random.default_rng(seed)
    n_cold = max(1, int(round(fraction * len(ids))))
    cold_idx = np.sort(rng.choice(len(ids), size=n_cold, replace=False))
    cold_mask = np.zeros(len(ids), dtype=bool)
    cold_mask[cold_idx] = True
    pair_cold = cold_mask[inter.user_idx if which == "clip" else inter.item_idx]
    if not pair_cold.any() or pair_cold.all():
        raise InvalidValueError(f"{inter.source}: holding out {n_cold} {which}(s) leaves no test or no training pair")
    users = tuple(u for u, c in zip(inter.users, cold_mask if which == "clip" else np.zeros(inter.n_users, bool)) if not c)
    items = tuple(i for i, c in zip(inter.items, cold_mask if which == "image" else np.zeros(inter.n_items, bool)) if not c)
    u_map = {p: r for r, p in enumerate(users)}
    i_map = {p: r for r, p in enumerate(items)}
    keep = ~pair_cold
    train_u = np.array([u_map[inter.users[u]] for u in inter.user_idx[keep]], dtype=np.int64)
    train_i = np.array([i_map[inter.items[i]] for i in inter.item_idx[keep]], dtype=np.int64)
    # a warm clip whose pairs all named cold images has no training pair left: it stays, with none
    train = Interactions(users, items, train_u, train_i, source=f"{inter.source} (cold {which}s held out)")
    return ColdSplit(inter, which, tuple(ids[j] for j in cold_idx), train, int(seed))


def evaluate_cold(scorer: Scorer, split: ColdSplit, *, k: int = 10, ties: str = "expected",
                  block: int = 256) -> EvalResult:
    """HR@K / NDCG@K of ``scorer`` on the pairs of the cold items (module docstring)."""
    pairs = split.test_pairs()
    relevant: dict[str, set[str]] = {}
    for clip, image in pairs:
        relevant.setdefault(clip, set()).add(image)
    candidates = list(split.cold) if split.which == "image" else list(split.interactions.items)
    column = {p: j for j, p in enumerate(candidates)}
    clips = sorted(relevant)
    greater, tied = [], []
    for start in range(0, len(clips), block):
        batch = clips[start:start + block]
        scores = np.asarray(scorer(batch, candidates), dtype=np.float64)
        if scores.shape != (len(batch), len(candidates)):
            raise InvalidValueError(f"cold-start scorer returned shape {scores.shape}, expected "
                                    f"{(len(batch), len(candidates))}")
        if np.isnan(scores).any():
            raise InvalidValueError("cold-start scorer returned NaN scores")
        for row, clip in enumerate(batch):
            mine = [column[i] for i in sorted(relevant[clip])]
            for target in mine:
                valid = np.ones(len(candidates), dtype=bool)
                valid[[j for j in mine if j != target]] = False
                own = scores[row, target]
                greater.append(int(((scores[row] > own) & valid).sum()))
                tied.append(int(((scores[row] == own) & valid).sum()) - 1)
    g, t = np.asarray(greater, np.int64), np.asarray(tied, np.int64)
    hr, nd = hit_rate(g, t, k=k, ties=ties), ndcg(g, t, k=k, ties=ties)
    return EvalResult(f"cold-{split.which}s", k, ties, float(hr.mean()), float(nd.mean()), len(g), len(candidates),
                      {"hr": hr, "ndcg": nd, "greater": g, "tied": t})
