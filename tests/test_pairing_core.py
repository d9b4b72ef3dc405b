"""EMID pairing core: blockwise top-K against brute force, E/T/m semantics, errors."""
from __future__ import annotations

import numpy as np
import pytest

from moodbridge.errors import InvalidValueError
from moodbridge.pairing import (
    Candidates,
    block_shape,
    combine,
    emotional_similarity,
    ivf_top_k,
    normalise_rows,
    pair,
    top_k_candidates,
)
from moodbridge.pairing import topk as topk_module


def unit_rows_with_ties(rng: np.random.Generator, n: int, d: int = 8) -> np.ndarray:
    """Unit rows whose inner products are exact in float32: four entries ±0.5, the rest 0.

    Dot products are multiples of 0.25 in [-1, 1], so ties are frequent and no
    rounding differs between blockings.
    """
    rows = np.zeros((n, d), dtype=np.float32)
    for row in rows:
        row[rng.choice(d, 4, replace=False)] = rng.choice([-0.5, 0.5], 4)
    return rows


def brute_top_k(x: np.ndarray, y: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Sort each row of the full matrix: score descending, ties by lower index."""
    scores = x.astype(np.float64) @ y.T.astype(np.float64)
    index = np.broadcast_to(np.arange(y.shape[0]), scores.shape)
    order = np.lexsort((index, -scores), axis=1)[:, :k]
    return order, np.take_along_axis(scores, order, axis=1)


def random_unit(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    x = rng.standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.mark.parametrize("seed", range(8))
def test_blockwise_equals_brute_force_with_ties(seed, monkeypatch):
    rng = np.random.default_rng(seed)
    n_music, n_images = int(rng.integers(1, 70)), int(rng.integers(1, 300))
    x, y = unit_rows_with_ties(rng, n_music), unit_rows_with_ties(rng, n_images)
    if seed % 2:  # adversarial order: each image block beats the last one
        y = y[np.argsort(y @ x[0], kind="stable")]
    k = int(rng.integers(1, n_images + 1))
    expected, expected_scores = brute_top_k(x, y, k)
    monkeypatch.setattr(topk_module, "FIRST_BLOCK", int(rng.integers(1, 40)))
    for music_block, image_block in [(7, k + 1), (n_music, n_images), (3, max(k + 1, 13)), (5, k + 37)]:
        got = topk_module._torch_top_k(x, y, k, music_block, image_block)
        np.testing.assert_array_equal(got.indices, expected)
        np.testing.assert_allclose(got.scores, expected_scores, atol=1e-6)


def test_public_search_and_memory_budget():
    rng = np.random.default_rng(11)
    x, y = unit_rows_with_ties(rng, 50), unit_rows_with_ties(rng, 3000)
    expected, _ = brute_top_k(x, y, 20)
    small = top_k_candidates(x, y, k=20, backend="torch", memory_budget=6 * 16 * 3000)
    assert small.backend == "torch" and small.k == 20 and small.n_music == 50
    np.testing.assert_array_equal(small.indices, expected)
    assert block_shape(50, 3000, 20, 6 * 16 * 3000) == (16, 3000)
    assert block_shape(10_738, 19_901, 100)[1] == 4096


@pytest.mark.parametrize("ties", [True, False])
def test_faiss_equals_torch(ties):
    rng = np.random.default_rng(3)
    if ties:
        x, y = unit_rows_with_ties(rng, 40), unit_rows_with_ties(rng, 500)
    else:
        x, y = random_unit(rng, 40, 32), random_unit(rng, 500, 32)
    torch_result = top_k_candidates(x, y, k=25, backend="torch")
    faiss_result = top_k_candidates(x, y, k=25, backend="faiss")
    assert faiss_result.backend == "faiss"
    np.testing.assert_array_equal(faiss_result.indices, torch_result.indices)
    np.testing.assert_allclose(faiss_result.scores, torch_result.scores, atol=1e-5)


def test_ivf_recall_and_exact_when_probing_everything():
    rng = np.random.default_rng(5)
    x, y = random_unit(rng, 30, 16), random_unit(rng, 800, 16)
    candidates, recall = ivf_top_k(x, y, k=10, nlist=8, nprobe=8, recall_sample=30)
    assert recall == 1.0 and candidates.backend == "faiss-ivf"
    np.testing.assert_array_equal(candidates.indices, brute_top_k(x, y, 10)[0])
    _, partial = ivf_top_k(x, y, k=10, nlist=16, nprobe=1, recall_sample=30)
    assert 0.0 < partial <= 1.0


def hand_case() -> tuple[Candidates, np.ndarray, np.ndarray]:
    """One clip, four candidates: semantic order 0,1,2,3; emotional order 3,2,1,0."""
    candidates = Candidates(
        indices=np.array([[10, 11, 12, 13]]),
        scores=np.array([[0.40, 0.38, 0.37, 0.30]], dtype=np.float32),
        backend="torch",
    )
    music_va = np.array([[0.8, 0.6]])
    image_va = np.zeros((14, 2))
    image_va[10:14] = [[-0.8, -0.6], [-0.6, 0.8], [0.6, -0.8], [0.8, 0.6]]  # cosine -1, 0, 0, 1 ...
    image_va[12] = [0.8, -0.1]  # ... made strictly increasing: E(10) < E(11) < E(12) < E(13)
    return candidates, music_va, image_va


@pytest.mark.parametrize(
    ("alpha", "expected"), [(1.0, [10, 11, 12, 13]), (0.0, [13, 12, 11, 10]), (0.5, [12, 11, 10, 13])]
)
def test_alpha_orders(alpha, expected):
    candidates, music_va, image_va = hand_case()
    emotional = emotional_similarity(music_va, image_va, candidates)
    assert np.all(np.diff(emotional[0]) > 0)
    result = combine(candidates, emotional, alpha=alpha, m=4)
    np.testing.assert_array_equal(result.image, expected)
    np.testing.assert_array_equal(result.rank, [0, 1, 2, 3])
    np.testing.assert_allclose(result.total, alpha * result.semantic_norm + (1 - alpha) * result.emotional_norm)
    assert np.all(np.diff(result.total) <= 0)


def test_alpha_extremes_on_random_library():
    rng = np.random.default_rng(9)
    x, y = random_unit(rng, 25, 16), random_unit(rng, 400, 16)
    music_va, image_va = rng.uniform(-1, 1, (25, 2)), rng.uniform(-1, 1, (400, 2))
    candidates = top_k_candidates(x, y, k=30)
    semantic = pair(x, y, music_va, image_va, k=30, m=5, alpha=1.0)
    np.testing.assert_array_equal(semantic.image.reshape(25, 5), candidates.indices[:, :5])
    emotional = pair(x, y, music_va, image_va, k=30, m=5, alpha=0.0, metric="inverse-euclidean")
    e = emotional_similarity(music_va, image_va, candidates, metric="inverse-euclidean")
    best = np.take_along_axis(candidates.indices, np.argsort(-e, axis=1, kind="stable")[:, :5], axis=1)
    np.testing.assert_array_equal(emotional.image.reshape(25, 5), best)
    assert emotional.metric == "inverse-euclidean"


def test_m_and_k_shape_the_result():
    rng = np.random.default_rng(2)
    x, y = random_unit(rng, 7, 8), random_unit(rng, 50, 8)
    result = pair(x, y, rng.uniform(-1, 1, (7, 2)), rng.uniform(-1, 1, (50, 2)), k=10, m=3)
    assert len(result) == 21
    np.testing.assert_array_equal(result.clip, np.repeat(np.arange(7), 3))
    assert result.images_of(4).shape == (3,)
    assert len({tuple(result.images_of(c)) for c in range(7)}) > 1
    candidates = top_k_candidates(x, y, k=10)
    for clip in range(7):
        assert set(result.images_of(clip)) <= set(candidates.indices[clip])


def test_pair_processes_clips_in_chunks(monkeypatch):
    rng = np.random.default_rng(4)
    x, y = random_unit(rng, 23, 8), random_unit(rng, 60, 8)
    music_va, image_va = rng.uniform(-1, 1, (23, 2)), rng.uniform(-1, 1, (60, 2))
    whole = pair(x, y, music_va, image_va, k=12, m=2)
    monkeypatch.setattr("moodbridge.pairing.scores._CLIP_CHUNK", 5)
    chunked = pair(x, y, music_va, image_va, k=12, m=2)
    for name in ("clip", "image", "rank", "total"):
        np.testing.assert_array_equal(getattr(chunked, name), getattr(whole, name))


def test_normalisation_behaviour():
    scores = np.array([[0.3, 0.2, 0.1], [0.5, 0.5, 0.5], [2.0, 0.0, 1.0]])
    np.testing.assert_allclose(normalise_rows(scores), [[1, 0.5, 0], [0.5, 0.5, 0.5], [1, 0, 0.5]])
    z = normalise_rows(scores, "zscore")
    np.testing.assert_allclose(z.mean(axis=1), 0, atol=1e-12)
    np.testing.assert_allclose(z[[0, 2]].std(axis=1), 1)
    np.testing.assert_allclose(z[1], 0)
    np.testing.assert_array_equal(normalise_rows(scores, "none"), scores)
    # min-max is invariant to increasing affine maps (e.g. a softmax temperature's log-scale)
    np.testing.assert_allclose(normalise_rows(3 * scores - 7), normalise_rows(scores))


def test_mean_centre_uses_all_images():
    candidates = Candidates(indices=np.array([[0]]), scores=np.array([[0.5]], dtype=np.float32), backend="torch")
    image_va = np.array([[0.5, 0.5], [0.9, 0.9], [0.1, 0.1]])
    neutral = emotional_similarity([[0.5, 0.5]], image_va, candidates)
    mean = emotional_similarity([[0.5, 0.5]], image_va, candidates, centre="mean")
    assert neutral[0, 0] == pytest.approx(1.0) and mean[0, 0] == 0.0  # the candidate lies on the mean


@pytest.mark.parametrize(
    ("music", "images", "kwargs", "message"),
    [
        ("nan", None, {}, r"music embeddings: 2 of 5 rows hold NaN or inf"),
        (None, "inf", {}, r"images embeddings: 1 of 9 rows hold NaN or inf"),
        (None, None, {"k": 10}, r"k = 10 candidates per clip but only 9 images"),
        (None, None, {"k": 0}, r"k must be a positive integer"),
        ("empty", None, {}, r"music embeddings are empty"),
        (None, "empty", {}, r"images embeddings are empty"),
        ("unnormalised", None, {}, r"5 of 5 rows are not L2-normalised.*normalise=True"),
        ("dim", None, {}, r"dimension 3 but image embeddings 4"),
        (None, None, {"backend": "gpu"}, r"unknown backend 'gpu'"),
        (None, None, {"memory_budget": 10}, r"memory_budget = 10 bytes is too small"),
    ],
)
def test_search_errors(music, images, kwargs, message):
    rng = np.random.default_rng(0)
    x, y = random_unit(rng, 5, 4), random_unit(rng, 9, 4)
    if music == "nan":
        x[[1, 3], 2] = np.nan
    elif music == "empty":
        x = np.zeros((0, 4), dtype=np.float32)
    elif music == "unnormalised":
        x = 3 * x
    elif music == "dim":
        x = random_unit(rng, 5, 3)
    if images == "inf":
        y[7, 0] = np.inf
    elif images == "empty":
        y = np.zeros((0, 4), dtype=np.float32)
    with pytest.raises(InvalidValueError, match=message) as info:
        top_k_candidates(x, y, **{"k": 3, **kwargs})
    assert "\n" not in str(info.value)


def test_clamp_and_normalise_options():
    rng = np.random.default_rng(1)
    x, y = 5 * random_unit(rng, 4, 6), 2 * random_unit(rng, 3, 6)
    clamped = top_k_candidates(x, y, k=10, clamp_k=True, normalise=True)
    assert clamped.k == 3
    np.testing.assert_array_equal(np.sort(clamped.indices, axis=1), np.tile(np.arange(3), (4, 1)))
    with pytest.raises(InvalidValueError, match="all zeros"):
        top_k_candidates(np.zeros((2, 6)), y, k=1, normalise=True)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"alpha": 1.5}, r"alpha must be in \[0, 1\]"),
        ({"m": 0}, r"m \(images per clip\) must be a positive integer"),
        ({"m": 6, "k": 5}, r"m = 6 images per clip but only k = 5 candidates"),
        ({"normalisation": "softmax"}, r"unknown normalisation 'softmax'"),
        ({"metric": "manhattan"}, r"unknown similarity 'manhattan'"),
        ({"music_va": np.zeros((4, 2))}, r"4 music VA points for 5 music embeddings"),
        ({"music_va": np.full((5, 2), np.nan)}, r"music VA: row 0 is NaN"),
    ],
)
def test_pair_errors(kwargs, message):
    rng = np.random.default_rng(0)
    x, y = random_unit(rng, 5, 4), random_unit(rng, 9, 4)
    args = {"music_va": np.zeros((5, 2)), "image_va": np.zeros((9, 2)), "k": 5, **kwargs}
    with pytest.raises(InvalidValueError, match=message):
        pair(x, y, **args)


# ----------------------------------------------------------------------------- resumable pairing
def _assert_same_pairing(a, b) -> None:
    """Same pairs exactly; scores equal up to float32 rounding (BLAS blocks differ with the shapes)."""
    for name in ("clip", "image", "rank"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    for name in ("semantic", "emotional", "total"):
        np.testing.assert_allclose(getattr(a, name), getattr(b, name), atol=1e-6, err_msg=name)


def test_checkpointed_pairing_equals_plain_and_resumes(tmp_path):
    """Synthetic vectors (mechanics only): 9,000 clips make three shards of 4,096."""
    from moodbridge.pairing.checkpoint import MANIFEST

    rng = np.random.default_rng(3)
    x, y = random_unit(rng, 9000, 16), random_unit(rng, 300, 16)
    xva, yva = rng.uniform(-1, 1, (9000, 2)), rng.uniform(-1, 1, (300, 2))
    plain = pair(x, y, xva, yva, k=20, m=3)
    folder = tmp_path / "ckpt"
    first = pair(x, y, xva, yva, k=20, m=3, checkpoint=folder, progress=True)
    _assert_same_pairing(first, plain)
    shards = sorted(folder.glob("shard-*.npz"))
    assert len(shards) == 3 and (folder / MANIFEST).exists()

    # an interrupted run: one shard missing, one damaged, one intact (must not be recomputed)
    shards[1].unlink()
    shards[2].write_bytes(b"not an npz")
    kept_mtime = shards[0].stat().st_mtime_ns
    resumed = pair(x, y, xva, yva, k=20, m=3, checkpoint=folder)
    _assert_same_pairing(resumed, plain)
    assert shards[0].stat().st_mtime_ns == kept_mtime
    assert len(list(folder.glob("shard-*.npz"))) == 3

    # other parameters: the old shards are discarded, not mixed in
    other = pair(x, y, xva, yva, k=20, m=3, alpha=0.0, checkpoint=folder)
    _assert_same_pairing(other, pair(x, y, xva, yva, k=20, m=3, alpha=0.0))
    assert shards[0].stat().st_mtime_ns != kept_mtime


def test_checkpoint_folder_must_be_a_folder(tmp_path):
    rng = np.random.default_rng(0)
    x, y = random_unit(rng, 10, 8), random_unit(rng, 12, 8)
    (tmp_path / "file").write_text("x")
    with pytest.raises(InvalidValueError, match="not a folder"):
        pair(x, y, rng.uniform(-1, 1, (10, 2)), rng.uniform(-1, 1, (12, 2)), k=5, m=2, checkpoint=tmp_path / "file")


def test_pair_alphas_equals_separate_pairings(tmp_path):
    from moodbridge.pairing import pair_alphas

    rng = np.random.default_rng(5)
    x, y = random_unit(rng, 50, 8), random_unit(rng, 40, 8)
    xva, yva = rng.uniform(-1, 1, (50, 2)), rng.uniform(-1, 1, (40, 2))
    for kwargs in ({}, {"checkpoint": tmp_path / "c", "progress": True}):
        both = pair_alphas(x, y, xva, yva, alphas=(1.0, 0.3), k=10, m=4, **kwargs)
        for alpha, got in zip((1.0, 0.3), both):
            _assert_same_pairing(got, pair(x, y, xva, yva, k=10, m=4, alpha=alpha))
    with pytest.raises(InvalidValueError, match="at least one alpha"):
        pair_alphas(x, y, xva, yva, alphas=())
