"""Rolls <-> the tensors of :class:`~moodbridge.generate.model.MusicVAE` (planes and scaled controls)."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from moodbridge.generate.roll import N_PITCHES, STEPS_PER_BAR, Roll

__all__ = ["controls_from", "controls_to", "planes"]

#: reference tempo (bpm) and velocity of the control scaling
TEMPO_REF = 110.0
VELOCITY_REF = 64.0


def planes(rolls: Sequence[Roll]) -> np.ndarray:
    """``(B, bars, 2, 16, 88)`` uint8 onset/sustain planes of equal-length rolls."""
    out = []
    for r in rolls:
        x = np.stack([r.onset, r.sustain], axis=0).reshape(2, r.n_bars, STEPS_PER_BAR, N_PITCHES)
        out.append(x.transpose(1, 0, 2, 3))
    return np.stack(out).astype(np.uint8)


def controls_from(velocity: np.ndarray, tempo: np.ndarray) -> np.ndarray:
    """``(..., 2)`` scaled controls: ``(velocity - 64) / 32`` and ``log2(tempo / 110)``."""
    return np.stack([(np.asarray(velocity) - VELOCITY_REF) / 32.0, np.log2(np.asarray(tempo) / TEMPO_REF)], axis=-1)


def controls_to(controls: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Inverse of :func:`controls_from`: ``(velocity, tempo)``."""
    c = np.asarray(controls, dtype=np.float64)
    return c[..., 0] * 32.0 + VELOCITY_REF, TEMPO_REF * np.exp2(c[..., 1])
