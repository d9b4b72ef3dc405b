"""Job ``expand``: EMID music expansion of a library (Sec. 3.2.2), new clips from full tracks, added with labels.

:func:`run_expand` runs :func:`moodbridge.pairing.expand.expand` with the
library's own audio clips as the source clips, cuts the new clips into a
folder (:func:`~moodbridge.pairing.expand.cut_candidates`), adds them to the
library and gives each the labels of its source clip ("assigned the same
labels as the corresponding source samples", EMID Sec. 3.2.2) plus its
provenance as labels (:data:`PROVENANCE_LABELS`).  A source clip without
labels passes on its stored emotion estimate as ``valence``/``arousal``
labels in [-1, 1], so the new clip keeps the emotion the pairing will use.

Resumable: cut names are deterministic and each cut is written atomically,
``Library.add`` skips files it already holds, and the labels are written in
one transaction after the add, so an interrupted run is completed by running
it again.  ``expansion.json`` in the output folder (written last, atomically)
lists every new clip with its provenance.  Clips made by an earlier expansion
(they carry an ``expanded_from`` label) are never used as source clips.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from moodbridge.errors import LibraryError, MoodbridgeError
from moodbridge.jobs.base import JobResult, LibraryLike, using_library

if TYPE_CHECKING:
    from moodbridge.library import Item, Library
    from moodbridge.pairing.expand import ClipProvenance, ExpansionReport

#: Labels recording where an expanded clip comes from.
PROVENANCE_LABELS: tuple[str, ...] = ("expanded_from", "expanded_track", "expanded_start_s", "expanded_end_s",
                                      "expanded_score")
#: Provenance file written into the output folder.
EXPANSION_JSON = "expansion.json"


@dataclass
class ExpandResult(JobResult):
    """What :func:`run_expand` did.

    Attributes
    ----------
    report
        The scan (:class:`~moodbridge.pairing.expand.ExpansionReport`): candidates,
        located clips, unmatched tracks, unreadable tracks.
    written
        The cut clips with their provenance.
    added
        How many of them the library newly took in.
    labelled
        How many library items received inherited labels.
    errors
        Unreadable tracks, failed cuts and clips the library refused, each naming its file.
    sources
        Number of library clips used as source clips.
    """

    report: "ExpansionReport | None" = None
    written: list["ClipProvenance"] = field(default_factory=list)
    added: int = 0
    labelled: int = 0
    errors: list[str] = field(default_factory=list)
    sources: int = 0

    @property
    def partial(self) -> bool:
        """True when some track, cut or clip failed."""
        return bool(self.errors)


def source_items(library: "Library") -> list["Item"]:
    """The library's audio clips that can seed an expansion (not themselves expanded clips)."""
    return [it for it in library.items(modality="audio") if "expanded_from" not in it.labels]


def inherited_labels(library: "Library", source: "Item") -> dict[str, str]:
    """The labels a new clip takes from its source clip (its labels, else its stored emotion)."""
    labels = {k: v for k, v in source.labels.items() if k not in PROVENANCE_LABELS}
    if labels:
        return labels
    from moodbridge.library.emotion import item_emotions

    chosen = item_emotions(library, [source])[0]
    if chosen is None:
        return {}
    return {"valence": f"{chosen.valence:.4f}", "arousal": f"{chosen.arousal:.4f}",
            "emotion_source": f"source clip's {chosen.head or chosen.source}"}


def run_expand(
    library: LibraryLike,
    tracks: Sequence[str | Path],
    out_dir: str | Path | None = None,
    *,
    threshold: float | None = None,
    window_s: float | None = None,
    hop_s: float | None = None,
    suffix: str = ".flac",
    dry_run: bool = False,
    progress: bool = True,
) -> ExpandResult:
    """Find new clips for a library's music in full tracks (EMID Sec. 3.2.2) and add them.

    Parameters
    ----------
    library
        An open library with audio clips, or its folder.
    tracks
        Full-track audio files (folders are scanned recursively).
    out_dir
        Where the new clips are written (created; default ``LIB/expanded``); ``expansion.json`` goes there too.
    threshold, window_s, hop_s
        Passed to :func:`~moodbridge.pairing.expand.expand` (defaults: 0.6, 5 s, 1 s).
    suffix
        ``.flac`` or ``.wav``.
    dry_run
        Scan and report the candidates only: nothing is written or added.
    progress
        Progress bars (tracks, cuts, the add).

    Raises
    ------
    LibraryError
        The library has no audio clip to seed the expansion, or no track was given.
    """
    with using_library(library) as lib:
        return _expand(lib, tracks, lib.root / "expanded" if out_dir is None else out_dir, threshold=threshold,
                       window_s=window_s, hop_s=hop_s, suffix=suffix, dry_run=dry_run, progress=progress)


def _expand(library: "Library", tracks: Sequence[str | Path], out_dir: str | Path, *, threshold: float | None,
            window_s: float | None, hop_s: float | None, suffix: str, dry_run: bool, progress: bool) -> ExpandResult:
    from moodbridge.fileio import write_json_atomic
    from moodbridge.library.scan import scan_paths
    from moodbridge.pairing import expand as ex

    sources = source_items(library)
    if not sources:
        raise LibraryError(f"{library.root}: no audio clips to expand from (expanded clips do not count)")
    scan = scan_paths(tracks)
    track_paths = [p for p, modality in scan.media if modality == "audio"]
    errors = [f"{p}: not audio" for p, modality in scan.media if modality != "audio"]
    errors += [f"{p}: unsupported file type" for p in scan.unsupported]
    errors += [f"{p}: no such file or folder" for p in scan.missing]
    errors += [f"{p}: empty folder" for p in scan.empty_folders]
    if not track_paths:
        raise LibraryError("no audio tracks to scan" + (f" ({'; '.join(errors)})" if errors else ""))

    clips, by_id = [], {}
    for item in sources:
        try:
            clips.append(ex.SourceClip.from_path(item.path, id=item.path))
            by_id[item.path] = item
        except MoodbridgeError as err:
            errors.append(str(err))
    options = {k: v for k, v in (("threshold", threshold), ("window_s", window_s), ("hop_s", hop_s)) if v is not None}
    report = ex.expand(clips, track_paths, progress=progress, **options)
    errors += [str(err) for err in report.errors]
    result = ExpandResult(report=report, errors=errors, sources=len(clips))
    out = Path(out_dir).expanduser().resolve()
    if dry_run or not report.candidates:
        return result

    written, cut_errors = ex.cut_candidates(report.candidates, out, suffix=suffix, progress=progress)
    result.written, result.errors = written, errors + [str(e) for e in cut_errors]
    if not written:
        return result
    added = library.add([w.path for w in written], progress=progress)
    result.added = len(added.added)
    result.errors += [f.message for f in added.failed + added.known_failures]
    result.labelled = _label_new_clips(library, written, by_id)
    result.files["expansion"] = write_json_atomic(out / EXPANSION_JSON, {
        "format": "moodbridge-expansion", "format_version": 1, "library": str(library.root),
        "parameters": {"threshold": options.get("threshold", ex.DEFAULT_THRESHOLD),
                       "window_s": options.get("window_s", ex.DEFAULT_WINDOW_S),
                       "hop_s": options.get("hop_s", ex.DEFAULT_HOP_S)},
        "tracks": [str(p) for p in track_paths],
        "clips": [w.to_dict() for w in written],
        "errors": result.errors,
    })
    return result


def _label_new_clips(library: "Library", written: Sequence["ClipProvenance"], by_id: dict[str, "Item"]) -> int:
    """Give each added clip its source clip's labels and its provenance, in one transaction."""
    by_path = {it.path: it for it in library.items(modality="audio")}
    rows = []
    for w in written:
        item = by_path.get(str(w.path))
        source = by_id.get(str(w.source_clip))
        if item is None or source is None:
            continue
        labels = inherited_labels(library, source)
        labels.update({
            "expanded_from": source.path, "expanded_track": str(w.track),
            "expanded_start_s": f"{w.start_s:.3f}", "expanded_end_s": f"{w.end_s:.3f}",
            "expanded_score": f"{w.score:.4f}" if w.score is not None else "",
        })
        rows.append((item.id, labels))
    library.set_labels(rows, source="expand")
    return len(rows)
