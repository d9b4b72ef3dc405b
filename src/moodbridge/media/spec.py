"""The four modalities and the decoded form an encoder asks for.

Every layer above ``media`` names modalities the same way: ``"image"``,
``"audio"``, ``"midi"`` or ``"text"`` (:data:`Modality`).  User-facing names
(``music`` for audio, ``photo`` for image …) go through :func:`parse_modality`,
the one place that knows the aliases.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from moodbridge.errors import InvalidValueError

Modality = Literal["image", "audio", "midi", "text"]
MODALITIES: tuple[Modality, ...] = ("image", "audio", "midi", "text")
#: user-facing names of each modality
MODALITY_ALIASES: dict[str, Modality] = {
    "image": "image", "images": "image", "photo": "image", "photos": "image", "picture": "image",
    "audio": "audio", "music": "audio", "clip": "audio", "clips": "audio",
    "midi": "midi", "symbolic": "midi",
    "text": "text", "texts": "text",
}


def parse_modality(name: str, *, allowed: tuple[Modality, ...] = MODALITIES, what: str = "modality") -> Modality:
    """The :data:`Modality` a user-facing name denotes (``music`` → ``audio`` …).

    Raises
    ------
    InvalidValueError
        For a name that is no modality, or one outside ``allowed``.
    """
    key = str(name).strip().lower()
    modality = MODALITY_ALIASES.get(key)
    if modality is None or modality not in allowed:
        names = ", ".join("music (audio)" if m == "audio" else m for m in allowed)
        raise InvalidValueError(f"{what} must be one of {names}; got {name!r}")
    return modality


@dataclass(frozen=True)
class InputSpec:
    """What decoded form an encoder needs.

    Two encoders with equal specs share one decode of each file.

    Parameters
    ----------
    modality
        ``"image"``, ``"audio"``, ``"midi"`` or ``"text"``.
    sample_rate
        For audio: the mono sample rate the waveform is resampled to.
    """

    modality: Modality
    sample_rate: int | None = None
