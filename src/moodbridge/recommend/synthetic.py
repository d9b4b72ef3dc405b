"""SYNTHETIC pairs tables with planted structure, for tests, benchmarks and examples.

Nothing here is real data.  Clips and images are split into ``n_groups``
hidden groups (think "emotions"); each clip is paired with ``pairs_per_clip``
distinct images of its own group, drawn with Zipf-like popularity within the
group (weight ``1 / (rank + 1)^zipf``), except that with probability
``noise`` a pair's image comes from anywhere.  A recommender that recovers the
groups ranks the held-out image far above chance; group VA points and
group-mean features (plus noise) make the structure visible to a content model too.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["SyntheticPairs", "planted_pairs"]


@dataclass(frozen=True, eq=False)
class SyntheticPairs:
    """A synthetic pairs table (``frame``: the columns of ``pairs.csv``) and its hidden truth.

    ``clip_features`` / ``image_features`` are ``(paths, array)`` side information;
    ``clip_group`` / ``image_group`` the planted groups, aligned with ``clips`` / ``images``.
    """

    frame: object
    clips: list[str]
    images: list[str]
    clip_group: np.ndarray
    image_group: np.ndarray
    clip_features: tuple[list[str], np.ndarray]
    image_features: tuple[list[str], np.ndarray]


def planted_pairs(*, n_clips: int = 500, n_images: int = 1000, pairs_per_clip: int = 3, n_groups: int = 10,
                  zipf: float = 1.0, noise: float = 0.0, feature_dim: int = 16, feature_noise: float = 1.0,
                  single_pair_clips: int = 0, seed: int = 0) -> SyntheticPairs:
    """Build a SYNTHETIC pairs table with planted groups (module docstring).

    ``single_pair_clips`` extra clips get one pair each (leave-one-out must skip them).
    """
    import pandas as pd

    rng = np.random.default_rng(seed)
    image_group = rng.integers(0, n_groups, n_images)
    clip_group = rng.integers(0, n_groups, n_clips + single_pair_clips)
    popularity = np.empty(n_images)
    for g in range(n_groups):  # Zipf weights within each group, in a random order
        members = np.flatnonzero(image_group == g)
        popularity[rng.permutation(members)] = 1.0 / np.arange(1, len(members) + 1) ** zipf
    counts = np.r_[np.full(n_clips, pairs_per_clip), np.ones(single_pair_clips, dtype=int)]
    clip_rows, image_rows, ranks = [], [], []
    log_w = np.log(popularity)
    for g in range(n_groups):
        clips_g = np.flatnonzero(clip_group == g)
        members = np.flatnonzero(image_group == g)
        if not len(clips_g) or not len(members):
            continue
        m = min(pairs_per_clip, len(members))
        keys = log_w[members][None, :] + rng.gumbel(size=(len(clips_g), len(members)))  # Gumbel top-m = weighted draw
        chosen = members[np.argsort(-keys, axis=1)[:, :m]]
        for c, row in zip(clips_g, chosen):
            picks = row[: counts[c]]
            swap = rng.random(len(picks)) < noise
            picks = np.where(swap, rng.integers(0, n_images, len(picks)), picks)
            clip_rows += [c] * len(picks)
            image_rows += picks.tolist()
            ranks += list(range(1, len(picks) + 1))
    clip_rows, image_rows = np.asarray(clip_rows), np.asarray(image_rows)
    centres = rng.uniform(-0.8, 0.8, (n_groups, 2))
    clip_va = np.clip(centres[clip_group] + rng.normal(0, 0.05, (len(clip_group), 2)), -1, 1)
    image_va = np.clip(centres[image_group] + rng.normal(0, 0.05, (n_images, 2)), -1, 1)
    clips = [f"synthetic/clips/c{c:06d}.wav" for c in range(len(clip_group))]
    images = [f"synthetic/images/i{i:06d}.jpg" for i in range(n_images)]
    means = rng.normal(0, 1, (n_groups, feature_dim))
    clip_x = (means[clip_group] + feature_noise * rng.normal(0, 1, (len(clip_group), feature_dim))).astype(np.float32)
    image_x = (means[image_group] + feature_noise * rng.normal(0, 1, (n_images, feature_dim))).astype(np.float32)
    s, e = rng.random(len(clip_rows)), rng.random(len(clip_rows))

    def quadrant(va: np.ndarray) -> list[str]:
        return [f"Q{1 if v >= 0 and a >= 0 else 2 if a >= 0 else 3 if v < 0 else 4}" for v, a in va]

    frame = pd.DataFrame({
        "clip_path": [clips[c] for c in clip_rows], "image_path": [images[i] for i in image_rows], "rank": ranks,
        "S": s, "E": e, "T": 0.6 * s + 0.4 * e, "S_norm": s, "E_norm": e,
        "clip_valence": clip_va[clip_rows, 0], "clip_arousal": clip_va[clip_rows, 1],
        "clip_quadrant": quadrant(clip_va[clip_rows]), "clip_source": "synthetic",
        "image_valence": image_va[image_rows, 0], "image_arousal": image_va[image_rows, 1],
        "image_quadrant": quadrant(image_va[image_rows]), "image_source": "synthetic",
    })
    return SyntheticPairs(frame, clips, images, clip_group, image_group, (clips, clip_x), (images, image_x))
