"""Shared fixtures: where the real data sets live, and skipping when they are absent."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src"
# the tests, and the commands they start in subprocesses, import this checkout's code whatever is installed
sys.path.insert(0, str(SRC))
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(SRC), os.environ.get("PYTHONPATH", "")) if p)
SHARED_DATA = Path(os.environ.get("MOODBRIDGE_SHARED_DATA", REPO.parent / "shared" / "data"))


def shared_path(*parts: str) -> Path:
    """Path under ../shared/data, or skip the test with a clear reason when it is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real data not available: {path} is absent (set MOODBRIDGE_SHARED_DATA)")
    return path


@pytest.fixture
def shared_data() -> Path:
    """The root of the real data sets (``../shared/data``); skips when absent."""
    return shared_path()


@pytest.fixture(scope="session")
def web_library(tmp_path_factory) -> dict[str, Path]:
    """A small real library (6 photos, 8 tracks of 4 moods) with pairs at α 0.6 and α 1, built once per session."""
    from weblib import build_web_library

    return build_web_library(tmp_path_factory.mktemp("weblib"))


#: clips per quadrant of the 4Q subset the tests use (the full 480 clips cost ~8 minutes of musicnn from an empty
#: cache; ``scripts/reproduce_heads.py`` checks the shipped figures on all of them)
FOURQ_PER_QUADRANT = 30


def fourq_subset(dest: Path, per_quadrant: int = FOURQ_PER_QUADRANT, seed: int = 0) -> Path:
    """A 4Q-like folder under ``dest``: ``per_quadrant`` seeded clips of each quadrant, linked to the real ones.

    The clips are symbolic links to ``../shared/data/4q``; the feature cache resolves them, so a subset reuses the
    features of the full set and the other way round.
    """
    import csv
    import random

    src = shared_path("4q")
    with (src / "annotations.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    rng = random.Random(seed)
    chosen: set[str] = set()
    for quadrant in ("Q1", "Q2", "Q3", "Q4"):
        songs = sorted(r["Song"] for r in rows if r["Quadrant"] == quadrant)
        chosen.update(rng.sample(songs, per_quadrant))
    for quadrant in ("Q1", "Q2", "Q3", "Q4"):
        (dest / quadrant).mkdir(parents=True, exist_ok=True)
    for name in ("annotations.csv", "metadata.csv"):
        with (src / name).open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            kept = [r for r in reader if r["Song"] in chosen]
            fields = reader.fieldnames or []
        with (dest / name).open("w", newline="", encoding="utf-8") as out:
            writer = csv.DictWriter(out, fieldnames=fields)
            writer.writeheader()
            writer.writerows(kept)
    for r in rows:
        if r["Song"] in chosen:
            clip = f"{r['Quadrant']}/{r['Song']}.mp3"
            (dest / clip).symlink_to(src / clip)
    return dest


@pytest.fixture(scope="session")
def fourq_small(tmp_path_factory) -> Path:
    """A seeded 4Q subset (:data:`FOURQ_PER_QUADRANT` clips per quadrant) shared by the session; skips without data."""
    return fourq_subset(tmp_path_factory.mktemp("4q-small"))
