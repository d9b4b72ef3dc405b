"""Text inputs: a ``.txt`` file (a :class:`pathlib.Path`) or a string that is the text itself."""

from __future__ import annotations

import codecs
from pathlib import Path

from moodbridge.errors import CorruptMediaError, EmptyMediaError, InvalidValueError
from moodbridge.media.sniff import FileFormat, sniff_format, unreadable

#: the path label of errors about a text given as a string
TEXT_LABEL = "<text>"


def _decode_bytes(path: str | Path, data: bytes) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    else:
        encoding = "utf-8-sig"  # UTF-8, dropping a byte-order mark
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise CorruptMediaError(path, f"not valid {encoding.upper()} text at byte {exc.start}") from exc


def check_text(text: str, *, source: str | Path = TEXT_LABEL) -> str:
    """The text with surrounding whitespace removed; :class:`EmptyMediaError` if nothing is left."""
    stripped = text.strip()
    if not stripped:
        raise EmptyMediaError(source, "the text is empty or only whitespace")
    return stripped


def read_text_file(path: str | Path, *, fmt: FileFormat | None = None) -> str:
    """Read a UTF-8 (or BOM-marked UTF-16) ``.txt`` file.

    Raises
    ------
    CorruptMediaError
        Invalid UTF-8.
    EmptyMediaError
        Empty or whitespace only.
    UnsupportedMediaError, MislabelledMediaError
        From :func:`~moodbridge.media.sniff.sniff_format`.
    """
    fmt = fmt or sniff_format(path)
    if fmt.modality != "text":
        raise CorruptMediaError(path, f"is {fmt.label}, not text")
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise unreadable(path, exc) from exc
    return check_text(_decode_bytes(path, data), source=path)


def decode_text(source: str | Path) -> str:
    """A text input: a :class:`~pathlib.Path` is read as a ``.txt`` file, a ``str`` is the text itself.

    Errors about a string name it ``"<text>"``.
    """
    if isinstance(source, Path):
        return read_text_file(source)
    if not isinstance(source, str):
        raise InvalidValueError(f"a text input must be a str or a Path, got {type(source).__name__}")
    return check_text(source)
