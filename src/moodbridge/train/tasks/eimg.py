"""Train and evaluate the ``midi-va`` head on EIMG piano clips.

Data: a folder laid out like ``../shared/data/eimg`` — ``labels.csv`` (``file``,
six annotators' ``a1_v`` … ``a6_a`` and their means ``valence_mean``,
``arousal_mean``, all on 1-9) and ``midi/<file>``. The clips are 15-second
segments of 467 piano pieces from the EIMG data set (Wang, Chen, Li,
"Continuous Emotion-Based Image-to-Music Generation", IEEE Trans. Multimedia,
2023). The head is trained on the annotators' mean, converted to ``[-1, 1]``
with :data:`~moodbridge.emotion.SCALE_1_9`; metrics are reported back on the
1-9 scale.

Cross-validation, two schemes (5 folds each, seeded):

``kfold``
    plain shuffled K-fold over clips;
``grouped``
    GroupKFold over *piece proxies*. The file numbers are not in piece order
    (neighbouring ids share a piece no more often than random pairs), so
    contiguous id blocks would not keep a piece's segments together. Segments
    of one piece do share the MIDI header that the EIMG export wrote: key and
    time signatures and the controller set-up at time 0
    (:func:`piece_groups`). Grouping by that header merges some distinct
    pieces (about 700 groups for 2,400 clips), which only makes the scheme
    stricter. Hyper-parameters were chosen on this scheme.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from moodbridge.affect.base import save_weights
from moodbridge.affect.heads.midi import (
    DROPPED,
    FEATURE_BLOCKS,
    MIDI_ENCODERS,
    WEIGHTS_FILE,
    Average,
    Columns,
    Log1pColumns,
    MidiVAHead,
    TreeEnsemble,
    check_export,
    feature_matrix,
)
from moodbridge.affect.models import Chain, RBFKernel, Standardize
from moodbridge.emotion import get_scale, quadrants
from moodbridge.errors import InvalidValueError
from moodbridge.train.features import encoder_outputs

SCALE = get_scale("eimg")
N_FOLDS = 5
CV_SCHEMES = ("kfold", "grouped")
#: gradient boosting (chosen by grouped CV)
HGB_PARAMS: dict[str, Any] = dict(
    max_iter=300, learning_rate=0.05, max_leaf_nodes=15, min_samples_leaf=20, l2_regularization=1.0, max_features=0.5
)
#: RBF SVR on log1p-ed, standardised features; C and epsilon are for targets in [-1, 1]
SVR_PARAMS: dict[str, Any] = dict(C=0.75, gamma=0.003, epsilon=0.075)
#: training rows on which the NumPy export is checked against scikit-learn
EXPORT_CHECK_ROWS = 256
#: columns whose |skewness| exceeds this (and that are never negative) are log1p-ed before the SVR
SKEW_LIMIT = 2.0
METRICS = (
    "valence_r2", "arousal_r2", "valence_mae", "arousal_mae", "valence_r", "arousal_r",
    "quadrant_accuracy", "va_distance",
)  # fmt: skip


# ---------------------------------------------------------------------------
# data
# ---------------------------------------------------------------------------


def load_labels(data_dir: str | Path) -> tuple[list[Path], np.ndarray]:
    """MIDI paths and their mean ``(N, 2)`` valence-arousal ratings on 1-9.

    Raises
    ------
    InvalidValueError
        If ``labels.csv`` or a MIDI file is missing, or a needed column is.
    """
    import pandas as pd

    data_dir = Path(data_dir)
    labels = data_dir / "labels.csv"
    if not labels.is_file():
        raise InvalidValueError(f"{labels} not found: expected an EIMG-layout folder")
    table = pd.read_csv(labels)
    missing = {"file", "valence_mean", "arousal_mean"} - set(table.columns)
    if missing:
        raise InvalidValueError(f"{labels}: missing column(s) {sorted(missing)}")
    paths = [data_dir / "midi" / str(f) for f in table["file"]]
    absent = [p for p in paths if not p.is_file()]
    if absent:
        raise InvalidValueError(f"{len(absent)} MIDI file(s) listed in {labels} are missing, e.g. {absent[0]}")
    return paths, table[["valence_mean", "arousal_mean"]].to_numpy(dtype=np.float64)


def piece_groups(paths: Sequence[str | Path]) -> np.ndarray:
    """A piece proxy per file: files with the same key/time signatures and time-0 controllers share a group.

    Returns
    -------
    np.ndarray
        ``(N,)`` int64 group ids, numbered in order of first appearance.
    """
    import mido

    ids: dict[str, int] = {}
    out = np.empty(len(paths), dtype=np.int64)
    for i, path in enumerate(paths):
        keys, times, setup = [], [], []
        for track in mido.MidiFile(str(path)).tracks:
            for msg in track:
                if msg.type == "key_signature":
                    keys.append(msg.key)
                elif msg.type == "time_signature":
                    times.append(f"{msg.numerator}/{msg.denominator}")
                elif msg.type == "control_change" and msg.time == 0:
                    setup.append(f"{msg.control}={msg.value}")
                elif msg.type == "program_change":
                    setup.append(f"p{msg.program}")
        key = "|".join(["/".join(dict.fromkeys(keys)), "/".join(dict.fromkeys(times)), ",".join(setup)])
        out[i] = ids.setdefault(key, len(ids))
    return out


def features(paths: Sequence[Path], *, progress: bool = True, cache_name: str = "eimg") -> np.ndarray:
    """The head's ``(N, D)`` input for MIDI files (cached in a training library)."""
    return feature_matrix(encoder_outputs(paths, MIDI_ENCODERS, cache_name=cache_name, progress=progress))


def cv_splits(scheme: str, n: int, groups: np.ndarray, seed: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Train/test index pairs of ``scheme`` (``"kfold"`` or ``"grouped"``), seeded."""
    from sklearn.model_selection import GroupKFold, KFold

    if scheme == "kfold":
        return KFold(N_FOLDS, shuffle=True, random_state=seed).split(np.zeros(n))
    if scheme == "grouped":
        relabel = np.random.default_rng(seed).permutation(int(groups.max()) + 1)  # random group-to-fold draw
        return GroupKFold(N_FOLDS).split(np.zeros(n), groups=relabel[groups])
    raise InvalidValueError(f"unknown CV scheme {scheme!r}; known: {', '.join(CV_SCHEMES)}")


# ---------------------------------------------------------------------------
# model
# ---------------------------------------------------------------------------


def skewed_columns(X: np.ndarray) -> np.ndarray:
    """Non-negative columns whose |skewness| exceeds :data:`SKEW_LIMIT`."""
    centred = X - X.mean(axis=0)
    sd = centred.std(axis=0)
    skew = np.where(sd > 1e-12, (centred**3).mean(axis=0) / np.maximum(sd, 1e-12) ** 3, 0.0)
    return (np.abs(skew) > SKEW_LIMIT) & (X.min(axis=0) >= 0)


def fit_model(X: np.ndarray, va: np.ndarray, *, seed: int = 0) -> Average:
    """Fit the ensemble on features ``X`` and VA targets ``va`` in ``[-1, 1]``; return its NumPy form.

    Per axis: a ``HistGradientBoostingRegressor`` (:data:`HGB_PARAMS`) and an RBF
    ``SVR`` (:data:`SVR_PARAMS`) on log1p-ed, standardised features, averaged.
    """
    from sklearn.ensemble import HistGradientBoostingRegressor
    from sklearn.svm import SVR
    from threadpoolctl import threadpool_limits

    trees, kernels = [], []
    log1p = Log1pColumns(skewed_columns(X))
    Xl = log1p.predict(X)
    scaler = Standardize.fit(Xl)
    Xs = scaler.predict(Xl)
    check_rows = slice(0, EXPORT_CHECK_ROWS)
    # one OpenMP thread: on data this small, thread start-up and contention with other work cost more than they save
    with threadpool_limits(limits=1, user_api="openmp"):
        for j in range(va.shape[1]):
            hgb = HistGradientBoostingRegressor(random_state=seed, **HGB_PARAMS).fit(X, va[:, j])
            tree = TreeEnsemble.from_sklearn(hgb)
            check_export(tree, hgb, X[check_rows])
            trees.append(tree)
            svr = SVR(kernel="rbf", **SVR_PARAMS).fit(Xs, va[:, j])
            kernel = RBFKernel(
                support=np.asarray(svr.support_vectors_, dtype=np.float64),
                dual=np.asarray(svr.dual_coef_, dtype=np.float64),
                intercept=np.asarray(svr.intercept_, dtype=np.float64),
                gamma=float(SVR_PARAMS["gamma"]),
            )
            check_export(kernel, svr, Xs[check_rows])
            kernels.append(kernel)
    return Average([Columns(trees), Chain([log1p, scaler, Columns(kernels)])])


def metrics(true_19: np.ndarray, pred_va: np.ndarray) -> dict[str, float]:
    """Agreement of VA predictions (in ``[-1, 1]``) with 1-9 ratings, on the 1-9 scale.

    ``quadrant_accuracy`` compares Russell quadrants (the neutral rating 5
    counts as positive, as :func:`moodbridge.emotion.quadrants` does);
    ``va_distance`` is the mean Euclidean distance in the (valence, arousal) plane.
    """
    pred_19 = np.asarray(SCALE.from_va(np.clip(pred_va, -1.0, 1.0)))
    err = pred_19 - true_19
    out: dict[str, float] = {}
    for j, axis in enumerate(("valence", "arousal")):
        ss_tot = float(((true_19[:, j] - true_19[:, j].mean()) ** 2).sum())
        out[f"{axis}_r2"] = 1.0 - float((err[:, j] ** 2).sum()) / ss_tot if ss_tot > 0 else float("nan")
        out[f"{axis}_mae"] = float(np.abs(err[:, j]).mean())
        out[f"{axis}_r"] = float(np.corrcoef(true_19[:, j], pred_19[:, j])[0, 1])
    true_q = quadrants(np.asarray(SCALE.to_va(true_19)))
    out["quadrant_accuracy"] = float(np.mean(quadrants(np.clip(pred_va, -1.0, 1.0)) == true_q))
    out["va_distance"] = float(np.linalg.norm(err, axis=1).mean())
    return out


def cross_validate(
    X: np.ndarray,
    ratings_19: np.ndarray,
    groups: np.ndarray,
    *,
    seed: int = 0,
    schemes: Sequence[str] = CV_SCHEMES,
    fit: Callable[..., Any] = fit_model,
    progress: bool = True,
) -> dict[str, float]:
    """Mean and standard deviation over folds of :func:`metrics`, per scheme.

    Returns
    -------
    dict
        ``{scheme}_{metric}`` (mean over folds) and ``{scheme}_{metric}_sd``.
    """
    from tqdm.auto import tqdm

    va = np.asarray(SCALE.to_va(ratings_19))
    out: dict[str, float] = {}
    for scheme in schemes:
        folds = []
        splits = list(cv_splits(scheme, len(X), groups, seed))
        for train_idx, test_idx in tqdm(splits, desc=f"EIMG {scheme} CV", disable=not progress):
            model = fit(X[train_idx], va[train_idx], seed=seed)
            folds.append(metrics(ratings_19[test_idx], model.predict(X[test_idx])))
        for name in METRICS:
            values = np.array([f[name] for f in folds])
            out[f"{scheme}_{name}"] = float(values.mean())
            out[f"{scheme}_{name}_sd"] = float(values.std(ddof=1))
    return out


# ---------------------------------------------------------------------------
# the task contract
# ---------------------------------------------------------------------------


def train(
    data_dir: str | Path, *, seed: int = 0, out: str | Path, progress: bool = True
) -> dict[str, Any]:
    """Cross-validate, fit on all clips and write the ``midi-va`` weights.

    Parameters
    ----------
    data_dir
        An EIMG-layout folder (``labels.csv``, ``midi/``).
    seed
        Seeds the folds and the boosting's feature subsampling.
    out
        Weight file to write (the caller chooses; ``moodbridge affect train --replace-shipped`` names the shipped one).
    progress
        Show progress bars.

    Returns
    -------
    dict
        Cross-validated metrics (``kfold_*`` and ``grouped_*``, mean and
        ``_sd`` over 5 folds, 1-9 scale), ``n``, ``head``, ``version``, ``weights``.
        The same metrics are stored in the weight file's metadata under ``"cv"``.
    """
    import sklearn

    paths, ratings = load_labels(data_dir)
    X = features(paths, progress=progress)
    groups = piece_groups(paths)
    cv = cross_validate(X, ratings, groups, seed=seed, progress=progress)
    model = fit_model(X, np.asarray(SCALE.to_va(ratings)), seed=seed)
    target = Path(out)
    meta = {
        "head": MidiVAHead.name,
        "version": MidiVAHead.version,
        "trained_on": "EIMG (Wang, Chen, Li, IEEE TMM 2023): mean of 6 annotators, 1-9 -> [-1, 1]",
        "n_train": len(paths),
        "n_groups": int(groups.max()) + 1,
        "n_features": int(X.shape[1]),
        "feature_blocks": [f"{enc}:{o}" for enc, o in FEATURE_BLOCKS],
        "dropped_features": {k: list(v) for k, v in DROPPED.items()},
        "seed": seed,
        "hgb_params": HGB_PARAMS,
        "svr_params": SVR_PARAMS,
        "cv_folds": N_FOLDS,
        "cv": cv,
        "sklearn_version": sklearn.__version__,
    }
    save_weights(target, model.to_arrays("model."), meta)
    return {**cv, "n": len(paths), "head": MidiVAHead.name, "version": MidiVAHead.version, "weights": str(target)}


def evaluate(data_dir: str | Path, *, weights: str | Path | None = None, progress: bool = True) -> dict[str, Any]:
    """Metrics of the shipped (or given) ``midi-va`` head on an EIMG-layout folder, on the 1-9 scale.

    Returns
    -------
    dict
        ``valence_r2``, ``arousal_r2``, ``valence_mae``, ``arousal_mae``,
        ``valence_r``, ``arousal_r``, ``quadrant_accuracy``, ``va_distance``,
        ``n``, ``head``, ``version``.
    """
    paths, ratings = load_labels(data_dir)
    head = MidiVAHead(weights)
    outputs = encoder_outputs(paths, MIDI_ENCODERS, cache_name="eimg", progress=progress)
    pred = head.predict_va(outputs)
    return {**metrics(ratings, pred), "n": len(paths), "head": head.name, "version": head.version}
