"""``text-va`` v1: valence-arousal of any text from its all-MiniLM-L6-v2 embedding (the word model).

v2 (:mod:`moodbridge.affect.heads.text_v2`, the current ``text-va``) routes
bare words to this model and reads sentences with a model fitted on EmoBank.

A regressor from the 384-d ``minilm`` sentence embedding to VA, trained on the
20,007 words of the NRC-VAD lexicon (Mohammad, 2018), so that any caption,
title, tag list or class name gets an emotion, including words the lexicon
never rated.  It is also the end point of the semantic bridge through text
(:mod:`moodbridge.semantic.embeddings`) that the ``image-va`` and
``audio-zeroshot`` heads use, as EMID relates modalities through a shared
semantic space.

The model (see :mod:`moodbridge.train.tasks.lexicon` for how it is fitted)
is stored in ``text_va.npz`` as a :mod:`moodbridge.affect.models` chain and
evaluated in numpy; the weights load on first use.

References
----------
Mohammad, S. M. (2018). Obtaining reliable human ratings of valence, arousal,
and dominance for 20,000 English words. *Proc. ACL*, 174-184.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from moodbridge.affect.base import Head, Outputs, load_weights, register_head
from moodbridge.affect.models import model_from_arrays
from moodbridge.media.spec import Modality
from moodbridge.errors import InvalidValueError

#: File name of the shipped weights in :mod:`moodbridge.affect.weights`.
WEIGHTS_FILE = "text_va.npz"


class TextVAHead(Head):
    """Text embedding (``minilm``) -> valence-arousal, trained on NRC-VAD words.

    Parameters
    ----------
    weights
        A weight file (default: the shipped ``text_va.npz``).
    """

    name: ClassVar[str] = "text-va"
    version: ClassVar[str] = "1"
    modality: ClassVar[Modality] = "text"
    encoders: ClassVar[tuple[str, ...]] = ("minilm",)
    description: ClassVar[str] = (
        "MLP ensemble on all-MiniLM-L6-v2 embeddings, trained on the NRC-VAD lexicon (Mohammad 2018)"
    )

    def __init__(self, weights: str | None = None) -> None:
        self._weights_path = weights or WEIGHTS_FILE
        self._model: Any = None
        self._meta: dict[str, Any] = {}

    def _load(self) -> Any:
        if self._model is None:
            arrays, meta = load_weights(self._weights_path)
            self._model = model_from_arrays(arrays, "va.")
            self._meta = meta
        return self._model

    @property
    def meta(self) -> dict[str, Any]:
        """Metadata stored with the weights (training set, CV metrics, seed …)."""
        self._load()
        return dict(self._meta)

    def predict_embeddings(self, X: np.ndarray) -> np.ndarray:
        """``(N, 2)`` VA of ``(N, 384)`` minilm embeddings (clipped to ``[-1, 1]``).

        Raises
        ------
        InvalidValueError
            If ``X`` has the wrong shape or holds NaN or infinite values.
        """
        X = np.asarray(X, dtype=np.float64)
        if X.ndim == 1:
            X = X[None, :]
        if X.ndim != 2 or X.shape[1] != 384:
            raise InvalidValueError(f"{self.name}: expected (N, 384) minilm embeddings, got shape {X.shape}")
        if not np.isfinite(X).all():
            raise InvalidValueError(f"{self.name}: embeddings hold NaN or infinite values")
        return np.clip(self._load().predict(X), -1.0, 1.0)

    def predict_va(self, outputs: Outputs) -> np.ndarray:
        self.check_outputs(outputs)
        return self.predict_embeddings(outputs["minilm"]["features"])

    def predict_texts(self, texts: Sequence[str]) -> np.ndarray:
        """``(N, 2)`` VA of strings, embedded with ``minilm`` here.

        Raises
        ------
        EmptyMediaError
            If a text is empty or only whitespace.
        """
        from moodbridge.semantic.embeddings import embed_texts

        if isinstance(texts, str):
            texts = [texts]
        return self.predict_embeddings(embed_texts(list(texts), cache=False))


register_head(TextVAHead.name, TextVAHead, current=False)  # v1: loadable as text-va@1; v2 is text_v2
