"""moodbridge.media: sniffing, decoding and the error raised for each kind of bad file."""

from __future__ import annotations

import hashlib
import io
import re
import struct
import warnings
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from conftest import shared_path
from PIL import Image, ImageFile

from moodbridge.media.spec import InputSpec
from moodbridge.errors import (
    BadDimensionsError,
    TooLargeMediaError,
    TooSmallImageError,
    CorruptMediaError,
    EmptyMediaError,
    InvalidValueError,
    MediaError,
    MislabelledMediaError,
    TruncatedMediaError,
    UnsupportedMediaError,
)
from moodbridge.media import (
    EXTENSIONS,
    audio_duration,
    content_hash,
    decode,
    decode_image,
    load_audio,
    modality_from_extension,
    sniff,
    sniff_format,
    text_hash,
)

IMAGE = InputSpec("image")
AUDIO_16K = InputSpec("audio", 16000)
MIDI = InputSpec("midi")
TEXT = InputSpec("text")


# ---------------------------------------------------------------------------
# real media, made in the test
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def astronaut() -> Image.Image:
    import skimage.data

    return Image.fromarray(skimage.data.astronaut())


def save_image(im: Image.Image, path: Path, **kwargs) -> Path:
    im.save(path, **kwargs)
    return path


@pytest.fixture(scope="module")
def opus_track() -> Path:
    from immich_memories_music import tracks_dir

    tracks = sorted(Path(tracks_dir()).glob("*/*.opus"))
    assert tracks, "immich-memories-music ships no Opus tracks"
    return tracks[0]


def sine(seconds: float = 2.0, rate: int = 22050, channels: int = 2) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    y = 0.3 * np.sin(2 * np.pi * 440 * t)
    return np.stack([y, 0.5 * y], axis=1)[:, :channels].astype(np.float32)


def write_audio(path: Path, y: np.ndarray, rate: int = 22050, **kwargs) -> Path:
    sf.write(path, y, rate, **kwargs)
    return path


def write_midi(path: Path, notes: list[tuple[float, float, int]], *, drum: bool = False) -> Path:
    import pretty_midi

    pm = pretty_midi.PrettyMIDI()
    inst = pretty_midi.Instrument(program=0, is_drum=drum)
    inst.notes = [pretty_midi.Note(velocity=90, pitch=p, start=s, end=e) for s, e, p in notes]
    pm.instruments.append(inst)
    pm.write(str(path))
    return path


def png_header(width: int, height: int) -> bytes:
    """A PNG signature and a valid IHDR chunk (8-bit RGB) claiming the given size, then a bare IEND."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")


# ---------------------------------------------------------------------------
# extensions and sniffing
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "modality"),
    [("a.JPG", "image"), ("a.tiff", "image"), ("b.webp", "image"), ("c.opus", "audio"), ("c.oga", "audio"),
     ("d.flac", "audio"), ("e.MID", "midi"), ("f.midi", "midi"), ("g.txt", "text"), ("h.m4a", None),
     ("i.docx", None), ("noext", None)],
)  # fmt: skip
def test_modality_from_extension(name: str, modality: str | None) -> None:
    assert modality_from_extension(name) == modality


def test_extensions_cover_the_documented_formats() -> None:
    for ext in (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff"):
        assert EXTENSIONS[ext] == "image"
    for ext in (".mp3", ".ogg", ".oga", ".opus", ".wav", ".flac"):
        assert EXTENSIONS[ext] == "audio"
    assert EXTENSIONS[".mid"] == EXTENSIONS[".midi"] == "midi"
    assert EXTENSIONS[".txt"] == "text"
    assert ".m4a" not in EXTENSIONS  # libsndfile has no AAC decoder


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "BMP", "GIF", "TIFF"])
def test_sniff_and_decode_images(tmp_path: Path, astronaut: Image.Image, fmt: str) -> None:
    ext = {"JPEG": ".jpg", "TIFF": ".tif"}.get(fmt, "." + fmt.lower())
    path = save_image(astronaut, tmp_path / f"astronaut{ext}", format=fmt)
    assert sniff(path) == "image"
    im = decode(path, IMAGE)
    assert im.mode == "RGB" and im.size == astronaut.size
    if fmt in ("PNG", "BMP", "TIFF"):  # lossless
        assert np.array_equal(np.asarray(im), np.asarray(astronaut))


def test_sniff_other_modalities(tmp_path: Path, opus_track: Path) -> None:
    assert sniff(opus_track) == "audio"
    assert sniff(write_audio(tmp_path / "a.flac", sine())) == "audio"
    assert sniff(write_audio(tmp_path / "a.mp3", sine(), format="MP3")) == "audio"
    assert sniff(write_midi(tmp_path / "a.mid", [(0, 1, 60)])) == "midi"
    (tmp_path / "a.txt").write_text("calm sea, grey sky\n", encoding="utf-8")
    assert sniff(tmp_path / "a.txt") == "text"
    (tmp_path / "b.txt").write_text("BMW and an MP3 player: not magic bytes", encoding="utf-8")
    assert sniff(tmp_path / "b.txt") == "text"


def test_same_modality_other_format_is_accepted_unless_strict(tmp_path: Path, astronaut: Image.Image) -> None:
    path = save_image(astronaut, tmp_path / "really_a_png.jpg", format="PNG")
    assert sniff(path) == "image"
    assert decode(path, IMAGE).size == astronaut.size
    with pytest.raises(
        MislabelledMediaError, match=r"extension \.jpg says a JPEG image but the content is a PNG image"
    ):
        sniff(path, strict=True)


# ---------------------------------------------------------------------------
# bad files: each raises its own error naming the file
# ---------------------------------------------------------------------------

BadFile = Callable[[Path, Image.Image, Path], Path]


def _cut(data: bytes, fraction: float) -> bytes:
    return data[: int(len(data) * fraction)]


def _image_bytes(im: Image.Image, fmt: str) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format=fmt)
    return buf.getvalue()


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _bytes(name: str, data: bytes) -> BadFile:
    return lambda d, im, o: _write(d / name, data)


def _cut_image(name: str, fmt: str, fraction: float) -> BadFile:
    return lambda d, im, o: _write(d / name, _cut(_image_bytes(im, fmt), fraction))


def _cut_file(name: str, whole: BadFile, fraction: float) -> BadFile:
    return lambda d, im, o: _write(d / name, _cut(whole(d, im, o).read_bytes(), fraction))


_MP3 = lambda d, im, o: write_audio(d / "whole.mp3", sine(), format="MP3")  # noqa: E731
_WAV = lambda d, im, o: write_audio(d / "whole.wav", sine())  # noqa: E731
_OPUS = lambda d, im, o: o  # noqa: E731
_MID = lambda d, im, o: write_midi(d / "w.mid", [(i * 0.1, i * 0.1 + 0.1, 60) for i in range(50)])  # noqa: E731
_PNG = lambda d, im, o: _write(d / "photo.mp3", _image_bytes(im, "PNG"))  # noqa: E731
_BAD_SMF = b"MThd\x00\x00\x00\x06\x00\x01\x00\x01\x01\xe0MTrk\xff\xff\xff\xff garbage"
_M4A = b"\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00"

BAD_FILES: dict[str, tuple[BadFile, type[MediaError], str]] = {
    "empty": (_bytes("empty.jpg", b""), EmptyMediaError, "0 bytes"),
    "truncated jpeg": (_cut_image("cut.jpg", "JPEG", 0.5), TruncatedMediaError, "ends early"),
    "truncated png": (_cut_image("cut.png", "PNG", 0.3), TruncatedMediaError, "ends early"),
    "truncated webp": (_cut_image("cut.webp", "WEBP", 0.5), TruncatedMediaError, "WebP"),
    "random bytes as mp3": (_bytes("noise.mp3", np.random.default_rng(1).bytes(5000)), CorruptMediaError,
                            "not recognisable"),
    "png named mp3": (_PNG, MislabelledMediaError, r"extension \.mp3 says audio but the content is a PNG image"),
    "truncated mp3": (_cut_file("cut.mp3", _MP3, 0.51), TruncatedMediaError, "last frame"),
    "truncated opus": (_cut_file("cut.opus", _OPUS, 0.5), TruncatedMediaError, "Ogg"),
    "truncated wav": (_cut_file("cut.wav", _WAV, 0.5), TruncatedMediaError, "data chunk"),
    "text named mid": (_bytes("notes.mid", b"C E G, then the chorus again\n"), MislabelledMediaError,
                       r"extension \.mid says MIDI but the content is plain text"),
    "truncated midi": (_cut_file("cut.mid", _MID, 0.6), TruncatedMediaError, "ends inside a track"),
    "corrupt midi": (_bytes("bad.mid", _BAD_SMF), CorruptMediaError, "MIDI"),
    "midi without notes": (lambda d, im, o: write_midi(d / "silent.mid", []), EmptyMediaError, "no notes"),
    "huge png header": (_bytes("huge.png", png_header(100_000, 100_000)), TooLargeMediaError, "100 MP"),
    "over our limit, under Pillow's": (_bytes("big.png", png_header(12_000, 10_000)), TooLargeMediaError,
                                       "120 MP exceeds"),
    "one pixel wide": (lambda d, im, o: save_image(im.crop((0, 0, 1, 50)), d / "line.png"), TooSmallImageError,
                       "at least 2"),
    "zero-sample wav": (lambda d, im, o: write_audio(d / "none.wav", np.zeros((0, 2), np.float32)), EmptyMediaError,
                        "no samples"),
    "nan samples": (lambda d, im, o: write_audio(d / "nan.wav", np.full((1000, 1), np.nan, np.float32),
                                                 subtype="FLOAT"), CorruptMediaError, "NaN"),
    "unknown extension": (_bytes("song.xyz", b"abc"), UnsupportedMediaError, r"extension \.xyz"),
    "m4a": (_bytes("song.m4a", _M4A), UnsupportedMediaError, "AAC"),
    "pdf named txt": (_bytes("paper.txt", b"%PDF-1.4\n"), MislabelledMediaError, "a PDF document"),
    "latin-1 text": (_bytes("old.txt", "caf\xe9 cr\xe8me".encode("latin-1")), CorruptMediaError, "UTF-8"),
    "whitespace text": (_bytes("blank.txt", b"  \n\t \n"), EmptyMediaError, "whitespace"),
}  # fmt: skip

_SPEC = {".jpg": IMAGE, ".png": IMAGE, ".webp": IMAGE, ".mp3": AUDIO_16K, ".opus": AUDIO_16K, ".wav": AUDIO_16K,
         ".mid": MIDI, ".txt": TEXT, ".xyz": IMAGE, ".m4a": AUDIO_16K}  # fmt: skip


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_file_raises_its_error(case: str, tmp_path: Path, astronaut: Image.Image, opus_track: Path) -> None:
    make, error, message = BAD_FILES[case]
    path = make(tmp_path, astronaut, opus_track)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no decoder warning may leak out either
        with pytest.raises(MediaError) as info:
            decode(path, _SPEC[path.suffix])
    assert type(info.value) is error, f"{case}: {type(info.value).__name__}: {info.value}"
    assert str(info.value).startswith(f"{path}: ")
    assert info.value.path == str(path)
    assert re.search(message, str(info.value)), str(info.value)


def test_truncated_flac_is_a_corrupt_media_error(tmp_path: Path) -> None:
    data = write_audio(tmp_path / "whole.flac", np.random.default_rng(0).normal(0, 0.1, (48000, 2)).astype(np.float32))
    path = _write(tmp_path / "cut.flac", _cut(data.read_bytes(), 0.5))
    with pytest.raises(CorruptMediaError, match=r"cut\.flac"):
        decode(path, AUDIO_16K)


def test_missing_file_and_directory_are_media_errors(tmp_path: Path) -> None:
    with pytest.raises(MediaError, match="cannot read the file"):
        decode(tmp_path / "absent.png", IMAGE)
    (tmp_path / "folder.png").mkdir()
    with pytest.raises(MediaError, match="is a directory"):
        sniff(tmp_path / "folder.png")
    with pytest.raises(MediaError, match="cannot read the file"):
        content_hash(tmp_path / "absent.png")


def test_decode_refuses_another_modality(tmp_path: Path, astronaut: Image.Image) -> None:
    path = save_image(astronaut, tmp_path / "a.png")
    with pytest.raises(UnsupportedMediaError, match="audio input was asked for"):
        decode(path, AUDIO_16K)


def test_truncated_image_flag_stays_off(tmp_path: Path, astronaut: Image.Image) -> None:
    decode(save_image(astronaut, tmp_path / "a.jpg"), IMAGE)
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


# ---------------------------------------------------------------------------
# image conversion
# ---------------------------------------------------------------------------


def test_exif_orientation_is_applied(tmp_path: Path, astronaut: Image.Image) -> None:
    im = astronaut.resize((64, 32))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    path = save_image(im, tmp_path / "rotated.jpg", exif=exif.tobytes(), quality=95)
    out = decode(path, IMAGE)
    assert out.size == (32, 64)
    expected = np.asarray(im.transpose(Image.Transpose.ROTATE_270), dtype=np.float64)
    assert np.abs(np.asarray(out, dtype=np.float64) - expected).mean() < 8


def test_alpha_and_palette_transparency_become_white(tmp_path: Path) -> None:
    rgba = np.zeros((8, 8, 4), np.uint8)
    rgba[..., 0] = 200
    rgba[:4, ..., 3] = 255  # top half opaque red, bottom half transparent
    out = np.asarray(decode(save_image(Image.fromarray(rgba, "RGBA"), tmp_path / "a.png"), IMAGE))
    assert (out[:4] == (200, 0, 0)).all() and (out[4:] == 255).all()
    pal = Image.fromarray(rgba, "RGBA").convert("P")
    pal.info["transparency"] = pal.getpixel((0, 7))
    gif = np.asarray(decode(save_image(pal, tmp_path / "a.gif", transparency=pal.getpixel((0, 7))), IMAGE))
    assert (gif[4:] == 255).all() and gif[0, 0, 0] > 150


def test_sixteen_bit_grey_is_rescaled_not_clipped(tmp_path: Path) -> None:
    ramp = np.tile(np.linspace(0, 65535, 256).astype(np.uint16), (4, 1))
    path = save_image(Image.fromarray(ramp), tmp_path / "deep.png")
    out = np.asarray(decode(path, IMAGE))
    assert out.dtype == np.uint8 and out.shape == (4, 256, 3)
    assert out[0, 0, 0] == 0 and out[0, -1, 0] == 255 and 120 <= out[0, 128, 0] <= 135


def test_greyscale_and_animated_gif(tmp_path: Path, astronaut: Image.Image) -> None:
    grey = decode(save_image(astronaut.convert("L"), tmp_path / "g.jpg"), IMAGE)
    arr = np.asarray(grey, dtype=np.int16)
    assert grey.mode == "RGB" and np.abs(arr[..., 0] - arr[..., 2]).max() <= 1
    frames = [Image.new("RGB", (10, 10), c) for c in ((255, 0, 0), (0, 0, 255))]
    path = tmp_path / "anim.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100)
    first = np.asarray(decode(path, IMAGE))
    assert first[0, 0, 0] > 200 and first[0, 0, 2] < 50


def test_decode_image_pixel_limit_is_a_parameter(tmp_path: Path, astronaut: Image.Image) -> None:
    path = save_image(astronaut, tmp_path / "a.png")
    with pytest.raises(BadDimensionsError, match="exceeds the limit"):
        decode_image(path, max_pixels=100_000)


# ---------------------------------------------------------------------------
# audio: exactly librosa.load
# ---------------------------------------------------------------------------


# librosa.load (the reference) imports audioread, which uses modules Python 3.13 removes
LIBROSA_LOAD_WARNINGS = "ignore:'(aifc|audioop|sunau)' is deprecated:DeprecationWarning"


@pytest.mark.filterwarnings(LIBROSA_LOAD_WARNINGS)
def test_opus_decodes_exactly_as_librosa_load(opus_track: Path) -> None:
    import librosa

    y = decode(opus_track, AUDIO_16K)
    ref, _ = librosa.load(opus_track, sr=16000, mono=True, res_type="soxr_hq")
    assert y.dtype == np.float32 and y.ndim == 1
    assert np.array_equal(y, ref)
    assert y.size / 16000 == pytest.approx(audio_duration(opus_track), abs=0.05)


@pytest.mark.filterwarnings(LIBROSA_LOAD_WARNINGS)
def test_mp3_from_4q_decodes_exactly_as_librosa_load() -> None:
    import librosa

    path = sorted(shared_path("4q", "Q1").glob("*.mp3"))[0]
    y = decode(path, AUDIO_16K)
    assert np.array_equal(y, librosa.load(path, sr=16000, mono=True, res_type="soxr_hq")[0])
    assert 25 < y.size / 16000 < 35


def test_native_rate_mono_and_silence(tmp_path: Path) -> None:
    stereo = write_audio(tmp_path / "s.wav", sine(1.0, 22050))
    y, rate = load_audio(stereo)
    assert rate == 22050 and y.shape == (22050,)
    np.testing.assert_allclose(y, sine(1.0, 22050).mean(axis=1), atol=1e-4)
    silent = write_audio(tmp_path / "silent.flac", np.zeros((8000, 1), np.float32), 8000)
    assert not decode(silent, AUDIO_16K).any()  # digital silence is valid audio
    assert audio_duration(silent) == pytest.approx(1.0)


# ---------------------------------------------------------------------------
# MIDI and text
# ---------------------------------------------------------------------------


def test_real_midi_files_decode() -> None:
    files = (
        sorted(shared_path("vgmidi", "midi").glob("*.mid"))[::4]
        + sorted(shared_path("eimg", "midi").glob("*.mid"))[::40]
    )
    assert len(files) > 90
    for path in files:
        pm = decode(path, MIDI)
        assert sum(len(i.notes) for i in pm.instruments) > 0


def test_text_sources() -> None:
    assert decode("  a quiet morning  ", TEXT) == "a quiet morning"
    with pytest.raises(EmptyMediaError, match=r"^<text>: empty"):
        decode(" \n ", TEXT)
    with pytest.raises(InvalidValueError):
        decode(b"bytes", TEXT)  # type: ignore[arg-type]


def test_text_file_with_bom(tmp_path: Path) -> None:
    path = tmp_path / "bom.txt"
    path.write_bytes("\ufeffsoleil d'hiver".encode("utf-8"))
    assert decode(path, TEXT) == "soleil d'hiver"
    path.write_bytes("soleil".encode("utf-16"))
    assert decode(path, TEXT) == "soleil"


# ---------------------------------------------------------------------------
# hashes
# ---------------------------------------------------------------------------


def test_content_and_text_hash(tmp_path: Path, opus_track: Path) -> None:
    assert content_hash(opus_track) == hashlib.sha256(opus_track.read_bytes()).hexdigest()
    path = tmp_path / "t.txt"
    path.write_bytes(b"blue hour")
    assert text_hash("blue hour") == content_hash(path)
    assert text_hash("blue hour") != text_hash("blue hour ")
    assert sniff_format(opus_track).name == "ogg"
