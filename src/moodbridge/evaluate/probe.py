"""Linear probe of embeddings: how well a linear classifier recovers labels (Emo-CLIM Sec. 5.2).

Emo-CLIM evaluates its learned music embeddings with automatic music tagging
(Sec. 5.2, Table 4): the audio encoder and projection head are frozen, a small
classification head (Linear → BatchNorm → ReLU → Linear, binary cross-entropy)
is trained on the embeddings to predict MagnaTagATune's 50 most frequent tags
(genre, instrument, mood), and ROC-AUC / PR-AUC are reported.  MagnaTagATune
is not available here, so the probe is run on the labels that exist: the
emotion labels of the evaluation data (4Q's quadrants, EIMG's VA quadrants, a
library's stored-emotion quadrant or an imported label column such as
``mood``).  These are single-label multi-class tasks, so the probe is a
multinomial logistic regression (a purely *linear* probe, the usual stricter
form of the paper's small MLP head) and the scores are macro-F1 and accuracy
instead of tag-averaged AUCs.

The probe: inputs standardised on the training part (z-score), class-balanced
logistic regression (``class_weight="balanced"``, since macro-F1 is the
headline), and C chosen by an inner stratified cross-validation over
:data:`C_GRID` on the training part only (C = 1 when a class has fewer than 2
training items).  It is also run on the raw encoder features to compare, as
Emo-CLIM compares its embeddings with the encoders' own (Table 4).

Chance levels reported with every result:

* ``majority`` — always predict the most frequent training class (exact
  accuracy and macro-F1 on the test items);
* ``uniform`` — guess uniformly among the K classes: expected accuracy
  ``1/K``; expected F1 of class c with test prevalence ``p_c`` is
  ``2 p_c (1/K) / (p_c + 1/K)`` (precision ``p_c``, recall ``1/K``), averaged
  over the classes for macro-F1.
"""
from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from moodbridge.errors import InvalidValueError

__all__ = ["C_GRID", "ProbeResult", "cross_validated_probe", "linear_probe"]

#: inverse regularisation strengths tried by the inner cross-validation
C_GRID: tuple[float, ...] = (0.001, 0.01, 0.1, 1.0, 10.0)
#: folds of the inner cross-validation over C (fewer when a class is smaller)
INNER_FOLDS = 3
MAX_ITER = 5000
#: BLAS/OpenMP threads while fitting: the problems are small, and on a busy 2-core machine the
#: default threading made a 5-fold probe of 120 items 10x slower (5.4 s vs 0.5 s with one thread)
THREADS = 1


@dataclass(frozen=True)
class ProbeResult:
    """Scores of a linear probe on held-out items.

    Attributes
    ----------
    macro_f1, accuracy
        On the test items (pooled out-of-fold predictions for
        :func:`cross_validated_probe`).
    per_class_f1
        ``class → F1``.
    chance
        ``{"majority": {"accuracy", "macro_f1"}, "uniform": {"accuracy", "macro_f1"}}``
        (see the module docstring).
    classes
        The classes, sorted.
    n_train, n_test
        Items used to fit and to score (per fold on average for the cross-validated probe:
        ``n_test`` is then all items, each scored once).
    c
        The chosen C of each fit (one per fold for the cross-validated probe).
    folds
        Outer folds (``None`` for a single train/test split).
    """

    macro_f1: float
    accuracy: float
    per_class_f1: dict[str, float]
    chance: dict[str, dict[str, float]]
    classes: list[str]
    n_train: int
    n_test: int
    c: list[float] = field(default_factory=list)
    folds: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dictionary."""
        return asdict(self)


def linear_probe(train_x: Any, train_y: Any, test_x: Any, test_y: Any, *, seed: int = 0) -> ProbeResult:
    """Fit a logistic-regression probe on ``train_*`` and score it on ``test_*`` (Emo-CLIM Sec. 5.2).

    Parameters
    ----------
    train_x, test_x
        ``(N, d)`` features or embeddings (same ``d``).
    train_y, test_y
        ``(N,)`` class labels (any hashable values; compared as strings).
    seed
        Seeds the inner cross-validation's shuffling.

    Raises
    ------
    InvalidValueError
        On arrays that are not finite 2-D, mismatched lengths or dimensions,
        or fewer than two classes in the training part.
    """
    xtr, ytr = _checked(train_x, train_y, "train")
    xte, yte = _checked(test_x, test_y, "test")
    if xtr.shape[1] != xte.shape[1]:
        raise InvalidValueError(f"train and test dimensions differ: {xtr.shape[1]} vs {xte.shape[1]}")
    pred, c = _fit_predict(xtr, ytr, xte, seed)
    return _score(yte, pred, _majority(ytr, len(yte)), sorted(set(ytr) | set(yte)),
                  n_train=len(ytr), c=[c], folds=None)


def cross_validated_probe(x: Any, y: Any, *, folds: int = 5, seed: int = 0) -> ProbeResult:
    """The probe of :func:`linear_probe` by stratified k-fold cross-validation (no separate split).

    Every item is predicted once, by the probe fitted on the other folds (C
    chosen inside each training part); the scores are computed on the pooled
    out-of-fold predictions.  ``folds`` is capped at the size of the smallest
    class.

    Raises
    ------
    InvalidValueError
        On arrays that are not finite 2-D, mismatched lengths, fewer than two
        classes, a class with a single item (named), or ``folds < 2``.
    """
    from sklearn.model_selection import StratifiedKFold

    if isinstance(folds, bool) or not isinstance(folds, (int, np.integer)) or folds < 2:
        raise InvalidValueError(f"folds must be an integer >= 2, got {folds!r}")
    xs, ys = _checked(x, y, "probe")
    classes, counts = np.unique(ys, return_counts=True)
    if len(classes) < 2:
        raise InvalidValueError(f"the probe needs at least two classes, got {len(classes)} ({', '.join(classes)})")
    if counts.min() < 2:
        small = ", ".join(f"{c!r}" for c in classes[counts < 2])
        raise InvalidValueError(f"cross-validation needs at least 2 items per class; class {small} has only 1")
    k = int(min(folds, counts.min()))
    pred = np.empty(len(ys), dtype=object)
    majority = np.empty(len(ys), dtype=object)
    chosen, n_train = [], 0
    for tr, te in StratifiedKFold(n_splits=k, shuffle=True, random_state=seed).split(xs, ys):
        pred[te], c = _fit_predict(xs[tr], ys[tr], xs[te], seed)
        majority[te] = _majority(ys[tr], len(te))
        chosen.append(c)
        n_train += len(tr)
    return _score(ys, pred, majority, sorted(classes.tolist()), n_train=round(n_train / k), c=chosen, folds=k)


# ----------------------------------------------------------------------------- internals
def _checked(x: Any, y: Any, name: str) -> tuple[np.ndarray, np.ndarray]:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[0] == 0:
        raise InvalidValueError(f"{name} features must be a non-empty 2-D (N, d) array, got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise InvalidValueError(f"{name} features hold NaN or infinite values")
    labels = np.asarray([str(v) for v in (y.tolist() if isinstance(y, np.ndarray) else y)], dtype=object)
    if labels.shape[0] != arr.shape[0]:
        raise InvalidValueError(f"{name}: {labels.shape[0]} labels for {arr.shape[0]} feature rows")
    return arr, labels


def _fit_predict(xtr: np.ndarray, ytr: np.ndarray, xte: np.ndarray, seed: int) -> tuple[np.ndarray, float]:
    """Predictions for ``xte`` and the C used (inner CV over :data:`C_GRID` when every class has 2+ items)."""
    from sklearn.exceptions import ConvergenceWarning, UndefinedMetricWarning
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV, StratifiedKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from threadpoolctl import threadpool_limits

    classes, counts = np.unique(ytr, return_counts=True)
    if len(classes) < 2:
        raise InvalidValueError(f"the probe's training part has a single class ({classes[0]}); it needs two or more")
    model = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, class_weight="balanced", max_iter=MAX_ITER))
    with warnings.catch_warnings(), threadpool_limits(limits=THREADS):
        warnings.simplefilter("ignore", category=UndefinedMetricWarning)
        warnings.simplefilter("ignore", category=ConvergenceWarning)
        if counts.min() >= 2:
            inner = StratifiedKFold(n_splits=int(min(INNER_FOLDS, counts.min())), shuffle=True, random_state=seed)
            search = GridSearchCV(model, {"logisticregression__C": list(C_GRID)}, cv=inner, scoring="f1_macro")
            search.fit(xtr, ytr)
            return search.predict(xte), float(search.best_params_["logisticregression__C"])
        model.fit(xtr, ytr)
        return model.predict(xte), 1.0


def _majority(ytr: np.ndarray, n: int) -> np.ndarray:
    """``n`` copies of the most frequent training class (ties: the first in sorted order)."""
    classes, counts = np.unique(ytr, return_counts=True)
    return np.full(n, classes[int(np.argmax(counts))], dtype=object)


def _score(y: np.ndarray, pred: np.ndarray, majority: np.ndarray, classes: Sequence[str], *,
           n_train: int, c: list[float], folds: int | None) -> ProbeResult:
    from sklearn.metrics import accuracy_score, f1_score

    labels = list(classes)
    f1 = f1_score(y, pred, labels=labels, average=None, zero_division=0.0)
    prevalence = np.array([np.mean(y == cl) for cl in labels])
    k = len(labels)
    uniform_f1 = 2 * prevalence / k / np.maximum(prevalence + 1.0 / k, 1e-12)
    chance = {
        "majority": {"accuracy": float(accuracy_score(y, majority)),
                     "macro_f1": float(f1_score(y, majority, labels=labels, average="macro", zero_division=0.0))},
        "uniform": {"accuracy": 1.0 / k, "macro_f1": float(uniform_f1.mean())},
    }
    return ProbeResult(
        macro_f1=float(np.mean(f1)),
        accuracy=float(accuracy_score(y, pred)),
        per_class_f1={cl: float(v) for cl, v in zip(labels, f1)},
        chance=chance,
        classes=labels,
        n_train=int(n_train),
        n_test=len(y),
        c=c,
        folds=folds,
    )
