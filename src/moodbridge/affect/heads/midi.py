"""``midi-va``: valence-arousal of a MIDI score from symbolic descriptors.

The head reads the ``midi-stats`` descriptors (52 features and the 24
key-profile correlations) and the ``midi-harmony`` descriptors (chord quality,
interval content, local key, melodic contour, dynamics) and averages two
regressors per axis, both evaluated in NumPy from the shipped arrays:

* gradient-boosted trees (scikit-learn's ``HistGradientBoostingRegressor``,
  exported node by node into :class:`TreeEnsemble`);
* an RBF support-vector regressor on standardised features, with
  ``log1p`` applied first to the heavily skewed non-negative columns.

It is trained on the EIMG clips (Wang, Chen, Li, "Continuous Emotion-Based
Image-to-Music Generation", IEEE Trans. Multimedia, 2023): 15-second piano
clips rated for valence and arousal on 1-9 by six annotators, whose mean is
converted to ``[-1, 1]`` with :data:`moodbridge.emotion.SCALE_1_9`. See
:mod:`moodbridge.train.tasks.eimg` for the training and
cross-validation protocol and ``docs/emotion.md`` for the metrics.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

import moodbridge.encoders.midi_extra  # noqa: F401  (registers ``midi-harmony``)
from moodbridge.affect.base import Head, Outputs, load_weights, register_head
from moodbridge.affect.models import kind_array, model_from_arrays, register_model_kind
from moodbridge.errors import InvalidValueError

#: encoders the head reads, and the (encoder, output) blocks of its input, in order
MIDI_ENCODERS: tuple[str, ...] = ("midi-stats", "midi-harmony")
FEATURE_BLOCKS: tuple[tuple[str, str], ...] = (
    ("midi-stats", "features"),
    ("midi-stats", "key_correlations"),
    ("midi-harmony", "features"),
)
#: columns left out because they grow with the file's length or reflect its track layout rather than its
#: music: totals, extremes and maxima over time. Every EIMG clip lasts 15 s on two piano tracks, so the model
#: would extrapolate on them for any other file; rates, means and percentiles carry the same cues.
DROPPED: dict[str, tuple[str, ...]] = {
    "midi-stats": (
        "duration", "note_count", "instrument_count", "drum_fraction", "n_pitches_used", "n_pitch_classes_used",
        "pitch_min", "pitch_max", "pitch_range", "polyphony_max",
    ),
    "midi-harmony": ("density_max",),
}  # fmt: skip
WEIGHTS_FILE = "midi_va.npz"


def kept_columns(encoder: str) -> np.ndarray:
    """Boolean mask of the ``features`` columns of ``encoder`` that the head reads (all but :data:`DROPPED`)."""
    from moodbridge.encoders import get_encoder

    names = get_encoder(encoder).feature_names  # type: ignore[attr-defined]
    return np.array([name not in DROPPED.get(encoder, ()) for name in names])


def feature_matrix(outputs: Outputs) -> np.ndarray:
    """The head's ``(N, D)`` input: the :data:`FEATURE_BLOCKS` side by side, less :data:`DROPPED`.

    Raises
    ------
    InvalidValueError
        If a block is missing, the blocks disagree on ``N``, or a value is not finite.
    """
    parts = []
    for enc, out in FEATURE_BLOCKS:
        if enc not in outputs or out not in outputs[enc]:
            raise InvalidValueError(f"midi-va needs the {enc!r} output {out!r}, which is missing")
        arr = np.asarray(outputs[enc][out], dtype=np.float64)
        arr = arr.reshape(arr.shape[0], -1) if arr.ndim else arr.reshape(1, -1)
        if out == "features" and enc in DROPPED:
            keep = kept_columns(enc)
            if arr.shape[1] != keep.size:
                raise InvalidValueError(f"midi-va: expected {keep.size} {enc} features, got {arr.shape[1]}")
            arr = arr[:, keep]
        parts.append(arr)
    rows = {p.shape[0] for p in parts}
    if len(rows) != 1:
        raise InvalidValueError(f"midi-va: encoder outputs have different numbers of rows: {sorted(rows)}")
    X = np.concatenate(parts, axis=1)
    if not np.isfinite(X).all():
        raise InvalidValueError("midi-va: the MIDI descriptors hold NaN or infinite values")
    return X


# ---------------------------------------------------------------------------
# stored model kinds used by this head
# ---------------------------------------------------------------------------


@register_model_kind
@dataclass
class TreeEnsemble:
    """A sum of binary regression trees plus a baseline, evaluated for all trees at once.

    Node ``i`` (over all trees, concatenated) sends ``x`` to ``left[i]`` when
    ``x[feature[i]] <= threshold[i]`` and to ``right[i]`` otherwise; a leaf
    (``left[i] == -1``) contributes ``value[i]``. Child indices are absolute.
    The output is ``(N, 1)``.
    """

    roots: np.ndarray  # (trees,) int64
    feature: np.ndarray  # (nodes,) int64
    threshold: np.ndarray  # (nodes,) float64
    left: np.ndarray  # (nodes,) int64, -1 at leaves
    right: np.ndarray  # (nodes,) int64
    value: np.ndarray  # (nodes,) float64
    baseline: float
    kind: ClassVar[str] = "tree-ensemble"

    def predict(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        node = np.broadcast_to(self.roots, (X.shape[0], self.roots.size)).copy()
        rows = np.arange(X.shape[0])[:, None]
        inner = self.left[node] >= 0
        while inner.any():
            go_left = X[rows, self.feature[node]] <= self.threshold[node]
            node = np.where(inner, np.where(go_left, self.left[node], self.right[node]), node)
            inner = self.left[node] >= 0
        return (self.value[node].sum(axis=1) + self.baseline)[:, None]

    def to_arrays(self, prefix: str) -> dict[str, np.ndarray]:
        names = ("roots", "feature", "threshold", "left", "right", "value")
        out = {f"{prefix}{n}": getattr(self, n) for n in names}
        out[f"{prefix}kind"] = kind_array(self.kind)
        out[f"{prefix}baseline"] = np.array(self.baseline)
        return out

    @classmethod
    def from_arrays(cls, a: Mapping[str, np.ndarray], prefix: str) -> TreeEnsemble:
        return cls(
            *(np.asarray(a[f"{prefix}{n}"]) for n in ("roots", "feature", "threshold", "left", "right", "value")),
            float(a[f"{prefix}baseline"]),
        )

    @classmethod
    def from_sklearn(cls, est: Any) -> TreeEnsemble:
        """From a fitted single-output ``HistGradientBoostingRegressor`` (numerical features only).

        Reads the fitted predictors' node tables (scikit-learn >= 1.0); leaf
        values there already include the learning rate. The caller should
        check that the export predicts as the estimator does
        (:func:`check_export`).
        """
        roots, feature, threshold, left, right, value = [], [], [], [], [], []
        offset = 0
        for (predictor,) in est._predictors:
            nodes = predictor.nodes
            if np.any(nodes["is_categorical"]):
                raise InvalidValueError("categorical splits cannot be exported")
            leaf = nodes["is_leaf"].astype(bool)
            roots.append(offset)
            feature.append(np.where(leaf, 0, nodes["feature_idx"]).astype(np.int64))
            threshold.append(nodes["num_threshold"].astype(np.float64))
            left.append(np.where(leaf, -1, nodes["left"].astype(np.int64) + offset))
            right.append(np.where(leaf, -1, nodes["right"].astype(np.int64) + offset))
            value.append(np.where(leaf, nodes["value"], 0.0).astype(np.float64))
            offset += len(nodes)
        return cls(
            np.array(roots, dtype=np.int64), *(np.concatenate(x) for x in (feature, threshold, left, right, value)),
            float(np.ravel(est._baseline_prediction)[0]),
        )


@register_model_kind
@dataclass
class Log1pColumns:
    """``log1p`` of the masked columns (for non-negative, heavily skewed features); others pass through."""

    mask: np.ndarray  # (features,) bool
    kind: ClassVar[str] = "log1p-columns"

    def predict(self, X: np.ndarray) -> np.ndarray:
        X = np.array(X, dtype=np.float64)
        X[:, self.mask] = np.log1p(np.maximum(X[:, self.mask], 0.0))
        return X

    def to_arrays(self, prefix: str) -> dict[str, np.ndarray]:
        return {f"{prefix}kind": kind_array(self.kind), f"{prefix}mask": self.mask.astype(bool)}

    @classmethod
    def from_arrays(cls, a: Mapping[str, np.ndarray], prefix: str) -> Log1pColumns:
        return cls(np.asarray(a[f"{prefix}mask"], dtype=bool))


@dataclass
class _Combination:
    """Models applied to the same input whose outputs are combined (see subclasses)."""

    models: list[Any]

    def _outputs(self, X: np.ndarray) -> list[np.ndarray]:
        return [np.asarray(m.predict(X), dtype=np.float64).reshape(len(X), -1) for m in self.models]

    def to_arrays(self, prefix: str) -> dict[str, np.ndarray]:
        out = {f"{prefix}kind": kind_array(self.kind), f"{prefix}models": np.array(len(self.models))}  # type: ignore[attr-defined]
        for i, model in enumerate(self.models):
            out.update(model.to_arrays(f"{prefix}{i}."))
        return out

    @classmethod
    def from_arrays(cls, a: Mapping[str, np.ndarray], prefix: str) -> Any:
        return cls([model_from_arrays(a, f"{prefix}{i}.") for i in range(int(a[f"{prefix}models"]))])


@register_model_kind
class Columns(_Combination):
    """Outputs of several models side by side (e.g. one model per VA axis)."""

    kind: ClassVar[str] = "columns"

    def predict(self, X: np.ndarray) -> np.ndarray:
        return np.concatenate(self._outputs(X), axis=1)


@register_model_kind
class Average(_Combination):
    """Unweighted mean of several models' outputs (an ensemble)."""

    kind: ClassVar[str] = "average"

    def predict(self, X: np.ndarray) -> np.ndarray:
        return np.mean(self._outputs(X), axis=0)


def check_export(exported: Any, fitted: Any, X: np.ndarray, *, atol: float = 1e-6) -> None:
    """Raise :class:`InvalidValueError` unless an exported model predicts as the fitted one on ``X``."""
    got = np.ravel(exported.predict(X))
    want = np.ravel(fitted.predict(X))
    if not np.allclose(got, want, atol=atol):
        raise InvalidValueError(
            f"exported {type(exported).__name__} differs from the fitted model by {np.abs(got - want).max():.3g}"
        )


# ---------------------------------------------------------------------------
# the head
# ---------------------------------------------------------------------------


class MidiVAHead(Head):
    """MIDI score → valence-arousal (trained on EIMG; see the module docstring).

    Parameters
    ----------
    weights
        A weight file to use instead of the shipped ``midi_va.npz``; read
        lazily on the first prediction.
    """

    name = "midi-va"
    version = "1"
    modality = "midi"
    encoders: ClassVar[tuple[str, ...]] = MIDI_ENCODERS
    taxonomy = "quadrants"
    description = "MIDI descriptors (midi-stats + midi-harmony) -> VA; boosted trees + SVR, trained on EIMG"

    def __init__(self, weights: str | Path | None = None) -> None:
        self._weights = weights if weights is not None else WEIGHTS_FILE
        self._model: Any = None
        self._meta: dict[str, Any] | None = None

    def _load(self) -> None:
        if self._model is None:
            arrays, meta = load_weights(self._weights)
            self._model = model_from_arrays(arrays, "model.")
            self._meta = meta

    @property
    def meta(self) -> dict[str, Any]:
        """The weight file's metadata (training data, hyper-parameters, cross-validated metrics)."""
        self._load()
        assert self._meta is not None
        return self._meta

    def predict_va(self, outputs: Outputs) -> np.ndarray:
        """``(N, 2)`` valence-arousal in ``[-1, 1]``.

        Raises
        ------
        InvalidValueError
            If an encoder output is missing or holds NaN or infinite values.
        """
        self.check_outputs(outputs)
        X = feature_matrix(outputs)
        self._load()
        width = int(self.meta.get("n_features", X.shape[1]))
        if X.shape[1] != width:
            raise InvalidValueError(f"midi-va expects {width} descriptor columns, got {X.shape[1]}")
        return np.clip(self._model.predict(X), -1.0, 1.0)


register_head("midi-va", MidiVAHead)
