"""A small real library for the web and study tests: 6 scikit-image photos, 8 mood-labelled tracks, two pairings.

Building it runs every offline encoder on 14 real files (about half a minute on
two cores); :func:`build_web_library` is called once per test session.
"""
from __future__ import annotations

import csv
import shutil
from pathlib import Path

from realmedia import immich_tracks, skimage_photo

WEB_PHOTOS = ("astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg", "camera.png", "motorcycle_left.png")
#: two tracks from each of four moods: four emotion categories, as a 4-option trial needs
WEB_MOODS = ("calm", "energetic", "happy", "tender")


def build_web_library(root: Path) -> dict[str, Path]:
    """``{"root", "library", "photos", "pairs", "baseline"}`` under ``root`` (pairs at α 0.6 and α 1)."""
    from moodbridge.jobs.pair import run_pair
    from moodbridge.library import Library

    photos = root / "media" / "photos"
    photos.mkdir(parents=True, exist_ok=True)
    for name in WEB_PHOTOS:
        shutil.copyfile(skimage_photo(name), photos / name)
    rows = []
    for mood in WEB_MOODS:
        for src in [t for t in immich_tracks() if t.parent.name == mood][:2]:
            dst = root / "media" / "music" / mood / src.name
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dst)
            rows.append((str(dst), mood))
    labels = root / "moods.csv"
    with labels.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["file", "mood"])
        w.writerows(rows)
    with Library.create(root / "library") as lib:
        lib.add([root / "media"], progress=False)
        lib.import_labels(labels)
        run_pair(lib, root / "pairs", progress=False, report=True, report_clips=8, alpha=0.6, k=4, m=2)
        run_pair(lib, root / "baseline", progress=False, report=False, alpha=1.0, k=4, m=2)
    return {"root": root, "library": root / "library", "photos": photos,
            "pairs": root / "pairs", "baseline": root / "baseline"}
