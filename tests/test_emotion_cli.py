"""``moodbridge emotion`` and ``moodbridge affect eval`` from the command line, on real media."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import shared_path
from realmedia import immich_tracks, skimage_photo, write_midi


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "moodbridge", *args], capture_output=True, text=True, timeout=600)


def test_emotion_of_a_photo_a_track_a_midi_file_and_texts_as_json(tmp_path):
    midi = write_midi(tmp_path / "arpeggio.mid")
    res = run_cli("emotion", str(skimage_photo("coffee.png")), str(immich_tracks()[0]), str(midi),
                  "--text", "a joyful celebration with friends", "--text", "a funeral in the rain", "--json")
    assert res.returncode == 0, res.stderr
    rows = [json.loads(line) for line in res.stdout.splitlines()]
    assert [r["modality"] for r in rows] == ["image", "audio", "midi", "text", "text"]
    for r in rows:
        assert -1 <= r["valence"] <= 1 and -1 <= r["arousal"] <= 1
        assert r["quadrant"] in {"Q1", "Q2", "Q3", "Q4"}
        assert abs(sum(r["distribution"].values()) - 1) < 0.01
        assert r["head"] and r["features"]
        assert ("path" in r) != ("text" in r)
    joyful, funeral = rows[3], rows[4]
    assert joyful["valence"] > funeral["valence"] + 0.5


def test_bad_items_get_one_error_each_and_the_rest_is_rated(tmp_path):
    corrupt = tmp_path / "broken.mp3"
    corrupt.write_bytes(b"\xff\xfb" + bytes(300))
    texts = tmp_path / "captions.txt"
    texts.write_text("a calm lake at dawn\n\nan angry crowd shouting\n")
    res = run_cli("emotion", str(corrupt), str(skimage_photo("chelsea.png")), "--text", "  ",
                  "--text-file", str(texts))
    assert res.returncode == 3
    errors = [l for l in res.stderr.splitlines() if l.startswith("error: ")]
    assert len(errors) == 2, res.stderr
    assert any("broken.mp3" in e for e in errors) and any("<text>: empty" in e for e in errors)
    assert "Traceback" not in res.stderr
    assert "chelsea.png" in res.stdout and "a calm lake at dawn" in res.stdout and "an angry crowd" in res.stdout


def test_affect_eval_prints_one_flat_json_object():
    data = shared_path("vgmidi")
    res = run_cli("affect", "eval", "--task", "vgmidi", "--data", str(data), "--json")
    assert res.returncode == 0, res.stderr[-2000:]
    metrics = json.loads(res.stdout.strip().splitlines()[-1])
    assert {"valence_accuracy", "arousal_accuracy", "valence_auc", "arousal_auc", "n", "head", "version"} <= set(metrics)
    assert metrics["n"] == 153
    assert all(not isinstance(v, (dict, list)) for v in metrics.values())
    assert metrics["valence_auc"] > 0.6 and metrics["arousal_auc"] > 0.6
