"""The one error hierarchy of moodbridge.

Every error a user can cause (bad file, bad shape, missing data) is a
:class:`MoodbridgeError`; its message is one readable line that names the
file or value at fault and the cause.  Library code never lets a bare
``ValueError`` or a decoder's own exception escape to the user.
"""
from __future__ import annotations

import os
from pathlib import Path

#: The one vocabulary of reasons a file is not used, the same from ``add``,
#: ``emotion``, ``ls --errors`` and the web upload (the ``kind`` of a
#: :class:`MediaError`).  ``missing`` (a path given that does not exist),
#: ``unreadable`` (the OS refused to read it) and ``unexpected`` (a bug in
#: moodbridge or a library, with a request to report it) complete it.
REASONS: tuple[str, ...] = (
    "empty", "truncated", "corrupt", "unsupported", "mislabelled", "too short", "too long", "too large",
    "bad name", "link outside folder", "not a regular file",
)
OTHER_KINDS: tuple[str, ...] = ("missing", "unreadable", "unexpected")


def display_path(path: str | os.PathLike[str] | bytes) -> str:
    """A path as a user sees it: lossless and printable on any terminal.

    Bytes that are not UTF-8 (kept by Python as surrogate escapes) become
    ``\\xe9``; control characters (newline, tab, escape) become ``\\n``,
    ``\\t``, ``\\x1b``; a backslash stays one backslash.

    Examples
    --------
    >>> display_path(os.fsdecode(b"caf\\xe9.jpg"))
    'caf\\\\xe9.jpg'
    >>> display_path("two\\nlines.png")
    'two\\\\nlines.png'
    """
    raw = os.fsencode(path)
    text = raw.decode("utf-8", "backslashreplace")
    if text.isprintable():
        return text
    out = []
    for ch in text:
        if ch.isprintable():
            out.append(ch)
        else:
            out.append(ch.encode("unicode_escape").decode("ascii"))
    return "".join(out)


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

    kind = "unreadable"

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{display_path(self.path)}: {self.kind}: {reason}")


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


class TooLongMediaError(MediaError):
    """Audio longer than the limit of :mod:`moodbridge.media.limits`."""

    kind = "too long"


class BadDimensionsError(MediaError):
    """An image whose dimensions are absurd (base of :class:`TooLargeMediaError` and :class:`TooSmallImageError`)."""


class TooLargeMediaError(BadDimensionsError):
    """Media beyond a size budget of :mod:`moodbridge.media.limits` (pixels, notes, tracks); the budget is named."""

    kind = "too large"


class TooSmallImageError(BadDimensionsError, TooShortMediaError):
    """An image with a side under the minimum."""

    kind = "too short"


class NotRegularFileError(UnsupportedMediaError):
    """A FIFO, socket or device: never opened, only stat-ed."""

    kind = "not a regular file"


class LinkOutsideError(MediaError):
    """A symbolic link whose target is outside the folder being added (reported by the link's own name)."""

    kind = "link outside folder"


class BadNameError(MediaError):
    """A file name moodbridge cannot store or show (e.g. one it cannot even stat)."""

    kind = "bad name"


class UnexpectedMediaError(MediaError):
    """An exception nobody foresaw while using one file: that file fails, the batch carries on."""

    kind = "unexpected"


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
