"""The common interface of every encoder and the registry that finds them.

An encoder turns decoded media into a fixed-size feature vector (``features``,
shape ``(N, dim)``) plus optional named extra outputs such as class or tag
probabilities (``extras``).  Work is split in three steps so that a pipeline
can decode a file once for several encoders and batch the model calls:

1. :func:`moodbridge.media.decode` reads a file into the form named by the
   encoder's ``input_spec`` (an image, a mono waveform at a rate, a MIDI score,
   a text);
2. :meth:`Encoder.prepare` turns one decoded item into model input (CPU work,
   may raise :class:`~moodbridge.errors.MediaError`);
3. :meth:`Encoder.embed_batch` runs the model on a list of prepared items.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from moodbridge.errors import InvalidValueError
from moodbridge.media.spec import MODALITIES, InputSpec, Modality
from moodbridge.registry import Registry

__all__ = ["MODALITIES", "ENCODERS", "Encoder", "EncoderOutput", "InputSpec", "Modality", "default_encoders",
           "encoder_names", "get_encoder", "register"]

@dataclass
class EncoderOutput:
    """Result of an encoder on a batch of ``N`` items.

    Attributes
    ----------
    features
        ``(N, dim)`` float32 feature vectors.
    extras
        Named extra outputs, each ``(N, k)``; e.g. ``"class_probs"``.
    """

    features: np.ndarray
    extras: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.features = np.asarray(self.features, dtype=np.float32)
        if self.features.ndim != 2:
            raise InvalidValueError(f"encoder features must be 2-D (N, dim), got shape {self.features.shape}")
        for key, value in self.extras.items():
            arr = np.asarray(value, dtype=np.float32)
            if arr.shape[0] != self.features.shape[0]:
                raise InvalidValueError(
                    f"extra output {key!r} has {arr.shape[0]} rows for {self.features.shape[0]} items"
                )
            self.extras[key] = arr

    def __len__(self) -> int:
        return int(self.features.shape[0])

    def row(self, i: int) -> dict[str, np.ndarray]:
        """All outputs of item ``i`` as ``{"features": ..., extra: ...}``."""
        out = {"features": self.features[i]}
        out.update({k: v[i] for k, v in self.extras.items()})
        return out

    @staticmethod
    def concat(parts: Sequence["EncoderOutput"]) -> "EncoderOutput":
        """Stack several batch outputs in order."""
        if not parts:
            raise InvalidValueError("cannot concatenate zero encoder outputs")
        keys = parts[0].extras.keys()
        return EncoderOutput(
            features=np.concatenate([p.features for p in parts]),
            extras={k: np.concatenate([p.extras[k] for p in parts]) for k in keys},
        )


class Encoder(ABC):
    """Base class of all encoders.

    Subclasses set the class attributes and implement :meth:`prepare` and
    :meth:`embed_batch`.  Heavy weights are loaded lazily by :meth:`load`, so
    listing encoders costs nothing.
    """

    name: ClassVar[str]
    version: ClassVar[str]
    modality: ClassVar[Modality]
    dim: ClassVar[int]
    #: names of the columns of each extra output, e.g. ``{"class_probs": [...]}``
    extra_labels: ClassVar[dict[str, list[str]]] = {}
    #: True for encoders that need optional packages or the network
    optional: ClassVar[bool] = False
    batch_size: ClassVar[int] = 16
    description: ClassVar[str] = ""

    @property
    def input_spec(self) -> InputSpec:
        """The decoded form this encoder needs (default: the modality, no options)."""
        return InputSpec(self.modality)

    @property
    def key(self) -> str:
        """``name@version``: the key of this encoder's features in a feature store."""
        return f"{self.name}@{self.version}"

    def load(self) -> None:  # noqa: B027 - optional hook
        """Load weights; called once before the first :meth:`embed_batch`."""

    @abstractmethod
    def prepare(self, decoded: Any, *, source: str = "<input>") -> Any:
        """Turn one decoded item into model input.

        Parameters
        ----------
        decoded
            What :func:`moodbridge.media.decode` returned for ``input_spec``.
        source
            The file or text it came from, for error messages.
        """

    @abstractmethod
    def embed_batch(self, prepared: Sequence[Any]) -> EncoderOutput:
        """Run the model on prepared items; returns one row per item."""

    def embed(self, sources: Iterable[str | Path], *, batch_size: int | None = None) -> EncoderOutput:
        """Decode, prepare and embed files (or texts for the text modality).

        Convenience for library users; the pipeline in :mod:`moodbridge.library`
        does the same steps with shared decoding and error handling.
        """
        from moodbridge.media import decode

        self.load()
        prepared = [self.prepare(decode(s, self.input_spec), source=str(s)) for s in sources]
        size = batch_size or self.batch_size
        if not prepared:
            raise InvalidValueError(f"{self.name}: nothing to embed")
        return EncoderOutput.concat(
            [self.embed_batch(prepared[i : i + size]) for i in range(0, len(prepared), size)]
        )


#: modules whose import registers the built-in encoders (loaded on the first lookup)
BUILTIN_MODULES = (
    "moodbridge.encoders.effnet",
    "moodbridge.encoders.image_stats",
    "moodbridge.encoders.musicnn",
    "moodbridge.encoders.midi_stats",
    "moodbridge.encoders.midi_extra",
    "moodbridge.encoders.minilm",
    "moodbridge.encoders.text_stats",
    "moodbridge.encoders.hf_optional",
)
#: name -> encoder factory (a class); one shared instance per name
ENCODERS: Registry[Callable[[], Encoder]] = Registry("encoder", builtins=BUILTIN_MODULES)


def register(name: str, factory: Callable[[], Encoder]) -> None:
    """Register an encoder factory under ``name`` (later registrations replace earlier ones)."""
    ENCODERS.register(name, factory)


def get_encoder(name: str) -> Encoder:
    """The shared instance of the encoder called ``name``.

    Raises
    ------
    UnknownNameError
        If no encoder has that name (the message lists the known ones).
    """
    return ENCODERS.instance(name)  # type: ignore[return-value]


def encoder_names(modality: Modality | None = None, *, include_optional: bool = True) -> list[str]:
    """Names of the registered encoders, optionally for one modality."""
    out = []
    for name in sorted(ENCODERS.names()):
        enc = get_encoder(name)
        if modality is not None and enc.modality != modality:
            continue
        if enc.optional and not include_optional:
            continue
        out.append(name)
    return out


def default_encoders(modality: Modality) -> list[Encoder]:
    """The offline encoders a library runs on every item of ``modality``."""
    return [get_encoder(n) for n in encoder_names(modality, include_optional=False)]
