"""The PyTorch musicnn port against outputs of the original TensorFlow model.

References (``../shared/data/musicnn``) were computed with musicnn 0.1.0 on
TensorFlow (Pons & Serra, 2019); see that folder's README.  Tests that need
them skip when the data or the ``musicnn`` wheel (the weights) is absent.
"""
from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import shared_path

from moodbridge.encoders import get_encoder
from moodbridge.encoders.base import InputSpec
from moodbridge.encoders.musicnn import MusicnnEncoder, MusicnnMSDEncoder, MusicnnMTTEncoder, checkpoint
from moodbridge.encoders.musicnn import frontend
from moodbridge.errors import EncoderUnavailableError, InvalidValueError, TooShortMediaError

MODELS = {"MSD_musicnn": MusicnnMSDEncoder, "MTT_musicnn": MusicnnMTTEncoder}
TRACKS = ["joram", "msd_test", "MT0000040632", "MT0000011357", "MT0000004637", "MT0000054705"]
ATOL_NET = 1e-4  # logits, probabilities, penultimate
ATOL_POOL = 5e-4  # max_pool, mean_pool (values up to ~70: float32 noise of the reference itself)
ATOL_LOGMEL = 1e-5

needs_weights = pytest.mark.skipif(
    importlib.util.find_spec("musicnn") is None, reason="musicnn wheel (weights) not installed"
)


def reference(model: str, name: str) -> dict[str, np.ndarray]:
    with np.load(shared_path("musicnn", f"{model}_{name}.npz")) as z:
        return {k: z[k] for k in z.files}


@pytest.fixture(scope="module")
def encoders() -> dict[str, MusicnnEncoder]:
    if importlib.util.find_spec("musicnn") is None:
        pytest.skip("musicnn wheel (weights) not installed: pip install --no-deps musicnn==0.1.0")
    out = {}
    for model, cls in MODELS.items():
        enc = cls()
        enc.load()
        out[model] = enc
    return out


# ----------------------------------------------------------------------------- network
@pytest.mark.parametrize("name", ["fixed_batch", *TRACKS])
@pytest.mark.parametrize("model", list(MODELS))
def test_network_matches_tensorflow(encoders: dict[str, MusicnnEncoder], model: str, name: str) -> None:
    ref = reference(model, name)
    x = ref["x"] if name == "fixed_batch" else ref["patches"]
    out = encoders[model].patch_outputs(x)
    probs = ref["probs"] if name == "fixed_batch" else ref["taggram"]
    np.testing.assert_allclose(out["logits"], ref["logits"], rtol=0, atol=ATOL_NET)
    np.testing.assert_allclose(out["taggram"], probs, rtol=0, atol=ATOL_NET)
    np.testing.assert_allclose(out["penultimate"], ref["penultimate"], rtol=0, atol=ATOL_NET)
    np.testing.assert_allclose(out["max_pool"], ref["max_pool"], rtol=0, atol=ATOL_POOL)
    np.testing.assert_allclose(out["mean_pool"], ref["mean_pool"], rtol=0, atol=ATOL_POOL)


@pytest.mark.parametrize("model", list(MODELS))
def test_tags_in_reference_order(model: str) -> None:
    ref = reference(model, "fixed_batch")
    cls = MODELS[model]
    assert cls.tags == [str(t) for t in ref["tags"]]
    assert cls.extra_labels["tag_probs_mean"] == cls.tags
    assert len(cls.extra_labels["penultimate_std"]) == cls.dim == ref["penultimate"].shape[1]


@pytest.mark.parametrize("model", list(MODELS))
def test_intermediates_consistent(encoders: dict[str, MusicnnEncoder], model: str) -> None:
    x = reference(model, "fixed_batch")["x"][:2]
    out = encoders[model].patch_outputs(x, intermediates=True)
    assert out["timbral"].shape == (2, 187, 408) and out["temporal"].shape == (2, 187, 153)
    stacked = np.concatenate([out[k] for k in ("timbral", "temporal", "cnn1", "cnn2", "cnn3")], axis=2)
    np.testing.assert_allclose(stacked.max(axis=1), out["max_pool"], rtol=0, atol=1e-5)
    np.testing.assert_allclose(stacked.mean(axis=1), out["mean_pool"], rtol=0, atol=1e-5)


# ----------------------------------------------------------------------------- front end
@pytest.mark.parametrize("track", TRACKS)
def test_logmel_and_patches_match_reference(track: str) -> None:
    ref = reference("MSD_musicnn", track)
    logmel = frontend.log_mel(ref["audio_16k"])
    assert logmel.dtype == np.float32 and logmel.shape == ref["logmel"].shape
    assert logmel.shape[0] == 1 + ref["audio_16k"].size // frontend.FFT_HOP
    np.testing.assert_allclose(logmel, ref["logmel"], rtol=0, atol=ATOL_LOGMEL)
    np.testing.assert_array_equal(frontend.patches(ref["logmel"]), ref["patches"])
    prepared = MusicnnMSDEncoder().prepare(ref["audio_16k"], source=track)
    assert prepared.shape == ref["patches"].shape
    np.testing.assert_allclose(prepared, ref["patches"], rtol=0, atol=ATOL_LOGMEL)


def test_float16_overflow_bug_not_inherited() -> None:
    import librosa

    t = np.arange(4 * frontend.SAMPLE_RATE) / frontend.SAMPLE_RATE
    y = (0.9 * np.sin(2 * np.pi * 440 * t) + 0.05 * np.sin(2 * np.pi * 3000 * t)).astype(np.float32)
    mel = librosa.feature.melspectrogram(y=y.astype(np.float64), sr=16000, n_fft=512, hop_length=256, n_mels=96).T
    assert mel.max() > 6.55  # musicnn's float16 path would overflow here ...
    with np.errstate(over="ignore"):
        buggy = np.log10(np.float16(10000) * mel.astype(np.float16) + np.float16(1))
    assert np.isinf(buggy).any()  # ... as it does under NumPy >= 2
    logmel = frontend.log_mel(y)
    assert np.isfinite(logmel).all()
    np.testing.assert_allclose(logmel, np.log10(10000 * mel + 1), rtol=0, atol=1e-4)
    assert logmel.max() > np.log10(10000 * 6.55 + 1)


def test_real_track_has_bins_that_float16_would_overflow() -> None:
    ref = reference("MSD_musicnn", "MT0000040632")
    logmel = frontend.log_mel(ref["audio_16k"])
    overflow = logmel > np.log10(10000 * 6.55 + 1)  # S > 6.55: inf in musicnn's float16 path
    assert overflow.sum() > 1000 and np.isfinite(logmel).all()
    np.testing.assert_allclose(logmel[overflow], ref["logmel"][overflow], rtol=0, atol=ATOL_LOGMEL)


# ----------------------------------------------------------------------------- encoder
@pytest.mark.parametrize("model", list(MODELS))
def test_embed_batch_reduces_per_clip(encoders: dict[str, MusicnnEncoder], model: str) -> None:
    ref = reference(model, "fixed_batch")
    enc = MODELS[model]()
    enc._net = encoders[model]._net  # share the loaded weights
    enc.chunk_patches = 3  # chunk boundaries cut across clips
    clips = [ref["x"][:1], ref["x"][1:4], ref["x"][2:4]]
    out = enc.embed_batch(clips)
    assert out.features.shape == (3, 200) and out.features.dtype == np.float32
    assert set(out.extras) == {"tag_probs_mean", "tag_probs_std", "penultimate_std"}
    for i, sl in enumerate([slice(0, 1), slice(1, 4), slice(2, 4)]):
        np.testing.assert_allclose(out.features[i], ref["penultimate"][sl].mean(0), rtol=0, atol=ATOL_NET)
        np.testing.assert_allclose(
            out.extras["penultimate_std"][i], ref["penultimate"][sl].std(0), rtol=0, atol=ATOL_NET
        )
        np.testing.assert_allclose(out.extras["tag_probs_mean"][i], ref["probs"][sl].mean(0), rtol=0, atol=ATOL_NET)
        np.testing.assert_allclose(out.extras["tag_probs_std"][i], ref["probs"][sl].std(0), rtol=0, atol=ATOL_NET)
    assert np.all(out.extras["tag_probs_std"][0] == 0)


def test_embed_from_waveform_matches_reference_taggram(encoders: dict[str, MusicnnEncoder]) -> None:
    ref = reference("MTT_musicnn", "MT0000011357")
    enc = encoders["MTT_musicnn"]
    out = enc.embed_batch([enc.prepare(ref["audio_16k"], source="q2")])
    np.testing.assert_allclose(out.extras["tag_probs_mean"][0], ref["taggram"].mean(0), rtol=0, atol=ATOL_NET)
    np.testing.assert_allclose(out.features[0], ref["penultimate"].mean(0), rtol=0, atol=ATOL_NET)


def test_registry_and_interface() -> None:
    for name, cls in (("musicnn-msd", MusicnnMSDEncoder), ("musicnn-mtt", MusicnnMTTEncoder)):
        enc = get_encoder(name)
        assert isinstance(enc, cls)
        assert enc.modality == "audio" and enc.dim == 200 and enc.version.endswith("-torch1")
        assert enc.input_spec == InputSpec("audio", sample_rate=16000)
        assert len(enc.extra_labels["tag_probs_mean"]) == 50


def test_too_short_and_minimum_length() -> None:
    enc = MusicnnMSDEncoder()
    n = frontend.min_samples()
    with pytest.raises(TooShortMediaError, match="at least 3 s"):
        enc.prepare(np.zeros(n - 1, dtype=np.float32), source="short.wav")
    rng = np.random.default_rng(1)
    assert enc.prepare(0.1 * rng.standard_normal(n).astype(np.float32)).shape == (1, 187, 96)
    assert enc.prepare(0.1 * rng.standard_normal(n + 187 * 256 - 1).astype(np.float32)).shape == (1, 187, 96)
    assert enc.prepare(0.1 * rng.standard_normal(n + 187 * 256).astype(np.float32)).shape == (2, 187, 96)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_audio_rejected(bad: float) -> None:
    y = np.zeros(5 * 16000, dtype=np.float32)
    y[1000] = bad
    with pytest.raises(InvalidValueError, match="NaN or infinite"):
        MusicnnMTTEncoder().prepare(y, source="bad.wav")


def test_bad_shapes_rejected() -> None:
    enc = MusicnnMTTEncoder()
    with pytest.raises(InvalidValueError, match="mono"):
        enc.prepare(np.zeros((2, 64000), dtype=np.float32))
    with pytest.raises(InvalidValueError):
        enc.embed_batch([np.zeros((0, 187, 96), dtype=np.float32)])
    with pytest.raises(InvalidValueError):
        enc.embed_batch([])


def test_import_is_cheap() -> None:
    # the model module (torch) and librosa are imported on first use only
    code = (
        "import sys, moodbridge.encoders.musicnn; "
        "assert 'moodbridge.encoders.musicnn.model' not in sys.modules and 'librosa' not in sys.modules"
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    subprocess.run([sys.executable, "-c", code], check=True, env=env)


# ----------------------------------------------------------------------------- checkpoint reader
def test_crc32c_known_values() -> None:
    assert checkpoint.crc32c(b"123456789") == 0xE3069283
    assert checkpoint.crc32c(b"") == 0
    rng = np.random.default_rng(0)
    for n in (1, 3, 4, 5, 255, 256, 257, 1000):
        data = rng.integers(0, 256, n, dtype=np.uint8).tobytes()
        crc = 0xFFFFFFFF
        for b in data:  # bitwise reference
            crc ^= b
            for _ in range(8):
                crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
        assert checkpoint.crc32c(data) == crc ^ 0xFFFFFFFF


@pytest.fixture
def ckpt_copy(tmp_path: Path) -> Path:
    if importlib.util.find_spec("musicnn") is None:
        pytest.skip("musicnn wheel (weights) not installed")
    from moodbridge.encoders.musicnn.model import checkpoint_dir

    dst = tmp_path / "MTT_musicnn"
    dst.mkdir()
    for f in (".index", ".data-00000-of-00001"):
        shutil.copy(checkpoint_dir("MTT_musicnn") / f, dst / f)
    return dst


def test_checkpoint_reader_reads_variables(ckpt_copy: Path) -> None:
    weights = checkpoint.read_checkpoint(f"{ckpt_copy}/", include=lambda n: "Adam" not in n)
    assert weights["conv2d/kernel"].shape == (7, 38, 1, 204)
    assert weights["dense/kernel"].shape == (1506, 200) and weights["dense/kernel"].dtype == np.float32
    assert not any("Adam" in k for k in weights)


def test_checkpoint_corrupt_data_detected(ckpt_copy: Path) -> None:
    _, entries = checkpoint.read_index(f"{ckpt_copy}/")
    entry = entries["dense/kernel"]
    data = bytearray((ckpt_copy / ".data-00000-of-00001").read_bytes())
    data[entry.offset + 1234] ^= 0x10
    (ckpt_copy / ".data-00000-of-00001").write_bytes(bytes(data))
    with pytest.raises(EncoderUnavailableError, match="CRC32C"):
        checkpoint.read_checkpoint(f"{ckpt_copy}/")
    from moodbridge.encoders.musicnn.model import load_musicnn

    with pytest.raises(EncoderUnavailableError):
        load_musicnn("MTT_musicnn", folder=ckpt_copy)


def test_checkpoint_truncated_or_missing(ckpt_copy: Path) -> None:
    data_file = ckpt_copy / ".data-00000-of-00001"
    data_file.write_bytes(data_file.read_bytes()[:100_000])
    with pytest.raises(EncoderUnavailableError, match="truncated"):
        checkpoint.read_checkpoint(f"{ckpt_copy}/")
    data_file.unlink()
    with pytest.raises(EncoderUnavailableError, match="cannot be read"):
        checkpoint.read_checkpoint(f"{ckpt_copy}/")
    (ckpt_copy / ".index").unlink()
    with pytest.raises(EncoderUnavailableError, match="cannot be read"):
        checkpoint.read_checkpoint(f"{ckpt_copy}/")


def test_checkpoint_corrupt_index_detected(ckpt_copy: Path) -> None:
    index = bytearray((ckpt_copy / ".index").read_bytes())
    index[40] ^= 0x01  # inside the first data block
    (ckpt_copy / ".index").write_bytes(bytes(index))
    with pytest.raises(EncoderUnavailableError, match="corrupt"):
        checkpoint.read_index(f"{ckpt_copy}/")
    (ckpt_copy / ".index").write_bytes(b"not a table")
    with pytest.raises(EncoderUnavailableError, match="corrupt"):
        checkpoint.read_index(f"{ckpt_copy}/")


def test_missing_musicnn_package(monkeypatch: pytest.MonkeyPatch) -> None:
    from moodbridge.encoders.musicnn import model

    monkeypatch.setattr(model.importlib.util, "find_spec", lambda name, *a: None)
    with pytest.raises(EncoderUnavailableError, match=r"pip install --no-deps musicnn==0\.1\.0"):
        model.checkpoint_dir("MSD_musicnn")
    enc = MusicnnMSDEncoder()
    with pytest.raises(EncoderUnavailableError, match="musicnn"):
        enc.load()
