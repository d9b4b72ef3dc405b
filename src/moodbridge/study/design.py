"""The trial set of a matching study, built from EMID pairings (EMID Sec. 4.1.2).

Music-to-image
    one clip and four images: the clip's best image in the pairing (rank 0,
    the "correct" answer) and three images drawn from clips of three *other*
    music emotion categories (EMID: "all options belong to different
    emotional categories").
Image-to-music
    the ``m`` images a clip was paired with and four clips: that clip and one
    clip from each of three other categories.
Conditions
    ``aligned`` is the pairing given with ``--pairs`` (α < 1, EMID Eq. 2);
    ``baseline`` (with ``--baseline-pairs``) is the ablation made with α = 1
    (semantic only).  Both conditions use the same clips (EMID keeps "music
    coverage" equal), and every participant answers the trials of both, in one
    shuffled order: the comparison is within participants and balanced (the
    same number of trials per condition for everyone).
Catch trials
    an image is shown with a clip and the identical image is among the four
    options; a participant who misses more than the allowed share of them is
    excluded from the report (:data:`DEFAULT_CATCH_PASS`).

A clip's *category* is its first category label (``mood``, ``emotion`` …, as
:func:`moodbridge.library.emotion.category_label`), else the quadrant of its
emotion (:func:`~moodbridge.library.emotion.item_emotions`).  Trials name
library items by id; the media are served by id, never by path.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from moodbridge.errors import InvalidValueError, LibraryError
from moodbridge.fileio import write_json_atomic
from moodbridge.validate import positive_int

__all__ = [
    "CONDITIONS", "DEFAULT_CATCH_PASS", "DIRECTIONS", "STUDY_JSON", "Option", "Study", "Trial",
    "build_trials", "load_study", "pair_groups",
]

STUDY_JSON = "study.json"
DIRECTIONS: tuple[str, ...] = ("music-to-image", "image-to-music")
CONDITIONS: tuple[str, ...] = ("aligned", "baseline")
#: share of catch trials a participant must pass to be kept in the report
DEFAULT_CATCH_PASS = 1.0
OPTIONS = 4


@dataclass(frozen=True)
class Option:
    """One of the four answers: a library item and the music category it stands for."""

    item: int
    category: str


@dataclass(frozen=True)
class Trial:
    """One question; ``options[correct]`` is the EMID answer (the identical image for a catch trial)."""

    id: str
    direction: str  # music-to-image, image-to-music, or catch
    condition: str  # aligned, baseline, or catch
    category: str  # the music emotion category of the stimulus clip
    clip: int | None  # the clip heard (music-to-image and catch)
    images: tuple[int, ...]  # the images shown (image-to-music: the clip's m images; catch: the probe)
    options: tuple[Option, ...]
    correct: int

    @property
    def is_catch(self) -> bool:
        return self.direction == "catch"

    def audio_items(self) -> list[int]:
        """Library ids of every clip the participant must hear to the end before answering."""
        if self.direction == "image-to-music":
            return [o.item for o in self.options]
        return [self.clip] if self.clip is not None else []

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["images"] = list(self.images)
        d["options"] = [asdict(o) for o in self.options]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Trial":
        return cls(id=str(d["id"]), direction=d["direction"], condition=d["condition"], category=d["category"],
                   clip=None if d.get("clip") is None else int(d["clip"]), images=tuple(int(i) for i in d["images"]),
                   options=tuple(Option(int(o["item"]), str(o["category"])) for o in d["options"]),
                   correct=int(d["correct"]))


@dataclass
class Study:
    """A study folder: ``study.json`` (parameters, trials) and ``stimuli/`` (the excerpts)."""

    root: Path
    id: str
    library: Path
    trials: list[Trial]
    params: dict[str, Any] = field(default_factory=dict)
    secret: str = ""

    def trial(self, trial_id: str) -> Trial | None:
        return next((t for t in self.trials if t.id == trial_id), None)

    @property
    def conditions(self) -> list[str]:
        return sorted({t.condition for t in self.trials if not t.is_catch})

    @property
    def catch_pass(self) -> float:
        return float(self.params.get("catch_pass", DEFAULT_CATCH_PASS))

    def save(self) -> Path:
        data = {"format": "moodbridge-study", "format_version": 1, "id": self.id, "library": str(self.library),
                "secret": self.secret, "parameters": self.params, "trials": [t.to_dict() for t in self.trials]}
        return write_json_atomic(self.root / STUDY_JSON, data, what="study description")


def load_study(root: str | Path) -> Study:
    """Read ``STUDY/study.json``.

    Raises
    ------
    LibraryError
        If the folder is not a study.
    """
    root = Path(root).expanduser().resolve()
    path = root / STUDY_JSON
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LibraryError(f"{root}: not a study folder (no {STUDY_JSON}; make one with 'moodbridge study create')") from None
    except (OSError, ValueError) as exc:
        raise LibraryError(f"{path}: cannot read the study ({exc})") from None
    if data.get("format") != "moodbridge-study":
        raise LibraryError(f"{path}: not a moodbridge study")
    return Study(root=root, id=str(data["id"]), library=Path(data["library"]), secret=str(data.get("secret", "")),
                 params=dict(data.get("parameters", {})), trials=[Trial.from_dict(t) for t in data["trials"]])


def pair_groups(frame: Any, path_to_id: dict[str, int]) -> dict[int, list[int]]:
    """``clip id -> [image ids by rank]`` of a pairs table (``pairs.csv`` columns)."""
    groups: dict[int, list[tuple[int, int]]] = {}
    for row in frame.itertuples():
        clip, image = path_to_id.get(str(row.clip_path)), path_to_id.get(str(row.image_path))
        if clip is None or image is None:
            raise LibraryError(f"the pairs name {row.clip_path if clip is None else row.image_path},"
                               " which is not in the library")
        groups.setdefault(clip, []).append((int(row.rank), image))
    return {c: [i for _, i in sorted(v)] for c, v in groups.items()}


def build_trials(
    conditions: dict[str, dict[int, list[int]]],
    categories: dict[int, str],
    *,
    directions: tuple[str, ...],
    per_category: int,
    catch_trials: int = 2,
    seed: int = 0,
) -> list[Trial]:
    """The trial set of EMID Sec. 4.1.2 for each condition, plus catch trials.

    Parameters
    ----------
    conditions
        Condition name → its pairing as ``clip id -> [image ids by rank]``.
    categories
        Clip id → music emotion category.
    directions
        A subset of :data:`DIRECTIONS`.
    per_category
        Clips per category (EMID: 7); fewer where a category has fewer clips.
    catch_trials
        Attention checks (identical image among the options).
    seed
        Seed of the clip choice, the distractors and the option order.

    Raises
    ------
    InvalidValueError
        Fewer than four categories among the paired clips, or too few images for four options.
    """
    per_category = positive_int(per_category, "trials per category")
    rng = np.random.default_rng(seed)
    clips = sorted(set.intersection(*(set(p) for p in conditions.values())))
    by_cat: dict[str, list[int]] = {}
    for c in clips:
        by_cat.setdefault(categories[c], []).append(c)
    if len(by_cat) < OPTIONS:
        raise InvalidValueError(f"a 4-choice study needs clips of at least 4 emotion categories; the pairs have"
                                f" {len(by_cat)} ({', '.join(sorted(by_cat)) or 'none'})")
    chosen = {cat: sorted(rng.choice(v, size=min(per_category, len(v)), replace=False).tolist())
              for cat, v in sorted(by_cat.items())}
    trials: list[Trial] = []
    for cond, groups in conditions.items():
        for direction in directions:
            for cat, cs in chosen.items():
                for clip in cs:
                    others = [k for k in sorted(by_cat) if k != cat]
                    picks = [str(k) for k in rng.choice(others, size=OPTIONS - 1, replace=False)]
                    if direction == "music-to-image":
                        opts = [Option(groups[clip][0], cat)] + _distractor_images(groups, by_cat, clip, picks, rng)
                        trial = dict(clip=clip, images=())
                    else:
                        opts = [Option(clip, cat)] + [Option(int(rng.choice(by_cat[k])), k) for k in picks]
                        trial = dict(clip=None, images=tuple(groups[clip]))
                    order = rng.permutation(OPTIONS)
                    trials.append(Trial(id="", direction=direction, condition=cond, category=cat,
                                        options=tuple(opts[i] for i in order),
                                        correct=int(np.flatnonzero(order == 0)[0]), **trial))
    images = sorted({i for g in conditions.values() for v in g.values() for i in v})
    if len(images) < OPTIONS and catch_trials:
        raise InvalidValueError(f"catch trials need at least 4 images; the pairs have {len(images)}")
    for _ in range(catch_trials):
        clip = int(rng.choice(clips))
        shown = [int(i) for i in rng.choice(images, size=OPTIONS, replace=False)]
        order = rng.permutation(OPTIONS)
        trials.append(Trial(id="", direction="catch", condition="catch", category=categories[clip], clip=clip,
                            images=(shown[0],), options=tuple(Option(shown[i], "catch") for i in order),
                            correct=int(np.flatnonzero(order == 0)[0])))
    return [replace(t, id=f"t{n:03d}") for n, t in enumerate(trials, 1)]


def _distractor_images(groups: dict[int, list[int]], by_cat: dict[str, list[int]], clip: int, picks: list[str],
                       rng: np.random.Generator) -> list[Option]:
    """One image per category in ``picks``: paired with a clip of that category, not with ``clip``."""
    taken = set(groups[clip])
    out = []
    for cat in picks:
        pool = sorted({i for c in by_cat[cat] for i in groups[c]} - taken)
        if not pool:  # a small library: any image not already an option
            pool = sorted({i for v in groups.values() for i in v} - taken)
        if not pool:
            raise InvalidValueError("too few distinct images for four options; pair more images")
        image = int(rng.choice(pool))
        taken.add(image)
        out.append(Option(image, cat))
    return out
