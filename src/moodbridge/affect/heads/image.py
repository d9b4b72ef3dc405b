"""``image-va``: valence-arousal of a photograph from what it shows and how it looks.

No photographs with emotion ratings are available to the project, so the head
is built from what is real:

* **the semantic route** (EMID's bridge through a shared semantic space,
  offline): EfficientNet-Lite0's ImageNet class distribution is mapped
  through the ``text-va`` head (trained on the NRC-VAD lexicon, Mohammad
  2018): each of the 1000 classes gets the text-head VA of its WordNet names
  in the template ``"a photo of {}"``, and the image gets the
  probability-weighted mean over its top classes (:mod:`moodbridge.semantic.embeddings`);
* **low-level descriptors** (``image-stats``): luminance, contrast, entropy,
  mean CIE L*a*b* and JPEG complexity, on the scales of the NAPS norms.

The two are combined by a linear stacker fitted on the NAPS norms (Marchewka
et al., 2014): 1,000 photographs' mean valence and arousal ratings with the
NAPS authors' physical descriptors and a short description of each photo.
The photos themselves are not available, so during fitting the semantic
input is the text-head VA of the photo's description in the same template
(a stand-in for what a classifier or caption gives); see
:mod:`moodbridge.train.tasks.naps` for the cross-validated contribution of
each part.  NAPS's ``jpeg_size80`` is measured at 1600x1200; the head uses
JPEG bytes per pixel (``jpeg_bpp80``) so that images of any size compare.

References
----------
Marchewka, A., Żurawski, Ł., Jednoróg, K., & Grabowska, A. (2014). The Nencki
Affective Picture System (NAPS). *Behavior Research Methods*, 46(2), 596-610.

Mohammad, S. M. (2018). Obtaining reliable human ratings of valence, arousal,
and dominance for 20,000 English words. *Proc. ACL*, 174-184.
"""
from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from moodbridge.affect.base import Head, Outputs, load_weights, register_head
from moodbridge.affect.models import model_from_arrays
from moodbridge.semantic.embeddings import contrast_weights, weighted_va
from moodbridge.media.spec import Modality
from moodbridge.errors import InvalidValueError

#: File name of the shipped weights in :mod:`moodbridge.affect.weights`.
WEIGHTS_FILE = "image_va.npz"
#: Template of class names and NAPS descriptions in the text bridge.
PHOTO_TEMPLATE = "a photo of {}"
#: The image-stats descriptors the stacker may read (NAPS columns; JPEG size per pixel).
DESCRIPTORS: tuple[str, ...] = ("luminance", "contrast", "entropy", "lab_l", "lab_a", "lab_b", "jpeg_bpp80")
#: Classes of the distribution that count in the semantic VA.
TOP_K = 5


def descriptor_matrix(features: np.ndarray, names: tuple[str, ...] | list[str], wanted: tuple[str, ...] | list[str]) -> np.ndarray:
    """Columns ``wanted`` of an ``image-stats`` feature matrix whose columns are ``names``."""
    missing = [w for w in wanted if w not in names]
    if missing:
        raise InvalidValueError(f"image-stats features lack {', '.join(missing)}")
    X = np.asarray(features, dtype=np.float64)
    if X.ndim == 1:
        X = X[None, :]
    return X[:, [list(names).index(w) for w in wanted]]


class ImageVAHead(Head):
    """ImageNet class distribution (via the text bridge) + NAPS descriptors -> valence-arousal.

    Parameters
    ----------
    weights
        A weight file (default: the shipped ``image_va.npz``).
    """

    name: ClassVar[str] = "image-va"
    version: ClassVar[str] = "1"
    modality: ClassVar[Modality] = "image"
    encoders: ClassVar[tuple[str, ...]] = ("effnet-lite0", "image-stats")
    description: ClassVar[str] = (
        "ImageNet classes through the NRC-VAD text bridge, stacked with NAPS-scale descriptors "
        "(fitted on the NAPS norms, Marchewka et al. 2014)"
    )

    def __init__(self, weights: str | None = None) -> None:
        self._weights_path = weights or WEIGHTS_FILE
        self._arrays: dict[str, np.ndarray] | None = None
        self._model: Any = None
        self._meta: dict[str, Any] = {}

    def _load(self) -> None:
        if self._arrays is None:
            arrays, meta = load_weights(self._weights_path)
            self._model = model_from_arrays(arrays, "combine.")
            self._arrays, self._meta = arrays, meta

    @property
    def meta(self) -> dict[str, Any]:
        """Metadata stored with the weights (CV figures of each part, settings)."""
        self._load()
        return dict(self._meta)

    @property
    def class_va(self) -> np.ndarray:
        """``(1000, 2)`` text-bridge VA of the ImageNet classes."""
        self._load()
        assert self._arrays is not None
        return self._arrays["class_va"]

    def semantic_va(self, class_probs: np.ndarray) -> np.ndarray:
        """``(N, 2)`` probability-weighted VA of the top-:data:`TOP_K` classes of each image."""
        self._load()
        top_k = int(self._meta.get("top_k", TOP_K))
        return weighted_va(contrast_weights(class_probs, top_k=top_k), self.class_va)

    def combine(self, semantic: np.ndarray, descriptors: np.ndarray) -> np.ndarray:
        """Stack semantic VA ``(N, 2)`` and the used descriptors into VA.

        Descriptors are first clipped to their range over the NAPS photographs.
        """
        self._load()
        used = list(self._meta.get("descriptors", DESCRIPTORS))
        assert self._arrays is not None
        D = np.asarray(descriptors, dtype=np.float64)
        if used:
            # outside the NAPS range (e.g. a binary silhouette) a linear model would extrapolate
            D = np.clip(D, self._arrays["descriptor_lo"], self._arrays["descriptor_hi"])
        X = np.hstack([np.asarray(semantic, dtype=np.float64), D])
        if not used:
            X = X[:, :2]
        return np.clip(self._model.predict(X), -1.0, 1.0)

    def predict_va(self, outputs: Outputs) -> np.ndarray:
        from moodbridge.encoders import get_encoder

        self.check_outputs(outputs)
        self._load()
        names = list(getattr(get_encoder("image-stats"), "feature_names"))
        used = tuple(self._meta.get("descriptors", DESCRIPTORS))
        D = descriptor_matrix(outputs["image-stats"]["features"], names, used)
        return self.combine(self.semantic_va(outputs["effnet-lite0"]["class_probs"]), D)


register_head(ImageVAHead.name, ImageVAHead, current=False)  # v1: loadable as image-va@1
