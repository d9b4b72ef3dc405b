"""A seeded corpus of hostile and unusual input for ``add``, ``emotion`` and the web upload (issue 15).

:func:`build_corpus` writes, under one folder, every case of the issue: zero-byte,
truncated and bit-flipped files of every supported format, unusual-but-valid
files (16-bit PNG, CMYK JPEG, EXIF rotation, animated GIF, 8-channel and
192 kHz audio, two minutes of audio, a 100,000-note MIDI, a 36 MP JPEG, a 100 MP PNG of 12 kB),
absurd files (a header claiming 10^10 pixels, an hour of audio, MIDI with an
absurd track count, a tempo of 0 or 1 µs), names with spaces, quotes, a
newline, emoji and bytes that are not UTF-8, a FIFO, a socket, and symbolic
links (to an ancestor twice, to themselves, out of the tree, broken, inside).

The only real media are small files from installed packages (scikit-image's
sample photos, one immich-memories-music track); everything else is made from
them or synthesised here.  The same seed gives the same bytes.

Each case says what must happen to it: ``valid`` (added), ``bad`` (reported by
its own name with one of :data:`moodbridge.errors.REASONS`) or ``either``
(bit flips in a format without checksums, e.g. WAV or BMP pixels, may decode
to a different but whole file: added or reported, never a traceback).
"""
from __future__ import annotations

import functools
import io
import os
import socket
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from realmedia import immich_tracks, skimage_photo

AUDIO_RATE = 22050


@dataclass(frozen=True)
class Case:
    """One entry of the corpus: its path, what must happen to it, and (for bad ones) the reasons allowed."""

    path: Path
    expect: str  # "valid", "bad" or "either"
    reasons: frozenset[str] = frozenset()
    note: str = ""


@dataclass
class Corpus:
    """The corpus folder, its cases, and extra command-line arguments (a FIFO, a device)."""

    root: Path
    cases: list[Case] = field(default_factory=list)
    arguments: list[Path] = field(default_factory=list)

    def of(self, expect: str) -> list[Case]:
        """The cases with this expectation."""
        return [c for c in self.cases if c.expect == expect]

    @property
    def files(self) -> list[Case]:
        """Cases that are regular files (what ``emotion`` is run on one by one)."""
        return [c for c in self.cases if c.path.is_file() and not c.path.is_symlink()]


def _flip(data: bytes, rng: np.random.Generator, n: int = 24) -> bytes:
    """``n`` single-bit errors in the last three quarters (headers usually survive)."""
    out = bytearray(data)
    for i in rng.integers(len(data) // 4, len(data), n):
        out[int(i)] ^= 1 << int(rng.integers(8))
    return bytes(out)


def _png_header(width: int, height: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)) + chunk(b"IEND", b"")


@functools.lru_cache(maxsize=1)
def _track() -> np.ndarray:
    import librosa

    return librosa.load(immich_tracks()[0], sr=AUDIO_RATE, mono=True, duration=30.0)[0]


def _music(seconds: float) -> np.ndarray:
    """Real music (an immich-memories-music track, looped) as mono float32 at :data:`AUDIO_RATE`."""
    y = _track()
    reps = int(np.ceil(seconds * AUDIO_RATE / len(y)))
    return np.tile(y, reps)[: int(seconds * AUDIO_RATE)].astype(np.float32)


def _audio_bytes(y: np.ndarray, fmt: str, subtype: str, rate: int = AUDIO_RATE) -> bytes:
    import soundfile as sf

    buf = io.BytesIO()
    sf.write(buf, y, rate, format=fmt, subtype=subtype)
    return buf.getvalue()


def _midi_bytes(notes: list[tuple[float, float, int]], *, tempo: float = 120.0) -> bytes:
    import pretty_midi

    pm = pretty_midi.PrettyMIDI(initial_tempo=tempo)
    piano = pretty_midi.Instrument(program=0)
    piano.notes.extend(pretty_midi.Note(velocity=80, pitch=p, start=s, end=e) for s, e, p in notes)
    pm.instruments.append(piano)
    buf = io.BytesIO()
    pm.write(buf)
    return buf.getvalue()


def _midi_with_tempo(us_per_beat: int) -> bytes:
    """A type-0 MIDI whose set-tempo event says ``us_per_beat`` (0 and 1 are absurd)."""
    track = b"\x00\xff\x51\x03" + us_per_beat.to_bytes(3, "big")
    for i in range(8):
        track += b"\x00\x90" + bytes([60 + i, 80]) + b"\x60\x80" + bytes([60 + i, 0])
    track += b"\x00\xff\x2f\x00"
    return b"MThd" + struct.pack(">IHHH", 6, 0, 1, 96) + b"MTrk" + struct.pack(">I", len(track)) + track


def _image_bytes(im, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format=fmt, **kw)
    return buf.getvalue()


def build_corpus(root: Path, seed: int = 0) -> Corpus:
    """Write the corpus under ``root / "corpus"`` (see the module docstring); returns its cases."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    folder = root / "corpus"
    folder.mkdir(parents=True)
    corpus = Corpus(folder)

    def put(rel: str | bytes, data: bytes, expect: str, *reasons: str, note: str = "") -> Path:
        path = Path(os.fsdecode(os.path.join(os.fsencode(folder), os.fsencode(rel))))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        corpus.cases.append(Case(path, expect, frozenset(reasons), note))
        return path

    photo = Image.open(skimage_photo("astronaut.png")).convert("RGB").resize((256, 256))
    music = _music(6.0)
    whole: dict[str, bytes] = {
        "photo.jpg": _image_bytes(photo, "JPEG", quality=90),
        "photo.png": _image_bytes(photo, "PNG"),
        "photo.gif": _image_bytes(photo.convert("P"), "GIF"),
        "photo.webp": _image_bytes(photo, "WEBP"),
        "photo.bmp": _image_bytes(photo, "BMP"),
        "photo.tif": _image_bytes(photo, "TIFF", compression="tiff_lzw"),
        "song.wav": _audio_bytes(music, "WAV", "PCM_16"),
        "song.flac": _audio_bytes(music, "FLAC", "PCM_16"),
        "song.ogg": _audio_bytes(music, "OGG", "VORBIS"),
        "song.opus": immich_tracks()[1].read_bytes(),
        "song.mp3": _audio_bytes(music, "MP3", "MPEG_LAYER_III"),
        "song.aiff": _audio_bytes(music, "AIFF", "PCM_16"),
        "tune.mid": _midi_bytes([(i * 0.25, i * 0.25 + 0.5, 48 + (i * 7) % 36) for i in range(64)]),
        "words.txt": "A quiet evening by the lake, warm and calm.\n".encode(),
    }
    checked = {".png", ".flac", ".ogg", ".opus"}  # formats with checksums over their data
    for name, data in whole.items():
        stem, ext = name.rsplit(".", 1)
        put(f"valid/{name}", data, "valid")
        put(f"empty/{stem}.{ext}", b"", "bad", "empty")
        # half a text is a whole shorter text: nothing says it was cut
        put(f"truncated/{stem}.{ext}", data[: len(data) // 2], "either" if ext == "txt" else "bad",
            "truncated", "corrupt", "too short")
        flipped_expect = "bad" if f".{ext}" in checked else "either"
        put(f"flipped/{stem}.{ext}", _flip(data, rng), flipped_expect, "corrupt", "truncated", "mislabelled",
            "too short", "empty")

    # unusual but valid
    grey16 = Image.fromarray((np.asarray(photo.convert("L"), dtype=np.uint16) * 257).astype(np.uint16))
    put("unusual/grey 16-bit.png", _image_bytes(grey16, "PNG"), "valid")
    put("unusual/cmyk.jpg", _image_bytes(photo.convert("CMYK"), "JPEG"), "valid")
    exif = Image.Exif()
    exif[0x0112] = 6
    put("unusual/rotated exif.jpg", _image_bytes(photo.crop((0, 0, 256, 128)), "JPEG", exif=exif), "valid")
    frames = [photo.rotate(a).convert("P") for a in (0, 90, 180)]
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    put("unusual/animated.gif", buf.getvalue(), "valid")
    put("unusual/rgba.png", _image_bytes(photo.convert("RGBA"), "PNG"), "valid")
    put("unusual/eight channels.wav", _audio_bytes(np.stack([music[: 4 * AUDIO_RATE] * (0.2 + 0.1 * c)
                                                             for c in range(8)], axis=1),
                                                   "WAV", "PCM_24"), "valid")
    hi = np.interp(np.arange(int(4 * 192000)) / 192000, np.arange(len(music)) / AUDIO_RATE, music).astype(np.float32)
    put("unusual/192 kHz.flac", _audio_bytes(hi, "FLAC", "PCM_24", 192000), "valid")
    put("unusual/two minutes.flac", _audio_bytes(_music(120.0), "FLAC", "PCM_16"), "valid",
        note="40 patches of 3 s: the cap of 32 applies")
    put("unusual/many notes.mid", _midi_bytes([(i * 0.01, i * 0.01 + 0.2, 36 + (i * 5) % 60) for i in range(100_000)]),
        "valid", note="100,000 notes")
    put("unusual/big 36 MP.jpg", _image_bytes(Image.new("RGB", (6000, 6000), (90, 140, 200)), "JPEG", quality=70),
        "valid", note="decoded by draft at reduced size")
    put("unusual/bomb 100 MP.png", _image_bytes(Image.new("L", (10_000, 10_000), 0), "PNG", compress_level=9), "valid",
        note="a 12 kB PNG of 100 MP: within the limit, reduced before conversion")

    # absurd
    put("absurd/ten gigapixels.png", _png_header(100_000, 100_000), "bad", "too large")
    put("absurd/one pixel.png", _image_bytes(photo.crop((0, 0, 1, 64)), "PNG"), "bad", "too short")
    silence = io.BytesIO()
    import soundfile as sf

    with sf.SoundFile(silence, "w", samplerate=8000, channels=1, format="FLAC", subtype="PCM_16") as f:
        block = np.zeros(8000 * 60, dtype=np.float32)
        for _ in range(60):
            f.write(block)
    put("absurd/an hour of silence.flac", silence.getvalue(), "bad", "too long")
    put("absurd/one second.wav", _audio_bytes(music[:AUDIO_RATE], "WAV", "PCM_16"), "bad", "too short")
    nan = np.full(AUDIO_RATE * 4, np.nan, dtype=np.float32)
    put("absurd/nan samples.wav", _audio_bytes(nan, "WAV", "FLOAT"), "bad", "corrupt")
    tracks = b"MThd" + struct.pack(">IHHH", 6, 1, 65535, 96) + b"MTrk" + struct.pack(">I", 4) + b"\x00\xff\x2f\x00"
    put("absurd/65535 tracks.mid", tracks, "bad", "corrupt")
    put("absurd/tempo zero.mid", _midi_with_tempo(0), "bad", "corrupt")
    put("absurd/tempo one microsecond.mid", _midi_with_tempo(1), "bad", "too short")
    put("absurd/no notes.mid", _midi_bytes([]), "bad", "empty")
    put("absurd/latin-1.txt", "caf\xe9 cr\xe8me".encode("latin-1"), "bad", "corrupt")
    put("absurd/png named.mp3", whole["photo.png"], "bad", "mislabelled")
    put("absurd/mp3 named.jpg", whole["song.mp3"], "bad", "mislabelled")
    put("absurd/noise.jpg", rng.bytes(4096), "bad", "corrupt")
    put("absurd/song.m4a", b"\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00" + rng.bytes(512), "bad", "unsupported")
    put("absurd/letter.docx", b"PK\x03\x04" + rng.bytes(256), "bad", "unsupported")
    put("absurd/zip named.png", b"PK\x03\x04" + rng.bytes(256), "bad", "mislabelled", "corrupt")

    # names
    for name in ("names/with spaces.jpg", "names/it's \"quoted\".jpg", "names/new\nline.jpg", "names/emoji 🎵🌅.jpg",
                 "names/-starts with a dash.jpg", "names/ünïcödé ñame.jpg"):
        put(name, _image_bytes(photo.rotate(len(name)), "JPEG"), "valid")
    put(b"names/caf\xe9 latin-1.jpg", _image_bytes(photo.rotate(7), "JPEG"), "valid", note="not UTF-8")
    put(b"names/\xff\xfe broken \xe9.mid", b"", "bad", "empty", note="not UTF-8 and empty")
    put(b"names/sub\xe9/inside.png", _image_bytes(photo.rotate(11), "PNG"), "valid", note="a folder not UTF-8")

    # special files: never opened
    special = folder / "special"
    special.mkdir()
    fifo = special / "pipe.wav"
    os.mkfifo(fifo)
    corpus.cases.append(Case(fifo, "bad", frozenset({"not a regular file"})))
    sock_path = special / "socket.png"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(sock_path))
    sock.close()
    corpus.cases.append(Case(sock_path, "bad", frozenset({"not a regular file"})))
    outside_fifo = root / "outside-pipe.mp3"
    os.mkfifo(outside_fifo)
    corpus.arguments += [outside_fifo, Path("/dev/null")]

    # links
    links = folder / "links"
    (links / "deep" / "deeper").mkdir(parents=True)
    os.symlink("../..", links / "deep" / "deeper" / "to grandparent")
    os.symlink("..", links / "deep" / "deeper" / "to parent")
    os.symlink("self loop.jpg", links / "self loop.jpg")
    os.symlink("/etc/passwd", links / "x.jpg")
    os.symlink(os.path.dirname(folder), links / "to outside folder")
    os.symlink("no such target.png", links / "broken.png")
    os.symlink("../valid/photo.png", links / "inside.png")
    os.symlink("/dev/zero", links / "zero.wav")
    for name in ("self loop.jpg", "x.jpg", "to outside folder", "broken.png", "zero.wav"):
        corpus.cases.append(Case(links / name, "bad", frozenset({"link outside folder"})))
    return corpus
