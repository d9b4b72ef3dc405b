"""Decode audio to a mono float32 waveform, exactly as ``librosa.load`` does.

The waveform equals ``librosa.load(path, sr=sample_rate, mono=True,
res_type="soxr_hq")[0]`` bit for bit (musicnn's reference preprocessing):
the file is read by libsndfile as float32 (block by block, so only the mono mix is ever held), channels are averaged by
:func:`librosa.to_mono` and resampled by :func:`librosa.resample` with
``soxr_hq``. Unlike ``librosa.load`` it never falls back to ``audioread``
and it checks the file first:

* the container structure is walked (MP3 frames, Ogg pages, RIFF/AIFF chunks)
  so a file cut short raises :class:`~moodbridge.errors.TruncatedMediaError`
  instead of quietly decoding to a shorter clip;
* every Ogg page's CRC-32 is checked (libsndfile skips a page whose checksum
  fails and decodes quietly to a shorter clip), and a damaged MP3 frame header
  followed by more frames is found by the frame walk: both raise
  :class:`~moodbridge.errors.CorruptMediaError` saying what was lost;
* FLAC, WAV and AIFF must decode to as many frames as their header states
  (a FLAC decoder that loses sync at the end of the data means ``truncated``);
* audio longer than :func:`moodbridge.media.limits.max_audio_seconds` (from
  the header, before decoding) raises :class:`~moodbridge.errors.TooLongMediaError`;
* ``accept_damaged=True`` accepts CRC and frame damage knowingly (what
  libsndfile could decode is returned);
* NaN or infinite samples raise :class:`~moodbridge.errors.CorruptMediaError`;
  zero samples raise :class:`~moodbridge.errors.EmptyMediaError`. Digital
  silence is valid audio and is returned as is.

Formats are what libsndfile 1.2 decodes: MP3, Ogg Vorbis, Opus, FLAC, WAV,
AIFF. AAC/M4A is not among them (see
:data:`moodbridge.media.sniff.UNSUPPORTED_EXTENSIONS`).
"""

from __future__ import annotations

import mmap
import os
import struct
import zlib
from pathlib import Path

import numpy as np
import soundfile as sf

from moodbridge.errors import CorruptMediaError, EmptyMediaError, TooLongMediaError, TruncatedMediaError
from moodbridge.media import limits
from moodbridge.media.sniff import (
    FileFormat,
    decoding_errors,
    file_size,
    id3v2_size,
    mpeg_frame_length,
    read_head,
    sniff_format,
    unreadable,
)

#: the resampler of musicnn's reference preprocessing (librosa 0.11's default)
RES_TYPE = "soxr_hq"
#: formats whose header states the exact number of frames
_EXACT_LENGTH = ("flac", "wav", "aiff")


# ---------------------------------------------------------------------------
# container walks: is the file complete?
# ---------------------------------------------------------------------------


def _trailing_tags_start(data: mmap.mmap | bytes) -> int:
    """Where an ID3v1 tag and/or APEv2 tag at the end of an MP3 begin."""
    end = len(data)
    if end >= 128 and data[end - 128 : end - 125] == b"TAG":
        end -= 128
    if end >= 32 and data[end - 32 : end - 24] == b"APETAGEX":
        size = struct.unpack("<I", data[end - 20 : end - 16])[0]
        end -= size + (32 if data[end - 21] & 0x80 else 0)  # bit 31 of flags: header present
    return max(end, 0)


def _next_frames(data: mmap.mmap | bytes, start: int, end: int) -> int:
    """Where two consecutive valid MPEG frames next begin after ``start`` (-1 if nowhere before ``end``)."""
    pos = data.find(b"\xff", start)
    while 0 <= pos < end - 4:
        length = mpeg_frame_length(data[pos : pos + 4])
        if length is not None and pos + length + 4 <= end and mpeg_frame_length(data[pos + length : pos + length + 4]):
            return pos
        pos = data.find(b"\xff", pos + 1)
    return -1


def _check_mp3_frames(path: str | Path, data: mmap.mmap, *, accept_damaged: bool = False) -> None:
    """Walk MPEG frame headers; the last frame must fit in the file.

    Junk or tags after the frames end the walk without complaint (decoders
    skip them too); a frame header announcing more bytes than remain marks
    the file as truncated, and a broken header followed by more valid frames
    (the decoder would skip the damage) as corrupt.
    """
    end = _trailing_tags_start(data)
    pos = id3v2_size(bytes(data[:10]))
    pos = data.find(b"\xff", pos)
    while 0 <= pos < end and mpeg_frame_length(data[pos : pos + 4]) is None and pos < 65536:
        pos = data.find(b"\xff", pos + 1)  # skip padding before the first frame
    while pos >= 0 and pos + 4 <= end:
        length = mpeg_frame_length(data[pos : pos + 4])
        if length is None:
            resync = -1 if accept_damaged else _next_frames(data, pos + 1, end)
            if resync > 0:
                raise CorruptMediaError(
                    path, f"the MP3 frame at byte {pos} is damaged: {resync - pos} bytes of audio would be "
                    f"skipped before the next frame at byte {resync} (--accept-damaged to add it anyway)")
            return
        if pos + length > end:
            raise TruncatedMediaError(
                path,
                f"the MP3 stream is cut inside its last frame "
                f"(the frame at byte {pos} needs {length} bytes, {end - pos} remain)",
            )
        pos += length


#: bit reversal of each byte: Ogg's CRC is zlib's CRC-32 with the bit order reversed
_REVERSED = bytes(int(f"{i:08b}"[::-1], 2) for i in range(256))


def ogg_crc(page: bytes) -> int:
    """The Ogg page checksum (CRC-32, polynomial 0x04C11DB7, not reflected, initial 0; RFC 3533 §6).

    Computed through :func:`zlib.crc32` (the reflected variant) on bit-reversed
    bytes, which is exact and runs at C speed.  ``page`` has its checksum field zeroed.
    """
    raw = zlib.crc32(page.translate(_REVERSED), 0xFFFFFFFF) ^ 0xFFFFFFFF
    return int(f"{raw:032b}"[::-1], 2)


def _check_ogg_pages(path: str | Path, data: mmap.mmap, *, accept_damaged: bool = False) -> None:
    """Walk Ogg pages; every page must be complete, pass its CRC, and the last must carry the end-of-stream flag."""
    pos, flags, n = 0, 0, len(data)
    bad: list[int] = []
    while pos < n:
        if data[pos : pos + 4] != b"OggS":
            raise CorruptMediaError(path, f"the Ogg stream has no page at byte {pos}")
        if pos + 27 > n or pos + 27 + data[pos + 26] > n:
            raise TruncatedMediaError(
                path, f"the Ogg stream is cut inside the page header at byte {pos} ({n - pos} bytes remain)")
        n_segments = data[pos + 26]
        body = sum(data[pos + 27 : pos + 27 + n_segments])
        page_end = pos + 27 + n_segments + body
        if page_end > n:
            raise TruncatedMediaError(
                path, f"the Ogg stream is cut inside the page at byte {pos} "
                f"(the page needs {page_end - pos} bytes, {n - pos} remain)")
        page = bytes(data[pos:page_end])
        stated = struct.unpack("<I", page[22:26])[0]
        if stated != ogg_crc(page[:22] + b"\0\0\0\0" + page[26:]):
            bad.append(pos)
        flags, pos = data[pos + 5], page_end
    if bad and not accept_damaged:
        raise CorruptMediaError(
            path, f"{len(bad)} Ogg page(s) fail their checksum (first at byte {bad[0]}): the decoder would skip "
            f"them and return a shorter clip (--accept-damaged to add it anyway)")
    if not flags & 0x04:
        raise TruncatedMediaError(path, "the Ogg stream ends without its end-of-stream page")


def _check_chunks(path: str | Path, *, big_endian: bool, data_ids: tuple[bytes, ...]) -> None:
    """Walk RIFF (WAV) or IFF (AIFF) chunks; the audio data chunk must fit in the file."""
    size = file_size(path)
    fmt = ">I" if big_endian else "<I"
    pos = 12
    while pos + 8 <= size:
        header = read_head(path, 8, offset=pos)
        chunk_id, length = header[:4], struct.unpack(fmt, header[4:8])[0]
        if chunk_id in data_ids:
            if length not in (0, 0xFFFFFFFF) and pos + 8 + length > size:  # 0 / -1: length unknown (streamed)
                raise TruncatedMediaError(
                    path, f"the audio data chunk says {length} bytes but only {size - pos - 8} follow"
                )
            return
        pos += 8 + length + (length & 1)


def check_complete(path: str | Path, fmt: FileFormat, *, accept_damaged: bool = False) -> None:
    """Raise :class:`TruncatedMediaError` if the file's container is cut short, :class:`CorruptMediaError`
    if a checksum or frame header says data would be skipped (unless ``accept_damaged``).

    MP3 frames, Ogg pages (and their CRCs) and WAV/AIFF chunks are walked;
    other formats are checked after decoding (:func:`load_audio`).
    """
    if fmt.name == "wav":
        if read_head(path, 4) == b"RIFF":  # RF64/BW64 keep the data size elsewhere
            _check_chunks(path, big_endian=False, data_ids=(b"data",))
        return
    if fmt.name == "aiff":
        _check_chunks(path, big_endian=True, data_ids=(b"SSND",))
        return
    if fmt.name not in ("mp3", "ogg"):
        return
    try:
        with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
            (_check_mp3_frames if fmt.name == "mp3" else _check_ogg_pages)(path, data, accept_damaged=accept_damaged)
    except OSError as exc:
        raise unreadable(path, exc) from exc


# ---------------------------------------------------------------------------
# decoding
# ---------------------------------------------------------------------------


def check_duration(path: str | Path, frames: int, sample_rate: int) -> None:
    """Raise :class:`TooLongMediaError` when the header's length is over :func:`~moodbridge.media.limits.max_audio_seconds`."""
    cap = limits.max_audio_seconds()
    if sample_rate > 0 and frames / sample_rate > cap:
        raise TooLongMediaError(
            path, f"{frames / sample_rate / 60:.1f} min exceeds the limit of {cap / 60:g} min "
            "(MOODBRIDGE_MAX_AUDIO_S); cut it into shorter clips")


#: frames decoded at once: the whole multichannel waveform never exists in memory, only its mono mix
BLOCK_FRAMES = 1 << 18


def _mono_blocks(path: str | Path, f: sf.SoundFile, fmt: FileFormat, declared: int) -> np.ndarray:
    """Decode ``f`` block by block into its mono mix (``librosa.to_mono``, bit for bit: the mean over
    channels is taken per sample, so blocks do not change it)."""
    import librosa

    out = np.empty(max(declared, 0), dtype=np.float32)
    extra: list[np.ndarray] = []
    n = 0
    try:
        for block in f.blocks(blocksize=BLOCK_FRAMES, dtype="float32", always_2d=True):
            mono = block[:, 0] if block.shape[1] == 1 else librosa.to_mono(block.T)
            take = min(len(mono), len(out) - n)
            out[n : n + take] = mono[:take]
            if take < len(mono):
                extra.append(np.array(mono[take:]))
            n += len(mono)
    except sf.LibsndfileError as exc:
        if fmt.name == "flac" and "lost sync" in str(exc):
            raise TruncatedMediaError(
                path, f"the FLAC data ends early: decoded about {n} of the {declared} frames its header states "
                f"(the file is {file_size(path)} bytes)") from exc
        raise
    return np.concatenate([out, *extra]) if extra else out[:n]


def _has_xing(path: str | Path) -> bool:
    """Whether an MP3's first frame is a Xing/Info/VBRI header (which states the exact length)."""
    head = read_head(path, 16384)
    start = id3v2_size(head)
    return any(tag in head[start : start + 4096] for tag in (b"Xing", b"Info", b"VBRI"))


def _read_native(path: str | Path, fmt: FileFormat) -> tuple[np.ndarray, int]:
    """The mono mix of the samples libsndfile decodes: ``(n,)`` float32 at the native rate, read in blocks."""
    with decoding_errors(path, f"cannot decode {fmt.label}"), sf.SoundFile(os.fsencode(path)) as f:  # bytes: any name
        declared, sample_rate = f.frames, f.samplerate
        check_duration(path, declared, sample_rate)
        y = _mono_blocks(path, f, fmt, declared)
    n = y.shape[-1]
    if n == 0:
        raise EmptyMediaError(path, "the audio has no samples")
    if (fmt.name in _EXACT_LENGTH or (fmt.name == "mp3" and _has_xing(path))) and n < declared:
        raise TruncatedMediaError(path, f"decoded {n} of the {declared} frames the header states "
                                        f"(the file is {file_size(path)} bytes)")
    check_duration(path, n, sample_rate)
    return y, sample_rate


def load_audio(
    path: str | Path, *, sample_rate: int | None = None, fmt: FileFormat | None = None, accept_damaged: bool = False
) -> tuple[np.ndarray, int]:
    """Decode an audio file to mono float32, optionally resampled.

    Parameters
    ----------
    path
        An audio file (MP3, Ogg Vorbis/Opus, FLAC, WAV, AIFF).
    sample_rate
        Target rate in Hz; ``None`` keeps the file's rate.
    fmt
        Its format if already sniffed (skips the sniff).
    accept_damaged
        Accept Ogg pages failing their CRC and damaged MP3 frames (what decodes is returned).

    Returns
    -------
    y : np.ndarray
        ``(n,)`` float32, equal to ``librosa.load(path, sr=sample_rate,
        mono=True, res_type="soxr_hq")[0]``.
    sample_rate : int
        The rate of ``y``.

    Raises
    ------
    EmptyMediaError
        No samples.
    TooLongMediaError
        Longer than :func:`moodbridge.media.limits.max_audio_seconds`.
    TruncatedMediaError
        The container is cut short.
    CorruptMediaError
        Undecodable content, or NaN/infinite samples.
    UnsupportedMediaError, MislabelledMediaError
        From :func:`~moodbridge.media.sniff.sniff_format`.
    """
    import librosa  # lazy: librosa's import is not free

    fmt = fmt or sniff_format(path)
    if fmt.modality != "audio":
        raise CorruptMediaError(path, f"is {fmt.label}, not audio")
    check_complete(path, fmt, accept_damaged=accept_damaged)
    y, native_rate = _read_native(path, fmt)
    if not np.isfinite(y).all():  # a NaN or inf in any channel reaches the mean
        raise CorruptMediaError(path, "the audio contains NaN or infinite samples")
    if sample_rate is None:
        return y, native_rate
    with decoding_errors(path, "cannot resample the audio"):
        y = librosa.resample(y, orig_sr=native_rate, target_sr=sample_rate, res_type=RES_TYPE)
    return y, sample_rate


def decode_audio(path: str | Path, *, sample_rate: int, fmt: FileFormat | None = None,
                 accept_damaged: bool = False) -> np.ndarray:
    """Mono float32 waveform at ``sample_rate`` (see :func:`load_audio`)."""
    return load_audio(path, sample_rate=sample_rate, fmt=fmt, accept_damaged=accept_damaged)[0]


def audio_duration(path: str | Path) -> float:
    """Duration in seconds from the file's header, without decoding.

    Cheap (``soundfile.info``); for MP3 without a VBR header it is an estimate
    from the file size, typically within 0.1 s.

    Raises
    ------
    CorruptMediaError
        If libsndfile cannot read the header.
    """
    sniff_format(path)
    with decoding_errors(path, "cannot read the audio header"):
        info = sf.info(os.fsencode(path))
    return float(info.frames) / float(info.samplerate) if info.samplerate else 0.0
