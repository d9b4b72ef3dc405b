"""Job ``emotion``: valence, arousal, quadrant and categories of files and texts, by the default heads."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from moodbridge.affect.base import EmotionEstimate
from moodbridge.affect.estimate import estimate_sources
from moodbridge.encoders.run import Failure
from moodbridge.errors import InvalidValueError, MoodbridgeError, display_path
from moodbridge.jobs.base import JobResult

__all__ = ["EmotionResult", "SourceEmotion", "estimate", "read_texts"]


@dataclass
class SourceEmotion:
    """One source's emotion, or why it has none."""

    source: str | Path
    modality: str
    estimate: EmotionEstimate | None = None
    error: str | None = None

    @property
    def kind(self) -> str:
        """``"path"`` for a file, ``"text"`` for a text."""
        return "path" if isinstance(self.source, Path) else "text"

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON: the source, its modality and the estimate (or ``error``)."""
        source = display_path(self.source) if self.kind == "path" else str(self.source)
        out: dict[str, Any] = {self.kind: source, "modality": self.modality}
        if self.estimate is None:
            out["error"] = self.error
        else:
            out.update(self.estimate.to_dict())
        return out


@dataclass
class EmotionResult(JobResult):
    """Every source's emotion, in the order given."""

    results: list[SourceEmotion] = field(default_factory=list)

    @property
    def failed(self) -> int:
        """How many sources could not be rated."""
        return sum(r.estimate is None for r in self.results)


def read_texts(path: str | Path) -> list[str]:
    """The non-empty lines of a UTF-8 text file, stripped.

    Raises
    ------
    MoodbridgeError
        If the file cannot be read as UTF-8 text.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise MoodbridgeError(f"{path}: cannot read texts: {exc}") from exc
    return [line.strip() for line in text.splitlines() if line.strip()]


def estimate(
    sources: Sequence[str | Path] = (),
    *,
    texts: Sequence[str] = (),
    text_file: str | Path | None = None,
    heads: Mapping[str, str] | None = None,
) -> EmotionResult:
    """Emotion of media files, texts and the lines of a text file.

    Parameters
    ----------
    sources
        Media files (images, audio, MIDI, ``.txt``), as paths or strings.
    texts
        Texts to rate.
    text_file
        A UTF-8 file with one text per line.
    heads
        Modality → head name, to use another head than the default.

    A bad file gets an error naming it; the others carry on.

    Raises
    ------
    InvalidValueError
        When there is nothing to rate.
    """
    todo: list[str | Path] = [Path(s) for s in sources] + [str(t) for t in texts]
    if text_file is not None:
        todo += read_texts(text_file)
    if not todo:
        raise InvalidValueError("nothing to rate: give files, texts or a text file")
    out = EmotionResult()
    for source, (modality, result) in zip(todo, estimate_sources(todo, heads=heads)):
        if isinstance(result, Failure):
            out.results.append(SourceEmotion(source, modality, error=result.message))
        else:
            out.results.append(SourceEmotion(source, modality, estimate=result))
    return out
