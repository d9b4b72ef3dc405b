"""Tests of the image encoders ``effnet-lite0`` and ``image-stats``.

EfficientNet-Lite0 is checked with real inference on real photographs from
scikit-image's bundled sample data; the NAPS-scale descriptors against values
computed by hand, against scikit-image, and against the NAPS norms in
``../shared/data`` (skipped when absent).
"""
from __future__ import annotations

import csv
import io

import numpy as np
import pytest
import skimage.color
import skimage.data
from PIL import Image

from conftest import shared_path
from moodbridge.encoders import get_encoder
from moodbridge.encoders import image_stats
from moodbridge.encoders.base import EncoderOutput
from moodbridge.encoders.effnet import (
    CROP_FRACTION,
    MEAN_RGB,
    STDDEV_RGB,
    imagenet_class_names,
    imagenet_class_synonyms,
    preprocess,
)
from moodbridge.errors import BadDimensionsError, InvalidValueError, MoodbridgeError

# Colour photographs bundled with scikit-image (no download needed).
PHOTOS = ("chelsea", "coffee", "astronaut", "rocket", "stereo_motorcycle")


def _photo(name: str) -> Image.Image:
    data = getattr(skimage.data, name)()
    if isinstance(data, tuple):  # stereo pairs
        data = data[0]
    return Image.fromarray(data).convert("RGB")


def _srgb_lightness(level: float) -> float:
    """CIE L* of the sRGB grey ``(level, level, level)``, by the textbook formulas."""
    c = level / 255.0
    y = c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
    return 116.0 * y ** (1.0 / 3.0) - 16.0 if y > (6 / 29) ** 3 else 903.2963 * y


# --------------------------------------------------------------------------- effnet


@pytest.fixture(scope="module")
def effnet():
    enc = get_encoder("effnet-lite0")
    enc.load()
    return enc


@pytest.fixture(scope="module")
def photo_outputs(effnet):
    names = (*PHOTOS, "camera")
    out = effnet.embed_batch([effnet.prepare(_photo(n), source=n) for n in names])
    return dict(zip(names, range(len(names)))), out


def test_effnet_registered_with_interface(effnet):
    assert effnet.name == "effnet-lite0"
    assert effnet.modality == "image"
    assert effnet.dim == 1280
    assert effnet.key.startswith("effnet-lite0@")
    assert effnet.description


def test_imagenet_class_names_are_in_index_order():
    names = imagenet_class_names()
    assert len(names) == 1000 and len(set(names)) == 1000
    assert names[0] == "tench"
    assert names[281] == "tabby"
    assert names[504] == "coffee mug"
    assert names[967] == "espresso"
    assert names[968] == "cup"
    assert names[999] == "toilet tissue"
    assert {names[134], names[517]} == {"crane (bird)", "crane (machine)"}
    synonyms = imagenet_class_synonyms()
    assert len(synonyms) == 1000
    assert synonyms[281] == ["tabby", "tabby cat"]
    assert get_encoder("effnet-lite0").extra_labels["class_probs"] == names


@pytest.mark.parametrize(
    ("photo", "expected"),
    [
        ("chelsea", {281, 282, 283, 284, 285}),  # tabby, tiger cat, Persian, Siamese, Egyptian cat
        ("coffee", {967, 968, 504}),  # espresso, cup, coffee mug
        ("rocket", {657, 744, 812}),  # missile, projectile, space shuttle
        ("stereo_motorcycle", {665, 670}),  # moped, motor scooter
        ("camera", {872, 759}),  # tripod, reflex camera (the cameraman)
    ],
)
def test_effnet_top5_on_real_photographs(photo_outputs, photo, expected):
    index, out = photo_outputs
    probs = out.extras["class_probs"][index[photo]]
    top5 = set(np.argsort(-probs)[:5].tolist())
    assert top5 & expected, f"{photo}: top-5 {sorted(top5)} misses {sorted(expected)}"
    assert probs[sorted(expected)].sum() > 0.3


def test_effnet_confident_on_espresso(photo_outputs):
    index, out = photo_outputs
    probs = out.extras["class_probs"][index["coffee"]]
    assert int(np.argmax(probs)) == 967
    assert probs[967] > 0.8


def test_effnet_output_shapes_and_ranges(photo_outputs):
    _, out = photo_outputs
    n = len(PHOTOS) + 1
    assert out.features.shape == (n, 1280) and out.features.dtype == np.float32
    assert out.extras["class_probs"].shape == (n, 1000)
    np.testing.assert_allclose(out.extras["class_probs"].sum(axis=1), 1.0, atol=1e-5)
    # ReLU6 activations, averaged: within [0, 6] and not all zero.
    assert out.features.min() >= 0.0 and out.features.max() <= 6.0
    assert (out.features.std(axis=0) > 0).sum() > 500


def test_effnet_matches_the_package_forward_pass(effnet):
    import torch

    prepared = [effnet.prepare(_photo(n)) for n in ("chelsea", "coffee")]
    out = effnet.embed_batch(prepared)
    x = (torch.tensor(np.stack(prepared), dtype=torch.float32).permute(0, 3, 1, 2) - 127.0) / 128.0
    with torch.inference_mode():
        logits = effnet._net(x)
    np.testing.assert_allclose(out.extras["class_probs"], torch.softmax(logits, 1).numpy(), atol=1e-5)


def test_effnet_normalisation_matches_the_weights_batchnorm_statistics(effnet):
    """With the right normalisation the stem's batch variance matches its BN running variance.

    The torchvision ImageNet mean/std would make it about 4-5 times too large.
    """
    import torch

    batch = np.stack([effnet.prepare(_photo(n)) for n in PHOTOS]).astype(np.float32)

    def log_var_ratio(x: np.ndarray) -> float:
        with torch.inference_mode():
            y = effnet._net._conv_stem(torch.from_numpy(x).permute(0, 3, 1, 2).contiguous())
        bn = effnet._net._bn0
        keep = bn.running_var > 1e-4
        return float(torch.log(y.var(dim=(0, 2, 3))[keep] / bn.running_var[keep]).mean())

    assert abs(log_var_ratio((batch - MEAN_RGB) / STDDEV_RGB)) < 0.4
    imagenet = (batch / 255.0 - np.array([0.485, 0.456, 0.406])) / np.array([0.229, 0.224, 0.225])
    assert log_var_ratio(imagenet.astype(np.float32)) > 1.0


def test_effnet_batch_invariance(effnet):
    prepared = [effnet.prepare(_photo(n)) for n in ("chelsea", "rocket", "coffee")]
    together = effnet.embed_batch(prepared)
    alone = EncoderOutput.concat([effnet.embed_batch([p]) for p in prepared])
    np.testing.assert_allclose(together.features, alone.features, atol=1e-4)
    np.testing.assert_allclose(together.extras["class_probs"], alone.extras["class_probs"], atol=1e-5)


def test_preprocess_keeps_the_central_square():
    # A 320x320 blue image inside a 16-pixel red frame; the crop keeps the central 280 px.
    assert CROP_FRACTION == pytest.approx(0.875)
    image = Image.new("RGB", (320, 320), (255, 0, 0))
    image.paste((0, 0, 255), (16, 16, 304, 304))
    out = preprocess(image)
    assert out.shape == (224, 224, 3) and out.dtype == np.uint8
    assert out[..., 0].max() <= 2 and out[..., 2].min() >= 253


def test_preprocess_crops_landscape_images_to_their_centre():
    image = Image.new("RGB", (400, 200), (0, 255, 0))
    image.paste((255, 0, 0), (0, 0, 100, 200))  # the left quarter is outside the centre crop
    out = preprocess(image)
    assert out[..., 0].max() <= 2


@pytest.mark.parametrize("size", [(1, 1), (3, 5000), (5000, 2)])
def test_effnet_accepts_tiny_and_extreme_images(effnet, size):
    out = effnet.embed_batch([effnet.prepare(Image.new("RGB", size, (200, 40, 40)))])
    assert out.features.shape == (1, 1280)
    assert np.all(np.isfinite(out.features))


def test_effnet_accepts_other_8bit_modes(effnet):
    grey = _photo("camera").convert("L")
    rgba = _photo("coffee").convert("RGBA")
    assert effnet.prepare(grey).shape == (224, 224, 3)
    assert effnet.prepare(rgba).shape == (224, 224, 3)


def test_effnet_errors(effnet):
    with pytest.raises(InvalidValueError):
        effnet.prepare(np.zeros((10, 10, 3), dtype=np.uint8), source="x.png")
    with pytest.raises(InvalidValueError):
        effnet.prepare(Image.new("I;16", (8, 8)), source="deep.png")
    with pytest.raises(BadDimensionsError):
        effnet.prepare(Image.new("RGB", (0, 4)), source="empty.png")
    nan_item = np.full((224, 224, 3), 100.0, dtype=np.float32)
    nan_item[0, 0, 0] = np.nan
    with pytest.raises(InvalidValueError, match="NaN"):
        effnet.embed_batch([nan_item])
    with pytest.raises(InvalidValueError):
        effnet.embed_batch([np.zeros((10, 10, 3), dtype=np.uint8)])
    with pytest.raises(InvalidValueError):
        effnet.embed_batch([])


# --------------------------------------------------------------------------- image-stats


@pytest.fixture(scope="module")
def stats():
    return get_encoder("image-stats")


def _describe(image: Image.Image) -> dict[str, float]:
    enc = get_encoder("image-stats")
    return dict(zip(enc.feature_names, enc.prepare(image)))


def test_image_stats_registered_with_interface(stats):
    assert stats.name == "image-stats"
    assert stats.modality == "image"
    assert stats.dim == len(stats.feature_names) == 12
    assert stats.feature_names[:6] == ("luminance", "contrast", "entropy", "lab_l", "lab_a", "lab_b")
    assert {"jpeg_size80", "width", "height", "saturation", "colourfulness"} <= set(stats.feature_names)


@pytest.mark.parametrize("level", [0, 37, 128, 200, 255])
def test_uniform_grey_image(level):
    d = _describe(Image.new("RGB", (64, 48), (level, level, level)))
    assert d["luminance"] == pytest.approx(level, abs=1e-9)
    assert d["contrast"] == pytest.approx(0.0, abs=1e-9)
    assert d["entropy"] == pytest.approx(0.0, abs=1e-12)
    assert d["lab_l"] == pytest.approx(_srgb_lightness(level), abs=1e-3)
    assert d["lab_a"] == pytest.approx(0.0, abs=0.01)
    assert d["lab_b"] == pytest.approx(0.0, abs=0.01)
    assert d["saturation"] == 0.0
    assert d["colourfulness"] == pytest.approx(0.0, abs=1e-9)
    assert (d["width"], d["height"]) == (64.0, 48.0)


def test_half_black_half_white_image():
    image = Image.new("RGB", (40, 10), (0, 0, 0))
    image.paste((255, 255, 255), (20, 0, 40, 10))
    d = _describe(image)
    assert d["luminance"] == pytest.approx(127.5)
    assert d["contrast"] == pytest.approx(127.5)
    assert d["entropy"] == pytest.approx(1.0)
    assert d["lab_l"] == pytest.approx(50.0, abs=1e-3)


def test_four_equal_grey_levels_have_two_bits_of_entropy():
    image = Image.new("RGB", (4, 1))
    for x, level in enumerate((10, 80, 150, 220)):
        image.putpixel((x, 0), (level, level, level))
    d = _describe(image)
    assert d["entropy"] == pytest.approx(2.0)
    assert d["luminance"] == pytest.approx(115.0)
    assert d["contrast"] == pytest.approx(np.std([10, 80, 150, 220]))


def test_pure_red_colour_descriptors():
    d = _describe(Image.new("RGB", (8, 8), (255, 0, 0)))
    # CIE L*a*b* of sRGB red (D65): about (53.24, 80.09, 67.20).
    assert d["lab_l"] == pytest.approx(53.24, abs=0.05)
    assert d["lab_a"] == pytest.approx(80.09, abs=0.1)
    assert d["lab_b"] == pytest.approx(67.20, abs=0.1)
    assert d["saturation"] == pytest.approx(1.0)
    # Hasler & Süsstrunk: no spread, mean rg = 255, mean yb = 127.5.
    assert d["colourfulness"] == pytest.approx(0.3 * np.hypot(255.0, 127.5))
    assert d["luminance"] == pytest.approx(round(0.2126 * 255))


def test_jpeg_size_grows_with_detail():
    rng = np.random.default_rng(0)
    flat = Image.new("RGB", (256, 256), (120, 120, 120))
    ramp = Image.fromarray(np.repeat(np.tile(np.arange(256, dtype=np.uint8), (256, 1))[..., None], 3, axis=2))
    noise = Image.fromarray(rng.integers(0, 256, (256, 256, 3), dtype=np.uint8))
    sizes = [_describe(im)["jpeg_size80"] for im in (flat, ramp, noise)]
    assert sizes[0] < sizes[1] < sizes[2]
    assert sizes[2] > 10 * sizes[0]
    buffer = io.BytesIO()
    noise.save(buffer, format="JPEG", quality=80)
    assert sizes[2] == buffer.tell()
    assert _describe(noise)["jpeg_bpp80"] == pytest.approx(sizes[2] / 256**2)


@pytest.mark.parametrize("name", ["coffee", "chelsea"])
def test_lab_means_agree_with_skimage(name):
    image = _photo(name)
    d = _describe(image)
    reference = skimage.color.rgb2lab(np.asarray(image)).reshape(-1, 3).mean(axis=0)
    np.testing.assert_allclose([d["lab_l"], d["lab_a"], d["lab_b"]], reference, atol=1e-3)


def test_colourfulness_and_saturation_agree_with_numpy():
    rgb = np.asarray(_photo("coffee"), dtype=np.float64).reshape(-1, 3)
    rg = rgb[:, 0] - rgb[:, 1]
    yb = 0.5 * (rgb[:, 0] + rgb[:, 1]) - rgb[:, 2]
    expected = np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean())
    top = rgb.max(axis=1)
    saturation = np.where(top > 0, (top - rgb.min(axis=1)) / np.maximum(top, 1), 0.0).mean()
    d = _describe(_photo("coffee"))
    assert d["colourfulness"] == pytest.approx(expected, rel=1e-9)
    assert d["saturation"] == pytest.approx(saturation, abs=0.005)


def test_chunked_accumulation_equals_one_pass(monkeypatch):
    image = _photo("astronaut")
    whole = _describe(image)
    monkeypatch.setattr(image_stats, "_CHUNK_PIXELS", 1000)
    chunked = _describe(image)
    for key in whole:
        assert chunked[key] == pytest.approx(whole[key], rel=1e-6, abs=1e-6), key


def test_image_stats_are_deterministic_and_batch_stacks(stats):
    prepared = [stats.prepare(_photo(n)) for n in ("rocket", "chelsea")]
    again = [stats.prepare(_photo(n)) for n in ("rocket", "chelsea")]
    np.testing.assert_array_equal(prepared, again)
    out = stats.embed_batch(prepared)
    assert out.features.shape == (2, stats.dim) and out.extras == {}
    np.testing.assert_allclose(out.features[1], prepared[1], rtol=1e-6)


def test_image_stats_errors(stats):
    with pytest.raises(InvalidValueError):
        stats.prepare("not an image")
    with pytest.raises(BadDimensionsError):
        stats.prepare(Image.new("RGB", (5, 0)), source="flat.png")
    with pytest.raises(InvalidValueError):
        stats.prepare(Image.new("F", (4, 4)))
    with pytest.raises(InvalidValueError):
        stats.embed_batch([])
    with pytest.raises(InvalidValueError):
        stats.embed_batch([np.full(stats.dim, np.nan)])
    with pytest.raises(MoodbridgeError):
        stats.embed_batch([np.zeros(3)])


# --------------------------------------------------------------------------- NAPS norms


@pytest.fixture(scope="module")
def naps() -> dict[str, np.ndarray]:
    path = shared_path("naps", "naps_ratings.csv")
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    keys = ("luminance", "contrast", "entropy", "lab_l", "lab_a", "lab_b", "jpeg_size80", "width", "height")
    return {k: np.array([float(r[k]) for r in rows]) for k in keys}


@pytest.mark.shared_data
@pytest.mark.parametrize("name", PHOTOS)
def test_descriptors_of_photographs_lie_in_the_naps_ranges(naps, name):
    d = _describe(_photo(name))
    for key in ("luminance", "contrast", "entropy", "lab_l", "lab_a", "lab_b"):
        assert naps[key].min() <= d[key] <= naps[key].max(), key
    bpp = naps["jpeg_size80"] / (naps["width"] * naps["height"])
    assert bpp.min() <= d["jpeg_bpp80"] <= bpp.max()


@pytest.mark.shared_data
def test_lightness_luminance_relation_matches_naps(naps):
    """Our L* and luminance relate as NAPS's do (so both use the same scales and definitions).

    Over NAPS, ``lab_l - luminance / 2.55`` is predicted from luminance,
    contrast, |a*| and |b*| to 0.5 L* units; the same regression must predict
    ours on real photographs to within 2.5.  L* without gamma decoding, or on
    a 0-255 scale, or luminance on 0-1, would miss by tens.
    """
    def design(d: dict) -> np.ndarray:
        lum = np.atleast_1d(d["luminance"])
        return np.column_stack(
            [np.ones_like(lum), lum, lum**2, np.atleast_1d(d["contrast"]),
             np.abs(np.atleast_1d(d["lab_a"])), np.abs(np.atleast_1d(d["lab_b"]))]
        )

    target = naps["lab_l"] - naps["luminance"] / 2.55
    beta, *_ = np.linalg.lstsq(design(naps), target, rcond=None)
    assert np.std(target - design(naps) @ beta) < 0.6
    residuals = []
    for name in PHOTOS:
        d = _describe(_photo(name))
        residuals.append(float(d["lab_l"] - d["luminance"] / 2.55 - (design(d) @ beta)[0]))
    assert np.max(np.abs(residuals)) < 2.5, residuals
    assert abs(np.mean(residuals)) < 1.5, residuals
