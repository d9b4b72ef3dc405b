"""Optional encoders through ``transformers``: ``clip`` (images) and ``clap`` (audio).

They run on torch alone (no torchvision: CLIP's images are preprocessed by
the Pillow/NumPy ``CLIPImageProcessorPil``, CLAP's audio by NumPy) and read
weights **only from the local Hugging Face cache**; moodbridge never
downloads them. Where the weights are absent :meth:`load` raises
:class:`~moodbridge.errors.EncoderUnavailableError` at once, naming the
command that fetches them::

    hf download openai/clip-vit-base-patch32      # or huggingface-cli download ...
    hf download laion/clap-htsat-unfused

The cache is found as huggingface_hub finds it, read from the environment
when :meth:`load` runs: ``HF_HUB_CACHE``, else ``$HF_HOME/hub``, else
``$XDG_CACHE_HOME/huggingface/hub``, else ``~/.cache/huggingface/hub``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from moodbridge.encoders.base import Encoder, EncoderOutput, InputSpec, register
from moodbridge.errors import EmptyMediaError, EncoderUnavailableError

_WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")


def hf_cache_dir() -> Path:
    """The Hugging Face hub cache directory, from the environment as it is now."""
    env = os.environ
    for var in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"):
        if env.get(var):
            return Path(env[var]).expanduser()
    if env.get("HF_HOME"):
        return Path(env["HF_HOME"]).expanduser() / "hub"
    xdg = Path(env.get("XDG_CACHE_HOME") or "~/.cache").expanduser()
    return xdg / "huggingface" / "hub"


def cached_snapshot(repo_id: str, cache_dir: Path | None = None) -> Path | None:
    """The local snapshot folder of a model repository holding a config and weights, or ``None``.

    Looks only at the file system: the revision ``refs/main`` points to
    first, then any other snapshot.
    """
    repo = (cache_dir or hf_cache_dir()) / ("models--" + repo_id.replace("/", "--"))
    snapshots = repo / "snapshots"
    if not snapshots.is_dir():
        return None
    candidates = sorted(p for p in snapshots.iterdir() if p.is_dir())
    ref = repo / "refs" / "main"
    if ref.is_file():
        main = snapshots / ref.read_text().strip()
        candidates = [main] + [c for c in candidates if c != main]
    for snap in candidates:
        if (snap / "config.json").is_file() and any((snap / w).is_file() for w in _WEIGHT_FILES):
            return snap
    return None


def _features(output: Any) -> Any:
    """The projected embedding from ``get_*_features`` (a tensor in transformers 4, an output object in 5)."""
    return output if hasattr(output, "detach") else output.pooler_output


class _CachedHFEncoder(Encoder):
    """Common loading logic: find the snapshot, load model and preprocessor from it, offline."""

    optional = True
    repo_id: ClassVar[str]

    def __init__(self, device: str = "cpu") -> None:
        self.device = device
        self._model: Any = None
        self._processor: Any = None

    def _unavailable(self, why: str) -> EncoderUnavailableError:
        return EncoderUnavailableError(
            f"{self.name}: {why}. moodbridge never downloads weights; fetch them once with "
            f"`hf download {self.repo_id}` (or `huggingface-cli download {self.repo_id}`) "
            f"on a machine with internet, or point HF_HOME / HF_HUB_CACHE at a cache that has them"
        )

    def load(self) -> None:
        if self._model is not None:
            return
        cache = hf_cache_dir()
        snapshot = cached_snapshot(self.repo_id, cache)
        if snapshot is None:
            raise self._unavailable(f"the weights of {self.repo_id} are not in the Hugging Face cache {cache}")
        from moodbridge.encoders.minilm import force_offline, quiet_offline_loading

        force_offline()  # belt and braces: the folder is local, nothing may be fetched
        try:
            import torch

            with quiet_offline_loading():
                model, processor = self._load_from(str(snapshot))
            self._model = model.to(self.device).eval()
            self._processor = processor
            self._torch = torch
        except ImportError as exc:
            raise self._unavailable(f"a package is missing ({exc})") from exc
        except Exception as exc:  # noqa: BLE001 - broken cache, incompatible transformers ...
            raise self._unavailable(f"cannot load {self.repo_id} from {snapshot}: {exc}") from exc

    def _load_from(self, folder: str) -> tuple[Any, Any]:
        raise NotImplementedError

    def _embed(self, inputs: dict[str, Any]) -> np.ndarray:
        raise NotImplementedError

    def embed_batch(self, prepared: Sequence[Any]) -> EncoderOutput:
        if not prepared:
            return EncoderOutput(np.zeros((0, self.dim), np.float32))
        self.load()
        with self._torch.inference_mode():
            vectors = self._embed(self._inputs(prepared))
        vectors = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        return EncoderOutput(vectors)

    def _inputs(self, prepared: Sequence[Any]) -> dict[str, Any]:
        raise NotImplementedError


class ClipEncoder(_CachedHFEncoder):
    """CLIP ViT-B/32 image embeddings (Radford et al., 2021), L2-normalised, from the local HF cache."""

    name = "clip"
    version = "1"
    modality = "image"
    dim = 512
    batch_size = 32
    repo_id = "openai/clip-vit-base-patch32"
    description = "CLIP ViT-B/32 image embeddings via transformers (optional; weights from the local HF cache)"

    def _load_from(self, folder: str) -> tuple[Any, Any]:
        from transformers import CLIPModel
        from transformers.models.clip.image_processing_pil_clip import CLIPImageProcessorPil

        return (
            CLIPModel.from_pretrained(folder, local_files_only=True),
            CLIPImageProcessorPil.from_pretrained(folder, local_files_only=True),
        )

    def prepare(self, decoded: Any, *, source: str = "<input>") -> Any:
        return decoded.convert("RGB") if decoded.mode != "RGB" else decoded

    def _inputs(self, prepared: Sequence[Any]) -> dict[str, Any]:
        return self._processor(images=list(prepared), return_tensors="pt")

    def _embed(self, inputs: dict[str, Any]) -> np.ndarray:
        pixels = inputs["pixel_values"].to(self.device)
        return _features(self._model.get_image_features(pixel_values=pixels)).float().cpu().numpy()


class ClapEncoder(_CachedHFEncoder):
    """CLAP HTS-AT audio embeddings (Wu et al., 2023), L2-normalised, from the local HF cache.

    Clips longer than the model's 10-second window are centre-cropped in
    :meth:`prepare`, so the embedding is deterministic (the feature
    extractor would otherwise crop at random).
    """

    name = "clap"
    version = "1"
    modality = "audio"
    dim = 512
    batch_size = 16
    sample_rate: ClassVar[int] = 48_000
    window_s: ClassVar[float] = 10.0
    repo_id = "laion/clap-htsat-unfused"
    description = "CLAP HTS-AT audio embeddings via transformers (optional; weights from the local HF cache)"

    @property
    def input_spec(self) -> InputSpec:
        return InputSpec("audio", self.sample_rate)

    def _load_from(self, folder: str) -> tuple[Any, Any]:
        from transformers import ClapFeatureExtractor, ClapModel

        return (
            ClapModel.from_pretrained(folder, local_files_only=True),
            ClapFeatureExtractor.from_pretrained(folder, local_files_only=True),
        )

    def prepare(self, decoded: np.ndarray, *, source: str = "<input>") -> np.ndarray:
        y = np.asarray(decoded, dtype=np.float32).reshape(-1)
        if y.size == 0:
            raise EmptyMediaError(source, "the audio has no samples")
        window = int(self.window_s * self.sample_rate)
        if y.size > window:
            start = (y.size - window) // 2
            y = y[start : start + window]
        return y

    def _inputs(self, prepared: Sequence[np.ndarray]) -> dict[str, Any]:
        # the truncation mode must match the checkpoint: 4-channel "fusion" input only for fused models
        fused = bool(getattr(self._model.config.audio_config, "enable_fusion", False))
        return self._processor(
            list(prepared),
            sampling_rate=self.sample_rate,
            truncation="fusion" if fused else "rand_trunc",  # no randomness: clips are <= the window
            return_tensors="pt",
        )

    def _embed(self, inputs: dict[str, Any]) -> np.ndarray:
        kwargs = {k: v.to(self.device) for k, v in inputs.items() if k in ("input_features", "is_longer")}
        return _features(self._model.get_audio_features(**kwargs)).float().cpu().numpy()


register(ClipEncoder.name, ClipEncoder)
register(ClapEncoder.name, ClapEncoder)
