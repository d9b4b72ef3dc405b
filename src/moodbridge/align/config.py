"""The configuration and history of joint-space training, and its named presets.

:class:`AlignConfig` holds the hyper-parameters (Emo-CLIM Sec. 4.4 defaults);
:data:`PRESETS` are named configurations read from ``presets.json`` beside this
module (data, not code): ``paper`` is Emo-CLIM's, ``tuned`` the one chosen by
the project's experiments (``docs/results.md``).
"""
from __future__ import annotations

import json
import math
from importlib import resources
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from moodbridge.align.heads import DEFAULT_DROPOUT, DEFAULT_EMBED_DIM, DEFAULT_HIDDEN_DIM
from moodbridge.align.losses import DEFAULT_LAMBDAS, DEFAULT_N, DEFAULT_TAU, DEFAULT_VA_METRIC
from moodbridge.errors import InvalidValueError

LABEL_KINDS = ("auto", "categorical", "va")


@dataclass(frozen=True)
class AlignConfig:
    """Hyper-parameters of :func:`train_joint_space` (defaults: Emo-CLIM Sec. 4.4 unless noted).

    Attributes
    ----------
    modalities
        Names of the two modalities (any distinct strings, e.g. ``("image", "audio")``).
    labels
        ``"categorical"`` (SupCon, Emo-CLIM), ``"va"`` (EIMG losses) or ``"auto"``
        (``(N, 2)`` numeric labels are VA, 1-D labels are classes).
    embed_dim, hidden_dim, dropout
        Projection heads (128-d, dropout 0.5; the hidden width is ours).
    batch_size
        Items per modality per batch (64).
    tau
        Temperature (0.07).
    lambdas
        λ1..λ4 of Emo-CLIM Eq. 6 (0.25 each).
    va_n, va_metric, va_symmetric
        EIMG's set size n (8), VA similarity (inverse Euclidean) and whether
        the loss is averaged over both anchor modalities (ours; EIMG anchors on
        images only).
    lr, weight_decay
        AdamW (lr 1e-4 as Emo-CLIM; weight decay is AdamW's default 0.01).
    max_epochs
        Epochs at most (15).
    patience
        Stop after this many epochs without a lower validation loss (``None``:
        never stop early).
    steps_per_epoch
        Batches per epoch; default ``ceil(max(N_a, N_b) / batch_size)``.
    val_fraction
        Share of each class held out for validation when no validation set is
        given (stratified per modality; Emo-CLIM uses a 10 % validation split).
    val_batches
        Fixed balanced batches the validation loss is averaged over (the same
        batches every epoch).
    seed
        Seeds the split, the sampler and the torch initialisation / dropout.
    device
        ``"cuda"``, ``"cpu"`` … ; ``None``: CUDA when available.
    cpu_threads
        torch intra-op threads while training on the CPU (restored afterwards).
        The heads are tiny, so threads only add synchronisation: with one
        thread a step is ~1 ms, while two threads on a busy 2-core machine
        were measured 80x slower.  ``None`` keeps torch's setting.
    progress
        Show a tqdm progress bar over epochs.
    """

    modalities: tuple[str, str] = ("a", "b")
    labels: str = "auto"
    embed_dim: int = DEFAULT_EMBED_DIM
    hidden_dim: int = DEFAULT_HIDDEN_DIM
    dropout: float = DEFAULT_DROPOUT
    batch_size: int = 64
    tau: float = DEFAULT_TAU
    lambdas: tuple[float, float, float, float] = DEFAULT_LAMBDAS
    va_n: int = DEFAULT_N
    va_metric: str = DEFAULT_VA_METRIC
    va_symmetric: bool = True
    lr: float = 1e-4
    weight_decay: float = 0.01
    max_epochs: int = 15
    patience: int | None = 5
    steps_per_epoch: int | None = None
    val_fraction: float = 0.1
    val_batches: int = 8
    seed: int = 0
    device: str | None = None
    cpu_threads: int | None = 1
    progress: bool = True

    def __post_init__(self) -> None:
        a, b = self.modalities
        if not (isinstance(a, str) and isinstance(b, str) and a and b and a != b):
            raise InvalidValueError(f"modalities must be two distinct names, got {self.modalities!r}")
        if self.labels not in LABEL_KINDS:
            raise InvalidValueError(f"labels must be one of {LABEL_KINDS}, got {self.labels!r}")
        for name in ("batch_size", "max_epochs", "val_batches", "va_n"):
            if int(getattr(self, name)) < 1:
                raise InvalidValueError(f"{name} must be a positive integer, got {getattr(self, name)!r}")
        if not 0.0 < self.val_fraction < 1.0:
            raise InvalidValueError(f"val_fraction must be in (0, 1), got {self.val_fraction!r}")
        if not (self.lr > 0 and self.tau > 0):
            raise InvalidValueError(f"lr and tau must be positive, got lr={self.lr!r}, tau={self.tau!r}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dictionary (tuples become lists)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AlignConfig:
        """Inverse of :meth:`to_dict`; unknown keys are ignored."""
        known = {f.name for f in fields(cls)}
        kwargs = {k: v for k, v in data.items() if k in known}
        for key in ("modalities", "lambdas"):
            if key in kwargs:
                kwargs[key] = tuple(kwargs[key])
        return cls(**kwargs)


@dataclass
class History:
    """What happened during training.

    Attributes
    ----------
    epochs
        One ``{"epoch", "train_loss", "val_loss"}`` per epoch run.
    best_epoch
        The epoch whose weights were kept (lowest validation loss), 1-based.
    best_val_loss
        Its validation loss.
    stopped_early
        Whether training stopped before ``max_epochs``.
    device
        Where it ran.
    """

    epochs: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int = 0
    best_val_loss: float = math.inf
    stopped_early: bool = False
    device: str = "cpu"

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dictionary."""
        return asdict(self)


#: The named training setups (``presets.json``): ``inputs``, ``align`` (fields of :class:`AlignConfig`), ``ensemble``.
PRESETS: dict[str, dict[str, Any]] = {
    name: value for name, value in json.loads(
        resources.files("moodbridge.align").joinpath("data", "presets.json").read_text(encoding="utf-8")
    ).items() if name != "about"
}


def preset_config(name: str, **overrides: Any) -> AlignConfig:
    """The :class:`AlignConfig` of preset ``name`` with ``overrides`` applied.

    Raises
    ------
    InvalidValueError
        On an unknown preset (the message lists them).
    """
    if name not in PRESETS:
        raise InvalidValueError(f"unknown preset {name!r}; known: {', '.join(PRESETS)}")
    return AlignConfig(**{**PRESETS[name].get("align", {}), **overrides})
