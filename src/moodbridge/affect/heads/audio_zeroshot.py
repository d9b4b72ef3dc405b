"""``audio-zeroshot``: valence-arousal of music from its tags, through the text bridge, with no emotion labels.

musicnn's two taggers (MSD and MagnaTagATune models, 50 tags each) give a
clip a tag distribution.  Each tag name, in the template ``"{} music"``, gets
the VA of the ``text-va`` head (trained on NRC-VAD words, Mohammad 2018), and
the clip gets the probability-weighted mean of its tags' VA (EMID's bridge
through a shared semantic space, with text standing in for ImageBind; see
:mod:`moodbridge.semantic.embeddings`).  Two label-free normalisations matter:

* contrast: a tag counts by how much more it fires on the clip than on a
  reference corpus (``max(p - mean_p, 0)``), so tags that fire on every clip
  ("rock", "guitar") do not pull every clip to the same emotion;
* centring and scaling: the raw bridge VA is biased (tag names are mostly
  pleasant words), so the corpus median is subtracted and each axis is scaled
  to a standard deviation of :data:`TARGET_SD`.

The reference corpus is the audio of the 4Q data set (Panda et al., 2018)
with its labels unused; :mod:`moodbridge.train.tasks.zeroshot` fits it and also reports a split-half check in
which the statistics come from the other half of the clips.  The labels are
used only to score the head (valence/arousal sign accuracy, quadrant accuracy,
macro-F1).

References
----------
Mohammad, S. M. (2018). Obtaining reliable human ratings of valence, arousal,
and dominance for 20,000 English words. *Proc. ACL*, 174-184.

Panda, R., Malheiro, R., & Paiva, R. P. (2018). Novel audio features for
music emotion recognition. *IEEE Trans. Affective Computing*, 11(4), 614-626.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any, ClassVar

import numpy as np

from moodbridge.affect.base import Head, Outputs, load_weights, register_head
from moodbridge.semantic.embeddings import contrast_weights, weighted_va
from moodbridge.semantic.templates import MUSIC_TEMPLATE
from moodbridge.media.spec import Modality
from moodbridge.errors import InvalidValueError

WEIGHTS_FILE = "audio_zeroshot.npz"
#: Template of the tag names in the text bridge.
TAG_TEMPLATE = MUSIC_TEMPLATE
#: Standard deviation of each output axis over the reference corpus.
TARGET_SD = 0.4
TAGGERS: tuple[str, ...] = ("musicnn-msd", "musicnn-mtt")
OUTPUT = "tag_probs_mean"


def tag_va_table(encoder: str, *, text_weights: str | None = None) -> np.ndarray:
    """``(50, 2)`` text-head VA of a tagger's tag names in :data:`TAG_TEMPLATE`."""
    from moodbridge.affect.heads.text import TextVAHead
    from moodbridge.semantic.embeddings import name_embeddings
    from moodbridge.encoders import get_encoder

    tags = get_encoder(encoder).extra_labels[OUTPUT]
    return TextVAHead(text_weights).predict_embeddings(name_embeddings([t.lower() for t in tags], template=TAG_TEMPLATE))


def bridge_va(probs: dict[str, np.ndarray], tables: dict[str, np.ndarray], references: dict[str, np.ndarray]) -> np.ndarray:
    """``(N, 2)`` raw bridge VA: mean over taggers of the contrast-weighted tag VA."""
    parts = [weighted_va(contrast_weights(probs[e], references[e]), tables[e]) for e in TAGGERS]
    return np.mean(parts, axis=0)


class AudioZeroShotHead(Head):
    """musicnn tag distributions -> text bridge -> valence-arousal, zero-shot.

    Parameters
    ----------
    weights
        A weight file (default: the shipped ``audio_zeroshot.npz``).
    """

    name: ClassVar[str] = "audio-zeroshot"
    version: ClassVar[str] = "1"
    modality: ClassVar[Modality] = "audio"
    encoders: ClassVar[tuple[str, ...]] = TAGGERS
    description: ClassVar[str] = "musicnn MSD+MTT tags through the NRC-VAD text bridge (no emotion labels used)"

    def __init__(self, weights: str | None = None) -> None:
        self._weights_path = weights or WEIGHTS_FILE
        self._arrays: dict[str, np.ndarray] | None = None
        self._meta: dict[str, Any] = {}

    def _load(self) -> dict[str, np.ndarray]:
        if self._arrays is None:
            self._arrays, self._meta = load_weights(self._weights_path)
        return self._arrays

    @property
    def meta(self) -> dict[str, Any]:
        """Metadata stored with the tables (4Q figures, settings)."""
        self._load()
        return dict(self._meta)

    def tag_va(self, encoder: str) -> np.ndarray:
        """``(50, 2)`` VA of the tags of ``encoder``."""
        return self._load()[f"tag_va.{encoder}"]

    def references(self) -> dict[str, np.ndarray]:
        """Each tagger's mean tag distribution over the reference corpus (the contrast of the weights)."""
        a = self._load()
        return {e: np.asarray(a[f"reference.{e}"], dtype=np.float64) for e in TAGGERS}

    def raw_va(self, probs: dict[str, np.ndarray]) -> np.ndarray:
        """Uncentred bridge VA from each tagger's ``(N, 50)`` mean tag probabilities."""
        a = self._load()
        return bridge_va(probs, {e: a[f"tag_va.{e}"] for e in TAGGERS}, {e: a[f"reference.{e}"] for e in TAGGERS})

    def predict_va(self, outputs: Outputs) -> np.ndarray:
        self.check_outputs(outputs)
        a = self._load()
        try:
            probs = {e: np.asarray(outputs[e][OUTPUT], dtype=np.float64) for e in TAGGERS}
        except KeyError:
            raise InvalidValueError(f"{self.name} needs the {OUTPUT!r} output of {', '.join(TAGGERS)}") from None
        raw = self.raw_va(probs)
        return np.clip((raw - a["centre"]) / a["scale"] * TARGET_SD, -1.0, 1.0)


register_head(AudioZeroShotHead.name, AudioZeroShotHead)


@lru_cache(maxsize=None)
def shipped_tag_references() -> dict[str, np.ndarray] | None:
    """The shipped head's reference tag distributions (4Q corpus), or ``None`` when its file is missing."""
    from moodbridge.errors import MoodbridgeError

    try:
        return AudioZeroShotHead().references()
    except (MoodbridgeError, KeyError):
        return None
