"""Text and transformers encoders: minilm offline, and the optional clip/clap without (and with) cached weights."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import numpy as np
import pytest

from moodbridge.encoders import encoder_names, get_encoder
from moodbridge.encoders.hf_optional import ClapEncoder, ClipEncoder, cached_snapshot, hf_cache_dir
from moodbridge.encoders.minilm import MiniLMEncoder
from moodbridge.errors import EmptyMediaError, EncoderUnavailableError


class NetworkUsed(AssertionError):
    pass


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to open a network connection fails the test."""

    def refuse(*args, **kwargs):
        raise NetworkUsed(f"network access attempted: {args[1:] if len(args) > 1 else args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


@pytest.fixture(scope="module")
def minilm() -> MiniLMEncoder:
    enc = MiniLMEncoder()
    enc.load()
    return enc


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


# ---------------------------------------------------------------------------
# minilm
# ---------------------------------------------------------------------------


def test_minilm_loads_offline(no_network: None) -> None:
    enc = MiniLMEncoder()
    enc.load()  # a fresh load, with every socket refused
    assert os.environ["HF_HUB_OFFLINE"] == "1" and os.environ["TRANSFORMERS_OFFLINE"] == "1"
    assert enc.embed_texts(["offline"]).shape == (1, 384)


def test_minilm_similar_sentences_are_closer(minilm: MiniLMEncoder) -> None:
    v = minilm.embed_texts([
        "A cat is sleeping on the sofa.",
        "A kitten naps on the couch.",
        "The central bank raised interest rates again.",
        "Gentle waves wash over a quiet beach at sunset.",
        "Calm sea and a peaceful shore in the evening light.",
    ])  # fmt: skip
    assert v.shape == (5, 384) and v.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert cosine(v[0], v[1]) > cosine(v[0], v[2]) + 0.3
    assert cosine(v[3], v[4]) > max(cosine(v[3], v[0]), cosine(v[3], v[2])) + 0.3


def test_minilm_is_batch_invariant_and_deterministic(minilm: MiniLMEncoder) -> None:
    texts = ["joyful", "a long and rather melancholic sentence about autumn rain on an empty street", "fear"]
    batch = minilm.embed_texts(texts)
    alone = np.concatenate([minilm.embed_texts([t]) for t in texts])
    np.testing.assert_allclose(batch, alone, atol=1e-5)


def test_minilm_through_the_encoder_interface(minilm: MiniLMEncoder, tmp_path: Path) -> None:
    assert get_encoder("minilm").dim == 384 and get_encoder("minilm").modality == "text"
    note = tmp_path / "caption.txt"
    note.write_text("a sunny meadow full of flowers\n", encoding="utf-8")
    out = minilm.embed(["a sunny meadow full of flowers", note])
    assert out.features.shape == (2, 384)
    np.testing.assert_allclose(out.features[0], out.features[1], atol=1e-6)  # the file holds the same text
    with pytest.raises(EmptyMediaError, match=r"^<text>: empty"):
        minilm.prepare("   ", source="<text>")


# ---------------------------------------------------------------------------
# clip / clap: optional, never downloading
# ---------------------------------------------------------------------------


@pytest.fixture
def empty_hf_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    for var in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"):
        monkeypatch.delenv(var, raising=False)
    return tmp_path / "hf"


@pytest.mark.parametrize("cls", [ClipEncoder, ClapEncoder])
def test_optional_encoder_without_weights_fails_fast_and_offline(cls, empty_hf_home: Path, no_network: None) -> None:
    enc = cls()
    assert enc.optional and enc.name in encoder_names(include_optional=True)
    assert enc.name not in encoder_names(include_optional=False)
    assert hf_cache_dir() == empty_hf_home / "hub"
    started = time.perf_counter()
    with pytest.raises(EncoderUnavailableError, match=rf"not in the Hugging Face cache .*hf download {cls.repo_id}"):
        enc.load()
    assert time.perf_counter() - started < 2.0


def _fake_snapshot(cache: Path, repo_id: str) -> Path:
    repo = cache / ("models--" + repo_id.replace("/", "--"))
    snap = repo / "snapshots" / ("0" * 40)
    snap.mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("0" * 40)
    return snap


def test_cached_snapshot_needs_config_and_weights(tmp_path: Path) -> None:
    snap = _fake_snapshot(tmp_path, "openai/clip-vit-base-patch32")
    assert cached_snapshot("openai/clip-vit-base-patch32", tmp_path) is None
    (snap / "config.json").write_text("{}")
    assert cached_snapshot("openai/clip-vit-base-patch32", tmp_path) is None
    (snap / "model.safetensors").write_bytes(b"")
    assert cached_snapshot("openai/clip-vit-base-patch32", tmp_path) == snap


def test_clip_runs_from_a_cached_snapshot(empty_hf_home: Path, no_network: None) -> None:
    """A tiny random CLIP saved in the cache layout loads offline and embeds without torchvision."""
    import skimage.data
    from PIL import Image
    from transformers import CLIPConfig, CLIPModel
    from transformers.models.clip.image_processing_pil_clip import CLIPImageProcessorPil

    snap = _fake_snapshot(empty_hf_home / "hub", ClipEncoder.repo_id)
    tiny = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2)
    config = CLIPConfig(
        text_config=dict(tiny, vocab_size=49408),
        vision_config=dict(tiny, image_size=32, patch_size=16),
        projection_dim=512,
    )
    CLIPModel(config).save_pretrained(snap)
    CLIPImageProcessorPil(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}).save_pretrained(snap)

    enc = ClipEncoder()
    enc.load()
    photos = [Image.fromarray(skimage.data.astronaut()), Image.fromarray(skimage.data.coffee()).convert("L")]
    out = enc.embed_batch([enc.prepare(p) for p in photos])
    assert out.features.shape == (2, 512)
    np.testing.assert_allclose(np.linalg.norm(out.features, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(enc.embed_batch([enc.prepare(photos[0])]).features[0], out.features[0], atol=1e-5)
    import sys

    assert "torchvision" not in sys.modules


def test_clap_runs_from_a_cached_snapshot(empty_hf_home: Path, no_network: None) -> None:
    """A tiny random CLAP in the cache: 48 kHz input, long clips centre-cropped, deterministic."""
    from immich_memories_music import tracks_dir
    from transformers import ClapConfig, ClapFeatureExtractor, ClapModel

    from moodbridge.media import decode

    snap = _fake_snapshot(empty_hf_home / "hub", ClapEncoder.repo_id)
    config = ClapConfig(
        text_config=dict(hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2),
        audio_config=dict(depths=[1, 1, 1, 1], num_attention_heads=[1, 1, 1, 1], patch_embeds_hidden_size=8,
                          hidden_size=64, window_size=8, enable_fusion=False),
        projection_dim=512,
    )  # fmt: skip
    ClapModel(config).save_pretrained(snap)
    ClapFeatureExtractor(truncation="rand_trunc").save_pretrained(snap)

    enc = ClapEncoder()
    assert enc.input_spec.sample_rate == 48_000
    track = decode(sorted(Path(tracks_dir()).glob("*/*.opus"))[0], enc.input_spec)
    prepared = enc.prepare(track)
    assert prepared.size == 480_000 and track.size > prepared.size
    np.testing.assert_array_equal(prepared, track[(track.size - 480_000) // 2 :][:480_000])
    enc.load()
    out = enc.embed_batch([prepared, enc.prepare(track[: 48_000 * 3])])
    assert out.features.shape == (2, 512)
    np.testing.assert_allclose(np.linalg.norm(out.features, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(enc.embed_batch([prepared]).features[0], out.features[0], atol=1e-4)
