"""Low-level image descriptors on the scales of the NAPS norms.

The Nencki Affective Picture System (NAPS; Marchewka et al., 2014) publishes,
beside the valence and arousal ratings of each photograph, a few physical
descriptors of it: mean luminance, contrast, JPEG size, the mean CIE L*a*b*
coordinates and the entropy.  This encoder measures the same descriptors on
any image, on the same scales, so that a model fitted on the NAPS norms (an
emotion head "descriptors -> valence/arousal") can be applied to new images.
It adds two cheap colour descriptors from the colour literature.

The NAPS scales, as checked against the ranges in the published norms: a
luminance of 0-255 (mean grey level; NAPS 36-230), a contrast in grey levels
(NAPS 25-105), an entropy in bits of the 256-bin grey histogram (NAPS
5.0-7.97, at most 8), L* on 0-100 (NAPS 14-91; over NAPS, L* exceeds
luminance / 2.55 by 2.4 +- 1, as the mean L* of sRGB pixels does: a flat grey
of level 116 has L* 48.9, and contrast lowers the mean L* since L* is concave
in the grey level) and a*, b* around 0 (NAPS -28..38 and -40..56).  NAPS
does not say how it made the grey image; BT.709 luma weights fit the NAPS
luminance-L* relation best (see :func:`grey_histogram`).

References
----------
Marchewka, A., Żurawski, Ł., Jednoróg, K., & Grabowska, A. (2014). The Nencki
Affective Picture System (NAPS): introduction to a novel, standardized,
wide-range, high-quality, realistic picture database. *Behavior Research
Methods*, 46(2), 596-610.

Hasler, D., & Süsstrunk, S. (2003). Measuring colourfulness in natural
images. *Proc. SPIE 5007, Human Vision and Electronic Imaging VIII*, 87-95.
"""
from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar

import numpy as np
from PIL import Image

from moodbridge.encoders.base import Encoder, EncoderOutput, Modality, register
from moodbridge.errors import BadDimensionsError, InvalidValueError

#: The descriptors, in the order of the feature vector.
FEATURE_NAMES: tuple[str, ...] = (
    "luminance",
    "contrast",
    "entropy",
    "lab_l",
    "lab_a",
    "lab_b",
    "jpeg_size80",
    "jpeg_bpp80",
    "saturation",
    "colourfulness",
    "width",
    "height",
)

#: Weights of R', G', B' in the grey level (BT.709 / sRGB luma).
LUMA_WEIGHTS: tuple[float, float, float] = (0.2126, 0.7152, 0.0722)

#: JPEG quality of the complexity descriptor (NAPS: quality 80).
JPEG_QUALITY = 80

# PIL modes that hold 8-bit colour or grey and convert to RGB without loss of meaning.
_EIGHT_BIT_MODES = frozenset({"RGB", "RGBA", "RGBX", "L", "LA", "La", "P", "PA", "1", "CMYK", "YCbCr", "HSV", "LAB"})

# sRGB (IEC 61966-2-1) -> CIE XYZ, D65 white, 2-degree observer (as skimage.color).
_SRGB_TO_XYZ = np.array(
    [
        [0.412453, 0.357580, 0.180423],
        [0.212671, 0.715160, 0.072169],
        [0.019334, 0.119193, 0.950227],
    ]
)
_D65_WHITE = np.array([0.95047, 1.0, 1.08883])
# Rows of pixels converted at once: bounds the memory of the float work arrays.
_CHUNK_PIXELS = 1 << 20


def _srgb_linear_lut() -> np.ndarray:
    """Linear-light value of each 8-bit sRGB code (the inverse sRGB companding)."""
    c = np.arange(256, dtype=np.float64) / 255.0
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


_LINEAR_LUT = _srgb_linear_lut().astype(np.float32)
# Rows of the sRGB -> XYZ matrix divided by the white point: X/Xn, Y/Yn, Z/Zn.
_XYZ_OVER_WHITE = (_SRGB_TO_XYZ / _D65_WHITE[:, None]).astype(np.float32)


def as_rgb_image(image: Any, *, source: str = "<input>") -> Image.Image:
    """Check that ``image`` is a usable PIL image and return it in RGB mode.

    Parameters
    ----------
    image
        A :class:`PIL.Image.Image`, normally already RGB (what
        :func:`moodbridge.media.decode` returns for images).  Other 8-bit
        modes (grey, palette, RGBA ...) are converted; alpha is dropped.
    source
        The file it came from, for error messages.

    Returns
    -------
    PIL.Image.Image
        The image in RGB mode.

    Raises
    ------
    InvalidValueError
        If ``image`` is not a PIL image, or is a 16-bit / float image that
        cannot be converted to 8-bit RGB without an arbitrary scaling.
    BadDimensionsError
        If the image has no pixels.
    """
    if not isinstance(image, Image.Image):
        raise InvalidValueError(f"{source}: expected a decoded PIL image, got {type(image).__name__}")
    width, height = image.size
    if width < 1 or height < 1:
        raise BadDimensionsError(source, f"image has no pixels ({width}x{height})")
    if image.mode == "RGB":
        return image
    if image.mode not in _EIGHT_BIT_MODES:
        raise InvalidValueError(
            f"{source}: image mode {image.mode!r} is not 8-bit colour; decode it with moodbridge.media.decode"
        )
    return image.convert("RGB")


def grey_histogram(image: Image.Image) -> np.ndarray:
    """256-bin histogram of the grey levels of an RGB image.

    Grey is the luma ``0.2126 R' + 0.7152 G' + 0.0722 B'`` of the 8-bit
    (gamma-encoded) values, rounded to 8 bits: the BT.709 / sRGB weights
    (:data:`LUMA_WEIGHTS`).  NAPS does not give its grey conversion; these
    weights reproduce the relation between luminance and L* in the NAPS norms
    better than MATLAB's ``rgb2gray`` (BT.601) weights do: on 39 crops of
    real photographs within the NAPS ranges, a regression of the NAPS
    ``lab_l - luminance / 2.55`` on luminance, contrast, ``|a*|`` and ``|b*|``
    predicts ours with an RMS error of 0.77 L* units with BT.709 grey and
    1.37 with BT.601 grey (0.52 within NAPS itself).
    """
    grey = image.convert("L", matrix=(*LUMA_WEIGHTS, 0.0))
    return np.asarray(grey.histogram(), dtype=np.float64)


def grey_statistics(hist: np.ndarray) -> tuple[float, float, float]:
    """Mean, standard deviation and entropy of a grey-level histogram.

    Parameters
    ----------
    hist
        Counts of the 256 grey levels.

    Returns
    -------
    luminance : float
        Mean grey level, 0-255.
    contrast : float
        Standard deviation of the grey levels (population SD, ``ddof=0``).
    entropy : float
        Shannon entropy of the grey-level distribution in bits, 0-8
        (MATLAB's ``entropy`` of a uint8 image).
    """
    total = float(hist.sum())
    p = hist / total
    levels = np.arange(hist.size, dtype=np.float64)
    mean = float(p @ levels)
    var = float(p @ (levels - mean) ** 2)
    nz = p[p > 0]
    entropy = float(-(nz * np.log2(nz)).sum())
    return mean, float(np.sqrt(var)), abs(entropy)


def jpeg_size(image: Image.Image, *, quality: int = JPEG_QUALITY) -> int:
    """Size in bytes of the image saved as baseline JPEG at ``quality``.

    PIL's libjpeg defaults are used (4:2:0 chroma subsampling, no optimised
    Huffman tables, no metadata).  A measure of visual complexity: detail and
    noise cost bytes, flat areas do not.  It depends on the resolution; NAPS
    photographs are 1600x1200 (or 1200x1600).
    """
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    return buffer.tell()


def _pixel_chunks(rgb: np.ndarray) -> Iterator[np.ndarray]:
    """``(n, 3)`` uint8 blocks of whole rows of an ``(H, W, 3)`` image."""
    height, width = rgb.shape[:2]
    rows = max(1, _CHUNK_PIXELS // max(1, width))
    for top in range(0, height, rows):
        yield rgb[top : top + rows].reshape(-1, 3)


def _lab_f(t: np.ndarray) -> np.ndarray:
    """The CIE L*a*b* companding function ``f`` (in place on float32 ``t``)."""
    delta = 6.0 / 29.0
    small = t <= delta**3
    linear_part = t[small] / (3.0 * delta**2) + 4.0 / 29.0
    np.cbrt(t, out=t)
    t[small] = linear_part
    return t


def _lab_sums(pixels: np.ndarray) -> np.ndarray:
    """Sums of L*, a*, b* (CIE 1976, D65, 2-degree) over ``(n, 3)`` uint8 sRGB pixels.

    Per-pixel work is in float32, sums are accumulated in float64.
    """
    linear = _LINEAR_LUT[pixels]
    fx, fy, fz = (_lab_f(linear @ _XYZ_OVER_WHITE[i]) for i in range(3))
    sum_fx, sum_fy, sum_fz = (float(f.sum(dtype=np.float64)) for f in (fx, fy, fz))
    n = float(pixels.shape[0])
    return np.array([116.0 * sum_fy - 16.0 * n, 500.0 * (sum_fx - sum_fy), 200.0 * (sum_fy - sum_fz)])


def _opponent_sums(pixels: np.ndarray) -> np.ndarray:
    """Sums and sums of squares of the opponent channels ``rg`` and ``yb`` (0-255 units).

    Computed exactly in integers, with ``2 yb = R + G - 2 B``.
    """
    r, g, b = (pixels[:, i].astype(np.int64) for i in range(3))
    rg = r - g
    yb2 = r + g - 2 * b
    return np.array(
        [float(rg.sum()), float((rg * rg).sum()), 0.5 * float(yb2.sum()), 0.25 * float((yb2 * yb2).sum())]
    )


def colour_statistics(image: Image.Image) -> tuple[float, float, float, float]:
    """Mean CIE L*a*b* and the colourfulness of an RGB image.

    The pixels are taken as sRGB, linearised, converted to CIE XYZ and then to
    CIE L*a*b* with the D65 white point and the 2-degree observer (the
    defaults of MATLAB's ``rgb2lab`` and of ``skimage.color.rgb2lab``); the
    means are over all pixels.  Colourfulness is the metric M of Hasler &
    Süsstrunk (2003) in 0-255 units: with ``rg = R - G`` and
    ``yb = (R + G) / 2 - B``, ``M = sqrt(sd_rg² + sd_yb²) + 0.3 sqrt(mean_rg² + mean_yb²)``
    (0 for grey images; about 15 "slightly", 33 "moderately", 59 "quite",
    82 "highly", 109 "extremely colourful").

    Returns
    -------
    lab_l, lab_a, lab_b, colourfulness : float
    """
    rgb = np.asarray(image, dtype=np.uint8)
    n = float(rgb.shape[0] * rgb.shape[1])
    lab = np.zeros(3)
    opp = np.zeros(4)
    for pixels in _pixel_chunks(rgb):
        lab += _lab_sums(pixels)
        opp += _opponent_sums(pixels)
    lab /= n
    mean_rg, mean_yb = opp[0] / n, opp[2] / n
    var_rg = max(opp[1] / n - mean_rg**2, 0.0)
    var_yb = max(opp[3] / n - mean_yb**2, 0.0)
    colourfulness = float(np.sqrt(var_rg + var_yb) + 0.3 * np.hypot(mean_rg, mean_yb))
    return float(lab[0]), float(lab[1]), float(lab[2]), colourfulness


def mean_saturation(image: Image.Image) -> float:
    """Mean HSV saturation ``(max - min) / max`` of an RGB image, 0-1 (0 for black pixels)."""
    hist = np.asarray(image.convert("HSV").getchannel("S").histogram(), dtype=np.float64)
    return float(hist @ np.arange(256.0) / hist.sum() / 255.0)


def describe(image: Image.Image) -> dict[str, float]:
    """All descriptors of one RGB image, by name (see :data:`FEATURE_NAMES`).

    Parameters
    ----------
    image
        An RGB PIL image of at least one pixel.

    Returns
    -------
    dict
        ``luminance`` (mean grey level, 0-255), ``contrast`` (SD of the grey
        levels), ``entropy`` (bits, 0-8), ``lab_l`` (0-100), ``lab_a``,
        ``lab_b`` (means of CIE a*, b*), ``jpeg_size80`` (bytes at quality 80
        at the image's own resolution), ``jpeg_bpp80`` (the same per pixel, a
        resolution-independent complexity), ``saturation`` (mean HSV
        saturation, 0-1), ``colourfulness`` (Hasler & Süsstrunk M),
        ``width`` and ``height`` (pixels).
    """
    luminance, contrast, entropy = grey_statistics(grey_histogram(image))
    lab_l, lab_a, lab_b, colourfulness = colour_statistics(image)
    size = jpeg_size(image)
    width, height = image.size
    return {
        "luminance": luminance,
        "contrast": contrast,
        "entropy": entropy,
        "lab_l": lab_l,
        "lab_a": lab_a,
        "lab_b": lab_b,
        "jpeg_size80": float(size),
        "jpeg_bpp80": size / float(width * height),
        "saturation": mean_saturation(image),
        "colourfulness": colourfulness,
        "width": float(width),
        "height": float(height),
    }


class ImageStatsEncoder(Encoder):
    """Low-level photographic descriptors comparable with the NAPS norms.

    The feature vector holds, in the order of :attr:`feature_names`:

    ``luminance``
        Mean grey level (BT.709 luma, 8-bit), 0-255, as NAPS.
    ``contrast``
        Standard deviation of the grey levels, as NAPS.
    ``entropy``
        Shannon entropy of the 256-bin grey histogram in bits (0-8), as NAPS.
    ``lab_l``, ``lab_a``, ``lab_b``
        Mean CIE L*a*b* coordinates (sRGB, D65, L* in 0-100), as NAPS.
    ``jpeg_size80``
        Bytes of the image saved as JPEG at quality 80, as NAPS; depends on
        the resolution (NAPS photographs are 1600x1200).
    ``jpeg_bpp80``
        ``jpeg_size80`` per pixel (not in NAPS; comparable across sizes).
    ``saturation``
        Mean HSV saturation, 0-1 (not in NAPS).
    ``colourfulness``
        Colourfulness M of Hasler & Süsstrunk (2003), 0-255 units (not in NAPS).
    ``width``, ``height``
        Size in pixels, as NAPS.

    The descriptors are deterministic and computed at the image's own
    resolution.  They are measured in :meth:`prepare` (CPU work that a
    pipeline may run in parallel); :meth:`embed_batch` stacks them.

    References
    ----------
    Marchewka, A., Żurawski, Ł., Jednoróg, K., & Grabowska, A. (2014). The
    Nencki Affective Picture System (NAPS). *Behavior Research Methods*,
    46(2), 596-610.

    Hasler, D., & Süsstrunk, S. (2003). Measuring colourfulness in natural
    images. *Proc. SPIE 5007*, 87-95.
    """

    name: ClassVar[str] = "image-stats"
    version: ClassVar[str] = "1"
    modality: ClassVar[Modality] = "image"
    dim: ClassVar[int] = len(FEATURE_NAMES)
    feature_names: ClassVar[tuple[str, ...]] = FEATURE_NAMES
    extra_labels: ClassVar[dict[str, list[str]]] = {}
    batch_size: ClassVar[int] = 64
    description: ClassVar[str] = (
        "Low-level descriptors on the NAPS scales (Marchewka et al. 2014): luminance, contrast, "
        "entropy, mean CIE L*a*b*, JPEG-80 size, plus saturation and Hasler-Susstrunk colourfulness."
    )

    def prepare(self, decoded: Any, *, source: str = "<input>") -> np.ndarray:
        """Measure the descriptors of one decoded image.

        Parameters
        ----------
        decoded
            A PIL image (RGB, as :func:`moodbridge.media.decode` returns).
        source
            The file it came from, for error messages.

        Returns
        -------
        numpy.ndarray
            ``(dim,)`` float64 descriptors in the order of :attr:`feature_names`.
        """
        values = describe(as_rgb_image(decoded, source=source))
        return np.array([values[k] for k in FEATURE_NAMES], dtype=np.float64)

    def embed_batch(self, prepared: Sequence[Any]) -> EncoderOutput:
        """Stack prepared descriptor vectors into an ``(N, dim)`` output.

        Raises
        ------
        InvalidValueError
            If the batch is empty, or an item has the wrong shape or a
            non-finite value.
        """
        if len(prepared) == 0:
            raise InvalidValueError(f"{self.name}: empty batch")
        rows = [np.asarray(p, dtype=np.float64) for p in prepared]
        for i, row in enumerate(rows):
            if row.shape != (self.dim,):
                raise InvalidValueError(f"{self.name}: item {i} has shape {row.shape}, expected ({self.dim},)")
            if not np.all(np.isfinite(row)):
                raise InvalidValueError(f"{self.name}: item {i} has non-finite descriptors")
        return EncoderOutput(features=np.stack(rows))


register(ImageStatsEncoder.name, ImageStatsEncoder)
