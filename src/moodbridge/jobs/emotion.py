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

__all__ = ["EmotionResult", "SourceEmotion", "estimate", "heads_by_modality", "read_texts"]


@dataclass
class SourceEmotion:
    """One source's emotion, or why it has none."""

    source: str | Path
    modality: str
    estimate: EmotionEstimate | None = None
    error: str | None = None
    #: the caption combined with the pixels (images given with ``captions``)
    caption: str | None = None
    #: the image head's estimate from the pixels alone, before the caption was combined
    pixels: EmotionEstimate | None = None

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
        if self.caption is not None:
            out["caption"] = self.caption
        if self.pixels is not None:
            out["pixels"] = {"valence": self.pixels.valence, "arousal": self.pixels.arousal, "head": self.pixels.head}
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


def heads_by_modality(names: Sequence[str]) -> dict[str, str] | None:
    """The default heads with each of ``names`` (``name`` or ``name@version``) in place of its modality's.

    Raises
    ------
    UnknownNameError
        If a name is not a registered head.
    """
    if not names:
        return None
    from moodbridge.affect.base import get_head
    from moodbridge.affect.estimate import DEFAULT_HEADS

    heads = dict(DEFAULT_HEADS)
    for name in names:
        heads[get_head(name).modality] = name
    return heads


def estimate(
    sources: Sequence[str | Path] = (),
    *,
    texts: Sequence[str] = (),
    text_file: str | Path | None = None,
    heads: Mapping[str, str] | None = None,
    captions: Sequence[str] = (),
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
    captions
        One caption per image among ``sources``, in order: each image's
        emotion from its pixels is combined with its caption's
        (:func:`moodbridge.affect.caption.with_caption`).

    A bad file gets an error naming it; the others carry on.

    Raises
    ------
    InvalidValueError
        When there is nothing to rate, or ``captions`` do not match the images one to one.
    """
    todo: list[str | Path] = [Path(s) for s in sources] + [str(t) for t in texts]
    if text_file is not None:
        todo += read_texts(text_file)
    if not todo:
        raise InvalidValueError("nothing to rate: give files, texts or a text file")
    captioned = _captioned_images(todo, list(captions)) if captions else []
    out = EmotionResult()
    for source, (modality, result) in zip(todo, estimate_sources(todo, heads=heads)):
        if isinstance(result, Failure):
            out.results.append(SourceEmotion(source, modality, error=result.message))
        else:
            out.results.append(SourceEmotion(source, modality, estimate=result))
    for i, caption in zip(captioned, captions):
        _apply_caption(out.results[i], caption)
    return out


def _captioned_images(todo: Sequence[str | Path], captions: list[str]) -> list[int]:
    """Indices of the image files among ``todo`` (a file that cannot be opened counts, so the rest stay in order)."""
    from moodbridge.media import sniff

    def is_image(src: str | Path) -> bool:
        try:
            return sniff(src) == "image"
        except MoodbridgeError:
            return True

    images = [i for i, src in enumerate(todo) if isinstance(src, Path) and is_image(src)]
    if len(images) != len(captions):
        raise InvalidValueError(
            f"{len(captions)} caption(s) for {len(images)} image(s): give one --caption per image, in order"
        )
    return images


def _apply_caption(r: SourceEmotion, caption: str) -> None:
    from moodbridge.affect.caption import with_caption
    from moodbridge.errors import EmptyMediaError

    r.caption = caption
    if r.estimate is None:
        return
    try:
        combined = with_caption(r.estimate, caption)
    except EmptyMediaError as exc:
        r.error, r.estimate = f"{r.source}: caption: {exc}", None
        return
    r.pixels, r.estimate = r.estimate, combined
