"""The audio the participants hear: one WAV excerpt per clip, written into the study folder.

EMID plays short music clips (Sec. 4.1.2); a library holds whole tracks, so
each clip used by a trial is cut to ``seconds`` starting at 30 % of the track
(past most intros), faded in and out over 50 ms, and saved as 16-bit mono WAV
at 22 050 Hz, ``STUDY/stimuli/<item id>.wav``.  The browser loads it by item
id; the answer buttons unlock when it has played to the end.
"""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

from moodbridge.fileio import atomic_path

__all__ = ["STIMULI_DIR", "SAMPLE_RATE", "stimulus_path", "write_excerpts"]

STIMULI_DIR = "stimuli"
SAMPLE_RATE = 22050
START_FRACTION = 0.3
FADE_SECONDS = 0.05


def stimulus_path(study_root: Path, item_id: int) -> Path:
    """Where the excerpt of library item ``item_id`` lives."""
    return Path(study_root) / STIMULI_DIR / f"{int(item_id)}.wav"


def write_excerpts(study_root: Path, clips: Iterable[tuple[int, str | Path]], *, seconds: float) -> list[Path]:
    """Cut and write the excerpt of each ``(item id, audio path)``; returns the files.

    Raises
    ------
    MediaError
        When a clip cannot be decoded (names the file).
    """
    import soundfile as sf

    from moodbridge.media.audio import load_audio

    out = []
    (Path(study_root) / STIMULI_DIR).mkdir(parents=True, exist_ok=True)
    for item_id, path in clips:
        y, sr = load_audio(path, sample_rate=SAMPLE_RATE)
        n = int(round(seconds * sr))
        start = int(max(0, min(len(y) * START_FRACTION, len(y) - n)))
        piece = np.array(y[start:start + n], dtype=np.float32)
        fade = min(int(FADE_SECONDS * sr), len(piece) // 2)
        if fade:
            ramp = np.linspace(0.0, 1.0, fade, dtype=np.float32)
            piece[:fade] *= ramp
            piece[-fade:] *= ramp[::-1]
        target = stimulus_path(study_root, item_id)
        with atomic_path(target, what="study excerpt") as tmp:
            sf.write(tmp, np.clip(piece, -1.0, 1.0), sr, subtype="PCM_16", format="WAV")
        out.append(target)
    return out
