"""EMID's data filters (Sec. 3.2, "Data Filtering"), applied to a library before pairing.

EMID filters its crawled material before pairing: music clips shorter than
3.7 s are dropped; the "disgusting" image category is excluded; images whose
brightness mean or variance falls under "manually defined" (unpublished)
thresholds are dropped as invalid or of low quality; and, from GIT captions,
images "primarily characterized by textual information" and "photos of bands
or singers performing on stage" are removed.  Each filter here is a named
function over library items that reads what the library stores and returns,
per item, the reason it is dropped (or ``None``); :func:`apply_filters` runs
the chosen ones in the order of :data:`FILTERS` (each sees only what the
earlier ones kept) and returns a :class:`FilterReport` per filter.

Filters (:data:`FILTERS`; ``default`` = on unless the user picks others)
-------------------------------------------------------------------------
``duration`` (music, default)
    Clips shorter than :attr:`FilterSettings.min_duration_s` (EMID: 3.7 s).
    The duration is the ``duration_s`` recorded at ingestion (the decoded
    length); for items without it, the file header is read
    (:func:`moodbridge.media.audio_duration`), never decoded.  The report
    says which source was used.
``category`` (images; default only when an image has a category label)
    Images whose emotion-category label (:data:`~moodbridge.library.emotion.CATEGORY_COLUMNS`)
    is one of :attr:`FilterSettings.excluded_categories` (EMID: disgust).
``brightness`` (images, default)
    Mean grey level (``image-stats`` ``luminance``, 0-255) under
    :attr:`FilterSettings.min_brightness`, or its standard deviation
    (``contrast``; the variance is its square) under
    :attr:`FilterSettings.min_brightness_sd`.  See :class:`FilterSettings`
    for how the defaults were chosen.
``text`` (images, default)
    Images dominated by text: summed ``effnet-lite0`` probability of
    :data:`TEXT_CLASSES` at least :attr:`FilterSettings.text_threshold`.
``stage`` (images, default)
    Stage photographs of performers: summed probability of
    :data:`STAGE_CLASSES` at least :attr:`FilterSettings.stage_threshold`.

Captions
--------
EMID decides "text" and "stage" from GIT captions.  moodbridge has no
captioning encoder (the optional ``clip``/``clap`` encoders of
:mod:`moodbridge.encoders.hf_optional` embed, they do not caption), so both
filters read the ImageNet classifier's classes instead.  A captioning encoder
would plug in as one more stored output (say ``caption`` text per image):
a filter would then drop an item when either its class mass passes the
threshold or its caption matches the filter's words ("text", "document",
"screenshot" / "on stage", "concert", "band"), and say which in its reason.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from numbers import Real
from typing import TYPE_CHECKING, Any

import numpy as np

from moodbridge.errors import InvalidValueError, LibraryError
from moodbridge.pairing.defaults import FILTER_PRESET
from moodbridge.registry import Registry

if TYPE_CHECKING:
    from moodbridge.library import Item, Library

#: ImageNet classes whose pictures are mostly text (names of :func:`~moodbridge.encoders.effnet.imagenet_class_names`).
#: Screenshots of documents and web pages go mostly to "web site" (the images of the Rust, Cargo,
#: valgrind and Node.js documentation installed on the development machine); a photographed printed
#: page spreads over "brass" (memorial tablet, plaque), "menu", "crossword puzzle", "web site",
#: "book jacket", "packet", "envelope" (skimage ``page.png``: 0.31 in all).  "maze" is left out:
#: textures get it too (skimage ``brick.png``: 0.20).
TEXT_CLASSES: tuple[str, ...] = tuple(FILTER_PRESET["text_classes"])

#: ImageNet classes of stage performances: the "stage" class itself (photos of performers on
#: stage), stage lighting and curtains, microphones, and the instruments of bands and singers.
#: Orchestral and keyboard instruments are left out: they are as often photographed off stage.
STAGE_CLASSES: tuple[str, ...] = tuple(FILTER_PRESET["stage_classes"])

#: Emotion categories EMID excludes from its images (Sec. 3.2: "the disgusting category").
EXCLUDED_CATEGORIES: tuple[str, ...] = tuple(FILTER_PRESET["excluded_categories"])

IMAGE_STATS = "image-stats"
CLASSIFIER = "effnet-lite0"
CLASS_OUTPUT = "class_probs"
#: Dropped items named in a summary line.
SUMMARY_ITEMS = 3


@dataclass(frozen=True)
class FilterSettings:
    """Thresholds of the filters.

    Attributes
    ----------
    min_duration_s
        Shortest clip kept, in seconds (EMID Sec. 3.2: 3.7).
    min_brightness
        Lowest mean grey level kept (0-255, BT.709 luma as ``image-stats``).
    min_brightness_sd
        Lowest standard deviation of the grey levels kept (variance = its square).
    text_threshold, stage_threshold
        Summed class probability at which an image counts as text / stage.
    text_classes, stage_classes
        The ImageNet classes summed.
    excluded_categories
        Category labels excluded by ``category``.

    Notes
    -----
    EMID does not publish its brightness thresholds.  The defaults, 16 for the
    mean and 10 for the SD (variance 100), are below half of the lowest values
    among the 1,000 NAPS photographs in ``../shared/data/naps`` (mean 36-230,
    SD 25-105), which are all photographs of usable quality: no NAPS-like
    photograph is dropped.  A near-black frame (a real photo at 10% exposure:
    mean about 12) or a near-uniform one (sky crop: SD under 4) is.  Of the
    scikit-image samples, the darkest real photograph (``hubble_deep_field``,
    mean 19.5) and the flattest (``moon``, SD 13.3) are kept.

    The text threshold 0.25 lies between what text gets (a photographed page,
    skimage ``page.png``, 0.31; 22 of 23 screenshots of documentation and web
    pages 0.36-0.97, the other 0.16) and what the 27 other skimage samples get
    (at most 0.21, a synthetic chessboard as "crossword puzzle"; photographs
    at most 0.03).  It misses handwriting on paper (skimage ``text.png``,
    classed as "maze": 0.04), and charts with many labels can pass it (a
    box plot: 0.47).

    The stage threshold 0.3 is set from the negative side only, since no
    stage photograph is available offline: photographs that are not of a
    stage reach 0.12 at most (skimage ``clock_motion``, ``color``: "spotlight").
    """

    min_duration_s: float = float(FILTER_PRESET["min_duration_s"])
    min_brightness: float = float(FILTER_PRESET["min_brightness"])
    min_brightness_sd: float = float(FILTER_PRESET["min_brightness_sd"])
    text_threshold: float = float(FILTER_PRESET["text_threshold"])
    stage_threshold: float = float(FILTER_PRESET["stage_threshold"])
    text_classes: tuple[str, ...] = TEXT_CLASSES
    stage_classes: tuple[str, ...] = STAGE_CLASSES
    excluded_categories: tuple[str, ...] = EXCLUDED_CATEGORIES

    def __post_init__(self) -> None:
        for name in ("min_duration_s", "min_brightness", "min_brightness_sd", "text_threshold", "stage_threshold"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, Real) or not np.isfinite(value) or value < 0:
                raise InvalidValueError(f"filter setting {name} = {value!r}: must be a finite number >= 0")
            object.__setattr__(self, name, float(value))
        for name in ("text_classes", "stage_classes", "excluded_categories"):
            value = getattr(self, name)
            if isinstance(value, str) or not all(isinstance(v, str) and v.strip() for v in value):
                raise InvalidValueError(f"filter setting {name} = {value!r}: must be a sequence of non-empty names")
            object.__setattr__(self, name, tuple(value))
        for name in ("text_threshold", "stage_threshold"):
            if getattr(self, name) > 1:
                raise InvalidValueError(f"filter setting {name} = {getattr(self, name)!r}: a probability, at most 1")


def filter_settings(**overrides: Any) -> FilterSettings:
    """:class:`FilterSettings` with the given fields changed; ``None`` values keep the defaults."""
    return FilterSettings(**{k: v for k, v in overrides.items() if v is not None})


@dataclass
class FilterReport:
    """What one filter checked and dropped.

    Attributes
    ----------
    name, modality, checks
        The filter, the modality it looks at, and what it checks (one phrase).
    thresholds
        Its settings, by name.
    checked
        Items it looked at (those kept by the filters before it).
    dropped
        ``(item, reason)`` for each item it dropped, in item order.
    note
        Where its inputs came from, when worth saying (e.g. duration sources).
    """

    name: str
    modality: str
    checks: str
    thresholds: dict[str, Any]
    checked: int
    dropped: list[tuple["Item", str]] = field(default_factory=list)
    note: str = ""

    @property
    def noun(self) -> str:
        """``clips`` or ``images``."""
        return "clips" if self.modality == "audio" else "images"

    def summary(self) -> str:
        """One line: ``filter text: dropped 1 of 17 images (page.png: text-like classes 0.31 >= 0.25 ...)``."""
        line = f"filter {self.name}: dropped {len(self.dropped)} of {self.checked} {self.noun}"
        if self.dropped:
            shown = "; ".join(f"{it.name}: {why}" for it, why in self.dropped[:SUMMARY_ITEMS])
            more = f"; and {len(self.dropped) - SUMMARY_ITEMS} more" if len(self.dropped) > SUMMARY_ITEMS else ""
            line += f" ({shown}{more})"
        return line + (f" [{self.note}]" if self.note else "")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready record for ``dataset.json``."""
        return {"name": self.name, "modality": self.modality, "checks": self.checks,
                "thresholds": self.thresholds, "checked": self.checked, "dropped": len(self.dropped),
                "dropped_items": [{"path": it.path, "reason": why} for it, why in self.dropped],
                **({"note": self.note} if self.note else {})}


#: A filter's work: ``(library, items, settings) -> (reason or None per item, note)``.
FilterFunc = Callable[["Library", list["Item"], FilterSettings], tuple[list["str | None"], str]]


@dataclass(frozen=True)
class FilterSpec:
    """One registered filter (see the module docstring)."""

    name: str
    modality: str
    checks: str
    default: bool
    thresholds: Callable[[FilterSettings], dict[str, Any]]
    run: FilterFunc


# --- stored inputs -----------------------------------------------------------------------------

def _stored(library: "Library", items: list["Item"], encoder: str, output: str, filter_name: str) -> np.ndarray:
    """``(N, dim)`` stored output of ``encoder``, or a LibraryError naming the first item without it."""
    try:
        return np.asarray(library.feature_matrix(items, encoder, output=output), dtype=np.float64)
    except LibraryError:
        lacking = [it for it in items if output not in library.features(it, encoder)]
        first = lacking[0].path if lacking else "?"
        raise LibraryError(
            f"filter {filter_name} needs the {output!r} output of {encoder}, which {len(lacking)} image(s) lack "
            f"(first: {first}); re-add them with that encoder, or leave the filter out (--filter / --no-filter)"
        ) from None


def _class_indices(names: Sequence[str], setting: str) -> np.ndarray:
    from moodbridge.encoders.effnet import imagenet_class_names

    index = {n: i for i, n in enumerate(imagenet_class_names())}
    if not names:
        raise InvalidValueError(f"filter setting {setting}: no classes given")
    unknown = [n for n in names if n not in index]
    if unknown:
        raise InvalidValueError(f"filter setting {setting}: {', '.join(map(repr, unknown))} not ImageNet class "
                                "name(s) (see moodbridge.encoders.effnet.imagenet_class_names)")
    return np.array([index[n] for n in names])


# --- the filters -------------------------------------------------------------------------------

def _duration(library: "Library", items: list["Item"], s: FilterSettings) -> tuple[list[str | None], str]:
    """Clips shorter than ``min_duration_s`` (EMID Sec. 3.2: 3.7 s)."""
    from tqdm import tqdm

    from moodbridge.media import audio_duration

    seconds = [it.metadata.get("duration_s") for it in items]
    missing = [i for i, d in enumerate(seconds) if d is None]
    for i in tqdm(missing, desc="reading clip durations", unit="file", disable=len(missing) < 100, leave=False):
        seconds[i] = audio_duration(items[i].path)
    reasons = [f"{float(d):.2f} s < {s.min_duration_s:g} s" if float(d) < s.min_duration_s else None
               for d in seconds]
    note = ""
    if items:
        note = f"durations from stored metadata: {len(items) - len(missing)}, from file headers: {len(missing)}"
    return reasons, note


def _category(library: "Library", items: list["Item"], s: FilterSettings) -> tuple[list[str | None], str]:
    """Images labelled with an excluded emotion category (EMID Sec. 3.2: disgust)."""
    from moodbridge.emotion.lexicon import normalise_word
    from moodbridge.library.emotion import category_label

    excluded = {normalise_word(c) for c in s.excluded_categories}
    reasons: list[str | None] = []
    labelled = 0
    for it in items:
        label = category_label(it)
        labelled += label is not None
        if label is not None and normalise_word(label[1]) in excluded:
            reasons.append(f"label {label[0]}={label[1]} is excluded")
        else:
            reasons.append(None)
    return reasons, f"{labelled} of {len(items)} images have a category label"


def _brightness(library: "Library", items: list["Item"], s: FilterSettings) -> tuple[list[str | None], str]:
    """Images under the brightness mean or SD thresholds (EMID Sec. 3.2)."""
    from moodbridge.encoders.image_stats import FEATURE_NAMES

    stats = _stored(library, items, IMAGE_STATS, "features", "brightness")
    mean, sd = stats[:, FEATURE_NAMES.index("luminance")], stats[:, FEATURE_NAMES.index("contrast")]
    reasons: list[str | None] = []
    for m, d in zip(mean, sd):
        parts = ([f"brightness mean {m:.1f} < {s.min_brightness:g}"] if m < s.min_brightness else []) + \
                ([f"brightness SD {d:.1f} < {s.min_brightness_sd:g}"] if d < s.min_brightness_sd else [])
        reasons.append(", ".join(parts) or None)
    return reasons, ""


def _class_mass(library: "Library", items: list["Item"], classes: Sequence[str], threshold: float,
                what: str, filter_name: str) -> list[str | None]:
    """Reason per item whose summed probability of ``classes`` reaches ``threshold``."""
    from moodbridge.encoders.effnet import imagenet_class_names

    idx = _class_indices(classes, f"{filter_name}_classes")
    probs = _stored(library, items, CLASSIFIER, CLASS_OUTPUT, filter_name)[:, idx]
    names = imagenet_class_names()
    reasons: list[str | None] = []
    for row in probs:
        total = float(row.sum())
        if total < threshold:
            reasons.append(None)
            continue
        top = np.argsort(-row, kind="stable")[:3]
        detail = ", ".join(f"{names[idx[j]]} {row[j]:.2f}" for j in top if row[j] >= 0.005)
        reasons.append(f"{what} classes {total:.2f} >= {threshold:g} ({detail})")
    return reasons


def _text(library: "Library", items: list["Item"], s: FilterSettings) -> tuple[list[str | None], str]:
    """Images dominated by text (EMID Sec. 3.2), from ImageNet classes."""
    return _class_mass(library, items, s.text_classes, s.text_threshold, "text-like", "text"), ""


def _stage(library: "Library", items: list["Item"], s: FilterSettings) -> tuple[list[str | None], str]:
    """Stage photographs of performers (EMID Sec. 3.2), from ImageNet classes."""
    return _class_mass(library, items, s.stage_classes, s.stage_threshold, "stage-like", "stage"), ""


#: The filters, in the order they run.
FILTERS: Registry[FilterSpec] = Registry("filter")
for _spec in (
    FilterSpec("duration", "audio", "clip duration", True,
               lambda s: {"min_duration_s": s.min_duration_s}, _duration),
    FilterSpec("category", "image", "emotion-category label", False,
               lambda s: {"excluded_categories": list(s.excluded_categories)}, _category),
    FilterSpec("brightness", "image", "mean and SD of the grey levels (image-stats)", True,
               lambda s: {"min_brightness": s.min_brightness, "min_brightness_sd": s.min_brightness_sd}, _brightness),
    FilterSpec("text", "image", "summed effnet-lite0 probability of text-like ImageNet classes", True,
               lambda s: {"text_threshold": s.text_threshold, "text_classes": list(s.text_classes)}, _text),
    FilterSpec("stage", "image", "summed effnet-lite0 probability of stage/performance ImageNet classes", True,
               lambda s: {"stage_threshold": s.stage_threshold, "stage_classes": list(s.stage_classes)}, _stage),
):
    FILTERS.register(_spec.name, _spec)


def default_filter_names(images: Sequence["Item"]) -> list[str]:
    """The filters on by default: every ``default`` one, plus ``category`` when an image has a category label."""
    from moodbridge.library.emotion import category_label

    labelled = any(category_label(it) is not None for it in images)
    return [name for name, f in FILTERS.items() if f.default or (name == "category" and labelled)]


def check_filter_names(names: Sequence[str]) -> list[str]:
    """``names`` deduplicated in run order; InvalidValueError naming any unknown filter."""
    wanted = set(FILTERS.check(list(names)))
    return [n for n in FILTERS if n in wanted]


def apply_filters(
    library: "Library",
    music: list["Item"],
    images: list["Item"],
    names: Sequence[str] | None = None,
    settings: FilterSettings | None = None,
) -> tuple[list["Item"], list["Item"], list[FilterReport]]:
    """Run the chosen filters (EMID Sec. 3.2) on a library's clips and images.

    Parameters
    ----------
    library
        The open library holding the items' stored features.
    music, images
        The clips and images to filter.
    names
        Filters to run (any order; they run in the order of :data:`FILTERS`);
        ``None`` for :func:`default_filter_names`, ``[]`` for none.
    settings
        Thresholds; default :class:`FilterSettings`.

    Returns
    -------
    kept_music, kept_images : list of Item
        The items no filter dropped, in their original order.
    reports : list of FilterReport
        One per filter run, in run order.

    Raises
    ------
    InvalidValueError
        For an unknown filter name or bad settings.
    LibraryError
        If an item lacks the stored output a filter reads, or the filters
        drop every clip or every image (the message names the filters).
    """
    settings = settings or FilterSettings()
    chosen = default_filter_names(images) if names is None else check_filter_names(names)
    kept = {"audio": list(music), "image": list(images)}
    reports: list[FilterReport] = []
    for name in chosen:
        spec = FILTERS[name]
        items = kept[spec.modality]
        reasons, note = spec.run(library, items, settings) if items else ([], "")
        report = FilterReport(spec.name, spec.modality, spec.checks, spec.thresholds(settings), len(items),
                              [(it, why) for it, why in zip(items, reasons) if why is not None], note)
        kept[spec.modality] = [it for it, why in zip(items, reasons) if why is None]
        reports.append(report)
    for modality, before in (("audio", music), ("image", images)):
        if before and not kept[modality]:
            by = [r for r in reports if r.modality == modality and r.dropped]
            noun = "clips" if modality == "audio" else "images"
            raise LibraryError(
                f"{library.root}: the filters dropped all {len(before)} {noun} "
                f"({', '.join(f'{r.name}: {len(r.dropped)}' for r in by)}; first: {by[0].dropped[0][0].name}: "
                f"{by[0].dropped[0][1]}); change their thresholds, choose filters with --filter, or use --no-filter"
            )
    return kept["audio"], kept["image"], reports
