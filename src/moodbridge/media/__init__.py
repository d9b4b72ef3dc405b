"""Decoding and validation of media files, with one clear error per problem.

Every function here raises :class:`~moodbridge.errors.MediaError` subclasses
that name the file and the cause, never a decoder library's own exception.

Examples
--------
>>> from moodbridge.media import decode, sniff
>>> from moodbridge.media.spec import InputSpec
>>> sniff("photo.jpg")                                   # doctest: +SKIP
'image'
>>> decode("song.opus", InputSpec("audio", 16000)).dtype  # doctest: +SKIP
dtype('float32')
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from moodbridge.errors import InvalidValueError, UnsupportedMediaError
from moodbridge.media.audio import audio_duration, check_complete, decode_audio, load_audio
from moodbridge.media.image import MAX_PIXELS, MIN_SIDE, decode_image, to_rgb
from moodbridge.media.midi import count_notes, decode_midi
from moodbridge.media.sniff import (
    EXTENSIONS,
    FORMATS,
    UNSUPPORTED_EXTENSIONS,
    FileFormat,
    content_hash,
    detect_format,
    identify,
    modality_from_extension,
    sniff,
    sniff_format,
    text_hash,
)
from moodbridge.media.text import TEXT_LABEL, check_text, decode_text, read_text_file

from moodbridge.media.spec import MODALITIES, InputSpec, Modality, parse_modality


def decode(source: str | Path, spec: InputSpec, *, accept_damaged: bool = False) -> Any:
    """Decode one input into the form ``spec`` asks for.

    Parameters
    ----------
    source
        A file path; for the ``"text"`` modality a :class:`~pathlib.Path` is a
        ``.txt`` file and a ``str`` is the text itself.
    spec
        The modality (and, for audio, the sample rate) wanted.
    accept_damaged
        Accept audio whose checksums or frame headers show damage (see
        :func:`~moodbridge.media.audio.load_audio`).

    Returns
    -------
    PIL.Image.Image or np.ndarray or pretty_midi.PrettyMIDI or str
        image: 8-bit RGB, upright; audio: mono float32 at
        ``spec.sample_rate`` (the file's own rate when it is ``None``);
        midi: the parsed score (at least one note); text: stripped, non-empty.

    Raises
    ------
    MediaError
        A subclass saying what is wrong with the file (see
        :mod:`moodbridge.errors`); :class:`UnsupportedMediaError` also when the
        file is of another modality than ``spec`` asks for.
    """
    if spec.modality == "text":
        return decode_text(source)
    if not isinstance(source, (str, Path)):
        raise InvalidValueError(f"a media source must be a path, got {type(source).__name__}")
    fmt = sniff_format(source)
    if fmt.modality != spec.modality:
        raise UnsupportedMediaError(source, f"is {fmt.label} but {spec.modality} input was asked for")
    if spec.modality == "image":
        return decode_image(source, fmt=fmt)
    if spec.modality == "audio":
        return load_audio(source, sample_rate=spec.sample_rate, fmt=fmt, accept_damaged=accept_damaged)[0]
    if spec.modality == "midi":
        return decode_midi(source, fmt=fmt)
    raise InvalidValueError(f"unknown modality {spec.modality!r}")


__all__ = [
    "EXTENSIONS",
    "FORMATS",
    "MAX_PIXELS",
    "MIN_SIDE",
    "TEXT_LABEL",
    "UNSUPPORTED_EXTENSIONS",
    "FileFormat",
    "InputSpec",
    "MODALITIES",
    "Modality",
    "audio_duration",
    "check_complete",
    "check_text",
    "content_hash",
    "count_notes",
    "decode",
    "decode_audio",
    "decode_image",
    "decode_midi",
    "decode_text",
    "detect_format",
    "identify",
    "load_audio",
    "modality_from_extension",
    "parse_modality",
    "read_text_file",
    "sniff",
    "sniff_format",
    "text_hash",
    "to_rgb",
]
