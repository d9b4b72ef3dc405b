"""EMID's final pairing: emotional similarity E, total score T, m images per clip.

EMID (Sec. 3.1.3, Eq. 2) scores each music clip's K candidate images
(:mod:`moodbridge.pairing.topk`, Sec. 3.1.2) by

    ``T = α · S + (1 − α) · E``

where S is the semantic similarity and E the emotional similarity (cosine in
valence-arousal space), and keeps the m best by T (m = 3 in EMID).

Why S and E are normalised first
--------------------------------
EMID's Eq. 1 defines ``S = softmax(X · Yᵀ)`` over a row of ~20k images.  With
cosines in ``[−1, 1]`` every softmax entry lies within a factor ``e²`` of
``1 / N_I`` (~5e-5 at EMID's scale), while E spans ``[−1, 1]``: for any
``α < 1`` the ``α · S`` term moves T by less than 1e-3 and the ranking is E's
alone, so α means nothing between 0 and 1.  Dropping the softmax (it is
monotone per row and does not change the candidates) does not fix it either:
the raw cosines of a clip's K best images typically span a few hundredths,
E nearly two units.  The two terms must be brought to comparable ranges, and
the only axis on which both are defined is **per music clip, over its K
candidates** (per row of the ``N_M × K`` candidate matrices).

``normalisation="minmax"`` (default)
    ``S' = (S − min S) / (max S − min S)`` per row, likewise E'.  Both then
    span exactly ``[0, 1]`` over the candidates: the best candidate on each
    criterion scores 1, the worst 0, and α reads directly as the trade-off
    ("a candidate best on meaning but worst on emotion gets α").  It is
    bounded, invariant to any increasing affine rescaling of S or E (the
    softmax temperature, the similarity's units), and well-behaved for E,
    which usually takes only a few distinct values per row (EMID gives every
    image its category's VA point).  A row where a score is constant carries
    no preference: it becomes 0.5 everywhere and T ranks by the other term.
``normalisation="zscore"``
    ``(S − mean) / std`` per row (constant rows → 0).  Unbounded: a clip whose
    candidates share one emotion but a single outlier gives that outlier a
    large ``|E'|``, which lets E dominate; offered for comparison.
``normalisation="none"``
    Raw cosines, as EMID's Eq. 2 would read without the softmax; S then
    barely matters unless α is close to 1.

Ties in T are broken by the raw S (higher first), then by the lower image
index, so ``α = 1`` reproduces the semantic (top-K) order exactly and
``α = 0`` orders by emotion alone, semantic order among equal emotions.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from moodbridge.emotion import as_va_array, get_similarity
from moodbridge.emotion.similarity import Centre, cosine_to_candidates
from moodbridge.errors import InvalidValueError
from moodbridge.numeric import Normalisation, normalise_rows
from moodbridge.pairing.defaults import DEFAULT_ALPHA, DEFAULT_K, DEFAULT_M
from moodbridge.pairing.pairs import Pairing
from moodbridge.pairing.topk import DEFAULT_MEMORY_BUDGET, Backend, Candidates, check_k, top_k_candidates

if TYPE_CHECKING:
    from moodbridge.engine import Engine


#: Clips scored at a time by :func:`pair`: E and T then take O(chunk · K)
#: memory (~50 MB at K = 100) whatever the number of clips.
_CLIP_CHUNK = 4096

def emotional_similarity(
    music_va: ArrayLike,
    image_va: ArrayLike,
    candidates: Candidates,
    *,
    metric: str = "cosine",
    centre: Centre = "neutral",
) -> np.ndarray:
    """E between each clip and each of its candidate images (EMID Sec. 3.1.3).

    Parameters
    ----------
    music_va
        ``(N_M, 2)`` valence-arousal of the clips (EMID: the clip's emotion
        distribution averaged over its categories' lexicon VA).
    image_va
        ``(N_I, 2)`` valence-arousal of the images (EMID: their category's VA).
    candidates
        The top-K candidates of every clip.
    metric
        ``"cosine"`` (EMID: cosine of centred VA, default), ``"inverse-euclidean"``
        (EIMG Eq. 1) or ``"gaussian"``; see :mod:`moodbridge.emotion.similarity`.
    centre
        Centre of the cosine: ``"neutral"`` (the VA origin, EMID), ``"mean"``
        (the mean VA of **all** images, not of one clip's candidates) or a point.
        Ignored by the other metrics.

    Returns
    -------
    numpy.ndarray
        ``(N_M, K)`` float64 E, aligned with ``candidates.indices``.

    Raises
    ------
    InvalidValueError
        On invalid VA, or VA counts that do not match the candidates.
    """
    music = as_va_array(music_va, name="music VA")
    images = as_va_array(image_va, name="image VA")
    if len(music) != candidates.n_music:
        raise InvalidValueError(f"music VA has {len(music)} rows but there are {candidates.n_music} music clips")
    if len(images) <= int(candidates.indices.max(initial=-1)):
        raise InvalidValueError(
            f"image VA has {len(images)} rows but the candidates refer to image {int(candidates.indices.max())}"
        )
    function = get_similarity(metric)
    if function is get_similarity("cosine"):  # each point centred and measured once, not once per pair
        return cosine_to_candidates(music, images, candidates.indices, centre=centre)
    k = candidates.k
    flat = function(np.repeat(music, k, axis=0), images[candidates.indices.ravel()], pairwise=False)
    return np.asarray(flat, dtype=np.float64).reshape(candidates.n_music, k)


def check_alpha_m(alpha: float, m: int, k: int) -> tuple[float, int]:
    """Validate α (in ``[0, 1]``) and m (``1 ≤ m ≤ K``).

    Raises
    ------
    InvalidValueError
        With the offending value and the allowed range.
    """
    try:
        alpha = float(alpha)
    except (TypeError, ValueError):
        raise InvalidValueError(f"alpha must be a number in [0, 1], got {alpha!r}") from None
    if not 0.0 <= alpha <= 1.0:
        raise InvalidValueError(f"alpha must be in [0, 1] (1 = semantic only, 0 = emotion only), got {alpha!r}")
    if isinstance(m, bool) or not isinstance(m, (int, np.integer)) or m < 1:
        raise InvalidValueError(f"m (images per clip) must be a positive integer, got {m!r}")
    if m > k:
        raise InvalidValueError(f"m = {m} images per clip but only k = {k} candidates; m must be at most k")
    return alpha, int(m)


def _in_key_order(semantic: np.ndarray, indices: np.ndarray) -> bool:
    """Whether every row is sorted by S descending, then image index ascending (the top-K's own order)."""
    a, b = semantic[:, :-1], semantic[:, 1:]
    return bool(np.all((a > b) | ((a == b) & (indices[:, :-1] < indices[:, 1:]))))


def _best_m(total: np.ndarray, semantic: np.ndarray, indices: np.ndarray, m: int) -> np.ndarray:
    """Column positions of the m best candidates per row: T desc, then raw S desc, then image index asc.

    Rows in the top-K's key order (S desc, index asc: :func:`top_k_candidates`)
    need only T, ties by position: the m-th best T of each row
    (``np.partition``) leaves exactly m candidates in a row without a tie there,
    and only those m are sorted (stably) instead of a three-key ``lexsort`` of
    all K: the same positions, ~3x less time at K = 100.  Rows with a tie at
    the m-th T, and candidates in another order (another scorer), take the
    ``lexsort``.
    """

    def full(rows: slice | np.ndarray) -> np.ndarray:
        # Sort keys, last is primary: T desc, then raw S desc, then image index asc.
        return np.lexsort((indices[rows], -semantic[rows], -total[rows]), axis=1)[:, :m]

    if m >= total.shape[1] or not _in_key_order(semantic, indices):
        return full(slice(None))
    neg = -total
    kept = neg <= np.partition(neg, m - 1, axis=1)[:, m - 1 : m]
    tied = kept.sum(axis=1) != m
    kept[tied] = False
    kept[tied, :m] = True  # placeholders, replaced below
    columns = np.nonzero(kept)[1].reshape(-1, m)
    ranks = np.argsort(np.take_along_axis(neg, columns, axis=1), axis=1, kind="stable")
    order = np.take_along_axis(columns, ranks, axis=1)
    if tied.any():
        order[tied] = full(np.flatnonzero(tied))
    return order


def combine(
    candidates: Candidates,
    emotional: np.ndarray,
    *,
    alpha: float = DEFAULT_ALPHA,
    m: int = DEFAULT_M,
    normalisation: Normalisation = "minmax",
    metric: str = "cosine",
) -> Pairing:
    """``T = α · S' + (1 − α) · E'`` per clip and the m best candidates (EMID Eq. 2).

    Parameters
    ----------
    candidates
        Top-K candidates with their semantic scores S.
    emotional
        ``(N_M, K)`` E aligned with ``candidates`` (:func:`emotional_similarity`).
    alpha
        Weight of semantics, in ``[0, 1]`` (EMID: 0.6; 1 = semantic ranking only).
    m
        Images kept per clip (EMID: 3), at most K.
    normalisation
        How S and E are made comparable per clip (module docstring).
    metric
        Name of the E metric, recorded in the result.

    Raises
    ------
    InvalidValueError
        On α outside ``[0, 1]``, a bad m, or E of the wrong shape.
    """
    alpha, m = check_alpha_m(alpha, m, candidates.k)
    emotional = np.asarray(emotional, dtype=np.float64)
    if emotional.shape != candidates.scores.shape:
        raise InvalidValueError(
            f"emotional similarity has shape {emotional.shape} but the candidates {candidates.scores.shape}"
        )
    semantic = candidates.scores.astype(np.float64)
    s_norm, e_norm = normalise_rows(semantic, normalisation), normalise_rows(emotional, normalisation)
    total = alpha * s_norm + (1.0 - alpha) * e_norm
    order = _best_m(total, semantic, candidates.indices, m)

    def pick(a: np.ndarray) -> np.ndarray:
        return np.take_along_axis(a, order, axis=1).ravel()

    n = candidates.n_music
    return Pairing(
        clip=np.repeat(np.arange(n, dtype=np.int64), m),
        image=pick(candidates.indices),
        rank=np.tile(np.arange(m, dtype=np.int64), n),
        semantic=pick(semantic),
        emotional=pick(emotional),
        semantic_norm=pick(s_norm),
        emotional_norm=pick(e_norm),
        total=pick(total),
        alpha=alpha,
        normalisation=normalisation,
        metric=metric,
    )


def pair(
    music: ArrayLike,
    images: ArrayLike,
    music_va: ArrayLike,
    image_va: ArrayLike,
    *,
    alpha: float = DEFAULT_ALPHA,
    **options: Any,
) -> Pairing:
    """EMID pairing end to end (Sec. 3.1.2-3.1.3): top-K by S, E, T, m per clip, at one α.

    ``options`` are the keywords of :func:`pair_alphas` (``k``, ``m``,
    ``metric``, ``centre``, ``normalisation``, ``backend``, ``memory_budget``,
    ``normalise``, ``clamp_k``, ``checkpoint``, ``progress``), documented there.
    """
    return pair_alphas(music, images, music_va, image_va, alphas=(alpha,), **options)[0]


def pair_alphas(
    music: ArrayLike,
    images: ArrayLike,
    music_va: ArrayLike,
    image_va: ArrayLike,
    *,
    alphas: Sequence[float],
    k: int = DEFAULT_K,
    m: int = DEFAULT_M,
    metric: str = "cosine",
    centre: Centre = "neutral",
    normalisation: Normalisation = "minmax",
    backend: Backend = "auto",
    memory_budget: int = DEFAULT_MEMORY_BUDGET,
    normalise: bool = False,
    clamp_k: bool = False,
    checkpoint: str | Path | None = None,
    progress: bool = False,
    engine: "Engine | None" = None,
    image_shards: int | None = None,
) -> list[Pairing]:
    """EMID pairing for several α at the cost of one candidate search (EMID Fig. 5 compares α = 1 and 0.6).

    The top-K candidates and E do not depend on α; only T and the m kept
    images do.  :func:`pair` is the single-α form.

    Parameters
    ----------
    music, images
        ``(N_M, d)`` and ``(N_I, d)`` embeddings in one joint space, rows
        L2-normalised (or pass ``normalise=True``).
    music_va, image_va
        ``(N_M, 2)`` and ``(N_I, 2)`` valence-arousal points.
    alphas
        Weights of semantics, one pairing each.
    k, m
        Candidates per clip, images kept per clip.
    metric, centre
        The emotional similarity (:func:`emotional_similarity`).
    normalisation
        Per-clip normalisation of S and E (module docstring).
    backend, memory_budget, normalise, clamp_k
        Passed to :func:`~moodbridge.pairing.topk.top_k_candidates`.
    checkpoint
        A folder for finished shards of clips (:mod:`moodbridge.pairing.checkpoint`):
        the run goes shard by shard, saves each, and a rerun with the same
        inputs and parameters resumes where it stopped.  The folder is kept;
        delete it when the result is stored.
    progress
        Show a progress bar over the shards of clips.
    engine
        Run the shards on this engine's workers (:mod:`moodbridge.engine`): the
        images and their VA are sent once (the object store), each worker runs
        the same per-shard search and scoring, and this process saves each
        finished shard to the checkpoint and joins them in order, so the pairs
        are bit-identical to the single-machine path's.
    image_shards
        Split the images too (:mod:`moodbridge.pairing.sharded`): each task
        searches one shard of clips over one shard of images (each image shard
        sent once), the partial top-K lists are merged per clip, each finished
        task is checkpointed.  The pairs are bit-identical to the
        single-machine path's: the layout runs the torch kernel over the same
        blocks, and a shard of clips small enough for ``"auto"`` (or
        ``backend="faiss"``) to pick FAISS is searched here, as on one machine.
        ``None`` (default): automatic, with an engine, when the image embeddings
        exceed :data:`~moodbridge.pairing.sharded.IMAGE_SHARD_BYTES`; 1: never.

    Returns
    -------
    list of Pairing
        One per α, in order.

    Notes
    -----
    Memory: the top-K search is bounded by ``memory_budget``; E and T are
    computed for :data:`_CLIP_CHUNK` clips at a time; the candidates
    (``12 · N_M · K`` bytes) and the result are the only parts that grow with
    the library, linearly in ``N_M`` and never with ``N_M · N_I``.

    Raises
    ------
    InvalidValueError
        On any invalid input; the parameters and VA points are checked before
        the search runs.
    """
    if len(alphas) == 0:
        raise InvalidValueError("alphas: give at least one alpha")
    check_k(k, k)
    for alpha in alphas:
        check_alpha_m(alpha, m, k)
    get_similarity(metric)
    normalise_rows(np.zeros((1, 1)), normalisation)
    music_va, image_va = as_va_array(music_va, name="music VA"), as_va_array(image_va, name="image VA")
    for what, va, emb in (("music", music_va, music), ("image", image_va, images)):
        if np.ndim(emb) >= 1 and len(va) != np.shape(emb)[0]:
            raise InvalidValueError(f"{len(va)} {what} VA points for {np.shape(emb)[0]} {what} embeddings")
    search = {"k": k, "backend": backend, "memory_budget": memory_budget, "normalise": normalise, "clamp_k": clamp_k}
    scoring = {"alphas": tuple(float(a) for a in alphas), "m": m, "metric": metric, "centre": centre,
               "normalisation": normalisation}
    if checkpoint is None and not progress and engine is None and image_shards in (None, 1):
        candidates = top_k_candidates(music, images, **search)
        return _score_candidates(candidates, music_va, image_va, **scoring)
    return _pair_in_shards(music, images, music_va, image_va, search, scoring, checkpoint=checkpoint,
                           progress=progress, engine=engine, image_shards=image_shards)


def pair_candidates(
    candidates: Candidates,
    music_va: ArrayLike,
    image_va: ArrayLike,
    *,
    alphas: Sequence[float],
    m: int = DEFAULT_M,
    metric: str = "cosine",
    centre: Centre = "neutral",
    normalisation: Normalisation = "minmax",
) -> list[Pairing]:
    """E, T and the m best per clip for candidates found by another scorer (one pairing per α).

    :func:`pair_alphas` finds the candidates by the cosine of embeddings; this is
    the rest of EMID's pairing for candidates whose S comes from elsewhere (a
    recommender adapter, :func:`moodbridge.pairing.semantic_space.adapter_candidates`).

    Raises
    ------
    InvalidValueError
        On an invalid α, m, metric, normalisation or VA.
    """
    if len(alphas) == 0:
        raise InvalidValueError("alphas: give at least one alpha")
    for alpha in alphas:
        check_alpha_m(alpha, m, candidates.k)
    get_similarity(metric)
    normalise_rows(np.zeros((1, 1)), normalisation)
    music_va, image_va = as_va_array(music_va, name="music VA"), as_va_array(image_va, name="image VA")
    return _score_candidates(candidates, music_va, image_va, alphas=tuple(float(a) for a in alphas), m=m,
                             metric=metric, centre=centre, normalisation=normalisation)


def _score_candidates(
    candidates: Candidates, music_va: np.ndarray, image_va: np.ndarray, *, alphas: tuple[float, ...], m: int,
    metric: str, centre: Centre, normalisation: Normalisation,
) -> list[Pairing]:
    """E, T and the m best per clip for each α, :data:`_CLIP_CHUNK` clips at a time."""
    parts: list[list[Pairing]] = [[] for _ in alphas]
    for r0 in range(0, candidates.n_music, _CLIP_CHUNK):
        rows = slice(r0, r0 + _CLIP_CHUNK)
        part = Candidates(candidates.indices[rows], candidates.scores[rows], candidates.backend)
        emotional = emotional_similarity(music_va[rows], image_va, part, metric=metric, centre=centre)
        for j, alpha in enumerate(alphas):
            parts[j].append(combine(part, emotional, alpha=alpha, m=m, normalisation=normalisation, metric=metric))
    return [_concatenate(p, _CLIP_CHUNK) for p in parts]


def _pair_shard(shard: tuple[np.ndarray, np.ndarray], images: np.ndarray, image_va: np.ndarray,
                search: dict, scoring: dict) -> list[Pairing]:
    """One shard of clips (embeddings, VA): its top-K search and its scoring, one pairing per α."""
    music, music_va = shard
    candidates = top_k_candidates(music, images, **{**search, "normalise": False})
    return _score_candidates(candidates, music_va, image_va, **scoring)


def _pair_in_shards(
    music: ArrayLike, images: ArrayLike, music_va: np.ndarray, image_va: np.ndarray,
    search: dict, scoring: dict, *, checkpoint: str | Path | None, progress: bool, engine: "Engine | None" = None,
    image_shards: int | None = None,
) -> list[Pairing]:
    """:func:`pair_alphas` shard by shard of clips (and of images), with a progress bar, optional checkpoints and engine."""
    from tqdm.auto import tqdm

    from moodbridge.engine import LocalEngine
    from moodbridge.pairing.checkpoint import ShardCheckpoint, run_key
    from moodbridge.pairing.sharded import auto_image_shards
    from moodbridge.pairing.topk import validate_embeddings

    x = validate_embeddings(music, name="music", normalise=search["normalise"])
    y = validate_embeddings(images, name="images", normalise=search["normalise"])
    k = check_k(search["k"], y.shape[0], clamp=search["clamp_k"])
    if image_shards is None:
        image_shards = 1 if engine is None else auto_image_shards(y)
    shard = _CLIP_CHUNK  # the torch search's own music block at scale (4096 rows × 4096 images)
    store = None
    if checkpoint is not None:
        layout = {"shard": shard} if image_shards == 1 else {"shard": shard, "image_shards": image_shards}
        key = run_key({"music": x, "images": y, "music_va": music_va, "image_va": image_va},
                      {**search, **scoring, **layout})
        store = ShardCheckpoint(checkpoint, key)
    resumed = set(store.done()) if store is not None else set()
    starts = list(range(0, x.shape[0], shard))
    parts: dict[int, list[Pairing]] = {}
    runner = engine or LocalEngine()
    with tqdm(total=x.shape[0], desc="pair", unit="clip", disable=not progress, leave=False) as bar:
        for i in sorted(resumed & set(range(len(starts)))):
            found = store.load(i) if store is not None else None
            if found is not None:
                parts[i] = found
                bar.update(min(shard, x.shape[0] - starts[i]))
        todo = [i for i in range(len(starts)) if i not in parts]
        if image_shards == 1:
            tasks = [(x[starts[i] : starts[i] + shard], music_va[starts[i] : starts[i] + shard]) for i in todo]
            done = ((todo[j], found) for j, found in runner.map_tasks(_pair_shard, tasks,
                                                                     shared=(y, image_va, search, scoring)))
        else:
            done = _image_sharded(x, y, music_va, image_va, starts, todo, shard, k, image_shards, search, scoring,
                                  runner, store)
        for i, found in done:
            if store is not None:
                store.save(i, found)
            parts[i] = found
            bar.update(min(shard, x.shape[0] - starts[i]))
    ordered = [parts[i] for i in range(len(starts))]
    return [_concatenate([p[j] for p in ordered], shard) for j in range(len(scoring["alphas"]))]


def _image_sharded(x: np.ndarray, y: np.ndarray, music_va: np.ndarray, image_va: np.ndarray, starts: list[int],
                   todo: list[int], shard: int, k: int, image_shards: int, search: dict, scoring: dict,
                   engine: "Engine", store: Any) -> Iterator[tuple[int, list[Pairing]]]:
    """``(i, pairings)`` of the clip shards ``todo`` with the images sharded too (:mod:`moodbridge.pairing.sharded`).

    A clip shard on which the single-machine search would run FAISS (a small
    one, :func:`~moodbridge.pairing.topk.resolve_backend`) runs :func:`_pair_shard`
    here, as it would on one machine, so that every shard's pairs stay bit-identical.
    """
    from moodbridge.pairing.sharded import sharded_candidates
    from moodbridge.pairing.topk import resolve_backend

    rows = {i: min(shard, x.shape[0] - starts[i]) for i in todo}
    small = [i for i in todo if resolve_backend(search["backend"], rows[i], y.shape[0]) != "torch"]
    for i in small:
        yield i, _pair_shard((x[starts[i] : starts[i] + shard], music_va[starts[i] : starts[i] + shard]),
                             y, image_va, search, scoring)
    large = {i: starts[i] for i in todo if i not in small}
    if large:
        for i, found in sharded_candidates(x, y, large, shard, k=k, shards=image_shards,
                                           memory_budget=search["memory_budget"], engine=engine, store=store):
            yield i, _score_candidates(found, music_va[starts[i] : starts[i] + shard], image_va, **scoring)


def _concatenate(parts: list[Pairing], chunk: int) -> Pairing:
    """Join the pairings of consecutive chunks of ``chunk`` clips."""
    if len(parts) == 1:
        return parts[0]
    arrays = {
        name: np.concatenate([getattr(p, name) for p in parts])
        for name in ("image", "rank", "semantic", "emotional", "semantic_norm", "emotional_norm", "total")
    }
    clip = np.concatenate([p.clip + i * chunk for i, p in enumerate(parts)])
    first = parts[0]
    return Pairing(clip=clip, alpha=first.alpha, normalisation=first.normalisation, metric=first.metric, **arrays)
