"""Emotional arcs: a sequence of (music, image) steps whose emotions move from a start to an end point.

Music therapists meet the listener's current mood and move from there step by
step towards the goal (the "iso principle"; beyond the EMID and Emo-CLIM
papers).  The path is the straight line in the valence-arousal plane from
``start`` to ``end``, sampled at ``steps`` evenly spaced points ``p_i``.  For
each modality the items are chosen jointly by dynamic programming so that

* no item is used twice,
* the items' distance to ``end`` never increases along the arc (the arc moves
  monotonically towards the goal: items are walked in the order of that
  distance, ties by id), and
* the total Euclidean VA distance ``sum_i |va(item_i) - p_i|`` is the least
  of all sequences that satisfy the first two.

Each item's emotion is the library's one rule
(:func:`moodbridge.library.emotion.item_emotions`).  A start or end may be a
point (``"-0.4,0.4"``) or a word: first a category of the built-in
taxonomies (Cowen's "anxious/tense", "calm/relaxing" …), else the text
emotion head (NRC-VAD-trained) on the word.
"""
from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from moodbridge.errors import InvalidValueError, LibraryError
from moodbridge.library.emotion import TAXONOMY_ORDER, item_emotions
from moodbridge.validate import positive_int

__all__ = ["Arc", "ArcStep", "build_arc", "emotion_point", "monotone_assignment"]

MAX_STEPS = 64


@dataclass
class ArcStep:
    """One step: its target point and the music and image chosen for it."""

    index: int
    target: tuple[float, float]
    music: dict[str, Any] | None
    image: dict[str, Any] | None


@dataclass
class Arc:
    """A start, an end, and the steps between them."""

    start: tuple[float, float]
    end: tuple[float, float]
    start_label: str
    end_label: str
    steps: list[ArcStep] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2) + "\n"

    def to_csv(self) -> str:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["step", "target_valence", "target_arousal", "music_id", "music_path", "music_valence",
                    "music_arousal", "image_id", "image_path", "image_valence", "image_arousal"])
        for s in self.steps:
            m, i = s.music or {}, s.image or {}
            w.writerow([s.index + 1, f"{s.target[0]:.4f}", f"{s.target[1]:.4f}", m.get("id", ""), m.get("path", ""),
                        _fmt(m.get("valence")), _fmt(m.get("arousal")), i.get("id", ""), i.get("path", ""),
                        _fmt(i.get("valence")), _fmt(i.get("arousal"))])
        return buf.getvalue()

    def to_m3u(self) -> str:
        """An extended M3U playlist of the arc's music, one entry per step."""
        lines = ["#EXTM3U", f"#PLAYLIST:moodbridge arc {self.start_label} -> {self.end_label}"]
        for s in self.steps:
            if s.music:
                lines.append(f"#EXTINF:-1,step {s.index + 1}: {s.music['name']}"
                             f" (valence {s.music['valence']:+.2f}, arousal {s.music['arousal']:+.2f})")
                lines.append(str(s.music["path"]))
        return "\n".join(lines) + "\n"


def _fmt(x: Any) -> str:
    return "" if x is None else f"{float(x):.4f}"


def emotion_point(text: str) -> tuple[tuple[float, float], str]:
    """``((valence, arousal), how it was read)`` of ``"v,a"`` or an emotion word.

    Raises
    ------
    InvalidValueError
        An empty text, or a point outside ``[-1, 1]``.
    """
    from moodbridge.emotion import get_taxonomy
    from moodbridge.emotion.lexicon import normalise_word

    s = str(text).strip()
    if not s:
        raise InvalidValueError("an arc end is empty: give a word (calm) or a point (0.6,-0.7)")
    parts = s.replace(";", ",").split(",")
    if len(parts) == 2:
        try:
            v, a = float(parts[0]), float(parts[1])
        except ValueError:
            pass
        else:
            if not (np.isfinite(v) and np.isfinite(a) and -1 <= v <= 1 and -1 <= a <= 1):
                raise InvalidValueError(f"the point {s!r} lies outside [-1, 1]")
            return (v, a), f"point {v:+.2f},{a:+.2f}"
    key = normalise_word(s)
    for name in TAXONOMY_ORDER:
        for cat in get_taxonomy(name):
            if cat.matches(key):
                return (float(cat.va.valence), float(cat.va.arousal)), f"{s} ({name}/{cat.name})"
    from moodbridge.affect.base import get_head

    head = get_head("text-va")
    point = head.predict_texts([s])[0]  # type: ignore[attr-defined]
    return (float(point[0]), float(point[1])), f"{s} (text emotion head {head.key})"


def monotone_assignment(targets: np.ndarray, va: np.ndarray, end: np.ndarray) -> list[int]:
    """Indices into ``va`` for each target: distinct, non-increasing distance to ``end``, least total distance.

    ``O(steps * items)`` dynamic programme over the items sorted by their
    distance to ``end`` (far first, ties by index).

    Raises
    ------
    InvalidValueError
        Fewer items than targets.
    """
    n, m = len(targets), len(va)
    if m < n:
        raise InvalidValueError(f"an arc of {n} steps needs at least {n} items; there are {m}")
    d_end = np.linalg.norm(va - end, axis=1)
    order = np.lexsort((np.arange(m), -d_end))  # far from the end first
    cost = np.linalg.norm(va[order][None, :, :] - targets[:, None, :], axis=2)  # (n, m)
    best = np.full((n, m), np.inf)
    back = np.full((n, m), -1, dtype=int)
    best[0] = cost[0]
    for i in range(1, n):
        run_min, run_arg = np.inf, -1
        for j in range(m):
            if j > 0 and best[i - 1, j - 1] < run_min:
                run_min, run_arg = best[i - 1, j - 1], j - 1
            if run_arg >= 0:
                best[i, j] = run_min + cost[i, j]
                back[i, j] = run_arg
    j = int(np.argmin(best[n - 1]))
    path = [j]
    for i in range(n - 1, 0, -1):
        j = int(back[i, j])
        path.append(j)
    return [int(order[k]) for k in reversed(path)]


def build_arc(library: Any, start: str, end: str, *, steps: int = 6) -> Arc:
    """The arc from ``start`` to ``end`` in ``steps`` steps over a library's music and images.

    Raises
    ------
    InvalidValueError
        Fewer than 2 or more than :data:`MAX_STEPS` steps; a bad start or end.
    LibraryError
        Fewer music or image items with an emotion than steps.
    """
    steps = positive_int(steps, "steps")
    if not 2 <= steps <= MAX_STEPS:
        raise InvalidValueError(f"an arc has 2 to {MAX_STEPS} steps, got {steps}")
    (p0, l0), (p1, l1) = emotion_point(start), emotion_point(end)
    a, b = np.array(p0), np.array(p1)
    targets = a[None, :] + (b - a)[None, :] * np.linspace(0.0, 1.0, steps)[:, None]
    arc = Arc(start=p0, end=p1, start_label=l0, end_label=l1)
    chosen: dict[str, list[dict[str, Any]]] = {}
    for modality in ("audio", "image"):
        items = library.items(modality=modality)
        pairs = [(it, e) for it, e in zip(items, item_emotions(library, items)) if e is not None]
        if len(pairs) < steps:
            raise LibraryError(f"an arc of {steps} steps needs {steps} {modality} items with an emotion;"
                               f" the library has {len(pairs)}")
        va = np.array([[e.valence, e.arousal] for _, e in pairs])
        picks = monotone_assignment(targets, va, b)
        chosen[modality] = [{"id": pairs[k][0].id, "path": pairs[k][0].path, "name": pairs[k][0].name,
                             "valence": float(va[k, 0]), "arousal": float(va[k, 1]), "source": pairs[k][1].source,
                             "distance": float(np.linalg.norm(va[k] - targets[i]))}
                            for i, k in enumerate(picks)]
    arc.steps = [ArcStep(i, (float(targets[i, 0]), float(targets[i, 1])), chosen["audio"][i], chosen["image"][i])
                 for i in range(steps)]
    return arc
