"""``moodbridge demo`` builds its library from packaged media and shows it."""
from __future__ import annotations

import subprocess
import sys

from moodbridge.library import Library


def test_demo_builds_library_from_packaged_media(tmp_path):
    res = subprocess.run([sys.executable, "-m", "moodbridge", "demo", "--dir", str(tmp_path), "-q"],
                         capture_output=True, text=True, timeout=900)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "failed 0" in res.stdout
    chelsea = next(l for l in res.stdout.splitlines() if "chelsea.png" in l and "cat" in l)
    assert "cat" in chelsea
    assert (tmp_path / "pairs" / "pairs.csv").exists() and (tmp_path / "pairs" / "dataset.json").exists()
    assert "EMID pairing" in res.stdout
    with Library.open(tmp_path / "library") as lib:
        assert lib.catalogue.counts_by_modality() == {"image": 17, "audio": 28}
        moods = {it.labels.get("mood") for it in lib.items(modality="audio")}
        assert moods == {"calm", "energetic", "happy", "nostalgic", "tender"}
    again = subprocess.run([sys.executable, "-m", "moodbridge", "demo", "--dir", str(tmp_path), "-q"],
                           capture_output=True, text=True, timeout=900)
    assert again.returncode == 0 and "unchanged 45" in again.stdout
