"""The one error hierarchy of moodbridge.

Every error a user can cause (bad file, bad shape, missing data) is a
:class:`MoodbridgeError`; its message is one readable line that names the
file or value at fault and the cause.  Library code never lets a bare
``ValueError`` or a decoder's own exception escape to the user.
"""
from __future__ import annotations

from pathlib import Path


class MoodbridgeError(Exception):
    """Base class of every error moodbridge raises on purpose."""


class MediaError(MoodbridgeError):
    """A media file could not be used.

    Parameters
    ----------
    path
        The file at fault.
    reason
        One short phrase saying what is wrong with it.
    """

    kind = "invalid"

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {self.kind}: {reason}")


class UnsupportedMediaError(MediaError):
    """The file's format is not one moodbridge can read."""

    kind = "unsupported"


class EmptyMediaError(MediaError):
    """The file is empty or holds no usable content (no samples, no notes)."""

    kind = "empty"


class CorruptMediaError(MediaError):
    """The file claims a known format but its content cannot be decoded."""

    kind = "corrupt"


class TruncatedMediaError(CorruptMediaError):
    """The file ends before its format says it should."""

    kind = "truncated"


class TooShortMediaError(MediaError):
    """The media is decodable but shorter than the operation needs."""

    kind = "too short"


class BadDimensionsError(MediaError):
    """An image whose dimensions are absurd (zero, or beyond the pixel limit)."""

    kind = "bad dimensions"


class MislabelledMediaError(MediaError):
    """The file's extension names one format but its content is another."""

    kind = "mislabelled"


class InvalidValueError(MoodbridgeError, ValueError):
    """A value (an emotion, an array, a parameter) is out of range, NaN or of the wrong shape."""


class EncoderError(MoodbridgeError):
    """An encoder failed or does not exist."""


class EncoderUnavailableError(EncoderError):
    """An encoder cannot run here (missing optional package, weights or network)."""


class EngineError(MoodbridgeError):
    """An execution engine (``--engine ray``) is not installed or cannot be reached."""


class LibraryError(MoodbridgeError):
    """A moodbridge library folder is missing, not a library, or inconsistent."""


class ItemNotFoundError(LibraryError):
    """No item in the library matches the given id, path or hash."""


class UnknownNameError(InvalidValueError, KeyError):
    """A name looked up in a registry (encoder, head, filter, task, loss, space …) is not registered.

    The message lists the registered names, so the user sees what to type instead.
    """

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""
