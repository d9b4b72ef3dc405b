"""``text-va`` v2: valence-arousal of words *and* sentences, routed by length.

v1 (:mod:`moodbridge.affect.heads.text`) was fitted on the single words of
NRC-VAD (Mohammad, 2018) and reads whole sentences poorly.  v2 keeps it for
what it does well and adds a sentence model fitted on EmoBank (Buechel & Hahn,
2017; 10,062 English sentences rated for valence and arousal on 1-5, CC BY-SA
4.0), chosen on EmoBank's dev split (:mod:`moodbridge.train.tasks.emobank`):

* a **router** sends bare texts (no punctuation) of at most
  :attr:`TextVAHeadV2.max_words` words (a tag, a class name, an arc's
  end-point word) to the v1 word model, so the held-out-word figures are v1's;
* other texts (captions, titles, tag lists, typed queries, "Sincerely,") go to the
  sentence model, the stored ``sent.`` model on the ``minilm`` embedding
  (RBF kernel ridge over EmoBank's train sentences), followed by a per-axis
  affine map (``stretch``) fitted on dev that brings its outputs to the spread
  the word model has on the same sentences, so that a text does not jump in
  scale when it grows from two words to three.

The numbers of words and punctuation marks come from the ``text-stats``
encoder.  (Routing every text of one or two words to the word model instead
costs EmoBank's test split 0.008 / 0.06 r: its 651 short texts are letter
openings and closings such as "Sincerely," and "P.S.", which the sentence
model has learnt and the word model has not.)

References
----------
Buechel, S., & Hahn, U. (2017). EmoBank: Studying the impact of annotation
perspective and representation format on dimensional emotion analysis.
*Proc. EACL*, 578-585.

Mohammad, S. M. (2018). Obtaining reliable human ratings of valence, arousal,
and dominance for 20,000 English words. *Proc. ACL*, 174-184.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from moodbridge.affect.base import Head, Outputs, load_weights, register_head
from moodbridge.affect.heads.text import TextVAHead
from moodbridge.affect.models import model_from_arrays
from moodbridge.errors import InvalidValueError
from moodbridge.media.spec import Modality

__all__ = ["MAX_WORDS", "WEIGHTS_FILE", "TextVAHeadV2", "word_like"]

#: File name of the shipped weights in :mod:`moodbridge.affect.weights`.
WEIGHTS_FILE = "text_va_v2.npz"
#: Texts of at most this many words go to the word model (default when the weights do not say).
MAX_WORDS = 2


def word_like(stats: np.ndarray, max_words: int = MAX_WORDS) -> np.ndarray:
    """``(N,)`` bool: which texts the word model reads, from their ``(N, 2)`` ``text-stats`` (words, punctuation)."""
    stats = np.asarray(stats, dtype=np.float64).reshape(-1, 2)
    return (stats[:, 0] <= max_words) & (stats[:, 1] == 0)


class TextVAHeadV2(Head):
    """Text -> valence-arousal: v1's word model for short texts, an EmoBank-fitted model for sentences.

    Parameters
    ----------
    weights
        A weight file (default: the shipped ``text_va_v2.npz``).
    """

    name: ClassVar[str] = "text-va"
    version: ClassVar[str] = "2"
    modality: ClassVar[Modality] = "text"
    encoders: ClassVar[tuple[str, ...]] = ("minilm", "text-stats")
    description: ClassVar[str] = (
        "router: NRC-VAD word model (text-va@1) for texts of 1-2 words, RBF kernel ridge fitted on EmoBank "
        "sentences (Buechel & Hahn 2017) on all-MiniLM-L6-v2 embeddings for longer ones"
    )

    def __init__(self, weights: str | None = None) -> None:
        self._weights_path = weights or WEIGHTS_FILE
        self._sentence: Any = None
        self._stretch: np.ndarray | None = None
        self._meta: dict[str, Any] = {}
        self.words = TextVAHead()

    def _load(self) -> None:
        if self._sentence is None:
            arrays, meta = load_weights(self._weights_path)
            self._sentence = model_from_arrays(arrays, "sent.")
            self._stretch = np.asarray(arrays["stretch"], dtype=np.float64)  # (2, 2): scale row, offset row
            self._meta = meta

    @property
    def meta(self) -> dict[str, Any]:
        """Metadata stored with the weights (data, dev choices, test figures, seed)."""
        self._load()
        return dict(self._meta)

    @property
    def max_words(self) -> int:
        """Texts of at most this many words are read by the word model."""
        return int(self.meta.get("max_words", MAX_WORDS))

    def predict_sentences(self, X: np.ndarray) -> np.ndarray:
        """``(N, 2)`` VA of ``(N, 384)`` minilm embeddings by the sentence model alone (no routing)."""
        self._load()
        raw = self._sentence.predict(np.asarray(X, dtype=np.float64))
        return np.clip(raw * self._stretch[0] + self._stretch[1], -1.0, 1.0)

    def predict_routed(self, X: np.ndarray, stats: np.ndarray) -> np.ndarray:
        """``(N, 2)`` VA of embeddings routed by their texts' ``(N, 2)`` ``text-stats`` (words, punctuation).

        Raises
        ------
        InvalidValueError
            If the embeddings and the statistics cover different numbers of texts.
        """
        X = np.asarray(X, dtype=np.float64)
        X = X[None, :] if X.ndim == 1 else X
        stats = np.asarray(stats, dtype=np.float64).reshape(-1, 2)
        if len(stats) != len(X):
            raise InvalidValueError(f"{self.name}: {len(X)} embeddings but {len(stats)} text statistics")
        short = word_like(stats, self.max_words)
        out = np.zeros((len(X), 2))
        if short.any():
            out[short] = self.words.predict_embeddings(X[short])
        if (~short).any():
            out[~short] = self.predict_sentences(X[~short])
        return out

    def predict_va(self, outputs: Outputs) -> np.ndarray:
        self.check_outputs(outputs)
        return self.predict_routed(outputs["minilm"]["features"], outputs["text-stats"]["features"])

    def predict_texts(self, texts: Sequence[str]) -> np.ndarray:
        """``(N, 2)`` VA of strings, embedded with ``minilm`` here.

        Raises
        ------
        EmptyMediaError
            If a text is empty or only whitespace.
        """
        from moodbridge.encoders.text_stats import text_stats
        from moodbridge.semantic.embeddings import embed_texts

        texts = [texts] if isinstance(texts, str) else list(texts)
        X = embed_texts(texts, cache=False)
        return self.predict_routed(X, text_stats([t.strip() for t in texts]))


register_head(TextVAHeadV2.name, TextVAHeadV2)
