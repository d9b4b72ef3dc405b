"""Joint spaces saved in a library: where they live, what they are, which encoders feed them.

A joint space (written by :meth:`moodbridge.align.space.JointSpace.save`
through ``moodbridge align train``) is a folder ``LIB/spaces/<name>/`` with
the torch state dict (:data:`STATE_FILE`), its JSON description
(:data:`CONFIG_FILE`, ``"format": "moodbridge-joint-space"``) and the
``align train`` sidecar (:data:`SPACE_INFO_FILE`: the encoders per head, the
label, the held-out items).  Its FAISS indexes live in ``LIB/indexes/<name>/``.
This module knows the layout; :mod:`moodbridge.align` knows the model.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from moodbridge.errors import LibraryError
from moodbridge.validate import check_name

__all__ = [
    "CONFIG_FILE", "DEFAULT_FEATURES", "SPACE_FORMAT", "SPACE_INFO_FILE", "SPACES_DIR", "STATE_FILE",
    "check_feature_dim", "is_saved_space", "joint_spaces", "library_features", "require_space", "space_dir",
    "space_heads", "space_info",
]

SPACE_FORMAT = "moodbridge-joint-space"
CONFIG_FILE = "config.json"
STATE_FILE = "model.pt"
#: Written by ``align train`` beside a saved joint space: encoders per head, label, training facts.
SPACE_INFO_FILE = "moodbridge-space.json"
SPACES_DIR = "spaces"
#: Encoder features that feed a joint-space head, per modality ("a+b": concatenated in that order).
DEFAULT_FEATURES: dict[str, str] = {
    "image": "effnet-lite0",
    "audio": "musicnn-msd+musicnn-mtt",
    "midi": "midi-stats",
    "text": "minilm",
}


def is_saved_space(path: Path) -> bool:
    """Whether ``path`` is a folder written by ``JointSpace.save``."""
    config = path / CONFIG_FILE
    if not (path.is_dir() and config.is_file() and (path / STATE_FILE).is_file()):
        return False
    try:
        return json.loads(config.read_text()).get("format") == SPACE_FORMAT
    except (OSError, ValueError):
        return False


def space_dir(library: Any, name: str) -> Path:
    """``LIB/spaces/<name>``."""
    return Path(getattr(library, "root", library)) / SPACES_DIR / name


def space_info(library: Any, name: str) -> dict[str, Any]:
    """The ``align train`` sidecar of a space (encoders per modality …); ``{}`` if absent or unreadable."""
    path = space_dir(library, name) / SPACE_INFO_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def joint_spaces(library: Any) -> list[str]:
    """Names of the saved joint spaces of a library, newest first."""
    root = Path(getattr(library, "root", library)) / SPACES_DIR
    if not root.is_dir():
        return []
    found = [p for p in root.iterdir() if not p.name.startswith(".") and is_saved_space(p)]
    found.sort(key=lambda p: (-(p / STATE_FILE).stat().st_mtime, p.name))
    return [p.name for p in found]


def require_space(library: Any, name: str) -> None:
    """Check that ``name`` is a valid space name and a saved joint space of the library.

    Raises
    ------
    InvalidValueError
        A name that cannot be a folder name.
    LibraryError
        No such space (the message lists the saved ones).
    """
    check_name(name, "space names")
    if name not in joint_spaces(library):
        have = ", ".join(joint_spaces(library)) or "none"
        raise LibraryError(f"{library.root}: no joint space {name!r} (saved spaces: {have});"
                           f" train one with 'moodbridge align train'")


def space_heads(library: Any, name: str) -> tuple[dict[str, Any], dict[str, str]]:
    """(head hparams per modality, feature spec per modality) of a saved space, read from its JSON files."""
    try:
        meta = json.loads((space_dir(library, name) / CONFIG_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise LibraryError(f"{space_dir(library, name)}: unreadable joint space: {exc}") from None
    heads = meta.get("heads", {}) if isinstance(meta, dict) else {}
    specs = dict(space_info(library, name).get("features", {}))
    for modality in heads:
        specs.setdefault(modality, DEFAULT_FEATURES.get(modality, ""))
    return heads, specs


def library_features(library: Any, items: Sequence[Any], spec: str) -> np.ndarray:
    """``(N, d)`` stored features of ``items``: one encoder, or several joined by ``+`` (concatenated)."""
    parts = [library.feature_matrix(items, name) for name in spec.split("+")]
    return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)


def check_feature_dim(space: str, modality: str, spec: str, expected: int, got: int, whose: str) -> None:
    """:class:`LibraryError` naming both sides when a head's input dimension is not the features'."""
    if expected != got:
        raise LibraryError(
            f"joint space {space!r}: feature dimension mismatch for {modality}: its head expects {expected}-d"
            f" features ({spec}), the {whose} features are {got}-d; retrain the space on this library"
        )


#: The semantic spaces that are not saved joint spaces.
BRIDGE_SPACES: tuple[str, ...] = ("bridge", "bridge-raw")
JOINT_PREFIX = "joint:"


def parse_space(value: str, *, joint_only: bool = False) -> str:
    """The one ``--space`` syntax: ``bridge``, ``bridge-raw`` or ``joint:NAME`` (``NAME`` alone means a joint space).

    Returns ``"bridge"`` / ``"bridge-raw"`` as they are, and the bare ``NAME``
    of a joint space.  With ``joint_only`` (commands that name a joint space:
    ``align train``, ``align eval``) a bridge name is refused.

    Raises
    ------
    InvalidValueError
        A name that cannot be a folder name, or a bridge name where a joint space is needed.
    """
    from moodbridge.errors import InvalidValueError

    text = str(value).strip()
    if text in BRIDGE_SPACES:
        if joint_only:
            raise InvalidValueError(f"--space must name a joint space (NAME or {JOINT_PREFIX}NAME), got {value!r}")
        return text
    name = text[len(JOINT_PREFIX):] if text.startswith(JOINT_PREFIX) else text
    return check_name(name, "space names")
