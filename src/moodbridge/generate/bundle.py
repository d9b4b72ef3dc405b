"""The generator's weight file: every network of :mod:`moodbridge.generate.model` in one ``.npz`` (no pickle).

Arrays are stored as float16 (integer buffers as they are) under
``<part>.<parameter>``; the JSON metadata (sizes, training settings and the
figures measured) is under ``__meta__``.  Parts: ``vae`` (music VAE),
``img`` (Img-Projector), ``va`` (VA-Projector, for ``--va``), ``mus``
(Mus-Projector), ``deproj`` (De-Projector), plus the image-feature
standardisation ``img_mean`` / ``img_std`` and, for a conditioned decoder, the
conditional prior's tables ``attr_va``, ``attr_values`` and ``prior_latents``
(:class:`~moodbridge.generate.attributes.ConditionalPrior`).
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from moodbridge.errors import EncoderUnavailableError
from moodbridge.fileio import atomic_path

__all__ = ["GENERATOR_FILE", "JUDGE_FILE", "Bundle", "load_bundle", "save_bundle", "shipped_path"]

#: the shipped generator weights in :mod:`moodbridge.generate.weights`
GENERATOR_FILE = "eimg_generator.npz"
#: the shipped independent evaluation predictor (a ``midi-va`` model fitted on EIMG's ``judge`` split only)
JUDGE_FILE = "eimg_judge.npz"


def shipped_path(name: str) -> Path:
    """Path of a file shipped in :mod:`moodbridge.generate.weights`."""
    return Path(str(resources.files("moodbridge.generate.weights").joinpath(name)))


@dataclass
class Bundle:
    """State dicts by part (``{"vae": {...}, "img": {...}, ...}``), extra arrays and metadata."""

    parts: dict[str, dict[str, Any]]
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)


def save_bundle(path: str | Path, bundle: Bundle) -> Path:
    """Write ``bundle`` to ``path`` atomically (float tensors as float16)."""
    payload: dict[str, np.ndarray] = {}
    for part, state in bundle.parts.items():
        for name, tensor in state.items():
            a = tensor.detach().cpu().numpy() if hasattr(tensor, "detach") else np.asarray(tensor)
            payload[f"{part}.{name}"] = a.astype(np.float16) if a.dtype.kind == "f" else a
    payload.update({k: np.asarray(v, dtype=np.float16 if np.asarray(v).dtype == np.float16 else np.float32)
                    for k, v in bundle.arrays.items()})  # extra arrays: float32 unless given as float16
    payload["__meta__"] = np.frombuffer(json.dumps(bundle.meta, sort_keys=True).encode(), dtype=np.uint8)
    path = Path(path)
    with atomic_path(path, what="generator weights") as tmp:
        np.savez_compressed(tmp, **payload)
    return path


def load_bundle(path: str | Path | None = None, *, parts: Mapping[str, Any] | None = None) -> Bundle:
    """Read a generator weight file (default: the shipped one) into float32 state dicts.

    Raises
    ------
    EncoderUnavailableError
        If the file is missing, damaged or lacks a part.
    """
    import torch

    path = Path(path) if path is not None else shipped_path(GENERATOR_FILE)
    if not path.is_file():
        raise EncoderUnavailableError(f"{path}: generator weights not found (train them with 'moodbridge generate train')")
    try:
        with np.load(path, allow_pickle=False) as data:
            raw = {k: data[k] for k in data.files}
        meta = json.loads(bytes(raw.pop("__meta__")).decode())
    except Exception as exc:  # noqa: BLE001 - zip, npy and JSON errors all mean a damaged file
        raise EncoderUnavailableError(f"{path}: damaged generator weights ({type(exc).__name__}: {exc})") from None
    states: dict[str, dict[str, Any]] = {}
    arrays: dict[str, np.ndarray] = {}
    for key, a in raw.items():
        if "." in key:
            part, name = key.split(".", 1)
            t = torch.as_tensor(a.astype(np.float32) if a.dtype.kind == "f" else a)
            states.setdefault(part, {})[name] = t
        else:
            arrays[key] = a
    for part in parts or ():
        if part not in states:
            raise EncoderUnavailableError(f"{path}: damaged generator weights (no {part!r} part)")
    return Bundle(states, arrays, meta)
