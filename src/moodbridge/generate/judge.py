"""The independent evaluation predictor ("judge"): the VA a listener model hears in a MIDI file.

It is the ``midi-va`` head's model (gradient boosting and an RBF SVR on
``midi-stats`` + ``midi-harmony`` symbolic features) **fitted on EIMG's
``judge`` split only** — clips the generator never saw — and it is never a
loss, a selection rule or a stopping criterion of the generator, so the
emotion-matching figure it gives measures the generator rather than itself.
Its own error on the held-out ``test`` clips is stored with it
(``meta["test"]``) and reported next to every emotion-matching figure.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from moodbridge.errors import MoodbridgeError
from moodbridge.generate.bundle import JUDGE_FILE, shipped_path

__all__ = ["Judge"]


class Judge:
    """VA of MIDI files by the independent predictor (weights: the shipped ``eimg_judge.npz`` by default)."""

    def __init__(self, weights: str | Path | None = None) -> None:
        from moodbridge.affect.heads.midi import MidiVAHead

        self.path = Path(weights) if weights is not None else shipped_path(JUDGE_FILE)
        self.head = MidiVAHead(str(self.path))

    @property
    def meta(self) -> dict[str, Any]:
        """Metadata stored with the judge (its split, its own held-out error)."""
        return self.head.meta

    def predict_files(self, paths: Sequence[str | Path]) -> np.ndarray:
        """``(N, 2)`` VA in [-1, 1] of MIDI files.

        Raises
        ------
        MoodbridgeError
            If a file cannot be encoded (the message names it).
        """
        from moodbridge.affect.estimate import stack_rows
        from moodbridge.encoders import get_encoder
        from moodbridge.encoders.run import Failure, encode_sources

        encoders = [get_encoder(n) for n in self.head.encoders]
        rows = encode_sources([Path(p) for p in paths], encoders, batch_size=64)
        bad = [r for r in rows if isinstance(r, Failure)]
        if bad:
            raise MoodbridgeError(bad[0].message)
        return self.head.predict_va(stack_rows(rows))  # type: ignore[arg-type]
