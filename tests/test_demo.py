"""``moodbridge demo`` builds its library from packaged media and shows it."""
from __future__ import annotations

import json
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
    report = tmp_path / "pairs" / "report.html"
    assert f"report: {report}" in res.stdout and report.stat().st_size > 10_000
    assert not (tmp_path / "pairs" / ".pairing-checkpoint").exists()  # removed once the job finished
    assert "filter text: dropped 1 of 17 images (page.png" in res.stdout
    assert "EMID pairing" in res.stdout
    with Library.open(tmp_path / "library") as lib:
        assert lib.catalogue.counts_by_modality() == {"image": 17, "audio": 28}
        moods = {it.labels.get("mood") for it in lib.items(modality="audio")}
        assert moods == {"calm", "energetic", "happy", "nostalgic", "tender"}
    again = subprocess.run([sys.executable, "-m", "moodbridge", "demo", "--dir", str(tmp_path), "-q"],
                           capture_output=True, text=True, timeout=900)
    assert again.returncode == 0 and "unchanged 45" in again.stdout

    # search on a real photo returns music from the demo library, with scores and emotions
    photo = tmp_path / "media" / "photos" / "coffee.png"
    found = subprocess.run([sys.executable, "-m", "moodbridge", "search", str(tmp_path / "library"), str(photo),
                            "--to", "music", "--top", "5", "--json"], capture_output=True, text=True, timeout=300)
    assert found.returncode == 0, found.stderr[-2000:]
    result = json.loads(found.stdout)
    assert result["query_modality"] == "image" and result["target"] == "audio"
    assert result["method"].startswith("fallback")  # no joint space trained in the demo
    hits = result["hits"]
    assert len(hits) == 5 and [h["rank"] for h in hits] == [1, 2, 3, 4, 5]
    assert all(h["path"].startswith(str(tmp_path / "media" / "music")) for h in hits)
    scores = [h["score"] for h in hits]
    assert scores == sorted(scores, reverse=True)
    assert all(-1 <= h["valence"] <= 1 and -1 <= h["arousal"] <= 1 and h["quadrant"] in {"Q1", "Q2", "Q3", "Q4"}
               for h in hits)
