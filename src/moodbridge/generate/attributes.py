"""Musical attributes of a piano-roll window: the emotion controls of moodbridge's conditioned decoder.

The EIMG paper (Wang, Chen, Li, IEEE TMM 2023) leaves the emotion of the
decoded music entirely to the latent.  Measured on EIMG (docs/generate.md),
the 32-d latent of the unconditioned VAE carries arousal but hardly valence,
so moodbridge's decoder also receives attributes known to carry valence and
arousal in piano music (Gabrielsson & Lindström 2010; mode, register, tempo,
loudness, density), computed from the window itself during training and
predicted from the target VA at inference (:class:`ConditionalPrior`):

``mode``      best major minus best minor Krumhansl-Kessler correlation of the
              sustain-weighted pitch-class histogram (``midi-stats``'
              ``mode_score``, :func:`moodbridge.encoders.midi_stats.key_correlations`);
``register``  mean onset pitch, ``(pitch - 60) / 12``;
``density``   ``log2`` of onsets per bar, centred at 8;
``velocity``, ``tempo``  the VAE's existing controls (:func:`~moodbridge.generate.tensors.controls_from`).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from moodbridge.encoders.midi_stats import key_correlations
from moodbridge.generate.roll import LOWEST_PITCH, STEPS_PER_BAR, Roll
from moodbridge.generate.tensors import controls_from

__all__ = ["ATTRIBUTES", "ConditionalPrior", "attributes_of"]

#: the attribute columns, in order (the last two are the VAE's controls)
ATTRIBUTES = ("mode", "register", "density", "velocity", "tempo")


def attributes_of(roll: Roll) -> np.ndarray:
    """``(len(ATTRIBUTES),)`` attributes of a window (see the module docstring)."""
    pc = np.zeros(12)
    weights = roll.sustain.sum(axis=0).astype(np.float64)
    np.add.at(pc, (np.arange(len(weights)) + LOWEST_PITCH) % 12, weights)
    corr = key_correlations(pc)
    mode = float(corr[:12].max() - corr[12:].max())
    t, k = np.nonzero(roll.onset)
    register = float((k.mean() + LOWEST_PITCH - 60.0) / 12.0) if len(k) else 0.0
    density = float(np.log2(max(len(t), 1) / max(roll.n_bars, 1)) - 3.0)
    vel, tempo = controls_from(roll.velocity.mean(), roll.tempo[0])
    return np.array([mode, register, density, vel, tempo])


class ConditionalPrior:
    """What real music of an emotion looks like: the ``k`` ``gen``-split windows nearest a target VA.

    moodbridge's addition to EIMG (docs/generate.md).  Fitted on the generator's
    ``gen`` split only; ``k`` was chosen on a dev predictor fitted on ``gen``
    clips, never on the judge.

    * :meth:`attributes` - the mean attributes of those windows (a k-nearest-
      neighbour regressor in VA): what the conditioned decoder is asked for;
    * :meth:`sample` - the posterior mean latent of one of them, drawn by the
      seed: a draw from the empirical conditional prior ``p(z | VA)``.  A mean
      of latents would not do: averaged latents of different pieces lose the
      valence that each carries (measured, docs/generate.md).
    """

    def __init__(self, va: np.ndarray, attributes: np.ndarray, latents: np.ndarray | None = None, *,
                 k: int = 64) -> None:
        self.va = np.asarray(va, dtype=np.float64)
        self.attributes_table = np.asarray(attributes, dtype=np.float64)
        self.latents = None if latents is None else np.asarray(latents, dtype=np.float64)
        self.k = int(min(k, len(self.va)))

    def nearest(self, targets: Sequence[Sequence[float]] | np.ndarray) -> np.ndarray:
        """``(K, k)`` indices of the windows nearest each VA target ``(K, 2)`` (stable order)."""
        t = np.asarray(targets, dtype=np.float64).reshape(-1, 2)
        d = ((t[:, None, :] - self.va[None]) ** 2).sum(axis=2)
        return np.argsort(d, axis=1, kind="stable")[:, : self.k]

    def attributes(self, targets: Sequence[Sequence[float]] | np.ndarray) -> np.ndarray:
        """``(K, len(ATTRIBUTES))`` attributes for VA targets ``(K, 2)`` in [-1, 1]."""
        return self.attributes_table[self.nearest(targets)].mean(axis=1)

    def sample(self, targets: Sequence[Sequence[float]] | np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """``(K, latent)`` latents, one drawn window among the ``k`` nearest per target."""
        if self.latents is None:
            raise ValueError("this prior holds no latents")
        near = self.nearest(targets)
        return self.latents[near[np.arange(len(near)), rng.integers(0, near.shape[1], len(near))]]
