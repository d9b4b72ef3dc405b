"""Word -> VA lexicons in the NRC-VAD format, loaded from a user's file.

The NRC Valence-Arousal-Dominance lexicon (Mohammad, ACL 2018) rates 20,007
English words on ``[0, 1]``.  Its terms of use do not allow shipping it with
moodbridge, so :meth:`Lexicon.load` reads it from a path the user gives; only
the derived category table (:mod:`moodbridge.emotion.taxonomy`) is packaged.

File format: one entry per line, tab-separated ``word, valence, arousal`` and
optionally ``dominance`` (ignored); an optional header line (``Word<TAB>Valence
...``) and blank lines are skipped.  Values are converted from the file's scale
(``"0-1"`` for NRC-VAD v1, ``"pm1"`` for lexicons already on ``[-1, 1]``) to the
project's VA with :mod:`moodbridge.emotion.scales`.

Note that the lexicon contains offensive words; :class:`Lexicon` never echoes
its entries in ``repr`` or in error messages (errors name the file and line).
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from os import PathLike
from pathlib import Path

import numpy as np

from moodbridge.emotion.scales import Scale, get_scale
from moodbridge.emotion.va import VA, as_va_array
from moodbridge.errors import InvalidValueError

_TOKEN_SPLIT = re.compile(r"[\s/,;]+")
_FIELDS = ("valence", "arousal", "dominance")


def normalise_word(word: str) -> str:
    """Lookup key of a word or phrase: lower case, single spaces, no outer space."""
    return " ".join(str(word).lower().split())


def _parse_number(text: str, where: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise InvalidValueError(f"{where}: {what} is not a number") from None
    if not np.isfinite(value):
        raise InvalidValueError(f"{where}: {what} is NaN or infinite")
    return value


class Lexicon:
    """A mapping from words to VA points on the project's ``[-1, 1]`` scale.

    Parameters
    ----------
    entries
        ``word -> VA`` (or ``word -> (valence, arousal)`` already on ``[-1, 1]``).
        Words are matched case-insensitively.
    source
        Where the entries came from, for messages.

    Examples
    --------
    >>> lex = Lexicon({"calm": VA(0.75, -0.8), "storm": (-0.3, 0.7)})
    >>> point = lex.lookup("calm storm")  # mean of the two words
    >>> round(point.valence, 3), round(point.arousal, 3)
    (0.225, -0.05)
    """

    def __init__(self, entries: Mapping[str, VA | tuple[float, float]], *, source: str = "<memory>") -> None:
        values = list(entries.values())
        self._set(list(entries), as_va_array(values, name=f"{source} entries"), source)

    def _set(self, words: list[str], va: np.ndarray, source: str) -> None:
        self.source = source
        keys = [normalise_word(w) for w in words]
        if len(set(keys)) != len(keys):
            raise InvalidValueError(f"{source}: words differ only by case or spacing")
        self._index = {w: i for i, w in enumerate(keys)}
        self._va = va
        self._va.setflags(write=False)

    @classmethod
    def load(cls, path: str | PathLike[str], *, scale: str | Scale = "0-1") -> Lexicon:
        """Read an NRC-VAD-format lexicon file.

        Parameters
        ----------
        path
            The lexicon file (e.g. ``NRC-VAD-Lexicon_v1.txt``).
        scale
            Scale of the file's values; ``"0-1"`` (NRC-VAD v1, 0.5 neutral) by default.

        Raises
        ------
        InvalidValueError
            If the file cannot be read, or a line is malformed (wrong number of
            fields, a value that is not a number or lies outside the scale, an
            empty or duplicate word); the message names the file and line.
        """
        path = Path(path)
        src = get_scale(scale)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise InvalidValueError(f"{path}: lexicon file not found") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidValueError(f"{path}: cannot read lexicon: {exc.__class__.__name__}") from None
        words: dict[str, int] = {}
        values: list[tuple[float, float]] = []
        header_possible = True
        for lineno, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            where = f"{path}:{lineno}"
            fields = line.rstrip("\r").split("\t")
            if header_possible and len(fields) >= 3 and not _looks_numeric(fields[1]):
                header_possible = False  # header line: Word, Valence, Arousal[, Dominance]
                continue
            header_possible = False
            if len(fields) not in (3, 4):
                raise InvalidValueError(
                    f"{where}: expected 3 or 4 tab-separated fields (word, valence, arousal[, dominance]), "
                    f"got {len(fields)}"
                )
            word = normalise_word(fields[0])
            if not word:
                raise InvalidValueError(f"{where}: empty word")
            if word in words:
                raise InvalidValueError(f"{where}: duplicate word (first defined on line {words[word]})")
            numbers = [_parse_number(f, where, what) for f, what in zip(fields[1:], _FIELDS, strict=False)]
            for number, what in zip(numbers[:2], _FIELDS, strict=False):
                if not src.lo <= number <= src.hi:
                    raise InvalidValueError(
                        f"{where}: {what} {number:g} is outside the {src.name} scale [{src.lo:g}, {src.hi:g}]"
                    )
            words[word] = lineno
            values.append((numbers[0], numbers[1]))
        if not values:
            raise InvalidValueError(f"{path}: lexicon has no entries")
        lexicon = cls.__new__(cls)
        lexicon._set(list(words), np.asarray(src.to_va(np.array(values))), str(path))
        return lexicon

    def __len__(self) -> int:
        return len(self._index)

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and normalise_word(word) in self._index

    def __repr__(self) -> str:
        return f"Lexicon({len(self)} words from {self.source})"

    def get(self, word: str) -> VA | None:
        """VA of one lexicon entry, or ``None`` if absent."""
        i = self._index.get(normalise_word(word))
        return None if i is None else VA(*self._va[i])

    def va(self, word: str) -> VA:
        """VA of one lexicon entry.

        Raises
        ------
        InvalidValueError
            If the word is not in the lexicon.
        """
        point = self.get(word)
        if point is None:
            raise InvalidValueError(f"{word!r} is not in the lexicon {self.source}")
        return point

    def average(self, words: Iterable[str]) -> VA:
        """Mean VA of several lexicon entries (EMID Sec. 3.1.1: category VA = mean of its words).

        Raises
        ------
        InvalidValueError
            If ``words`` is empty or any word is missing (all missing ones are named).
        """
        words = list(words)
        if not words:
            raise InvalidValueError("no words to average")
        missing = [w for w in words if w not in self]
        if missing:
            raise InvalidValueError(f"not in the lexicon {self.source}: {', '.join(map(repr, missing))}")
        rows = [self._index[normalise_word(w)] for w in words]
        return VA(*self._va[rows].mean(axis=0))

    @property
    def va_array(self) -> np.ndarray:
        """``(N, 2)`` VA of :attr:`words`, in the same order (a copy)."""
        return np.array(self._va, dtype=np.float64)

    @property
    def words(self) -> list[str]:
        """The lexicon's words (normalised), in file order."""
        return list(self._index)

    def words_in(self, text: str) -> list[str]:
        """Lexicon entries found in a phrase.

        The whole phrase is tried first (the lexicon has some multiword
        entries); otherwise it is split at spaces, ``/``, ``,`` and ``;`` and
        each token is tried, then its hyphen-separated parts.
        """
        key = normalise_word(text)
        if key in self._index:
            return [key]
        found: list[str] = []
        for token in filter(None, _TOKEN_SPLIT.split(key)):
            if token in self._index:
                found.append(token)
            else:
                found.extend(part for part in token.split("-") if part in self._index)
        return found

    def lookup(self, text: str) -> VA:
        """VA of a word or phrase: the mean over the lexicon words found in it (see :meth:`words_in`).

        Raises
        ------
        InvalidValueError
            If no word of ``text`` is in the lexicon.
        """
        found = self.words_in(text)
        if not found:
            raise InvalidValueError(f"no word of {text!r} is in the lexicon {self.source}")
        return self.average(found)


def _looks_numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
