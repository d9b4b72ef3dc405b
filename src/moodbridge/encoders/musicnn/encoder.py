"""The ``musicnn-msd`` and ``musicnn-mtt`` audio encoders.

musicnn (Pons & Serra, 2019) tags 3 s patches of a 16 kHz log-mel
spectrogram.  A clip's features are the mean over its patches of the 200-d
"penultimate" layer (the batch-normalised dense layer before the output, as in
musicnn's extractor); the extras give the mean and standard deviation over
patches of the 50 tag probabilities, and the standard deviation of the
penultimate features.

References
----------
J. Pons and X. Serra, "musicnn: Pre-trained convolutional neural networks for
music audio tagging", ISMIR late-breaking demo, 2019.  arXiv:1909.06654.
"""
from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from moodbridge.encoders.base import Encoder, EncoderOutput, InputSpec, Modality
from moodbridge.encoders.musicnn import frontend
from moodbridge.errors import InvalidValueError, TooShortMediaError
from moodbridge.media.limits import MAX_PATCHES, spread_indices

if TYPE_CHECKING:  # pragma: no cover
    from moodbridge.encoders.musicnn.model import MusicnnNet

__all__ = ["MSD_TAGS", "MTT_TAGS", "MusicnnEncoder", "MusicnnMSDEncoder", "MusicnnMTTEncoder"]

# Output order of the shipped models (musicnn.configuration, musicnn 0.1.0).
MTT_TAGS: list[str] = [
    "guitar", "classical", "slow", "techno", "strings", "drums", "electronic", "rock", "fast", "piano",
    "ambient", "beat", "violin", "vocal", "synth", "female", "indian", "opera", "male", "singing",
    "vocals", "no vocals", "harpsichord", "loud", "quiet", "flute", "woman", "male vocal", "no vocal", "pop",
    "soft", "sitar", "solo", "man", "classic", "choir", "voice", "new age", "dance", "male voice",
    "female vocal", "beats", "harp", "cello", "no voice", "weird", "country", "metal", "female voice", "choral",
]  # fmt: skip
MSD_TAGS: list[str] = [
    "rock", "pop", "alternative", "indie", "electronic", "female vocalists", "dance", "00s",
    "alternative rock", "jazz", "beautiful", "metal", "chillout", "male vocalists", "classic rock", "soul",
    "indie rock", "Mellow", "electronica", "80s", "folk", "90s", "chill", "instrumental", "punk", "oldies",
    "blues", "hard rock", "ambient", "acoustic", "experimental", "female vocalist", "guitar", "Hip-Hop",
    "70s", "party", "country", "easy listening", "sexy", "catchy", "funk", "electro", "heavy metal",
    "Progressive rock", "60s", "rnb", "indie pop", "sad", "House", "happy",
]  # fmt: skip

_PENULTIMATE_LABELS = [f"penultimate_{i:03d}" for i in range(200)]
_WAVEFORM_ATTRS = ("samples", "waveform", "audio", "y", "data")


def _waveform(decoded: Any, source: str) -> np.ndarray:
    """The mono 16 kHz waveform inside whatever :func:`moodbridge.media.decode` returned."""
    rate: Any = None
    if isinstance(decoded, tuple) and len(decoded) == 2 and np.isscalar(decoded[1]):
        decoded, rate = decoded
    elif not isinstance(decoded, np.ndarray):
        rate = getattr(decoded, "sample_rate", getattr(decoded, "sr", None))
        for attr in _WAVEFORM_ATTRS:
            if hasattr(decoded, attr):
                decoded = getattr(decoded, attr)
                break
    if rate is not None and int(rate) != frontend.SAMPLE_RATE:
        raise InvalidValueError(f"{source}: musicnn needs audio at {frontend.SAMPLE_RATE} Hz, got {rate} Hz")
    try:
        y = np.asarray(decoded)
    except (TypeError, ValueError) as exc:
        raise InvalidValueError(f"{source}: musicnn needs a waveform array, got {type(decoded).__name__}") from exc
    if y.ndim == 2 and 1 in y.shape:
        y = y.reshape(-1)
    if y.ndim != 1:
        raise InvalidValueError(f"{source}: musicnn needs a mono 1-D waveform, got shape {y.shape}")
    if not np.issubdtype(y.dtype, np.floating):
        raise InvalidValueError(f"{source}: musicnn needs a float waveform in [-1, 1], got dtype {y.dtype}")
    y = y.astype(np.float32, copy=False)
    if not np.isfinite(y).all():
        raise InvalidValueError(f"{source}: the waveform holds NaN or infinite samples")
    return y


class MusicnnEncoder(Encoder):
    """musicnn tagger as an audio encoder (Pons & Serra, 2019).

    Subclasses set ``model_name`` (``"MSD_musicnn"`` or ``"MTT_musicnn"``) and
    the tags.  ``prepare`` turns a 16 kHz mono waveform into ``(P, 187, 96)``
    log-mel patches; ``embed_batch`` runs all patches of a batch through the
    network in chunks of ``chunk_patches`` and reduces them per clip.
    """

    model_name: ClassVar[str]
    tags: ClassVar[list[str]]
    version: ClassVar[str] = "0.1.0-torch1"
    modality: ClassVar[Modality] = "audio"
    dim: ClassVar[int] = 200
    batch_size: ClassVar[int] = 8
    #: patches per forward pass; bounds memory (about 25 MB per patch)
    chunk_patches: int = 16

    def __init__(self) -> None:
        self._net: MusicnnNet | None = None
        self._lock = threading.Lock()

    @property
    def input_spec(self) -> InputSpec:
        """Mono audio resampled to 16 kHz."""
        return InputSpec("audio", sample_rate=frontend.SAMPLE_RATE)

    def load(self) -> None:
        """Build the network and read the weights from the ``musicnn`` wheel (once).

        Raises
        ------
        EncoderUnavailableError
            If ``musicnn`` is not installed or its checkpoint is corrupt.
        """
        if self._net is None:
            with self._lock:
                if self._net is None:
                    from moodbridge.encoders.musicnn.model import load_musicnn

                    self._net = load_musicnn(self.model_name)

    def prepare(self, decoded: Any, *, source: str = "<input>") -> np.ndarray:
        """Log-mel patches of one waveform.

        Parameters
        ----------
        decoded
            Mono float waveform at 16 kHz (an array, or an object holding one).
        source
            Where it came from, for error messages.

        Returns
        -------
        np.ndarray
            ``(P, 187, 96)`` float32 patches of 3 s; the incomplete tail is dropped.
            At most :data:`~moodbridge.media.limits.MAX_PATCHES` (32) patches,
            spread evenly over the clip (first and last included), so work per
            clip is bounded; clips up to 96 s keep all their patches.

        Raises
        ------
        TooShortMediaError
            If the audio is shorter than one patch (about 3 s).
        InvalidValueError
            If the waveform is not mono float or holds NaN or inf.
        """
        y = _waveform(decoded, source)
        if y.size < frontend.min_samples():
            raise TooShortMediaError(
                source,
                f"musicnn needs at least 3 s of audio ({frontend.min_samples()} samples at 16 kHz), "
                f"got {y.size / frontend.SAMPLE_RATE:.2f} s",
            )
        cut = frontend.patches(frontend.log_mel(y))
        return cut[spread_indices(len(cut), MAX_PATCHES)]

    def patch_outputs(self, patches: np.ndarray, *, intermediates: bool = False) -> dict[str, np.ndarray]:
        """Per-patch outputs of the network.

        Parameters
        ----------
        patches
            ``(P, T, 96)`` float32 log-mel patches (``T = 187`` for the trained input length).
        intermediates
            Also return musicnn's front- and mid-end maps (``timbral``,
            ``temporal``, ``cnn1``, ``cnn2``, ``cnn3``, each ``(P, T, C)``).

        Returns
        -------
        dict
            ``taggram`` (P, 50) tag probabilities, ``logits`` (P, 50),
            ``penultimate`` (P, 200), ``max_pool`` and ``mean_pool`` (P, 753).
        """
        import torch

        x = np.asarray(patches, dtype=np.float32)
        if x.ndim != 3 or x.shape[2] != frontend.N_MELS or x.shape[1] < 1:
            raise InvalidValueError(f"musicnn patches must be (P, T, {frontend.N_MELS}), got shape {x.shape}")
        if not np.isfinite(x).all():
            raise InvalidValueError("musicnn patches hold NaN or infinite values")
        self.load()
        assert self._net is not None
        parts: dict[str, list[np.ndarray]] = {}
        with torch.inference_mode():
            for start in range(0, x.shape[0], self.chunk_patches):
                chunk = torch.from_numpy(np.ascontiguousarray(x[start : start + self.chunk_patches]))
                out = self._net(chunk, intermediates=intermediates)
                out["taggram"] = out.pop("probs")
                for key, value in out.items():
                    parts.setdefault(key, []).append(value.numpy())
        if not parts:  # zero patches
            raise InvalidValueError("musicnn got zero patches")
        return {key: np.concatenate(values) for key, values in parts.items()}

    def embed_batch(self, prepared: Sequence[np.ndarray]) -> EncoderOutput:
        """Embed clips given as their patch arrays (from :meth:`prepare`).

        All patches of the batch go through the network together (in chunks of
        ``chunk_patches``); each clip is then reduced over its own patches.

        Returns
        -------
        EncoderOutput
            ``features`` (N, 200): mean penultimate; extras ``tag_probs_mean``,
            ``tag_probs_std`` (N, 50) and ``penultimate_std`` (N, 200), the
            standard deviations over patches (population, 0 for one patch).
        """
        if len(prepared) == 0:
            raise InvalidValueError(f"{self.name}: empty batch")
        arrays = [np.asarray(p, dtype=np.float32) for p in prepared]
        for i, arr in enumerate(arrays):
            if arr.ndim != 3 or arr.shape[0] < 1 or arr.shape[1:] != (frontend.N_FRAMES, frontend.N_MELS):
                raise InvalidValueError(
                    f"{self.name}: item {i} must be (P >= 1, {frontend.N_FRAMES}, {frontend.N_MELS}) "
                    f"patches from prepare(), got shape {arr.shape}"
                )
        out = self.patch_outputs(np.concatenate(arrays))
        bounds = np.cumsum([a.shape[0] for a in arrays])[:-1]
        probs = np.split(out["taggram"], bounds)
        pen = np.split(out["penultimate"], bounds)
        return EncoderOutput(
            features=np.stack([p.mean(axis=0) for p in pen]),
            extras={
                "tag_probs_mean": np.stack([p.mean(axis=0) for p in probs]),
                "tag_probs_std": np.stack([p.std(axis=0) for p in probs]),
                "penultimate_std": np.stack([p.std(axis=0) for p in pen]),
            },
        )


class MusicnnMSDEncoder(MusicnnEncoder):
    """musicnn trained on the Million Song Dataset (50 Last.fm tags; Pons & Serra, 2019)."""

    name = "musicnn-msd"
    model_name = "MSD_musicnn"
    tags = MSD_TAGS
    extra_labels = {"tag_probs_mean": MSD_TAGS, "tag_probs_std": MSD_TAGS, "penultimate_std": _PENULTIMATE_LABELS}
    description = (
        "musicnn (Pons & Serra 2019) trained on the Million Song Dataset: 200-d penultimate "
        "features and 50 tag probabilities (moods among them), from 3 s log-mel patches"
    )


class MusicnnMTTEncoder(MusicnnEncoder):
    """musicnn trained on MagnaTagATune (50 tags; Pons & Serra, 2019)."""

    name = "musicnn-mtt"
    model_name = "MTT_musicnn"
    tags = MTT_TAGS
    extra_labels = {"tag_probs_mean": MTT_TAGS, "tag_probs_std": MTT_TAGS, "penultimate_std": _PENULTIMATE_LABELS}
    description = (
        "musicnn (Pons & Serra 2019) trained on MagnaTagATune: 200-d penultimate features and "
        "50 tag probabilities, from 3 s log-mel patches"
    )
