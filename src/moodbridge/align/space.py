"""A saved joint emotion space: two projection heads and how they are written and read.

The folder layout (``model.pt`` + ``config.json``) is that of
:mod:`moodbridge.library.spaces`; :meth:`JointSpace.save` writes it through
:func:`moodbridge.fileio.atomic_folder`, so a reader never sees a half-written model.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from moodbridge.align.config import AlignConfig, History
from moodbridge.align.heads import ProjectionHead
from moodbridge.errors import InvalidValueError
from moodbridge.fileio import atomic_folder
from moodbridge.library.spaces import CONFIG_FILE, SPACE_FORMAT, STATE_FILE, is_saved_space

__all__ = ["FORMAT_VERSION", "JointSpace", "torch_device"]

FORMAT_VERSION = 1


class JointSpace(nn.Module):
    """Two projection heads into one emotion-aligned embedding space.

    Parameters
    ----------
    heads
        ``modality → head``, exactly two.
    config
        The training configuration.
    label_kind
        ``"categorical"`` or ``"va"``.
    classes
        The class labels (categorical), in class-id order.
    history
        Training history, if any (saved with the model).
    """

    def __init__(
        self,
        heads: Mapping[str, ProjectionHead],
        *,
        config: AlignConfig,
        label_kind: str,
        classes: list[Any] | None = None,
        history: History | None = None,
    ) -> None:
        super().__init__()
        if tuple(heads) != tuple(config.modalities):
            raise InvalidValueError(f"heads {tuple(heads)} do not match modalities {config.modalities}")
        self.heads = nn.ModuleDict(dict(heads))
        self.config, self.label_kind, self.classes = config, label_kind, classes
        self.history = history or History()

    @property
    def modalities(self) -> tuple[str, str]:
        """The two modality names."""
        return self.config.modalities

    def head(self, modality: str) -> ProjectionHead:
        """The head of ``modality``.

        Raises
        ------
        InvalidValueError
            If the modality is not one of :attr:`modalities`.
        """
        if modality not in self.heads:
            raise InvalidValueError(f"unknown modality {modality!r}; this joint space has {list(self.heads)}")
        return self.heads[modality]  # type: ignore[return-value]

    @torch.no_grad()
    def embed(self, modality: str, features: Any, *, batch_size: int = 4096) -> np.ndarray:
        """Unit-norm ``(N, embed_dim)`` float32 joint-space embeddings of raw ``(N, in_dim)`` features.

        Raises
        ------
        InvalidValueError
            If the modality is unknown or the feature dimension is not the head's
            (the message names both).
        """
        head = self.head(modality)
        x = head.check_features(features)
        was_training = self.training
        self.eval()
        try:
            out = [head(x[i : i + batch_size]).cpu() for i in range(0, x.shape[0], batch_size)]
        finally:
            self.train(was_training)
        return torch.cat(out).numpy() if out else np.zeros((0, head.embed_dim), dtype=np.float32)

    def describe(self) -> dict[str, Any]:
        """The JSON description written beside the weights."""
        return {
            "format": SPACE_FORMAT,
            "version": FORMAT_VERSION,
            "config": self.config.to_dict(),
            "label_kind": self.label_kind,
            "classes": self.classes,
            "heads": {name: head.hparams() for name, head in self.heads.items()},
            "history": self.history.to_dict(),
        }

    def save(self, path: str | Path) -> Path:
        """Write the folder ``path`` (``model.pt`` + ``config.json``), atomically.

        The files are written to a temporary sibling folder that then replaces
        ``path``; a reader never sees a half-written model.

        Raises
        ------
        InvalidValueError
            If ``path`` exists and is not a saved joint space (nothing is overwritten).
        """
        path = Path(path)
        with atomic_folder(path, what="saved joint space", replace_if=is_saved_space) as staging:
            state = {k: v.detach().cpu() for k, v in self.state_dict().items()}
            torch.save(state, staging / STATE_FILE)
            (staging / CONFIG_FILE).write_text(json.dumps(self.describe(), indent=2, default=_json_default))
        return path

    @classmethod
    def load(cls, path: str | Path, *, device: str | None = None) -> JointSpace:
        """Read a folder written by :meth:`save` (no pickle: ``weights_only`` loading).

        Raises
        ------
        InvalidValueError
            If the folder is missing, not a joint space, or its files disagree.
        """
        path = Path(path)
        if not is_saved_space(path):
            raise InvalidValueError(f"{path}: not a saved joint space (needs {CONFIG_FILE} and {STATE_FILE})")
        meta = json.loads((path / CONFIG_FILE).read_text())
        if meta.get("version", 0) > FORMAT_VERSION:
            raise InvalidValueError(f"{path}: joint-space format {meta.get('version')} is newer than this moodbridge")
        config = AlignConfig.from_dict(meta["config"])
        heads = {name: ProjectionHead(**hp) for name, hp in meta["heads"].items()}
        history = History(**meta.get("history", {}))
        space = cls(heads, config=config, label_kind=meta["label_kind"], classes=meta.get("classes"), history=history)
        state = torch.load(path / STATE_FILE, map_location="cpu", weights_only=True)
        try:
            space.load_state_dict(state)
        except RuntimeError as exc:
            raise InvalidValueError(f"{path}: weights do not match {CONFIG_FILE}: {exc}") from None
        return space.to(torch_device(device)).eval()


def torch_device(device: str | None) -> torch.device:
    """CUDA when ``device`` is ``None`` and torch sees a GPU, else the named device."""
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON-serialisable: {type(value).__name__}")
