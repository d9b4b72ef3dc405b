"""``text-stats``: cheap surface statistics of a text (its words and punctuation marks).

The ``text-va`` v2 head routes a text by its form: a bare word or two-word tag
goes to the word-level model fitted on the NRC-VAD lexicon, anything longer
or punctuated (a caption, a tag list, "Sincerely,") to the model fitted on
EmoBank's sentences (see :mod:`moodbridge.affect.heads.text_v2`).  The
sentence embedding does not say what the text looked like, so this encoder
stores it beside the embedding; it needs no model and no network.
"""
from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from moodbridge.encoders.base import Encoder, EncoderOutput, register
from moodbridge.media.text import check_text

__all__ = ["FEATURE_NAMES", "TextStatsEncoder", "count_punctuation", "count_words", "text_stats"]

#: the statistics, in the order of the feature vector
FEATURE_NAMES: tuple[str, ...] = ("words", "punctuation")
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
#: punctuation marks: neither word characters, spaces, apostrophes nor hyphens ("heart-warming" is bare)
_PUNCT = re.compile(r"[^\w\s'’-]|_")


def count_words(text: str) -> int:
    """Number of words (runs of letters or digits, apostrophes inside kept: "don't" is one)."""
    return len(_WORD.findall(text))


def count_punctuation(text: str) -> int:
    """Number of punctuation marks (``,``, ``.``, ``!``, ``:`` …; not apostrophes or hyphens)."""
    return len(_PUNCT.findall(text))


def text_stats(texts: Sequence[str]) -> np.ndarray:
    """``(N, 2)`` float32: each text's words and punctuation marks (:data:`FEATURE_NAMES`)."""
    return np.array([[count_words(t), count_punctuation(t)] for t in texts], dtype=np.float32).reshape(-1, 2)


class TextStatsEncoder(Encoder):
    """Surface statistics of a text: its numbers of words and of punctuation marks."""

    name = "text-stats"
    version = "1"
    modality = "text"
    dim = len(FEATURE_NAMES)
    batch_size = 256
    description = "numbers of words and punctuation marks of a text (route text-va v2 between word and sentence models)"

    def prepare(self, decoded: str, *, source: str = "<input>") -> str:
        return check_text(decoded, source=source)

    def embed_batch(self, prepared: Sequence[str]) -> EncoderOutput:
        return EncoderOutput(text_stats(list(prepared)))


register(TextStatsEncoder.name, TextStatsEncoder)
