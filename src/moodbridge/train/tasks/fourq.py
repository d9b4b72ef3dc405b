"""Task ``4q``: train and evaluate the ``audio-va`` head on the 4Q audio emotion data set.

The folder is laid out like ``../shared/data/4q``: ``annotations.csv``
(columns ``Song``, ``Quadrant``), the clips ``Q1..Q4/<Song>.mp3`` and,
optionally, ``metadata.csv`` with an ``Artist`` column (used to group the
clips of one artist in the artist-grouped cross-validation).

Features come from :func:`moodbridge.train.features.encoder_outputs`
(cached in a library under ``~/.cache/moodbridge/training/4q``), so a
second run does no audio work.  :func:`train` reports two cross-validations
of the fixed model configuration (:data:`CONFIG`, chosen by the same
cross-validations; see ``docs/emotion.md``):

* ``stratified``: repeated stratified 5-fold (:data:`CV_REPEATS` repeats);
* ``artist``: repeated stratified 5-fold with all clips of an artist in one
  fold (scikit-learn's ``StratifiedGroupKFold``), the more honest estimate for
  music by unseen artists.

Each metric is given as the mean and the standard deviation over all folds of
all repeats: ``accuracy``, ``macro_f1`` (over Q1..Q4), and
``valence_accuracy`` / ``arousal_accuracy`` (agreement of the sign of the
predicted valence / arousal with the signs of the true quadrant).

The 4Q data set (Panda, Malheiro & Paiva, 2018) is for research use only; the
recordings belong to their rights holders.  The shipped weights hold only the
fitted model (feature means and scales, regression coefficients), no audio.

References
----------
R. Panda, R. Malheiro and R. P. Paiva, "Novel audio features for music emotion
recognition", *IEEE Trans. Affective Computing* 11(4), 2018.

J. Pons and X. Serra, "musicnn: Pre-trained convolutional neural networks for
music audio tagging", ISMIR late-breaking demo, 2019.  arXiv:1909.06654.
"""
from __future__ import annotations

import csv
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from moodbridge.affect.base import save_weights
from moodbridge.affect.heads.audio import (
    BLOCKS,
    ENCODERS,
    HEAD_NAME,
    HEAD_VERSION,
    MODEL_PREFIX,
    WEIGHTS_FILE,
    AudioVAHead,
    SoftmaxAverage,
    feature_matrix,
    probabilities_to_va,
)
from moodbridge.affect.models import Chain, Linear, RBFKernel, Standardize
from moodbridge.emotion import QUADRANT_CENTRES, get_quadrant
from moodbridge.errors import InvalidValueError, MoodbridgeError
from moodbridge.train.features import encoder_outputs

__all__ = [
    "CONFIG",
    "CV_REPEATS",
    "ModelConfig",
    "cross_validate",
    "evaluate",
    "fit_model",
    "load_dataset",
    "metrics",
    "train",
]

#: cache library of the features (a sub-folder of the training cache)
CACHE_NAME = "4q"
#: repeats of each 5-fold cross-validation
CV_REPEATS = 10
N_FOLDS = 5
LICENCE = "4Q audio emotion data set (Panda, Malheiro & Paiva 2018): research use only"


@dataclass(frozen=True)
class ModelConfig:
    """Hyper-parameters of the ensemble (chosen by repeated cross-validation on 4Q).

    Attributes
    ----------
    logreg_c
        Inverse L2 strength of the multinomial logistic regression (0 leaves it out).
    svm_c, svm_gamma
        ``C`` of the RBF SVMs (0 leaves them out) and ``gamma`` as a multiple
        of ``1 / n_features`` (scikit-learn's ``"scale"`` on standardised data).
    svm_weight
        Weight of the SVM's probabilities in the average (the logistic
        regression gets ``1 - svm_weight``).
    calibration_folds
        Folds of the internal cross-validation that gives the out-of-fold SVM
        decision values on which its softmax calibration is fitted.
    """

    logreg_c: float = 0.01
    svm_c: float = 0.0
    svm_gamma: float = 1.0
    svm_weight: float = 0.0
    calibration_folds: int = 5


#: the shipped configuration
CONFIG = ModelConfig()


# ----------------------------------------------------------------------------- data
def load_dataset(data_dir: str | Path) -> tuple[list[Path], np.ndarray, np.ndarray]:
    """Clips, labels and artist groups of a 4Q-like folder.

    Returns
    -------
    paths : list of Path
        ``Q<k>/<Song>.mp3`` in ``annotations.csv`` order.
    labels : np.ndarray
        ``(N,)`` int quadrant indices 0..3 (Q1..Q4).
    groups : np.ndarray
        ``(N,)`` artist names from ``metadata.csv`` (each song its own group
        when the file or the artist is absent).

    Raises
    ------
    MoodbridgeError
        If ``annotations.csv`` or a clip is missing, or the CSV lacks columns.
    InvalidValueError
        If a quadrant label is not Q1..Q4.
    """
    root = Path(data_dir)
    ann = root / "annotations.csv"
    if not ann.is_file():
        raise MoodbridgeError(f"{ann}: missing: a 4Q folder needs annotations.csv (columns Song, Quadrant)")
    rows = _read_csv(ann, ("Song", "Quadrant"))
    if not rows:
        raise MoodbridgeError(f"{ann}: empty: no clips listed")
    artists: dict[str, str] = {}
    meta = root / "metadata.csv"
    if meta.is_file():
        artists = {r["Song"]: r.get("Artist") or "" for r in _read_csv(meta, ("Song",))}
    paths, labels, groups = [], [], []
    for r in rows:
        quadrant = get_quadrant(r["Quadrant"])
        path = root / quadrant.label / f"{r['Song']}.mp3"
        if not path.is_file():
            raise MoodbridgeError(f"{path}: missing: listed in {ann.name} but not found")
        paths.append(path)
        labels.append(quadrant.value - 1)
        groups.append(artists.get(r["Song"]) or f"song:{r['Song']}")
    return paths, np.array(labels, dtype=np.int64), np.array(groups)


def _read_csv(path: Path, required: Sequence[str]) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in required if c not in (reader.fieldnames or [])]
        if missing:
            raise MoodbridgeError(f"{path}: invalid: missing column(s) {', '.join(missing)}")
        return [dict(r) for r in reader]


def dataset_features(paths: Sequence[Path], *, progress: bool = True) -> np.ndarray:
    """``(N, d)`` head features of clips (extracted once, then read from the cache)."""
    outputs = encoder_outputs(paths, ENCODERS, cache_name=CACHE_NAME, progress=progress)
    return feature_matrix(outputs)


# ----------------------------------------------------------------------------- model
def _svm_members(X: np.ndarray, y: np.ndarray, cfg: ModelConfig, seed: int) -> Chain:
    """Standardise → one-vs-rest RBF SVMs → softmax calibration, fitted on ``X``, ``y``."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    scaler = Standardize.fit(X)
    Xs = scaler.predict(X)
    gamma = cfg.svm_gamma / X.shape[1]
    kernel = _ovr_svm(Xs, y, cfg.svm_c, gamma)
    oof = np.zeros((X.shape[0], 4))
    folds = StratifiedKFold(n_splits=cfg.calibration_folds, shuffle=True, random_state=seed)
    for tr, te in folds.split(Xs, y):
        inner = Standardize.fit(X[tr])
        oof[te] = _ovr_svm(inner.predict(X[tr]), y[tr], cfg.svm_c, gamma).predict(inner.predict(X[te]))
    calib = LogisticRegression(C=1.0, max_iter=1000).fit(oof, y)
    return Chain([scaler, kernel, Linear.from_sklearn(calib)])


def _ovr_svm(Xs: np.ndarray, y: np.ndarray, c: float, gamma: float) -> RBFKernel:
    """Four binary RBF SVMs (quadrant k vs the rest) as one kernel expansion with 4 outputs."""
    from sklearn.svm import SVC

    n_classes = 4
    dual = np.zeros((n_classes, Xs.shape[0]))
    intercept = np.zeros(n_classes)
    for k in range(n_classes):
        svc = SVC(C=c, kernel="rbf", gamma=gamma).fit(Xs, (y == k).astype(int))
        dual[k, svc.support_] = svc.dual_coef_[0]
        intercept[k] = svc.intercept_[0]
    used = np.flatnonzero(np.any(dual != 0, axis=0))
    return RBFKernel(support=Xs[used], dual=dual[:, used], intercept=intercept, gamma=gamma)


def fit_model(X: np.ndarray, y: np.ndarray, *, config: ModelConfig = CONFIG, seed: int = 0) -> SoftmaxAverage:
    """Fit the probability ensemble of :class:`ModelConfig` on features ``X`` and labels 0..3.

    Raises
    ------
    InvalidValueError
        If a quadrant has fewer clips than the calibration folds, or no member is enabled.
    """
    from sklearn.linear_model import LogisticRegression

    counts = np.bincount(y, minlength=4)
    if counts.min() < config.calibration_folds:
        raise InvalidValueError(f"every quadrant needs at least {config.calibration_folds} clips, got {counts.tolist()}")
    members: list[Any] = []
    weights: list[float] = []
    if config.logreg_c > 0 and config.svm_weight < 1:
        scaler = Standardize.fit(X)
        lr = LogisticRegression(C=config.logreg_c, max_iter=5000).fit(scaler.predict(X), y)
        members.append(Chain([scaler, Linear.from_sklearn(lr)]))
        weights.append(1.0 - config.svm_weight if config.svm_c > 0 else 1.0)
    if config.svm_c > 0 and config.svm_weight > 0:
        members.append(_svm_members(X, y, config, seed))
        weights.append(config.svm_weight if members[:-1] else 1.0)
    if not members:
        raise InvalidValueError("the model configuration enables no classifier")
    return SoftmaxAverage(members, np.array(weights))


# ----------------------------------------------------------------------------- metrics
def metrics(labels: np.ndarray, probs: np.ndarray) -> dict[str, float]:
    """Quadrant and per-axis metrics of predicted probabilities against labels 0..3.

    Returns
    -------
    dict
        ``accuracy`` and ``macro_f1`` of the most probable quadrant;
        ``valence_accuracy`` / ``arousal_accuracy``: how often the sign of the
        predicted valence / arousal (:func:`probabilities_to_va`) matches the
        true quadrant's.
    """
    from sklearn.metrics import accuracy_score, f1_score

    labels = np.asarray(labels)
    pred = np.argmax(probs, axis=1)
    va = probabilities_to_va(probs)
    truth = QUADRANT_CENTRES[labels]
    return {
        "accuracy": float(accuracy_score(labels, pred)),
        "macro_f1": float(f1_score(labels, pred, average="macro", labels=[0, 1, 2, 3], zero_division=0)),
        "valence_accuracy": float(np.mean((va[:, 0] >= 0) == (truth[:, 0] > 0))),
        "arousal_accuracy": float(np.mean((va[:, 1] >= 0) == (truth[:, 1] > 0))),
    }


def _splits(scheme: str, y: np.ndarray, groups: np.ndarray, seed: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    from sklearn.model_selection import RepeatedStratifiedKFold, StratifiedGroupKFold

    if scheme == "stratified":
        yield from RepeatedStratifiedKFold(n_splits=N_FOLDS, n_repeats=CV_REPEATS, random_state=seed).split(y, y)
    elif scheme == "artist":
        for r in range(CV_REPEATS):
            yield from StratifiedGroupKFold(n_splits=N_FOLDS, shuffle=True, random_state=seed + r).split(y, y, groups)
    else:
        raise InvalidValueError(f"unknown CV scheme {scheme!r}; expected 'stratified' or 'artist'")


def cross_validate(
    X: np.ndarray,
    y: np.ndarray,
    groups: np.ndarray,
    *,
    scheme: str = "stratified",
    config: ModelConfig = CONFIG,
    seed: int = 0,
    progress: bool = True,
    fit: Callable[..., Any] = fit_model,
) -> dict[str, Any]:
    """Repeated 5-fold cross-validation of :func:`fit_model`.

    Parameters
    ----------
    X, y, groups
        Features, labels 0..3 and artist groups.
    scheme
        ``"stratified"`` or ``"artist"`` (clips of an artist never split across folds).
    config, seed
        Model configuration; seed of the fold assignment and the calibration folds.
    progress
        Show a progress bar over the folds.
    fit
        The fitting function (for experiments with other models).

    Returns
    -------
    dict
        ``{metric: {"mean": ..., "sd": ...}}`` over the folds of all repeats,
        plus ``folds`` (their number) and ``scheme``.
    """
    from tqdm.auto import tqdm

    per_fold: list[dict[str, float]] = []
    splits = list(_splits(scheme, y, groups, seed))
    for tr, te in tqdm(splits, desc=f"4q CV ({scheme})", disable=not progress, leave=False):
        model = fit(X[tr], y[tr], config=config, seed=seed)
        per_fold.append(metrics(y[te], model.predict(X[te])))
    summary: dict[str, Any] = {
        k: {"mean": round(float(np.mean(v)), 4), "sd": round(float(np.std(v)), 4)}
        for k, v in ((k, [f[k] for f in per_fold]) for k in per_fold[0])
    }
    summary.update(folds=len(per_fold), scheme=scheme)
    return summary


# ----------------------------------------------------------------------------- task API
def train(data_dir: Path, *, seed: int = 0, out: Path, progress: bool = True) -> dict:
    """Cross-validate, fit the ``audio-va`` head on all clips of ``data_dir`` and write its weights.

    Parameters
    ----------
    data_dir
        A folder laid out like ``../shared/data/4q``.
    seed
        Seed of the folds and of the SVM calibration folds; the same seed
        gives the same weights and metrics.
    out
        Weight file to write (the caller chooses; ``moodbridge affect train --replace-shipped`` names the shipped one).
    progress
        Show progress bars.

    Returns
    -------
    dict
        ``{"cv": {"stratified": {...}, "artist": {...}}, "n": ..., "config": ...,
        "weights": path}`` (see :func:`cross_validate`).
    """
    from threadpoolctl import threadpool_limits

    paths, y, groups = load_dataset(data_dir)
    X = dataset_features(paths, progress=progress)
    # small problems: one BLAS thread is faster than many contending ones, and reproducible
    with threadpool_limits(limits=1):
        cv = {
            scheme: cross_validate(X, y, groups, scheme=scheme, seed=seed, progress=progress)
            for scheme in ("stratified", "artist")
        }
        model = fit_model(X, y, seed=seed)
    target = Path(out)
    meta = {
        "head": HEAD_NAME,
        "version": HEAD_VERSION,
        "blocks": [list(b) for b in BLOCKS],
        "n_features": int(X.shape[1]),
        "classes": ["Q1", "Q2", "Q3", "Q4"],
        "config": asdict(CONFIG),
        "seed": seed,
        "n": int(len(y)),
        "cv": cv,
        "data": LICENCE,
    }
    save_weights(target, model.to_arrays(MODEL_PREFIX), meta)
    return {"cv": cv, "n": int(len(y)), "config": asdict(CONFIG), "seed": seed, "weights": str(target)}


def evaluate(data_dir: Path, *, weights: Path | None = None, progress: bool = True) -> dict:
    """Metrics of the shipped (or given) ``audio-va`` head on a 4Q-like folder, without retraining.

    Returns
    -------
    dict
        ``accuracy``, ``macro_f1``, ``valence_accuracy``, ``arousal_accuracy``
        (see :func:`metrics`), ``n``, ``head`` and ``version``.
    """
    paths, y, _ = load_dataset(data_dir)
    head = AudioVAHead(weights)
    outputs = encoder_outputs(paths, ENCODERS, cache_name=CACHE_NAME, progress=progress)
    probs = head.predict_proba(outputs)
    return {**metrics(y, probs), "n": int(len(y)), "head": head.name, "version": head.version}
