"""Decode images to 8-bit RGB with Pillow, rejecting what Pillow would accept silently.

* Truncated files raise :class:`~moodbridge.errors.TruncatedMediaError`:
  ``PIL.ImageFile.LOAD_TRUNCATED_IMAGES`` is never set here, and decoding
  warns if another library has set it (Pillow would then pad truncated JPEG
  and PNG data with grey). WebP length is checked against its RIFF header;
  every PNG chunk's CRC-32 is checked (Pillow skips the image data's, so bit
  errors would decode into wrong pixels).
* Dimensions are checked from the header before any pixel is decoded, so a
  crafted 100 000 x 100 000 PNG costs nothing (``too large``, naming the
  limit of :mod:`moodbridge.media.limits`).
* Images above the decode budget (:func:`moodbridge.media.limits.decode_pixels`)
  are decoded at reduced size: JPEG by ``draft`` (the decoder's own 1/2 … 1/8
  scaling, so the full image never exists in memory), other formats by
  ``Image.reduce`` right after decoding, before any colour conversion.
* The EXIF orientation is applied; only the first frame of an animation or
  multi-page TIFF is used.
* Colour modes become RGB "sensibly": alpha (and palette transparency) is
  composited over white, 16-bit and 32-bit greyscale are rescaled to 8 bits
  rather than clipped, float images are scaled from [0, 1] (or min-max),
  CMYK/YCbCr/LAB/HSV are converted by Pillow.
"""

from __future__ import annotations

import mmap
import warnings
import zlib
from pathlib import Path

import numpy as np
from PIL import Image, ImageFile

from moodbridge.errors import (
    BadDimensionsError,
    CorruptMediaError,
    TooLargeMediaError,
    TooSmallImageError,
    TruncatedMediaError,
)
from moodbridge.media import limits
from moodbridge.media.limits import MAX_PIXELS
from moodbridge.media.sniff import FileFormat, decoding_errors, file_size, read_head, sniff_format

#: smallest accepted side, in pixels
MIN_SIDE = 2
#: background that transparent pixels are composited over
BACKGROUND = (255, 255, 255)

_PIL_FORMATS = {
    "jpeg": "JPEG",
    "png": "PNG",
    "gif": "GIF",
    "webp": "WEBP",
    "bmp": "BMP",
    "tiff": "TIFF",
    "avif": "AVIF",
}


def check_dimensions(path: str | Path, width: int, height: int, *, max_pixels: int | None = None) -> None:
    """Raise :class:`TooSmallImageError` for a side under :data:`MIN_SIDE`, :class:`TooLargeMediaError`
    for more than ``max_pixels`` (default :func:`moodbridge.media.limits.max_pixels`)."""
    max_pixels = max_pixels or limits.max_pixels()
    if min(width, height) < MIN_SIDE:
        raise TooSmallImageError(path, f"{width}x{height} pixels: each side must be at least {MIN_SIDE}")
    if width * height > max_pixels:
        raise TooLargeMediaError(
            path, f"{width}x{height} = {width * height / 1e6:.0f} MP exceeds the limit of "
            f"{max_pixels / 1e6:.0f} MP (moodbridge's MOODBRIDGE_MAX_PIXELS)"
        )


def check_png_chunks(path: str | Path) -> None:
    """Every PNG chunk must be whole and pass its CRC-32 (Pillow does not check the image data's).

    Raises :class:`TruncatedMediaError` for a chunk cut short, :class:`CorruptMediaError`
    for a checksum that fails (bit errors Pillow would decode into wrong pixels).
    """
    size = file_size(path)
    try:
        with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
            pos = 8
            while pos + 8 <= size:
                length = int.from_bytes(data[pos : pos + 4], "big")
                kind = bytes(data[pos + 4 : pos + 8])
                end = pos + 12 + length
                if end > size:
                    raise TruncatedMediaError(
                        path, f"the PNG ends early: its chunk {kind.decode('latin-1')!r} at byte {pos} "
                        f"needs {12 + length} bytes, {size - pos} remain")
                stated = int.from_bytes(data[end - 4 : end], "big")
                if zlib.crc32(data[pos + 4 : end - 4]) != stated:
                    raise CorruptMediaError(
                        path, f"the PNG chunk {kind.decode('latin-1')!r} at byte {pos} fails its CRC "
                        f"({length} bytes of damaged data)")
                if kind == b"IEND":
                    return
                pos = end
    except OSError as exc:
        raise CorruptMediaError(path, f"cannot read the PNG chunks ({exc.strerror or exc})") from exc


def _check_riff_length(path: str | Path) -> None:
    """WebP is a RIFF file: its header states the file's length."""
    head = read_head(path, 12)
    declared = int.from_bytes(head[4:8], "little") + 8
    actual = file_size(path)
    if actual < declared:
        raise TruncatedMediaError(path, f"the WebP file is {actual} bytes but its header says {declared}")


def _open(path: str | Path, fmt: FileFormat, max_pixels: int) -> Image.Image:
    """Open lazily (header only) and check the dimensions."""
    with warnings.catch_warnings():
        # Pillow warns (and errors at 2x its own limit) about large images; we apply our own limit.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            im = Image.open(path, formats=[_PIL_FORMATS[fmt.name]])
        except Image.DecompressionBombError:
            raise TooLargeMediaError(
                path, f"more than {2 * (Image.MAX_IMAGE_PIXELS or 0) / 1e6:.0f} MP exceeds the limit of "
                f"{max_pixels / 1e6:.0f} MP (MOODBRIDGE_MAX_PIXELS)") from None
        except (Image.UnidentifiedImageError, SyntaxError, EOFError, OSError, ValueError) as exc:
            raise _load_error(path, fmt, exc) from exc
    try:
        check_dimensions(path, *im.size, max_pixels=max_pixels)
    except BadDimensionsError:
        im.close()
        raise
    return im


def _load_error(path: str | Path, fmt: FileFormat, exc: BaseException) -> CorruptMediaError:
    message = str(exc) or type(exc).__name__
    if isinstance(exc, EOFError) or "truncated" in message:
        return TruncatedMediaError(path, f"{fmt.label} ends early ({message})")
    return CorruptMediaError(path, f"cannot decode {fmt.label}: {message}")


def _draft(im: Image.Image, budget: int) -> None:
    """Ask the JPEG decoder for a 1/2 … 1/8 scaled decode when the image is above ``budget`` pixels."""
    w, h = im.size
    if im.format == "JPEG" and w * h > budget:
        scale = (budget / (w * h)) ** 0.5
        im.draft(im.mode if im.mode in ("RGB", "L") else "RGB", (max(1, int(w * scale)), max(1, int(h * scale))))


def _shrink(im: Image.Image, budget: int) -> Image.Image:
    """``Image.reduce`` by the smallest integer factor that brings the image within ``budget`` pixels."""
    w, h = im.size
    if w * h <= budget:
        return im
    factor = int(np.ceil((w * h / budget) ** 0.5))
    try:
        return im.reduce(factor)
    except ValueError:  # a mode reduce() does not take (P, 1, I;16 …): convert first
        return to_rgb(im).reduce(factor)


_TRANSPOSE = {2: [Image.Transpose.FLIP_LEFT_RIGHT], 3: [Image.Transpose.ROTATE_180],
              4: [Image.Transpose.FLIP_TOP_BOTTOM], 5: [Image.Transpose.TRANSPOSE],
              6: [Image.Transpose.ROTATE_270], 7: [Image.Transpose.TRANSVERSE], 8: [Image.Transpose.ROTATE_90]}


def _orientation(im: Image.Image) -> int:
    try:
        return int(im.getexif().get(0x0112, 1))
    except Exception:  # noqa: BLE001 - a broken EXIF block must not reject the pixels
        return 1


def _load_pixels(path: str | Path, im: Image.Image, fmt: FileFormat) -> Image.Image:
    if ImageFile.LOAD_TRUNCATED_IMAGES:
        warnings.warn(
            "PIL.ImageFile.LOAD_TRUNCATED_IMAGES is True (set by another library): truncated images may be accepted",
            RuntimeWarning,
            stacklevel=3,
        )
    try:
        im.seek(0)
        im.load()
    except (SyntaxError, EOFError, OSError, ValueError) as exc:
        raise _load_error(path, fmt, exc) from exc
    return im


def _orient(im: Image.Image, orientation: int) -> Image.Image:
    """Apply an EXIF orientation (1–8); anything else leaves the image as stored."""
    for op in _TRANSPOSE.get(orientation, []):
        im = im.transpose(op)
    return im


def _wide_grey_to_l(im: Image.Image) -> Image.Image:
    """16/32-bit integer or float greyscale to 8-bit ``L`` by rescaling, not clipping."""
    arr = np.asarray(im, dtype=np.float64)
    if im.mode == "F":
        lo, hi = float(np.nanmin(arr)), float(np.nanmax(arr))
        if lo >= 0.0 and hi <= 1.0:
            scaled = arr * 255.0
        else:
            scaled = (arr - lo) / (hi - lo or 1.0) * 255.0
    else:
        hi = float(arr.max())
        scaled = arr / 257.0 if hi <= 65535 else arr / (hi / 255.0)
    return Image.fromarray(np.clip(np.nan_to_num(scaled), 0, 255).round().astype(np.uint8), mode="L")


def _composite(im: Image.Image) -> Image.Image:
    rgba = im.convert("RGBA")
    background = Image.new("RGBA", rgba.size, BACKGROUND + (255,))
    return Image.alpha_composite(background, rgba).convert("RGB")


def to_rgb(im: Image.Image) -> Image.Image:
    """Convert any Pillow mode to 8-bit RGB (see the module docstring for the rules)."""
    if im.mode == "RGB":
        return im
    if im.mode.startswith("I") or im.mode == "F":
        return _wide_grey_to_l(im).convert("RGB")
    has_alpha = "A" in im.getbands() or im.mode in ("RGBa", "La", "PA") or "transparency" in im.info
    if has_alpha:
        return _composite(im)
    return im.convert("RGB")


def decode_image(path: str | Path, *, fmt: FileFormat | None = None, max_pixels: int | None = None) -> Image.Image:
    """Decode an image file to an 8-bit RGB :class:`PIL.Image.Image`, upright.

    Parameters
    ----------
    path
        An image file (JPEG, PNG, WebP, BMP, GIF, TIFF, and AVIF where
        Pillow supports it).
    fmt
        Its format if already sniffed (skips the sniff).
    max_pixels
        Largest accepted ``width * height`` (default :func:`moodbridge.media.limits.max_pixels`).

    Returns
    -------
    PIL.Image.Image
        Mode ``"RGB"``, pixels loaded, file closed.

    Raises
    ------
    TooSmallImageError, TooLargeMediaError
        A side under 2 pixels, or more than ``max_pixels`` pixels (both :class:`BadDimensionsError`).
    TruncatedMediaError
        The file ends before the image data does.
    CorruptMediaError
        Any other decoding failure.
    EmptyMediaError, UnsupportedMediaError, MislabelledMediaError
        From :func:`~moodbridge.media.sniff.sniff_format`.
    """
    fmt = fmt or sniff_format(path)
    if fmt.modality != "image":
        raise CorruptMediaError(path, f"is {fmt.label}, not an image")
    if fmt.name == "webp":
        _check_riff_length(path)
    if fmt.name == "png":
        check_png_chunks(path)
    max_pixels = max_pixels or limits.max_pixels()
    budget = limits.decode_pixels()
    im = _open(path, fmt, max_pixels)
    with im:
        orientation = _orientation(im)
        _draft(im, budget)
        _load_pixels(path, im, fmt)
        with decoding_errors(path, f"cannot convert {fmt.label} to RGB"):
            out = to_rgb(_orient(_shrink(im, budget), orientation))
            if out is im:  # detach the pixels from the file before it closes
                out = im.copy()
    return out
