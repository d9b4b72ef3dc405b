"""``image-va`` v2: valence-arousal and the viewers' emotions of a photograph, learned from rated photos.

v1 (:mod:`moodbridge.affect.heads.image`) never saw a rated photograph: it
mapped EfficientNet-Lite0's ImageNet classes through the text head.  v2 is
fitted on Emotion6 (Peng, Sadovnik, Gallagher & Chen, CVPR 2015): 1,980 Flickr
photographs with mean valence and arousal ratings (1-9, converted with
``get_scale("emotion6")``) and the distribution of the viewers' emotion
choices over anger, disgust, fear, joy, sadness, surprise and neutral.

* **VA**: standardised EfficientNet-Lite0 penultimate features (1280-d) ->
  ridge regression, one penalty per axis chosen by inner cross-validation
  (:mod:`moodbridge.train.tasks.emotion6` says how each part was chosen and
  what it contributes, under random and keyword-grouped folds).
* **Distribution** (taxonomy ``emotion6``): a softmax regression on the same
  standardised features, fitted to the viewers' distributions (soft labels,
  cross-entropy) — the head's category output.  Anger, disgust, fear and
  sadness are also Mikels' categories (:data:`~moodbridge.emotion.taxonomy.EMOTION6_TO_MIKELS`).

It reads only what ``add`` already stores (``effnet-lite0`` features), so a
library annotated by v1 gets v2 estimates from its stored features, without
running the encoders again.

References
----------
Peng, K.-C., Sadovnik, A., Gallagher, A., & Chen, T. (2015). A mixed bag of
emotions: Model, predict, and transfer emotion distributions. *CVPR*, 860-868.
"""
from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from moodbridge.affect.base import Head, Outputs, load_weights, register_head
from moodbridge.affect.models import model_from_arrays, softmax
from moodbridge.errors import InvalidValueError
from moodbridge.media.spec import Modality

__all__ = ["FEATURE_PARTS", "WEIGHTS_FILE", "ImageVAHeadV2", "photo_features"]

#: File name of the shipped weights in :mod:`moodbridge.affect.weights`.
WEIGHTS_FILE = "image_va_v2.npz"
#: The encoder outputs the head reads, in column order: ``(encoder, output, transform)``.
FEATURE_PARTS: tuple[tuple[str, str, str], ...] = (("effnet-lite0", "features", "identity"),)
#: Floor of class probabilities before a ``log`` transform.
LOG_FLOOR = 1e-6


def photo_features(outputs: Outputs, parts: tuple[tuple[str, str, str], ...] | list = FEATURE_PARTS) -> np.ndarray:
    """``(N, d)`` float64 design matrix from encoder outputs: the ``parts`` side by side.

    Raises
    ------
    InvalidValueError
        If an output is missing or the blocks cover different numbers of items.
    """
    blocks = []
    for encoder, output, transform in parts:
        try:
            X = np.asarray(outputs[encoder][output], dtype=np.float64)
        except KeyError:
            raise InvalidValueError(f"image-va needs the {output!r} output of {encoder}") from None
        X = X[None, :] if X.ndim == 1 else X
        if transform == "log":
            X = np.log(np.maximum(X, LOG_FLOOR))
        elif transform != "identity":
            raise InvalidValueError(f"unknown feature transform {transform!r}")
        blocks.append(X)
    if len({b.shape[0] for b in blocks}) != 1:
        raise InvalidValueError("image-va feature blocks cover different numbers of items")
    return np.concatenate(blocks, axis=1)


class ImageVAHeadV2(Head):
    """EfficientNet-Lite0 features -> valence-arousal and Emotion6's distribution (fitted on Emotion6).

    Parameters
    ----------
    weights
        A weight file (default: the shipped ``image_va_v2.npz``).
    """

    name: ClassVar[str] = "image-va"
    version: ClassVar[str] = "2"
    modality: ClassVar[Modality] = "image"
    encoders: ClassVar[tuple[str, ...]] = tuple(dict.fromkeys(p[0] for p in FEATURE_PARTS))
    taxonomy: ClassVar[str] = "emotion6"
    description: ClassVar[str] = (
        "ridge and softmax regression on EfficientNet-Lite0 features, fitted on Emotion6's rated photos "
        "(Peng et al. 2015)"
    )

    def __init__(self, weights: str | None = None) -> None:
        self._weights_path = weights or WEIGHTS_FILE
        self._va: Any = None
        self._dist: Any = None
        self._meta: dict[str, Any] = {}

    def _load(self) -> None:
        if self._va is None:
            arrays, meta = load_weights(self._weights_path)
            self._va = model_from_arrays(arrays, "va.")
            self._dist = model_from_arrays(arrays, "dist.") if "dist.kind" in arrays else None
            self._meta = meta

    @property
    def meta(self) -> dict[str, Any]:
        """Metadata stored with the weights (data, CV figures per part, settings)."""
        self._load()
        return dict(self._meta)

    def _design(self, outputs: Outputs) -> np.ndarray:
        self._load()
        parts = [tuple(p) for p in self._meta.get("feature_parts", FEATURE_PARTS)]
        return photo_features(outputs, parts)

    def predict_va(self, outputs: Outputs) -> np.ndarray:
        self.check_outputs(outputs)
        X = self._design(outputs)
        return np.clip(self._va.predict(X), -1.0, 1.0)

    def predict_distribution(self, outputs: Outputs, va: np.ndarray) -> np.ndarray:
        """``(N, 7)`` probabilities over anger, disgust, fear, joy, sadness, surprise, neutral."""
        X = self._design(outputs)
        if self._dist is None:
            return super().predict_distribution(outputs, va)
        return softmax(self._dist.predict(X), axis=1)


register_head(ImageVAHeadV2.name, ImageVAHeadV2)
