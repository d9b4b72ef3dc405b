"""Emotion heads: small models that map encoder outputs to valence-arousal.

A head names the encoders whose outputs it reads (``encoders``), predicts an
``(N, 2)`` VA array in ``[-1, 1]`` (:meth:`Head.predict_va`) and, optionally, a
distribution over a taxonomy.  Weights ship inside the package as ``.npz``
files read with ``allow_pickle=False`` (:func:`load_weights`), so they load
with no network and do not depend on the training library's pickle format.
"""
from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from moodbridge.emotion import as_va_array, get_taxonomy, quadrant_labels
from moodbridge.media.spec import Modality
from moodbridge.errors import EncoderUnavailableError, InvalidValueError
from moodbridge.fileio import atomic_path
from moodbridge.registry import Registry

#: encoder name → {output name → (N, k) array}, as stored in a library or returned by an encoder
Outputs = Mapping[str, Mapping[str, np.ndarray]]

WEIGHTS_PACKAGE = "moodbridge.affect.weights"


@dataclass(frozen=True)
class EmotionEstimate:
    """The emotion of one item as one head sees it.

    Attributes
    ----------
    valence, arousal
        In ``[-1, 1]``, 0 neutral.
    quadrant
        ``"Q1"`` … ``"Q4"`` (Russell).
    taxonomy
        Name of the taxonomy of ``distribution``.
    distribution
        Category → probability.
    head
        ``name@version`` of the head.
    features
        The encoder outputs it read.
    """

    valence: float
    arousal: float
    quadrant: str
    taxonomy: str
    distribution: dict[str, float] = field(default_factory=dict)
    head: str = ""
    features: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON output."""
        d = asdict(self)
        d["features"] = list(self.features)
        return d


class Head(ABC):
    """Base class of the emotion heads.

    Subclasses set the class attributes and implement :meth:`predict_va`;
    :meth:`predict_distribution` defaults to a soft assignment of the VA point
    to the taxonomy's categories.
    """

    name: ClassVar[str]
    version: ClassVar[str]
    modality: ClassVar[Modality]
    encoders: ClassVar[tuple[str, ...]]
    taxonomy: ClassVar[str] = "quadrants"
    description: ClassVar[str] = ""

    @property
    def key(self) -> str:
        """``name@version``."""
        return f"{self.name}@{self.version}"

    @abstractmethod
    def predict_va(self, outputs: Outputs) -> np.ndarray:
        """``(N, 2)`` valence-arousal in ``[-1, 1]`` from the encoders' outputs."""

    def predict_distribution(self, outputs: Outputs, va: np.ndarray) -> np.ndarray:
        """``(N, K)`` probabilities over :attr:`taxonomy` (default: soft nearest category of ``va``)."""
        return get_taxonomy(self.taxonomy).distribution(va)

    def estimate(self, outputs: Outputs) -> list[EmotionEstimate]:
        """Full estimates (VA, quadrant, distribution) for every item of a batch."""
        self.check_outputs(outputs)
        va = as_va_array(np.clip(self.predict_va(outputs), -1.0, 1.0), name=f"{self.name} output")
        dist = self.predict_distribution(outputs, va)
        names = get_taxonomy(self.taxonomy).names
        quads = quadrant_labels(va)
        return [
            EmotionEstimate(
                valence=float(v), arousal=float(a), quadrant=q, taxonomy=self.taxonomy,
                distribution={n: round(float(p), 4) for n, p in zip(names, row)},
                head=self.key, features=self.encoders,
            )
            for (v, a), q, row in zip(va, quads, dist)
        ]

    def check_outputs(self, outputs: Outputs) -> None:
        """Raise :class:`InvalidValueError` when a needed encoder output is missing or not finite."""
        for enc in self.encoders:
            if enc not in outputs:
                raise InvalidValueError(f"{self.name} needs features from {enc!r}, which are missing")
            for out_name, arr in outputs[enc].items():
                if not np.isfinite(np.asarray(arr)).all():
                    raise InvalidValueError(f"{self.name}: {enc} output {out_name!r} holds NaN or infinite values")


def weights_path(filename: str) -> Path:
    """Path of a weight file shipped in :mod:`moodbridge.affect.weights`."""
    return Path(str(resources.files(WEIGHTS_PACKAGE).joinpath(filename)))


def save_weights(path: str | Path, arrays: Mapping[str, np.ndarray], meta: Mapping[str, Any]) -> Path:
    """Write a head's arrays and JSON-able metadata to ``path`` (``.npz``), atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {k: np.asarray(v) for k, v in arrays.items()}
    payload["__meta__"] = np.frombuffer(json.dumps(meta, sort_keys=True).encode(), dtype=np.uint8)
    with atomic_path(path, what="emotion-head weights") as tmp:
        np.savez_compressed(tmp, **payload)
    return path


def load_weights(path_or_name: str | Path) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Read a weight file (a path, or a file name in the shipped weights); no pickle.

    Raises
    ------
    EncoderUnavailableError
        If the file is missing or unreadable.
    """
    path = Path(path_or_name)
    if not path.is_absolute() and not path.exists():
        path = weights_path(str(path_or_name))
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files if k != "__meta__"}
            meta = json.loads(bytes(data["__meta__"]).decode()) if "__meta__" in data.files else {}
    except (OSError, ValueError, KeyError) as exc:
        raise EncoderUnavailableError(f"{path}: cannot read emotion-head weights ({exc})") from exc
    return arrays, meta


#: name -> head factory (a class); the built-in heads register when ``moodbridge.affect.heads`` is imported
HEADS: Registry[Callable[[], Head]] = Registry("emotion head", builtins="moodbridge.affect.heads")


def register_head(name: str, factory: Callable[[], Head], *, current: bool = True) -> None:
    """Register a head factory under ``name@version`` and, when it is the ``current`` version, under ``name``.

    Earlier versions stay loadable by their key (``get_head("image-va@1")``)
    to reproduce earlier results; the bare name is the newest.
    """
    version = getattr(factory, "version", None)
    if version is not None:
        HEADS.register(f"{name}@{version}", factory)
    if current:
        HEADS.register(name, factory)


def get_head(name: str) -> Head:
    """The shared instance of the head ``name`` (the current version) or ``name@version``.

    Raises
    ------
    UnknownNameError
        If no head has that name (the message lists the known ones).
    """
    return HEADS.instance(name)  # type: ignore[return-value]


def head_names(modality: Modality | None = None, *, versions: bool = False) -> list[str]:
    """Registered head names (with ``versions``: also every ``name@version`` key), optionally for one modality."""
    return [n for n in sorted(HEADS.names()) if (versions or "@" not in n)
            and (modality is None or get_head(n).modality == modality)]
