"""Job ``search``: the library items of one modality that best match a file or a text.

The work is :func:`moodbridge.search.query.search_library` (a joint space when
one fits, else the emotion heads' VA with the semantic bridge); this job opens
the library given as a folder and checks the query.
"""
from __future__ import annotations

from pathlib import Path

from moodbridge.errors import InvalidValueError
from moodbridge.jobs.base import LibraryLike, using_library
from moodbridge.search.query import SearchResult, search_library

__all__ = ["SearchResult", "run_search"]


def run_search(
    library: LibraryLike,
    query: str | Path | None = None,
    *,
    text: str | None = None,
    to: str = "music",
    top: int = 10,
    space: str | None = None,
    scorer: str | None = None,
) -> SearchResult:
    """Search a library with a media file (``query``) or a text (``text``).

    Parameters
    ----------
    library
        An open library or its folder.
    query
        A media file (image, audio, MIDI or ``.txt``).
    text
        A text to search with instead of a file.
    to
        ``music`` (``audio``), ``image`` or ``midi``.
    top
        How many items.
    space
        ``NAME`` / ``joint:NAME`` of a joint space, ``bridge`` for the fallback, or ``None`` (newest fitting space).
    scorer
        ``adapter:DIR``: rank with a recommender from ``moodbridge recommend train`` (music <-> images).

    Raises
    ------
    InvalidValueError
        Both or neither of ``query`` and ``text``.
    MoodbridgeError
        As :func:`~moodbridge.search.query.search_library`.
    """
    if query is not None and text is not None:
        raise InvalidValueError("give either a query file or a text, not both")
    if query is None and text is None:
        raise InvalidValueError("nothing to search for: give a query file or a text")
    with using_library(library) as lib:
        return search_library(lib, Path(query) if query is not None else str(text), to=to, top=top, space=space,
                              scorer=scorer)
