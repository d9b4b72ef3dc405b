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
