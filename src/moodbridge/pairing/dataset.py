"""Build an EMID-style music-image pair data set from a library, and write it out.

:func:`build_pairs` takes a library's audio items as the music clips and its
image items as the images, embeds both with the offline semantic bridge
(:mod:`moodbridge.semantic.bridge`), gives each item a valence-arousal point,
and runs :func:`moodbridge.pairing.pair` (top-K by S, E, T, m per clip).
:func:`write_outputs` writes ``pairs.csv``, ``pairs.parquet`` and
``dataset.json``, each atomically.

Each item's VA and its source (the ``*_source`` columns) come from the one rule of
:mod:`moodbridge.library.emotion`.
"""
from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from moodbridge.errors import InvalidValueError, LibraryError

if TYPE_CHECKING:
    from collections.abc import Sequence

    import pandas as pd

    from moodbridge.engine import Engine
    from moodbridge.library import Item, Library
    from moodbridge.pairing.filters import FilterReport, FilterSettings
    from moodbridge.pairing.scores import Pairing

PAIRS_CSV = "pairs.csv"
PAIRS_PARQUET = "pairs.parquet"
DATASET_JSON = "dataset.json"

COLUMNS: tuple[str, ...] = (
    "clip_path", "image_path", "rank", "S", "E", "T", "S_norm", "E_norm",
    "clip_valence", "clip_arousal", "clip_quadrant", "clip_source",
    "image_valence", "image_arousal", "image_quadrant", "image_source",
)


@dataclass
class PairTable:
    """The pairs of a library and how they were made.

    Attributes
    ----------
    frame
        One row per pair (:data:`COLUMNS`), ordered by clip then rank.
    pairing
        The raw :class:`~moodbridge.pairing.Pairing` (indices into ``music`` / ``images``).
    music, images
        The library items paired, in index order.
    music_va, image_va
        ``(N, 2)`` VA used for E.
    music_sources, image_sources
        Where each item's VA came from (module docstring).
    k
        Candidates per clip actually used (after clamping).
    library_path, fingerprint
        The library folder and a hash of its paired items' sorted content hashes.
    params
        The pairing parameters.
    filters
        One report per filter run before pairing (:mod:`moodbridge.pairing.filters`).
    semantic_only
        The same pairing with α = 1 (``build_pairs(semantic_baseline=True)``), else ``None``.
    """

    frame: "pd.DataFrame"
    pairing: "Pairing"
    music: list["Item"]
    images: list["Item"]
    music_va: np.ndarray
    image_va: np.ndarray
    music_sources: list[str]
    image_sources: list[str]
    k: int
    library_path: str
    fingerprint: str
    params: dict[str, Any] = field(default_factory=dict)
    filters: list["FilterReport"] = field(default_factory=list)
    semantic_only: "PairTable | None" = None

    def __len__(self) -> int:
        return len(self.frame)

    def source_counts(self) -> dict[str, dict[str, int]]:
        """How many clips and images took their VA from each kind of source."""
        def kinds(sources: list[str]) -> dict[str, int]:
            return dict(Counter(s.split(":", 1)[0] + ":" + s.split(":", 1)[1].split("=")[0] for s in sources))
        return {"music": kinds(self.music_sources), "images": kinds(self.image_sources)}


# --- building the pairs ----------------------------------------------------------------------

def library_fingerprint(items: list["Item"]) -> str:
    """SHA-256 of the items' sorted content hashes (one per line)."""
    return hashlib.sha256("\n".join(sorted(it.content_hash for it in items)).encode()).hexdigest()


def build_pairs(
    library: "Library",
    *,
    alpha: float = 0.6,
    k: int = 100,
    m: int = 3,
    metric: str = "cosine",
    normalisation: str = "minmax",
    clamp_k: bool = False,
    filters: Sequence[str] | None = None,
    filter_settings: FilterSettings | None = None,
    space: str = "bridge",
    scorer: str | None = None,
    semantic_baseline: bool = False,
    checkpoint: str | Path | None = None,
    progress: bool = False,
    engine: "Engine | None" = None,
    image_shards: int | None = None,
) -> PairTable:
    """Pair every audio clip of a library with its m best images (EMID Sec. 3.1).

    The library's clips and images first go through EMID's data filters
    (Sec. 3.2, :func:`moodbridge.pairing.filters.apply_filters`); ``k`` is
    checked against the images they keep.

    Parameters
    ----------
    library
        An open library with audio and image items.
    alpha
        Weight of the semantic term in ``T = α S' + (1 − α) E'``.
    k
        Candidate images per clip, chosen by S (EMID: 100).
    m
        Images kept per clip (EMID: 3).
    metric
        Emotional similarity: ``"cosine"`` (EMID) or ``"inverse-euclidean"`` (EIMG).
    normalisation
        Per-clip normalisation of S and E over the K candidates (``"minmax"``,
        ``"zscore"``, ``"none"``; see :mod:`moodbridge.pairing.scores`).
    clamp_k
        When ``k`` exceeds the number of images, use all images instead of failing.
    filters
        Filter names to run (:data:`moodbridge.pairing.filters.FILTERS`);
        ``None`` for the defaults, ``[]`` for none.
    filter_settings
        Their thresholds; default :class:`~moodbridge.pairing.filters.FilterSettings`.
    space
        Where S is measured: ``"bridge"`` or ``"joint:NAME"``
        (:mod:`moodbridge.pairing.semantic_space`).
    scorer
        ``"adapter:DIR"``: a recommender from ``moodbridge recommend train`` whose
        scores replace S (candidates and S; :func:`~moodbridge.pairing.semantic_space.adapter_candidates`).
    semantic_baseline
        Also pair with α = 1 (the same candidates, no emotional alignment: EMID
        Fig. 5's left panel), kept in ``table.semantic_only``.
    checkpoint, progress, engine, image_shards
        Resumable shards, a progress bar, where the shards run and whether the
        images are sharded too (:func:`moodbridge.pairing.pair_alphas`).

    Raises
    ------
    LibraryError
        If the library is empty or has no audio or no image items, the filters
        drop every clip or every image, or an item lacks the stored features
        or emotion it needs.
    InvalidValueError
        On bad parameters, ``k`` larger than the number of images (unless
        ``clamp_k``), or NaN embeddings.
    """
    from moodbridge.pairing.filters import apply_filters
    from moodbridge.pairing.scores import pair_alphas
    from moodbridge.pairing.topk import check_k

    root = str(library.root)
    everything = library.items()
    if not everything:
        raise LibraryError(f"{root}: the library is empty; add music and images with 'moodbridge add'")
    music, images = library.items(modality="audio"), library.items(modality="image")
    counts = Counter(it.modality for it in everything)
    have = ", ".join(f"{n} {mod}" for mod, n in sorted(counts.items()))
    if not music:
        raise LibraryError(f"{root}: no audio items to pair (the library has {have}); add music clips")
    if not images:
        raise LibraryError(f"{root}: no image items to pair with (the library has {have}); add images")
    music, images, reports = apply_filters(library, music, images, filters, filter_settings)
    filtered = " after filtering" if any(r.modality == "image" and r.dropped for r in reports) else ""
    if isinstance(k, (int, np.integer)) and not isinstance(k, bool) and k > len(images) and not clamp_k:
        raise InvalidValueError(
            f"k = {k} candidates per clip but the library has only {len(images)} images{filtered}; "
            f"lower k (at most {len(images)}) or pass --clamp-k (clamp_k=True) to use all images"
        )
    k_used = check_k(k, len(images), clamp=clamp_k)
    if isinstance(m, (int, np.integer)) and not isinstance(m, bool) and m > k_used:
        raise InvalidValueError(f"m = {m} images per clip but only k = {k_used} candidates; m must be at most k")

    from moodbridge.library.emotion import item_va
    from moodbridge.pairing.semantic_space import semantic_embeddings

    music_va, music_src = item_va(library, music)
    image_va, image_src = item_va(library, images)
    alphas = (alpha, 1.0) if semantic_baseline else (alpha,)
    if scorer is not None:
        from moodbridge.pairing.scores import pair_candidates
        from moodbridge.pairing.semantic_space import adapter_candidates

        if space != "bridge":
            raise InvalidValueError("--scorer adapter:DIR replaces S, so --space has nothing to measure; give one")
        candidates, space_description = adapter_candidates(library, music, images, scorer, k_used)
        pairings = pair_candidates(candidates, music_va, image_va, alphas=alphas, m=m, metric=metric,
                                   normalisation=normalisation)  # type: ignore[arg-type]
        space = scorer
    else:
        X, Y, space_description = semantic_embeddings(library, music, images, space)
        pairings = pair_alphas(X, Y, music_va, image_va, alphas=alphas, k=k_used, m=m, metric=metric,
                               normalisation=normalisation, normalise=True, checkpoint=checkpoint,  # type: ignore[arg-type]
                               progress=progress, engine=engine, image_shards=image_shards)
    params = {"alpha": float(alpha), "k": int(k), "k_used": int(k_used), "m": int(m), "metric": metric,
              "normalisation": normalisation, "clamp_k": bool(clamp_k), "space": space}
    tables = [
        PairTable(frame=_pair_frame(p, music, images, music_va, image_va, music_src, image_src), pairing=p,
                  music=music, images=images, music_va=music_va, image_va=image_va, music_sources=music_src,
                  image_sources=image_src, k=k_used, library_path=root, fingerprint=library_fingerprint(music + images),
                  params={**params, "alpha": float(p.alpha), "space_description": space_description}, filters=reports)
        for p in pairings
    ]
    if semantic_baseline:
        tables[0].semantic_only = tables[1]
    return tables[0]


def _path_column(paths: list[str]) -> "pd.Series":
    """Paths as pandas' default strings, or as ``object`` when one of them is not UTF-8 (Arrow strings, the
    default, cannot hold the surrogate escapes Python keeps for such bytes)."""
    import pandas as pd

    try:
        return pd.Series(paths)
    except UnicodeEncodeError:
        return pd.Series(paths, dtype=object)


def _pair_frame(p: "Pairing", music: list["Item"], images: list["Item"], music_va: np.ndarray,
                image_va: np.ndarray, music_src: list[str], image_src: list[str]) -> "pd.DataFrame":
    """One row per pair (:data:`COLUMNS`)."""
    import pandas as pd

    from moodbridge.emotion import quadrant_labels

    mq, iq = quadrant_labels(music_va), quadrant_labels(image_va)
    ci, ii = p.clip, p.image
    return pd.DataFrame({
        "clip_path": _path_column([music[c].path for c in ci]),
        "image_path": _path_column([images[j].path for j in ii]),
        "rank": p.rank,
        "S": p.semantic, "E": p.emotional, "T": p.total,
        "S_norm": p.semantic_norm, "E_norm": p.emotional_norm,
        "clip_valence": music_va[ci, 0], "clip_arousal": music_va[ci, 1],
        "clip_quadrant": [mq[c] for c in ci],
        "clip_source": [music_src[c] for c in ci],
        "image_valence": image_va[ii, 0], "image_arousal": image_va[ii, 1],
        "image_quadrant": [iq[j] for j in ii],
        "image_source": [image_src[j] for j in ii],
    }, columns=list(COLUMNS))


# --- writing ------------------------------------------------------------------------------
def _parquet_frame(frame: "pd.DataFrame") -> "pd.DataFrame":
    """``frame`` with each path that is not valid UTF-8 in its escaped display form (``caf\\xe9.jpg``).

    Parquet strings must be UTF-8; ``pairs.csv`` keeps such a path's exact bytes (``fileio.PATH_ERRORS``).
    """
    from moodbridge.errors import display_path

    def utf8(path: str) -> str:
        try:
            path.encode("utf-8")
            return path
        except UnicodeEncodeError:
            return display_path(path)

    out = frame.copy()
    for column in ("clip_path", "image_path"):
        out[column] = [utf8(p) for p in out[column]]
    return out



def _bridge_settings() -> dict[str, Any]:
    from moodbridge.semantic import bridge

    return {"space": "all-MiniLM-L6-v2 (minilm), 384-d", "image": f"{bridge.IMAGE_ENCODER} {bridge.IMAGE_OUTPUT}, "
            f"top-{bridge.IMAGE_TOP_K} classes, template {bridge.IMAGE_TEMPLATE!r}",
            "audio": f"{' + '.join(bridge.TAGGERS)} {bridge.TAG_OUTPUT}, contrast-weighted, "
            f"template {bridge.TAG_TEMPLATE!r}"}


def write_outputs(table: PairTable, out_dir: str | Path, *, params: dict[str, Any] | None = None) -> dict[str, Path]:
    """Write ``pairs.csv``, ``pairs.parquet`` and ``dataset.json`` into ``out_dir``.

    Each file is written to a temporary name in ``out_dir`` and renamed into
    place, so a reader never sees a half-written file.  ``dataset.json`` holds
    the parameters (``table.params`` updated with ``params``), the library
    path and fingerprint, item and pair counts, each filter's settings, counts
    and dropped items, the VA sources, the bridge settings and the moodbridge
    version.

    Returns
    -------
    dict
        ``{"csv": path, "parquet": path, "json": path}``.

    Raises
    ------
    InvalidValueError
        If ``out_dir`` exists and is not a folder, or cannot be written.
    """
    from moodbridge import __version__

    from moodbridge.fileio import PATH_ERRORS, atomic_path, output_folder, write_json_atomic

    out = output_folder(out_dir, what="pair files")
    meta = {
        "format": "moodbridge-pairs",
        "format_version": 1,
        "moodbridge_version": __version__,
        "library": table.library_path,
        "library_fingerprint": table.fingerprint,
        "parameters": {**table.params, **(params or {})},
        "counts": {"music": len(table.music), "images": len(table.images), "pairs": len(table.frame)},
        "filters": [r.to_dict() for r in table.filters],
        "va_sources": table.source_counts(),
        "semantic_space": table.params.get("space_description", "semantic bridge (MiniLM text space)"),
        "semantic_bridge": _bridge_settings() if table.params.get("space", "bridge") == "bridge" else None,
        "columns": list(table.frame.columns),
        "files": {"csv": PAIRS_CSV, "parquet": PAIRS_PARQUET},
    }
    targets = {"csv": out / PAIRS_CSV, "parquet": out / PAIRS_PARQUET, "json": out / DATASET_JSON}
    with atomic_path(targets["csv"], what="pair table") as tmp:
        table.frame.to_csv(tmp, index=False, encoding="utf-8", errors=PATH_ERRORS)
    with atomic_path(targets["parquet"], what="pair table") as tmp:
        _parquet_frame(table.frame).to_parquet(tmp, index=False)
    write_json_atomic(targets["json"], meta, what="data set description")  # last: it marks a complete set
    return targets
