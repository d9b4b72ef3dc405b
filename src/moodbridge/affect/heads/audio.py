"""The ``audio-va`` head: Russell quadrant probabilities and valence-arousal of music audio.

Trained on the 4Q audio emotion data set (Panda et al., 2018: 900 clips of
30 s, 225 per quadrant, of which the development split in ``../shared/data/4q``
holds 480) by :mod:`moodbridge.train.tasks.fourq`.

Features
    musicnn (Pons & Serra, 2019), both the MSD and the MTT model: the mean
    over 3 s patches of the 200-d penultimate layer and of the 50 tag
    probabilities (500 values), concatenated in :data:`BLOCKS` order.  The
    standard deviations over patches and 111 librosa descriptors (MFCC,
    chroma, spectral contrast, tonnetz statistics) did not improve the
    cross-validated F1 (see ``docs/emotion.md``).

Model
    A multinomial logistic regression (L2, ``C = 0.01``) on the standardised
    features, stored as a :class:`SoftmaxAverage` of one member (the stored
    kind also holds probability ensembles, e.g. with a calibrated RBF SVM;
    :class:`moodbridge.train.tasks.fourq.ModelConfig`).  Everything is stored
    as plain arrays (:mod:`moodbridge.affect.models`) and evaluated with numpy.

Valence and arousal
    From the quadrant probabilities ``p1..p4``::

        valence = P(+V) - P(-V) = (p1 + p4) - (p2 + p3)
        arousal = P(+A) - P(-A) = (p1 + p2) - (p3 + p4)

    i.e. twice the probability-weighted mean of the quadrant centres
    ``(±0.5, ±0.5)``, so both lie in ``[-1, 1]``, are 0 when the head is
    undecided along that axis and ±1 when it is sure.  The sign of each axis
    is the more probable half-plane, which may differ from the signs of the
    most probable quadrant when the probabilities are spread (e.g.
    ``p = (0.4, 0, 0.3, 0.3)``: Q1 is the most probable quadrant but
    ``P(-A) = 0.6``); :attr:`EmotionEstimate.distribution` keeps the full
    quadrant probabilities.

References
----------
R. Panda, R. Malheiro and R. P. Paiva, "Novel audio features for music emotion
recognition", *IEEE Trans. Affective Computing* 11(4), 2018.

J. Pons and X. Serra, "musicnn: Pre-trained convolutional neural networks for
music audio tagging", ISMIR late-breaking demo, 2019.  arXiv:1909.06654.
"""
from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from moodbridge.affect.base import Head, Outputs, load_weights, register_head
from moodbridge.affect.models import Average, model_from_arrays, register_model_kind, softmax, stack_features
from moodbridge.emotion import QUADRANT_CENTRES
from moodbridge.media.spec import Modality
from moodbridge.errors import EncoderUnavailableError, InvalidValueError

__all__ = [
    "BLOCKS",
    "ENCODERS",
    "HEAD_NAME",
    "HEAD_VERSION",
    "WEIGHTS_FILE",
    "AudioVAHead",
    "SoftmaxAverage",
    "feature_matrix",
    "probabilities_to_va",
]

HEAD_NAME = "audio-va"
HEAD_VERSION = "1"
WEIGHTS_FILE = "audio_va.npz"

#: (encoder, output) blocks of the feature vector, in order
BLOCKS: tuple[tuple[str, str], ...] = tuple(
    (enc, out) for enc in ("musicnn-msd", "musicnn-mtt") for out in ("features", "tag_probs_mean")
)

#: the encoders whose outputs the head reads
ENCODERS: tuple[str, ...] = tuple(dict.fromkeys(enc for enc, _ in BLOCKS))

#: prefix of the model's arrays in the weight file
MODEL_PREFIX = "model."


@register_model_kind
@dataclass
class SoftmaxAverage(Average):
    """Weighted mean of the softmax of several score models (a probability ensemble).

    Each member of ``models`` maps ``X`` to ``(N, K)`` class scores (logits); the
    output is ``sum_m w_m softmax(member_m(X))`` with weights summing to 1.  Stored
    like :class:`~moodbridge.affect.models.Average`, under its own kind.
    """

    kind: ClassVar[str] = "softmax-average"

    def predict(self, X: np.ndarray) -> np.ndarray:
        """``(N, K)`` class probabilities."""
        probs = [w * softmax(m.predict(X), axis=1) for m, w in zip(self.models, self.weights)]
        return np.sum(probs, axis=0) / float(np.sum(self.weights))


def feature_matrix(outputs: Outputs, blocks: Sequence[tuple[str, str]] = BLOCKS) -> np.ndarray:
    """Concatenate the encoder outputs named by ``blocks`` into an ``(N, d)`` matrix.

    Parameters
    ----------
    outputs
        ``encoder → output name → (N, k)`` arrays (as a library or
        :func:`moodbridge.train.features.encoder_outputs` gives them).
    blocks
        ``(encoder, output)`` pairs, in order.

    Raises
    ------
    InvalidValueError
        If a block is missing, the blocks have different numbers of rows, or
        a value is NaN or infinite.
    """
    parts = []
    for enc, out in blocks:
        if enc not in outputs or out not in outputs[enc]:
            raise InvalidValueError(f"{HEAD_NAME} needs the {out!r} output of encoder {enc!r}, which is missing")
        arr = np.asarray(outputs[enc][out], dtype=np.float64)
        parts.append(arr.reshape(1, -1) if arr.ndim == 1 else arr)
    X = stack_features(parts)
    if not np.isfinite(X).all():
        raise InvalidValueError(f"{HEAD_NAME}: the encoder outputs hold NaN or infinite values")
    return X


def probabilities_to_va(probs: np.ndarray) -> np.ndarray:
    """Valence-arousal from quadrant probabilities: ``P(+axis) - P(-axis)`` for each axis.

    Parameters
    ----------
    probs
        ``(N, 4)`` probabilities of Q1..Q4 (rows summing to 1).

    Returns
    -------
    np.ndarray
        ``(N, 2)`` in ``[-1, 1]``; equals ``2 * probs @ QUADRANT_CENTRES``.

    Raises
    ------
    InvalidValueError
        If ``probs`` is not ``(N, 4)``, not finite or has a row not summing to 1.
    """
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] != 4:
        raise InvalidValueError(f"quadrant probabilities must be (N, 4), got shape {p.shape}")
    if not np.isfinite(p).all() or (p < -1e-9).any() or not np.allclose(p.sum(axis=1), 1.0, atol=1e-6):
        raise InvalidValueError("quadrant probabilities must be finite, non-negative and sum to 1 per row")
    return np.clip(2.0 * p @ QUADRANT_CENTRES, -1.0, 1.0)


class AudioVAHead(Head):
    """Quadrant probabilities and VA of music audio from musicnn features.

    Parameters
    ----------
    weights
        A weight file; default: the shipped ``audio_va.npz``, read on first use.
    """

    name: ClassVar[str] = HEAD_NAME
    version: ClassVar[str] = HEAD_VERSION
    modality: ClassVar[Modality] = "audio"
    encoders: ClassVar[tuple[str, ...]] = ENCODERS
    taxonomy: ClassVar[str] = "quadrants"
    description: ClassVar[str] = (
        "Russell quadrant probabilities of music audio (4Q data set, Panda et al. 2018) from musicnn "
        "MSD+MTT features and tags (Pons & Serra 2019); VA = P(+axis) - P(-axis)"
    )

    def __init__(self, weights: str | Path | None = None) -> None:
        self._weights = weights if weights is not None else WEIGHTS_FILE
        self._model: SoftmaxAverage | None = None
        self._meta: dict[str, Any] = {}
        self._lock = threading.Lock()

    @property
    def meta(self) -> dict[str, Any]:
        """Metadata of the weight file (training data, configuration, CV metrics)."""
        self._load()
        return self._meta

    def _load(self) -> SoftmaxAverage:
        """Read the weight file once and check that it fits this head."""
        if self._model is None:
            with self._lock:
                if self._model is None:
                    arrays, meta = load_weights(self._weights)
                    if meta.get("head") != self.name or meta.get("version") != self.version:
                        raise EncoderUnavailableError(
                            f"{self._weights}: weights of {meta.get('head')}@{meta.get('version')}, "
                            f"not of {self.key}"
                        )
                    if [tuple(b) for b in meta.get("blocks", [])] != list(BLOCKS):
                        raise EncoderUnavailableError(f"{self._weights}: stored feature blocks differ from {self.key}'s")
                    model = model_from_arrays(arrays, MODEL_PREFIX)
                    self._meta = meta
                    self._model = model
        return self._model

    def predict_proba(self, outputs: Outputs) -> np.ndarray:
        """``(N, 4)`` probabilities of Q1..Q4.

        Raises
        ------
        InvalidValueError
            If an encoder output is missing, of the wrong width, or not finite.
        """
        self.check_outputs(outputs)
        X = feature_matrix(outputs)
        model = self._load()
        expected = int(self._meta.get("n_features", X.shape[1]))
        if X.shape[1] != expected:
            raise InvalidValueError(f"{self.name}: features have {X.shape[1]} columns, the model expects {expected}")
        return model.predict(X)

    def predict_va(self, outputs: Outputs) -> np.ndarray:
        """``(N, 2)`` valence-arousal (see :func:`probabilities_to_va`)."""
        return probabilities_to_va(self.predict_proba(outputs))

    def predict_distribution(self, outputs: Outputs, va: np.ndarray) -> np.ndarray:
        """``(N, 4)`` quadrant probabilities (``va`` is not needed)."""
        return self.predict_proba(outputs)


register_head(HEAD_NAME, AudioVAHead)
