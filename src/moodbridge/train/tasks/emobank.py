"""Task ``emobank``: the ``text-va`` v2 head, fitted on EmoBank's sentences and NRC-VAD's words.

Data: ``emobank.csv`` of EmoBank (Buechel & Hahn, EACL 2017; CC BY-SA 4.0):
10,062 English sentences (news, fiction, letters, essays, blogs …) with mean
valence and arousal on 1-5 (``get_scale("emobank")``) and the corpus's own
``split`` column, used as it is meant: ``train`` to fit, ``dev`` for every
choice (kernel width, penalty, stretch), ``test`` scored once, by :func:`train`, and
stored with the weights.

The head (:mod:`moodbridge.affect.heads.text_v2`) routes bare texts of at most
:data:`~moodbridge.affect.heads.text_v2.MAX_WORDS` words to the v1 word model
(task ``lexicon``, NRC-VAD; its held-out-word figures stay v1's) and other
ones to the sentence model: exact RBF kernel ridge on the ``minilm``
embedding over the 8,062 train sentences, its ``(gamma, alpha)`` chosen on
dev from :data:`GRID` by the mean of the valence and arousal r.  (Tried on
dev and dropped, ``docs/emotion.md``: ridge on the embedding with or without
v1's estimate stacked, blends with v1, Nyström/subset-of-regressors kernels
with 1,000-4,000 landmarks, and averages with ridge — all below the exact
kernel.)  EmoBank's ratings are compressed near the middle of the scale (SD
about 0.17 / 0.13 on ``[-1, 1]``), so the model's output is mapped per axis by
the affine ``stretch`` that gives it, on dev, the mean and SD of the word
model's estimates of the same sentences: texts of two and three words then
read on one scale (Pearson r is unchanged by it; the MAE on EmoBank's own
compressed scale is reported as ``test_unstretched_*_mae``).

Baselines on the same splits: the train mean (r = 0) and the issue's
``RidgeCV`` (default penalties) on the MiniLM embedding.  Figures in
``docs/emotion.md``.

References
----------
Buechel, S., & Hahn, U. (2017). EmoBank: Studying the impact of annotation
perspective and representation format on dimensional emotion analysis.
*Proc. EACL*, 578-585.
"""
from __future__ import annotations

import csv
import time
from pathlib import Path
from typing import Any

import numpy as np

from moodbridge.affect.base import load_weights, save_weights
from moodbridge.affect.heads.text_v2 import MAX_WORDS, WEIGHTS_FILE, TextVAHeadV2, word_like
from moodbridge.affect.models import RBFKernel
from moodbridge.emotion import get_scale
from moodbridge.errors import InvalidValueError
from moodbridge.train.metrics import va_metrics
from moodbridge.train.tasks import data_file

__all__ = ["GRID", "WEIGHTS_FILE", "evaluate", "load_emobank", "train"]

CSV_FILE = "emobank.csv"
SPLITS = ("train", "dev", "test")
#: RBF kernel ridge settings tried on dev: (gamma, alpha)
GRID: tuple[tuple[float, float], ...] = ((0.5, 0.3), (0.5, 1.0), (1.0, 0.3), (1.0, 1.0))
#: RidgeCV's default penalties (the baseline)
BASELINE_ALPHAS: tuple[float, ...] = (0.1, 1.0, 10.0)
#: tag lists and captions printed with the figures (sanity: each should read as its words say)
EXAMPLES: tuple[str, ...] = (
    "calm, rain, piano", "happy", "a terrible car crash on the highway",
    "children laughing and playing on a sunny beach", "a quiet foggy morning by the lake",
)


def load_emobank(data_dir: str | Path) -> dict[str, Any]:
    """``texts``, ``va`` (N, 2) in [-1, 1] and ``split`` (train/dev/test) of an EmoBank folder or CSV.

    Rows with an empty text are skipped.

    Raises
    ------
    InvalidValueError
        If the file is missing, has no rows, or a row's ratings or split are malformed.
    """
    path = data_file(data_dir, CSV_FILE, "EmoBank table")
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    if not rows:
        raise InvalidValueError(f"{path}: no rows")
    scale = get_scale("emobank")
    texts, va, split = [], [], []
    for i, row in enumerate(rows, start=2):
        text = (row.get("text") or "").strip()
        if not text:
            continue
        try:
            v, a = float(row["V"]), float(row["A"])
        except (KeyError, TypeError, ValueError):
            raise InvalidValueError(f"{path}: line {i} has no numeric V and A") from None
        if row.get("split") not in SPLITS:
            raise InvalidValueError(f"{path}: line {i} has split {row.get('split')!r}; expected one of {SPLITS}")
        texts.append(text)
        va.append([scale.to_va(v), scale.to_va(a)])
        split.append(row["split"])
    return {"texts": texts, "va": np.array(va, dtype=np.float64), "split": np.array(split), "path": path}


def sentence_inputs(texts: list[str], *, progress: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """MiniLM embeddings ``(N, 384)`` of ``texts`` and the v1 word model's VA of them."""
    from moodbridge.affect.heads.text import TextVAHead
    from moodbridge.semantic.embeddings import embed_texts

    X = embed_texts(texts, progress=progress).astype(np.float64)
    return X, TextVAHead().predict_embeddings(X)


def fit_kernel_ridge(X: np.ndarray, Y: np.ndarray, *, gamma: float, alpha: float) -> RBFKernel:
    """Exact RBF kernel ridge on the centred targets, as a stored kernel expansion (support kept in float16)."""
    from sklearn.kernel_ridge import KernelRidge

    mean = Y.mean(axis=0)
    krr = KernelRidge(kernel="rbf", gamma=gamma, alpha=alpha).fit(X, Y - mean)
    return RBFKernel(X.astype(np.float16), np.asarray(krr.dual_coef_, dtype=np.float64).T, mean, gamma)


def fit_stretch(raw: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """``(2, 2)`` per-axis scale (row 0) and offset (row 1) giving ``raw`` the mean and SD of ``reference``."""
    scale = reference.std(axis=0) / np.maximum(raw.std(axis=0), 1e-9)
    return np.vstack([scale, reference.mean(axis=0) - scale * raw.mean(axis=0)])


def _mean_r(m: dict[str, float]) -> float:
    return (m["valence_r"] + m["arousal_r"]) / 2


def train(data_dir: str | Path, *, seed: int = 0, out: str | Path, progress: bool = True) -> dict[str, Any]:
    """Choose the sentence model on dev, fit it on train, score test once, write the ``text-va`` v2 weights.

    Parameters
    ----------
    data_dir
        A folder like ``../shared/data/emobank``.
    seed
        Seeds the networks (same seed, same weights).
    out
        Weight file to write.
    progress
        Show progress bars while embedding.

    Returns
    -------
    dict
        ``test_valence_r`` … of the head and of the baselines
        (``baseline_ridgecv_test_*``, ``baseline_mean_test_*``), the dev
        figures of every setting (``dev_krr_g<gamma>_a<alpha>_*``), the choice,
        the stretch, ``n_train``/``n_dev``/``n_test``, ``weights``, ``seconds``.
    """
    from sklearn.linear_model import RidgeCV

    from moodbridge.affect.heads.text import TextVAHead
    from moodbridge.encoders import get_encoder
    from moodbridge.encoders.text_stats import text_stats

    start = time.time()
    data = load_emobank(data_dir)
    X, word_va = sentence_inputs(data["texts"], progress=progress)
    Y = data["va"]
    tr, dv, te = (np.flatnonzero(data["split"] == s) for s in SPLITS)
    metrics: dict[str, Any] = {"n_train": len(tr), "n_dev": len(dv), "n_test": len(te)}

    best: tuple[float, float, float, RBFKernel] | None = None
    for gamma, alpha in GRID:
        fitted = fit_kernel_ridge(X[tr], Y[tr], gamma=gamma, alpha=alpha)
        m = va_metrics(Y[dv], fitted.predict(X[dv]))
        metrics.update({f"dev_krr_g{gamma:g}_a{alpha:g}_{k}": v for k, v in m.items() if k.endswith("_r")})
        if best is None or _mean_r(m) > best[0]:
            best = (_mean_r(m), gamma, alpha, fitted)
    assert best is not None
    _, gamma, alpha, model = best
    long = ~word_like(text_stats(data["texts"]))
    stretch = fit_stretch(model.predict(X[dv[long[dv]]]), word_va[dv[long[dv]]])

    def sentence_pred(idx: np.ndarray) -> np.ndarray:
        return np.clip(model.predict(X[idx]) * stretch[0] + stretch[1], -1.0, 1.0)

    def head_pred(idx: np.ndarray) -> np.ndarray:  # as the head answers: routed by length
        return np.where(long[idx, None], sentence_pred(idx), word_va[idx])

    metrics.update({f"test_{k}": v for k, v in va_metrics(Y[te], head_pred(te)).items()})
    metrics.update({f"dev_{k}": v for k, v in va_metrics(Y[dv], head_pred(dv)).items()})
    metrics.update({f"test_sentence_model_{k}": v for k, v in va_metrics(Y[te], sentence_pred(te)).items()
                    if k.endswith("_r")})
    metrics["n_test_short"] = int((~long[te]).sum())
    metrics.update({f"test_unstretched_{k}": v for k, v in va_metrics(Y[te], model.predict(X[te])).items()
                    if k.endswith("_mae")})
    base = RidgeCV(alphas=BASELINE_ALPHAS).fit(X[tr], Y[tr])
    metrics.update({f"baseline_ridgecv_test_{k}": v for k, v in va_metrics(Y[te], base.predict(X[te])).items()})
    metrics.update({f"baseline_mean_test_{k}": v for k, v in
                    va_metrics(Y[te], np.tile(Y[tr].mean(axis=0), (len(te), 1))).items()})
    metrics.update({f"word_model_test_{k}": v for k, v in va_metrics(Y[te], word_va[te]).items() if k.endswith("_r")})
    words_meta = TextVAHead().meta
    metrics.update({"words_cv_valence_r": words_meta.get("cv_valence_r"),
                    "words_cv_arousal_r": words_meta.get("cv_arousal_r")})
    meta = {
        "head": TextVAHeadV2.name, "version": TextVAHeadV2.version, "task": "emobank", "seed": seed,
        "data": "EmoBank (Buechel & Hahn 2017), CC BY-SA 4.0; words: text-va@1 (NRC-VAD, Mohammad 2018)",
        "encoder": get_encoder("minilm").key, "max_words": MAX_WORDS,
        "model": "RBF kernel ridge on the minilm embedding (train split), stretched on dev", "gamma": gamma,
        "alpha": alpha, "stretch": stretch.tolist(), **metrics,
    }
    arrays = {**model.to_arrays("sent."), "stretch": stretch}
    path = save_weights(out, arrays, meta)
    captions = caption_errors(data_dir, weights=path)
    if captions:
        meta.update(captions)
        save_weights(path, arrays, meta)
    return {**{k: v for k, v in meta.items() if not isinstance(v, (dict, list))},
            "weights": str(path), "seconds": round(time.time() - start, 1)}


def caption_errors(data_dir: str | Path, *, weights: str | Path) -> dict[str, float]:
    """``caption_<axis>_mae`` and ``caption_<axis>_r``: the head on NAPS photo descriptions, when NAPS is at hand.

    NAPS (Marchewka et al. 2014) lies beside EmoBank in ``../shared/data``
    (``<data_dir>/../naps``); its descriptions are the only rated photo
    captions the project has.  The MAE is the caption's error that
    :mod:`moodbridge.affect.caption` weights by.  Empty when NAPS is absent.
    """
    naps_dir = Path(data_dir).resolve().parent / "naps"
    if not (naps_dir / "naps_ratings.csv").exists():
        return {}
    from moodbridge.train.tasks.naps import load_naps

    from moodbridge.encoders.text_stats import text_stats

    naps = load_naps(naps_dir)
    X, _ = sentence_inputs(naps["descriptions"])
    pred = TextVAHeadV2(str(weights)).predict_routed(X, text_stats(naps["descriptions"]))
    return {f"caption_{k}": v for k, v in va_metrics(naps["va"], pred).items()}


def evaluate(data_dir: str | Path, *, weights: str | Path | None = None, progress: bool = True) -> dict[str, Any]:
    """The shipped (or given) head on the ``test`` split of an EmoBank folder (the figures of the head as routed).

    Returns
    -------
    dict
        ``valence_r``, ``arousal_r``, ``valence_mae``, ``arousal_mae``, ``n``,
        ``head``, ``version``, and the head's word figures (``words_cv_*``,
        from text-va@1's held-out words).
    """
    from moodbridge.encoders.text_stats import text_stats

    data = load_emobank(data_dir)
    te = np.flatnonzero(data["split"] == "test")
    texts = [data["texts"][i] for i in te]
    head = TextVAHeadV2(str(weights) if weights else None)
    X, _ = sentence_inputs(texts, progress=progress)
    pred = head.predict_routed(X, text_stats(texts))
    _, meta = load_weights(weights or WEIGHTS_FILE)
    return {**va_metrics(data["va"][te], pred), "n": len(te), "head": head.name, "version": head.version,
            **{k: meta.get(k) for k in ("words_cv_valence_r", "words_cv_arousal_r")}}
