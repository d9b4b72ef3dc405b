"""Check the ``midi-va`` head on VGMIDI, and an optional VGMIDI-only baseline.

Data: a folder laid out like ``../shared/data/vgmidi`` — ``labels.csv`` with
columns ``id``, …, ``midi`` (a path relative to the folder), ``valence`` and
``arousal`` in {-1, +1} (VGMIDI: Ferreira & Whitehead, "Learning to Generate
Music with Sentiment", ISMIR 2019). The labels are signs, so the shipped head
(trained on EIMG only, never on VGMIDI) is scored by sign accuracy, with the
predicted valence (arousal) thresholded at 0, and by ROC AUC of the
predicted value.

:func:`train` does **not** touch the shipped ``midi-va`` head: it fits a
logistic regression per axis on the same descriptors, reports its
cross-validated accuracy and AUC, and writes a weight file only when ``out``
is given (suggested name ``midi_vgmidi.npz``; no such file ships).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from moodbridge.affect.base import save_weights
from moodbridge.affect.heads.midi import (
    FEATURE_BLOCKS,
    MIDI_ENCODERS,
    WEIGHTS_FILE,
    MidiVAHead,
    feature_matrix,
)
from moodbridge.affect.models import Chain, Linear, Standardize
from moodbridge.emotion import get_scale
from moodbridge.errors import InvalidValueError
from moodbridge.train.features import encoder_outputs

SCALE = get_scale("vgmidi")
AXES = ("valence", "arousal")
N_FOLDS = 5
#: inverse L2 strength of the logistic regressions of :func:`train`
LOGISTIC_C = 0.1


def load_labels(data_dir: str | Path) -> tuple[list[Path], np.ndarray, np.ndarray]:
    """MIDI paths, ``(N, 2)`` labels in {-1, +1} (valence, arousal) and a group per piece's game.

    Raises
    ------
    InvalidValueError
        If ``labels.csv``, a needed column or a MIDI file is missing.
    """
    import pandas as pd

    data_dir = Path(data_dir)
    labels = data_dir / "labels.csv"
    if not labels.is_file():
        raise InvalidValueError(f"{labels} not found: expected a VGMIDI-layout folder")
    table = pd.read_csv(labels)
    missing = {"midi", *AXES} - set(table.columns)
    if missing:
        raise InvalidValueError(f"{labels}: missing column(s) {sorted(missing)}")
    paths = [data_dir / str(p) for p in table["midi"]]
    absent = [p for p in paths if not p.is_file()]
    if absent:
        raise InvalidValueError(f"{len(absent)} MIDI file(s) listed in {labels} are missing, e.g. {absent[0]}")
    y = np.asarray(SCALE.to_va(table[list(AXES)].to_numpy(dtype=np.float64)))
    group_col = "game" if "game" in table.columns else "midi"
    groups = pd.factorize(table[group_col].astype(str))[0]
    return paths, y, groups


def sign_metrics(labels: np.ndarray, scores: np.ndarray) -> dict[str, float]:
    """``{axis}_accuracy`` (score >= 0 read as positive) and ``{axis}_auc`` for each VA axis.

    AUC is NaN for an axis whose labels are all of one sign.
    """
    from sklearn.metrics import roc_auc_score

    out: dict[str, float] = {}
    for j, axis in enumerate(AXES):
        positive = labels[:, j] > 0
        out[f"{axis}_accuracy"] = float(np.mean((scores[:, j] >= 0) == positive))
        both = 0 < positive.sum() < positive.size
        out[f"{axis}_auc"] = float(roc_auc_score(positive, scores[:, j])) if both else float("nan")
    return out


def evaluate(data_dir: str | Path, *, weights: str | Path | None = None, progress: bool = True) -> dict[str, Any]:
    """Transfer of the shipped (or given) ``midi-va`` head to a VGMIDI-layout folder.

    Returns
    -------
    dict
        ``valence_accuracy``, ``arousal_accuracy``, ``valence_auc``,
        ``arousal_auc``, ``n``, ``head``, ``version``.
    """
    paths, labels, _ = load_labels(data_dir)
    head = MidiVAHead(weights)
    outputs = encoder_outputs(paths, MIDI_ENCODERS, cache_name="vgmidi", progress=progress)
    pred = head.predict_va(outputs)
    return {**sign_metrics(labels, pred), "n": len(paths), "head": head.name, "version": head.version}


def train(
    data_dir: str | Path, *, seed: int = 0, out: str | Path | None = None, progress: bool = True
) -> dict[str, Any]:
    """A VGMIDI-only baseline: standardised descriptors -> logistic regression per axis.

    Cross-validates with ``GroupKFold`` over games (5 folds, games assigned to
    folds at random with ``seed``), fits on all phrases and, only when ``out``
    is given, writes the model there (a ``Chain`` of ``Standardize`` and
    ``Linear`` whose two outputs are the logits of positive valence and
    arousal). The shipped ``midi-va`` head is never modified.

    Returns
    -------
    dict
        ``cv_{axis}_accuracy``, ``cv_{axis}_auc`` (pooled out-of-fold), ``n``,
        ``head`` (``"vgmidi-logistic"``), ``version`` and ``weights`` (the path
        written, or None).
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold
    from tqdm.auto import tqdm

    paths, labels, groups = load_labels(data_dir)
    X = feature_matrix(encoder_outputs(paths, MIDI_ENCODERS, cache_name="vgmidi", progress=progress))

    def fit(rows: np.ndarray) -> Chain:
        scaler = Standardize.fit(X[rows])
        Xs = scaler.predict(X[rows])
        fitted = [
            Linear.from_sklearn(LogisticRegression(C=LOGISTIC_C, max_iter=2000).fit(Xs, labels[rows, j] > 0))
            for j in range(len(AXES))
        ]
        return Chain([scaler, Linear(np.vstack([f.coef for f in fitted]), np.concatenate([f.intercept for f in fitted]))])

    scores = np.zeros_like(labels)
    relabel = np.random.default_rng(seed).permutation(int(groups.max()) + 1)
    folds = list(GroupKFold(N_FOLDS).split(X, groups=relabel[groups]))
    for train_idx, test_idx in tqdm(folds, desc="VGMIDI CV", disable=not progress):
        scores[test_idx] = fit(train_idx).predict(X[test_idx])
    result: dict[str, Any] = {f"cv_{k}": v for k, v in sign_metrics(labels, scores).items()}
    written = None
    if out is not None:
        meta = {
            "head": "vgmidi-logistic",
            "version": "1",
            "trained_on": "VGMIDI (Ferreira & Whitehead, ISMIR 2019): valence/arousal signs",
            "outputs": "logits of P(valence > 0), P(arousal > 0)",
            "n_features": int(X.shape[1]),
            "feature_blocks": [f"{enc}:{o}" for enc, o in FEATURE_BLOCKS],
            "logistic_C": LOGISTIC_C,
            "seed": seed,
            "cv": result,
        }
        written = str(save_weights(out, fit(np.arange(len(X))).to_arrays("model."), meta))
    return {**result, "n": len(paths), "head": "vgmidi-logistic", "version": "1", "weights": written}
