"""Identify a media file by its content and check that its extension agrees.

Decoders are only ever handed a file whose first bytes match the format its
extension names, so a PNG renamed ``song.mp3`` fails with one clear
:class:`~moodbridge.errors.MislabelledMediaError` instead of a decoder's
traceback.

The rules of :func:`sniff`:

========================================  =====================================
situation                                 error
========================================  =====================================
0-byte file                               :class:`EmptyMediaError`
extension unknown                         :class:`UnsupportedMediaError`
extension of a format not decodable here  :class:`UnsupportedMediaError`
(``.m4a``, ``.heic`` ...)                 (the message says what to do)
content of another modality, or a known   :class:`MislabelledMediaError`
non-media format (ZIP, PDF ...)
content unrecognisable                    :class:`CorruptMediaError`
content of another format, same modality  accepted (PNG named ``.jpg`` is
                                          common in photo collections);
                                          ``strict=True`` rejects it
========================================  =====================================
"""

from __future__ import annotations

import codecs
import hashlib
import os
import stat
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


from moodbridge.errors import (
    CorruptMediaError,
    EmptyMediaError,
    MediaError,
    MislabelledMediaError,
    NotRegularFileError,
    UnsupportedMediaError,
)

from moodbridge.media.spec import Modality

#: bytes read from the start of a file to identify it
HEAD_SIZE = 8192


@dataclass(frozen=True)
class FileFormat:
    """A file format recognised from content.

    Attributes
    ----------
    name
        Short identifier (``"png"``, ``"mp3"``, ``"ogg"`` ...).
    modality
        The modality moodbridge decodes it as, or ``None`` for formats that
        are not media moodbridge handles (archives, documents, video).
    label
        How messages name it: ``"a PNG image"``.
    decodable
        Whether moodbridge can decode it in this installation.
    """

    name: str
    modality: Modality | None
    label: str
    decodable: bool = True


def _fmt(name: str, modality: Modality | None, label: str, decodable: bool = True) -> FileFormat:
    return FileFormat(name, modality, label, decodable)


def _pillow_has(feature: str) -> bool:
    from PIL import features

    try:
        return bool(features.check(feature))
    except ValueError:  # unknown feature name in an older Pillow
        return False


_AVIF = _pillow_has("avif")

FORMATS: dict[str, FileFormat] = {
    f.name: f
    for f in (
        _fmt("jpeg", "image", "a JPEG image"),
        _fmt("png", "image", "a PNG image"),
        _fmt("gif", "image", "a GIF image"),
        _fmt("webp", "image", "a WebP image"),
        _fmt("bmp", "image", "a BMP image"),
        _fmt("tiff", "image", "a TIFF image"),
        _fmt("avif", "image", "an AVIF image", decodable=_AVIF),
        _fmt("heif", "image", "a HEIF/HEIC image", decodable=False),
        _fmt("mp3", "audio", "an MP3 audio file"),
        _fmt("ogg", "audio", "an Ogg audio file"),
        _fmt("flac", "audio", "a FLAC audio file"),
        _fmt("wav", "audio", "a WAV audio file"),
        _fmt("aiff", "audio", "an AIFF audio file"),
        _fmt("mp4", "audio", "an MP4/M4A file (AAC or ALAC audio)", decodable=False),
        _fmt("aac", "audio", "a raw AAC (ADTS) audio stream", decodable=False),
        _fmt("speex", "audio", "an Ogg Speex audio file", decodable=False),
        _fmt("midi", "midi", "a Standard MIDI file"),
        _fmt("rmid", "midi", "a RIFF MIDI (RMID) file", decodable=False),
        _fmt("text", "text", "plain text"),
        _fmt("video", None, "a video file"),
        _fmt("zip", None, "a ZIP archive"),
        _fmt("gzip", None, "a gzip archive"),
        _fmt("7z", None, "a 7-Zip archive"),
        _fmt("rar", None, "a RAR archive"),
        _fmt("pdf", None, "a PDF document"),
        _fmt("elf", None, "an executable (ELF)"),
    )
}

#: extension -> the formats its content may have
_EXTENSION_FORMATS: dict[str, tuple[str, ...]] = {
    ".jpg": ("jpeg",),
    ".jpeg": ("jpeg",),
    ".png": ("png",),
    ".webp": ("webp",),
    ".bmp": ("bmp",),
    ".gif": ("gif",),
    ".tif": ("tiff",),
    ".tiff": ("tiff",),
    ".mp3": ("mp3",),
    ".ogg": ("ogg",),
    ".oga": ("ogg",),
    ".opus": ("ogg",),
    ".wav": ("wav",),
    ".flac": ("flac",),
    ".aif": ("aiff",),
    ".aiff": ("aiff",),
    ".mid": ("midi",),
    ".midi": ("midi",),
    ".kar": ("midi",),
    ".txt": ("text",),
}
if _AVIF:
    _EXTENSION_FORMATS[".avif"] = ("avif",)

#: every extension moodbridge decodes here, and its modality
EXTENSIONS: dict[str, Modality] = {
    ext: FORMATS[names[0]].modality  # type: ignore[misc]
    for ext, names in _EXTENSION_FORMATS.items()
}

_CONVERT_AUDIO = "convert it to FLAC, Opus or MP3 (e.g. `ffmpeg -i in.m4a out.flac`)"

#: extensions recognised but not decodable here, with what to do about them
UNSUPPORTED_EXTENSIONS: dict[str, str] = {
    ".m4a": f"AAC/ALAC audio in MP4 cannot be decoded: libsndfile has no AAC decoder; {_CONVERT_AUDIO}",
    ".m4b": f"AAC audio in MP4 cannot be decoded: libsndfile has no AAC decoder; {_CONVERT_AUDIO}",
    ".mp4": f"MP4 audio/video cannot be decoded: libsndfile has no AAC decoder; {_CONVERT_AUDIO}",
    ".aac": f"AAC audio cannot be decoded: libsndfile has no AAC decoder; {_CONVERT_AUDIO}",
    ".wma": f"WMA audio cannot be decoded; {_CONVERT_AUDIO}",
    ".spx": f"Speex audio cannot be decoded; {_CONVERT_AUDIO}",
    ".heic": "HEIF/HEIC images need a HEIF decoder Pillow lacks here; convert to JPEG or PNG",
    ".heif": "HEIF/HEIC images need a HEIF decoder Pillow lacks here; convert to JPEG or PNG",
    ".rmi": "RIFF MIDI (RMID) is not read; extract the MIDI data to a .mid file",
}
if not _AVIF:
    UNSUPPORTED_EXTENSIONS[".avif"] = "this Pillow was built without AVIF support; convert to JPEG or PNG"


def suffix_for(fmt: FileFormat) -> str | None:
    """The usual extension of a decodable format (``.png`` for PNG), or ``None``."""
    return next((ext for ext, names in _EXTENSION_FORMATS.items() if fmt.name in names), None)


def modality_from_extension(path: str | Path) -> Modality | None:
    """The modality the file's extension names, or ``None`` if moodbridge does not decode it.

    Examples
    --------
    >>> modality_from_extension("song.OPUS")
    'audio'
    >>> modality_from_extension("notes.docx") is None
    True
    """
    return EXTENSIONS.get(Path(path).suffix.lower())


# ---------------------------------------------------------------------------
# content identification
# ---------------------------------------------------------------------------

_MPEG_BITRATES_KBPS = {
    # (version is MPEG-1, layer) -> table indexed by the 4-bit bitrate index
    (True, 1): (0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448),
    (True, 2): (0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384),
    (True, 3): (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    (False, 1): (0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256),
    (False, 2): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
    (False, 3): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_MPEG_SAMPLE_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


def mpeg_frame_length(header: bytes) -> int | None:
    """Length in bytes of the MPEG audio frame whose 4-byte header is given.

    Returns ``None`` if the bytes are not a valid MPEG-1/2/2.5 layer I-III
    frame header (or use the "free" bitrate, whose length is not encoded).
    """
    if len(header) < 4 or header[0] != 0xFF or (header[1] & 0xE0) != 0xE0:
        return None
    version = (header[1] >> 3) & 3  # 3: MPEG-1, 2: MPEG-2, 0: MPEG-2.5, 1: reserved
    layer = 4 - ((header[1] >> 1) & 3)  # bits 11 -> I, 10 -> II, 01 -> III, 00 reserved
    bitrate_index = header[2] >> 4
    rate_index = (header[2] >> 2) & 3
    if version == 1 or layer == 4 or bitrate_index in (0, 15) or rate_index == 3:
        return None
    mpeg1 = version == 3
    bitrate = _MPEG_BITRATES_KBPS[(mpeg1, layer)][bitrate_index] * 1000
    sample_rate = _MPEG_SAMPLE_RATES[version][rate_index]
    padding = (header[2] >> 1) & 1
    if layer == 1:
        return (12 * bitrate // sample_rate + padding) * 4
    factor = 144 if (layer == 2 or mpeg1) else 72
    return factor * bitrate // sample_rate + padding


def id3v2_size(head: bytes) -> int:
    """Total size of an ID3v2 tag at the start of ``head`` (0 if there is none)."""
    if len(head) < 10 or head[:3] != b"ID3":
        return 0
    size = 0
    for byte in head[6:10]:  # "syncsafe" integer, 7 bits per byte
        size = (size << 7) | (byte & 0x7F)
    footer = 10 if head[5] & 0x10 else 0
    return 10 + size + footer


def _is_mpeg_audio(data: bytes, offset: int = 0) -> bool:
    """A valid MPEG audio frame header at ``offset``, followed by another one if the data reaches it."""
    length = mpeg_frame_length(data[offset : offset + 4])
    if length is None:
        return False
    nxt = offset + length
    return nxt + 4 > len(data) or mpeg_frame_length(data[nxt : nxt + 4]) is not None


def _is_adts(data: bytes) -> bool:
    return len(data) >= 2 and data[0] == 0xFF and (data[1] & 0xF6) == 0xF0


def _ogg_format(head: bytes) -> FileFormat:
    n_segments = head[26] if len(head) > 26 else 0
    packet = head[27 + n_segments : 27 + n_segments + 8]
    if packet.startswith((b"\x01vorbis", b"OpusHead", b"\x7fFLAC")) or not packet:
        return FORMATS["ogg"]
    if packet.startswith(b"Speex"):
        return FORMATS["speex"]
    return FORMATS["video"]  # Theora, Dirac, ... : an Ogg video stream


def _ftyp_format(head: bytes) -> FileFormat:
    brand = head[8:12]
    if brand in (b"heic", b"heix", b"hevc", b"hevx", b"mif1", b"msf1"):
        return FORMATS["heif"]
    if brand in (b"avif", b"avis"):
        return FORMATS["avif"]
    if brand in (b"qt  ",) or brand.startswith(b"3g"):
        return FORMATS["video"]
    return FORMATS["mp4"]


def _riff_format(head: bytes) -> FileFormat | None:
    kind = head[8:12]
    return {
        b"WAVE": FORMATS["wav"],
        b"WEBP": FORMATS["webp"],
        b"RMID": FORMATS["rmid"],
        b"AVI ": FORMATS["video"],
    }.get(kind)


def _is_bmp(head: bytes) -> bool:
    # "BM" alone would match text; also require a known DIB header size.
    return (
        len(head) >= 18 and head[:2] == b"BM" and struct.unpack("<I", head[14:18])[0] in (12, 40, 52, 56, 64, 108, 124)
    )


_SIMPLE_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"),
    (b"II+\x00", "tiff"),
    (b"MM\x00+", "tiff"),
    (b"fLaC", "flac"),
    (b"MThd", "midi"),
    (b"\x1a\x45\xdf\xa3", "video"),  # Matroska / WebM
    (b"PK\x03\x04", "zip"),
    (b"PK\x05\x06", "zip"),
    (b"\x1f\x8b", "gzip"),
    (b"7z\xbc\xaf\x27\x1c", "7z"),
    (b"Rar!\x1a\x07", "rar"),
    (b"%PDF-", "pdf"),
    (b"\x7fELF", "elf"),
)


def _is_text(head: bytes, complete: bool) -> bool:
    """UTF-8 (or BOM-marked UTF-16) text without NUL bytes."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return True
    if b"\x00" in head:
        return False
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=complete)
    except UnicodeDecodeError:
        return False
    return True


def identify(head: bytes, *, complete: bool = False, after_id3: bytes | None = None) -> FileFormat | None:
    """Recognise a format from a file's first bytes.

    Parameters
    ----------
    head
        The first bytes of the file (:data:`HEAD_SIZE` is plenty).
    complete
        True if ``head`` is the whole file (a multi-byte UTF-8 character cut
        at the end then counts as an error).
    after_id3
        For ID3-tagged files: the bytes that follow the tag, if ``head`` does
        not reach them.

    Returns
    -------
    FileFormat or None
        ``None`` if the content matches no format known here.
    """
    for magic, name in _SIMPLE_MAGIC:
        if head.startswith(magic):
            return FORMATS[name]
    if head[:4] in (b"RIFF", b"RF64", b"BW64"):
        return _riff_format(head)
    if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return FORMATS["aiff"]
    if head[:4] == b"OggS":
        return _ogg_format(head)
    if head[4:8] == b"ftyp":
        return _ftyp_format(head)
    if head[:3] == b"ID3":
        return _after_id3_format(after_id3 if after_id3 is not None else head[id3v2_size(head) :])
    if _is_bmp(head):
        return FORMATS["bmp"]
    if head.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return FORMATS["text"] if _is_text(head, complete) else None  # FF FE would pass as an MPEG header
    if _is_mpeg_audio(head):
        return FORMATS["mp3"]
    if _is_adts(head):
        return FORMATS["aac"]
    if _is_text(head, complete):
        return FORMATS["text"]
    return None


def _after_id3_format(data: bytes) -> FileFormat:
    """What an ID3 tag precedes: MP3 unless the following bytes say otherwise."""
    data = data.lstrip(b"\x00")  # some taggers pad with zeros after the tag
    if data.startswith(b"fLaC"):
        return FORMATS["flac"]
    if _is_adts(data) and mpeg_frame_length(data[:4]) is None:
        return FORMATS["aac"]
    return FORMATS["mp3"]  # the decoder resyncs on junk; a broken stream fails there


# ---------------------------------------------------------------------------
# reading files with translated errors
# ---------------------------------------------------------------------------


def unreadable(path: str | Path, exc: OSError) -> MediaError:
    """The MediaError for a file that cannot be opened or read at all."""
    why = exc.strerror or type(exc).__name__
    return MediaError(path, f"cannot read the file ({why})")


def read_head(path: str | Path, size: int = HEAD_SIZE, offset: int = 0) -> bytes:
    """The first ``size`` bytes of a regular file from ``offset``; OS errors become :class:`MediaError`."""
    file_size(path)  # never open a FIFO (it would block) or a device
    try:
        with open(path, "rb") as fh:
            fh.seek(offset)
            return fh.read(size)
    except OSError as exc:
        raise unreadable(path, exc) from exc


#: what each non-regular file type is called in messages
_FILE_TYPES = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a named pipe (FIFO)"),
               (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"))


def check_regular(path: str | Path, st: os.stat_result) -> None:
    """Raise :class:`NotRegularFileError` unless ``st`` (from ``stat``, never ``open``) is a regular file."""
    if stat.S_ISREG(st.st_mode):
        return
    what = next((name for test, name in _FILE_TYPES if test(st.st_mode)), "not a regular file")
    raise NotRegularFileError(path, f"is {what}; only regular files are read (it was not opened)")


def file_size(path: str | Path) -> int:
    """Size in bytes of a regular file (checked by ``stat`` before anything opens it).

    Raises
    ------
    NotRegularFileError
        For a directory, FIFO, socket or device.
    MediaError
        When the file cannot be stat-ed (missing, permission).
    """
    try:
        st = os.stat(path)
    except OSError as exc:
        raise unreadable(path, exc) from exc
    check_regular(path, st)
    return st.st_size


@contextmanager
def decoding_errors(path: str | Path, what: str) -> Iterator[None]:
    """Translate any exception a decoding library raises into :class:`CorruptMediaError`.

    :class:`MediaError` passes through unchanged, as do ``KeyboardInterrupt``
    and ``MemoryError``.

    Parameters
    ----------
    path
        The file being decoded.
    what
        How the message names the operation, e.g. ``"cannot decode the MP3"``.
    """
    try:
        yield
    except MediaError:
        raise
    except MemoryError:
        raise
    except RecursionError as exc:
        raise CorruptMediaError(path, f"{what}: its structure is nested too deeply") from exc
    except Exception as exc:  # noqa: BLE001 - every decoder error must become a MediaError
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CorruptMediaError(path, f"{what}: {detail}") from exc


# ---------------------------------------------------------------------------
# sniffing
# ---------------------------------------------------------------------------


def detect_format(path: str | Path) -> FileFormat | None:
    """The format of a file's content (its extension is ignored).

    Raises
    ------
    EmptyMediaError
        For a 0-byte file.
    MediaError
        If the file cannot be read.
    """
    size = file_size(path)
    if size == 0:
        raise EmptyMediaError(path, "the file is 0 bytes long")
    head = read_head(path)
    after_id3 = None
    tag = id3v2_size(head)
    if tag and tag + 16 > len(head):
        after_id3 = read_head(path, HEAD_SIZE, offset=tag)
    return identify(head, complete=size <= len(head), after_id3=after_id3)


def _modality_word(modality: Modality) -> str:
    return {"image": "an image", "audio": "audio", "midi": "MIDI", "text": "text"}[modality]


def sniff_format(path: str | Path, *, strict: bool = False) -> FileFormat:
    """Check a file's extension against its content and return the content's format.

    Parameters
    ----------
    path
        The file.
    strict
        Also reject a content format that differs from the extension's
        within the same modality (a PNG named ``.jpg``).

    Raises
    ------
    EmptyMediaError, UnsupportedMediaError, MislabelledMediaError, CorruptMediaError
        See the module docstring for when.
    """
    ext = Path(path).suffix.lower()
    shown_ext = ext or "(none)"
    if ext in UNSUPPORTED_EXTENSIONS:
        raise UnsupportedMediaError(path, UNSUPPORTED_EXTENSIONS[ext])
    content = detect_format(path)
    expected = _EXTENSION_FORMATS.get(ext)
    if expected is None:
        hint = f" (the content looks like {content.label})" if content else ""
        raise UnsupportedMediaError(path, f"extension {shown_ext} is not a supported media extension{hint}")
    ext_modality = EXTENSIONS[ext]
    ext_label = FORMATS[expected[0]].label
    if content is None:
        what = "UTF-8 text" if ext_modality == "text" else ext_label
        raise CorruptMediaError(path, f"extension {ext} says {what} but the content is not recognisable as it")
    if content.modality != ext_modality:
        raise MislabelledMediaError(
            path, f"extension {ext} says {_modality_word(ext_modality)} but the content is {content.label}"
        )
    if not content.decodable:
        raise UnsupportedMediaError(
            path,
            f"the content is {content.label} (not {ext_label} as its extension {ext} says), "
            "which cannot be decoded here",
        )
    if content.name not in expected and strict:
        raise MislabelledMediaError(path, f"extension {ext} says {ext_label} but the content is {content.label}")
    return content


def sniff(path: str | Path, *, strict: bool = False) -> Modality:
    """The modality of a file, after checking that its content agrees with its extension.

    Parameters
    ----------
    path
        The file.
    strict
        Also reject a different format of the same modality (a PNG named ``.jpg``).

    Returns
    -------
    Modality
        ``"image"``, ``"audio"``, ``"midi"`` or ``"text"``.

    Raises
    ------
    EmptyMediaError
        For a 0-byte file.
    UnsupportedMediaError
        For an unknown extension, or a format that cannot be decoded here.
    MislabelledMediaError
        When the content is of another modality (or another known format)
        than the extension says.
    CorruptMediaError
        When the content is not recognisable as the format the extension names.
    """
    return sniff_format(path, strict=strict).modality  # type: ignore[return-value]


# ---------------------------------------------------------------------------
# hashing
# ---------------------------------------------------------------------------


def content_hash(path: str | Path) -> str:
    """SHA-256 of a file's bytes, as 64 hex digits (read in chunks, any size).

    Raises
    ------
    MediaError
        If the file cannot be read.
    """
    file_size(path)
    try:
        with open(path, "rb") as fh:
            return hashlib.file_digest(fh, "sha256").hexdigest()
    except OSError as exc:
        raise unreadable(path, exc) from exc


def text_hash(text: str) -> str:
    """SHA-256 of a text's UTF-8 bytes: equal to :func:`content_hash` of a file holding exactly it."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
