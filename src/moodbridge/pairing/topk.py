"""Blockwise top-K candidate search: EMID's candidate pairs without the full score matrix.

EMID (Sec. 3.1.2, Eq. 1) scores every music clip against every image with
``S = X · Yᵀ`` (``X``: ``N_M × d`` music embeddings, ``Y``: ``N_I × d`` image
embeddings, rows L2-normalised so that ``S_ij`` is the cosine) and keeps, per
clip (per row of ``S``, i.e. over images), the K images with the highest
scores (K = 100 in EMID).  The softmax of Eq. 1 is monotone within a row and
so does not change which K images are kept; it is left out here (see
:mod:`moodbridge.pairing.scores` for why it cannot be mixed with E).

At EMID's scale (10,738 clips × 19,901 images) the dense float32 ``S`` alone is
855 MB, and it grows with the product of the two library sizes.  This module
never builds it:

``backend="torch"`` (:func:`_torch_top_k`)
    Streams over music blocks and, inside each, over image blocks.  A block of
    scores is one ``torch.matmul`` into a reused buffer.  The first (narrow)
    image block of a music block gives each row's K-th best score
    (``torch.topk`` on the floats); every block is then only *filtered*
    against each row's running K-th best (one compare pass and one
    ``flatnonzero``, cheap next to the matmul), and the few survivors are
    merged into the running top-K (``np.partition``), all in single-threaded
    numpy: torch's thread pool runs only the matmul and the first block's
    ``topk``, and never changes size between matmuls.  Scores travel as unique int64 keys (score
    bits, then image index), so every partial sort is exact and
    deterministic.  Memory is bounded by the block buffers,
    chosen from ``memory_budget`` (:func:`block_shape`), whatever ``N_M · N_I``.
``backend="faiss"`` (:func:`_faiss_top_k`)
    FAISS ``IndexFlatIP``: exact inner-product search, itself blockwise (FAISS
    tiles queries × database internally).  It copies ``Y`` into the index.
``backend="auto"``
    Picks the faster one for the sizes (:data:`AUTO_FAISS_BELOW`).  Measured on
    a shared 2-core AVX-512 machine (torch 2.13 with MKL, faiss-cpu 1.15,
    d = 1024, K = 100, top-K only, best of 3): 100 × 1,000 images FAISS 0.015 s
    vs torch 0.032 s; 1,000 × 5,000 0.135 vs 0.209 s; 2,000 × 20,000 1.81 vs
    1.74 s; EMID's 10,738 × 19,901 5.47 vs 5.84 s (within the machine's noise).
    FAISS wins on small problems (fixed costs); from ~2e7 score entries both run
    at matmul speed and torch is preferred: its memory is bounded by the budget
    and it does not copy ``Y``.  ``benchmarks/pairing.py --crossover`` re-measures.
:func:`ivf_top_k`
    Approximate search with FAISS ``IndexIVFFlat`` for libraries far beyond one
    machine's exact budget, with the recall@K against the exact search measured
    on a sample of clips.

Ties are broken deterministically: among equal scores the lower image index
wins, both for membership in the top K and for the order inside it, on every
backend (FAISS results whose K-th and (K+1)-th scores tie are recomputed
exactly).
"""
from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
from numpy.typing import ArrayLike

from moodbridge.errors import InvalidValueError
from moodbridge.validate import unit_rows

Backend = Literal["auto", "torch", "faiss"]

#: Default bound, in bytes, on the working memory of the blockwise search.
DEFAULT_MEMORY_BUDGET = 96 * 2**20

#: Width of the image blocks of the torch path (see :func:`block_shape`).
IMAGE_BLOCK = 4096

#: Rows whose squared norm is off by more than this are not L2-normalised.

#: ``"auto"`` uses FAISS below this many score entries (``N_M · N_I``), torch from it on.
AUTO_FAISS_BELOW = 2e7

#: Width of the first image block of each music block (see :func:`_image_spans`).
FIRST_BLOCK = 512

_LOW_31 = 0x7FFFFFFF
_LOW_32 = 0xFFFFFFFF

#: Padding key, below every real key.
_NO_KEY = np.iinfo(np.int64).min

#: Bytes per entry of the merge temporaries (values, indices, their concatenation, the sort).
_MERGE_BYTES_PER_ENTRY = 40

#: Rows validated per chunk (bounds the temporary float64 copy).

#: Bytes per score entry of a block counted against the budget: the float32
#: score, the bool mask and :data:`_MERGE_SHARE` for the merge temporaries.
_BYTES_PER_ENTRY = 6

#: Bytes per score entry of the block that the merge temporaries may take.
_MERGE_SHARE = 1


@dataclass(frozen=True)
class Candidates:
    """Top-K candidate images of every music clip (EMID Sec. 3.1.2).

    Attributes
    ----------
    indices
        ``(N_M, K)`` int64 image indices, best first; ties by lower index.
    scores
        ``(N_M, K)`` float32 cosine similarities ``S_ij``, non-increasing per row.
    backend
        The search that produced them (``"torch"``, ``"faiss"``, ``"faiss-ivf"``).
    """

    indices: np.ndarray
    scores: np.ndarray
    backend: str

    @property
    def n_music(self) -> int:
        """Number of music clips (rows)."""
        return int(self.indices.shape[0])

    @property
    def k(self) -> int:
        """Number of candidates per clip."""
        return int(self.indices.shape[1])


def validate_embeddings(embeddings: ArrayLike, *, name: str, normalise: bool = False) -> np.ndarray:
    """Check embeddings and return them as a C-contiguous float32 ``(N, d)`` array.

    No copy is made when the input already is one and ``normalise`` is false.

    Parameters
    ----------
    embeddings
        ``(N, d)`` array-like of row vectors.
    name
        What they are (``"music"``, ``"images"``), for error messages.
    normalise
        If true, return L2-normalised rows (a copy).  If false, the rows must
        already have unit norm (cosine = inner product, EMID Eq. 1).

    Raises
    ------
    InvalidValueError
        On a wrong shape, zero rows or columns, rows holding NaN or inf (their
        number is given), zero rows (with ``normalise``), or rows that are not
        unit length (without it).
    """
    return unit_rows(embeddings, f"{name} embeddings", normalise=normalise)


def check_k(k: int, n_images: int, *, clamp: bool = False) -> int:
    """Validate the number of candidates per clip against the number of images.

    Returns ``k``, or ``n_images`` when ``clamp`` and ``k > n_images``.

    Raises
    ------
    InvalidValueError
        If ``k`` is not a positive integer, or exceeds ``n_images`` without ``clamp``.
    """
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise InvalidValueError(f"k must be a positive integer, got {k!r}")
    if k > n_images:
        if clamp:
            return int(n_images)
        raise InvalidValueError(
            f"k = {k} candidates per clip but only {n_images} images; lower k or pass clamp_k=True"
        )
    return int(k)


def block_shape(n_music: int, n_images: int, k: int, memory_budget: int = DEFAULT_MEMORY_BUDGET) -> tuple[int, int]:
    """Music and image block sizes whose working memory fits ``memory_budget`` bytes.

    A block of ``b_m × b_i`` scores costs about ``6 · b_m · b_i`` bytes: float32
    scores, a bool mask, and merge temporaries capped at one byte per entry
    (larger merges run in row chunks).  Image blocks are :data:`IMAGE_BLOCK`
    wide (at least ``k + 1``), music blocks as tall as the budget allows: tall
    blocks keep the matmul efficient (measured: 4096 × 4096 blocks run at the
    speed of one dense matmul; 512-row blocks about 25 % slower).  Blocks need
    not divide the sizes.

    Raises
    ------
    InvalidValueError
        If the budget cannot hold a block of 16 rows.
    """
    budget = int(memory_budget)
    image_block = min(n_images, max(k + 1, IMAGE_BLOCK))
    minimum = _BYTES_PER_ENTRY * 16 * image_block
    if budget < minimum:
        raise InvalidValueError(
            f"memory_budget = {budget} bytes is too small for k = {k}; need at least {minimum}"
        )
    music_block = max(1, min(n_music, budget // (_BYTES_PER_ENTRY * image_block)))
    return music_block, image_block


def _keys(values: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """Unique int64 sort keys: larger for a higher score, then for a lower column.

    The float32 score's bits are mapped to an order-preserving int32 (``-0.0``
    first made ``+0.0``) in the high half; ``2³² − 1 − column`` fills the low
    half.  Distinct keys make a partial sort (``np.partition``) exact and
    deterministic.
    """
    bits = (np.asarray(values, dtype=np.float32) + np.float32(0.0)).view(np.int32)
    ordered = np.where(bits >= 0, bits, bits ^ np.int32(_LOW_31)).astype(np.int64)
    return (ordered << 32) | (_LOW_32 - np.asarray(columns, dtype=np.int64))


def _decode(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Scores and columns back from :func:`_keys`."""
    high = (keys >> 32).astype(np.int32)
    values = np.where(high >= 0, high, high ^ np.int32(_LOW_31)).view(np.float32)
    return values, _LOW_32 - (keys & _LOW_32)


def _sorted(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Scores and indices of key rows, best first."""
    return _decode(np.sort(keys, axis=1)[:, ::-1])


def _threshold(keys: np.ndarray) -> np.ndarray:
    """Each row's K-th best score, ``(rows, 1)``."""
    return _decode(keys.min(axis=1, keepdims=True))[0]


def _survivors(scores: torch.Tensor, threshold: np.ndarray, mask: np.ndarray, offset: int,
               *, inclusive: bool) -> tuple[np.ndarray, np.ndarray]:
    """Rows (ascending) and keys of the block entries above (``inclusive``: at least) each row's threshold.

    The only per-entry work besides the matmul: one compare pass and one
    ``flatnonzero`` over the mask, in single-threaded numpy (measured on the
    shared 2-core machine: 27 ms per 4096 × 4096 block against 39 ms for
    torch's two-thread ``gt`` + ``nonzero``, whose threads wait on each other
    when a core is busy); the few survivors are gathered with ``take``.
    """
    block = scores.numpy()
    (np.greater_equal if inclusive else np.greater)(block, threshold, out=mask)
    flat = np.flatnonzero(mask)
    rows, cols = np.divmod(flat, block.shape[1])
    return rows, _keys(block.ravel().take(flat), cols + offset)


def _merge(keys: np.ndarray, rows: np.ndarray, hit_keys: np.ndarray, budget: int) -> np.ndarray:
    """Merge survivor keys (with their ascending rows) into each row's running top-K keys.

    Single-threaded numpy on the few survivors (no torch thread-pool wake-ups
    or thread-count switches between matmuls); rows go in chunks whose
    temporaries stay within ``budget`` bytes.
    """
    if len(rows) == 0:
        return keys
    n_rows, k = keys.shape
    counts = np.bincount(rows, minlength=n_rows)
    width = int(counts.max())
    chunk = max(1, budget // (_MERGE_BYTES_PER_ENTRY * (k + width)))
    starts = np.cumsum(counts) - counts
    out = np.empty_like(keys)
    for r0 in range(0, n_rows, chunk):
        r1 = min(n_rows, r0 + chunk)
        h0, h1 = int(starts[r0]), int(starts[r1 - 1] + counts[r1 - 1])
        both = np.full((r1 - r0, k + width), _NO_KEY, dtype=np.int64)
        both[:, :k] = keys[r0:r1]
        local = rows[h0:h1] - r0
        both[local, k + np.arange(h0, h1) - starts[r0:r1][local]] = hit_keys[h0:h1]
        out[r0:r1] = np.partition(both, width, axis=1)[:, width:]
    return out


def _image_spans(n_images: int, k: int, image_block: int) -> Iterator[tuple[int, int]]:
    """Column ranges of the image blocks: a narrow first one (its ``torch.topk``
    is the costliest step per entry), then doubling up to ``image_block``, so
    that each block holds about K entries per row that beat the running K-th
    best (random order) and the merges stay small."""
    start, width = 0, min(image_block, max(k + 1, FIRST_BLOCK))
    while start < n_images:
        yield start, min(n_images, start + width)
        start, width = start + width, min(image_block, 2 * width)


def _torch_top_k(music: np.ndarray, images: np.ndarray, k: int, music_block: int, image_block: int,
                 *, spans: list[tuple[int, int]] | None = None, offset: int = 0) -> Candidates:
    """Blockwise exact top-k with a running threshold (see the module docstring).

    ``spans`` (default: :func:`_image_spans` over all of ``images``) are the
    column ranges of the image blocks, relative to ``images``, whose first row
    is image ``offset``: an image shard (:func:`partial_top_k`) passes the
    spans of the whole library that fall in it, so that every score is the
    same matmul over the same block as on one machine.
    """
    x, y = torch.from_numpy(music), torch.from_numpy(images)
    n_music, n_images = x.shape[0], y.shape[0]
    spans = list(_image_spans(n_images, k, image_block)) if spans is None else spans
    out_i = np.empty((n_music, k), dtype=np.int64)
    out_v = np.empty((n_music, k), dtype=np.float32)
    score_buf = torch.empty(music_block * max(c1 - c0 for c0, c1 in spans))
    mask_buf = np.empty(score_buf.numel(), dtype=bool)
    budget = score_buf.numel() * _MERGE_SHARE
    with torch.inference_mode():
        for r0 in range(0, n_music, music_block):
            xb = x[r0 : r0 + music_block]
            rows = xb.shape[0]
            keys = np.full((rows, k), _NO_KEY, dtype=np.int64)
            for j, (c0, c1) in enumerate(spans):
                scores = score_buf[: rows * (c1 - c0)].view(rows, c1 - c0)
                torch.matmul(xb, y[c0:c1].T, out=scores)
                if j == 0:  # the first block's K-th best bounds the final K-th best from below
                    threshold = torch.topk(scores, k, dim=1, sorted=False).values.amin(1, keepdim=True).numpy()
                else:
                    threshold = _threshold(keys)
                mask = mask_buf[: rows * (c1 - c0)].reshape(rows, c1 - c0)
                hit_rows, hit_keys = _survivors(scores, threshold, mask, offset + c0, inclusive=j == 0)
                keys = _merge(keys, hit_rows, hit_keys, budget)
            out_v[r0 : r0 + rows], out_i[r0 : r0 + rows] = _sorted(keys)
    return Candidates(indices=out_i, scores=out_v, backend="torch")


def resolve_backend(backend: Backend, n_music: int, n_images: int) -> str:
    """The search :func:`top_k_candidates` runs for these sizes: ``"auto"`` is FAISS below
    :data:`AUTO_FAISS_BELOW` score entries, torch from there on; other names are returned as given."""
    if backend == "auto":
        return "faiss" if n_music * n_images < AUTO_FAISS_BELOW else "torch"
    return str(backend)


def image_shards(n_music: int, n_images: int, k: int, shards: int,
                 memory_budget: int = DEFAULT_MEMORY_BUDGET) -> list[list[tuple[int, int]]]:
    """The image blocks of the torch search (global column ranges) in ``shards`` consecutive groups.

    Each group is one image shard of :func:`partial_top_k`: whole blocks of
    the single-machine search (:func:`block_shape`, :func:`_image_spans`), so
    that its scores are bit for bit the same, with about ``N_I / shards``
    images and at least ``k + 1`` (a short last block joins the group before
    it).  Fewer groups come back when there are fewer blocks than ``shards``.

    Raises
    ------
    InvalidValueError
        On fewer than one shard, or a budget too small (:func:`block_shape`).
    """
    if isinstance(shards, bool) or not isinstance(shards, (int, np.integer)) or shards < 1:
        raise InvalidValueError(f"image shards must be a positive integer, got {shards!r}")
    _, image_block = block_shape(n_music, n_images, k, memory_budget)
    spans = list(_image_spans(n_images, k, image_block))
    groups: list[list[tuple[int, int]]] = []
    for c0, c1 in spans:
        if groups and (c1 - c0 <= k or (c0 + c1) / 2 < len(groups) * n_images / shards):  # by the block's middle
            groups[-1].append((c0, c1))
        else:
            groups.append([(c0, c1)])
    return groups


def partial_top_k(music: np.ndarray, shard: np.ndarray, spans: list[tuple[int, int]], *, k: int,
                  n_images: int, memory_budget: int = DEFAULT_MEMORY_BUDGET) -> Candidates:
    """The top-K of every clip over one image shard (rows ``spans[0][0]`` to ``spans[-1][1]`` of the library).

    ``spans`` is one group of :func:`image_shards` and ``shard`` those images;
    indices are global.  Merged per clip in the search's key order
    (:func:`moodbridge.search.sharded.merge_top`: score descending, lower
    index first), the shards' lists are exactly :func:`top_k_candidates` with
    ``backend="torch"`` over all ``n_images`` images: the blocks, their shape
    and so every score are the same.  ``music`` and ``shard`` are unit rows
    (not checked again here).
    """
    start = spans[0][0]
    if shard.shape[0] != spans[-1][1] - start:
        raise InvalidValueError(f"image shard has {shard.shape[0]} rows but its blocks cover {spans[-1][1] - start}")
    music_block, image_block = block_shape(music.shape[0], n_images, k, memory_budget)
    local = [(c0 - start, c1 - start) for c0, c1 in spans]
    return _torch_top_k(music, shard, k, music_block, image_block, spans=local, offset=start)


def _faiss_top_k(music: np.ndarray, images: np.ndarray, k: int) -> Candidates:
    """Exact top-k with FAISS ``IndexFlatIP``, made tie-exact like the torch path."""
    import faiss

    faiss.omp_set_num_threads(torch.get_num_threads())
    index = faiss.IndexFlatIP(images.shape[1])
    index.add(images)
    fetch = min(k + 1, images.shape[0])
    values, cols = index.search(music, fetch)
    if fetch > k:
        ambiguous = np.flatnonzero(values[:, k - 1] == values[:, k])
        values, cols = values[:, :k].copy(), cols[:, :k].copy()
        if len(ambiguous):
            music_block, image_block = block_shape(len(ambiguous), images.shape[0], k)
            exact = _torch_top_k(music[ambiguous], images, k, music_block, image_block)
            values[ambiguous], cols[ambiguous] = exact.scores, exact.indices
    v, c = _sorted(_keys(values, cols))
    return Candidates(indices=c, scores=v, backend="faiss")


def top_k_candidates(
    music: ArrayLike,
    images: ArrayLike,
    *,
    k: int = 100,
    backend: Backend = "auto",
    memory_budget: int = DEFAULT_MEMORY_BUDGET,
    normalise: bool = False,
    clamp_k: bool = False,
) -> Candidates:
    """The K images with the highest cosine similarity for every music clip (EMID Sec. 3.1.2).

    Exact: equal to sorting each row of ``X · Yᵀ`` (EMID Eq. 1 before the
    softmax) by score, descending, ties by lower image index, and keeping the
    first K — without ever holding that ``N_M × N_I`` matrix.

    Parameters
    ----------
    music
        ``(N_M, d)`` music embeddings ``X``, rows L2-normalised.
    images
        ``(N_I, d)`` image embeddings ``Y``, rows L2-normalised.
    k
        Candidates per clip (EMID: 100).
    backend
        ``"torch"`` (blockwise, memory bounded by ``memory_budget``),
        ``"faiss"`` (``IndexFlatIP``, copies ``Y``) or ``"auto"`` (the faster for
        the sizes, :data:`AUTO_FAISS_BELOW`).
    memory_budget
        Bytes the torch path may use for its blocks (:func:`block_shape`).
        FAISS tiles its own search (a fixed ~16 MB of scores) but holds a copy
        of ``Y``.
    normalise
        L2-normalise the rows first (a copy of each input) instead of
        requiring unit rows.
    clamp_k
        If ``k`` exceeds the number of images, use every image instead of raising.

    Returns
    -------
    Candidates

    Raises
    ------
    InvalidValueError
        On empty, NaN/inf or non-normalised embeddings, a dimension mismatch,
        a bad ``k`` or backend.
    """
    x = validate_embeddings(music, name="music", normalise=normalise)
    y = validate_embeddings(images, name="images", normalise=normalise)
    if x.shape[1] != y.shape[1]:
        raise InvalidValueError(
            f"music embeddings have dimension {x.shape[1]} but image embeddings {y.shape[1]}; they must share one space"
        )
    k = check_k(k, y.shape[0], clamp=clamp_k)
    music_block, image_block = block_shape(x.shape[0], y.shape[0], k, memory_budget)
    backend = resolve_backend(backend, x.shape[0], y.shape[0])
    if backend == "torch":
        return _torch_top_k(x, y, k, music_block, image_block)
    if backend == "faiss":
        return _faiss_top_k(x, y, k)
    raise InvalidValueError(f"unknown backend {backend!r}; known: auto, torch, faiss")


def ivf_top_k(
    music: ArrayLike,
    images: ArrayLike,
    *,
    k: int = 100,
    nlist: int | None = None,
    nprobe: int = 16,
    recall_sample: int = 256,
    seed: int = 0,
    normalise: bool = False,
) -> tuple[Candidates, float]:
    """Approximate top-K with FAISS ``IndexIVFFlat``, and its measured recall@K.

    For image libraries far beyond an exact search's time budget: the images
    are clustered into ``nlist`` cells (k-means, inner product) and each clip
    is compared only with the images of its ``nprobe`` nearest cells.  Clips
    for which fewer than K images were reached are recomputed exactly.

    Parameters
    ----------
    music, images, k, normalise
        As for :func:`top_k_candidates`.
    nlist
        Number of cells; default that of :func:`moodbridge.search.index.build_index`
        (``4·√N_I`` rounded to a power of two, at most ``N_I / 39``), which builds the index.
    nprobe
        Cells visited per clip (more: slower, higher recall).
    recall_sample
        Clips (drawn at random) on which the exact top-K is computed to measure
        recall; 0 skips the measurement (recall is then NaN).
    seed
        Seed of the recall sample and of the k-means training sample.

    Returns
    -------
    tuple[Candidates, float]
        The candidates (``backend="faiss-ivf"``) and the mean fraction of the
        exact top-K that they contain on the sample.

    Raises
    ------
    InvalidValueError
        As :func:`top_k_candidates`, or on a bad ``nlist``/``nprobe``.
    """
    x = validate_embeddings(music, name="music", normalise=normalise)
    y = validate_embeddings(images, name="images", normalise=normalise)
    if x.shape[1] != y.shape[1]:
        raise InvalidValueError(f"music embeddings have dimension {x.shape[1]} but image embeddings {y.shape[1]}")
    k = check_k(k, y.shape[0])
    if int(nprobe) < 1:
        raise InvalidValueError(f"nprobe must be at least 1, got {nprobe}")
    rng = np.random.default_rng(seed)
    from moodbridge.search.index import build_index

    index = build_index(y, kind="ivf", modality="images", nlist=nlist, nprobe=int(nprobe), seed=seed,
                        threads=torch.get_num_threads()).index
    values, cols = index.search(x, k)
    missing = np.flatnonzero((cols < 0).any(axis=1))
    if len(missing):
        music_block, image_block = block_shape(len(missing), y.shape[0], k)
        exact = _torch_top_k(x[missing], y, k, music_block, image_block)
        values[missing], cols[missing] = exact.scores, exact.indices
    v, c = _sorted(_keys(values, cols))
    candidates = Candidates(indices=c, scores=v, backend="faiss-ivf")
    recall = math.nan
    if recall_sample > 0:
        rows = np.sort(rng.choice(x.shape[0], min(int(recall_sample), x.shape[0]), replace=False))
        music_block, image_block = block_shape(len(rows), y.shape[0], k)
        exact = _torch_top_k(x[rows], y, k, music_block, image_block)
        hits = [len(np.intersect1d(a, b)) for a, b in zip(candidates.indices[rows], exact.indices)]
        recall = float(np.mean(hits)) / k
    return candidates, recall
