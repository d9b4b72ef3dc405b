"""Latents -> piano rolls: the decoding rule of moodbridge's EIMG music VAE.

Per bar the decoder gives onset and sustain probabilities.  Onsets are drawn
by *Gumbel top-k*: ``k`` = the expected number of onsets (the sum of the
bar's onset probabilities, rounded, at least one), and the ``k`` cells are drawn without
replacement with weights ``p^(1/T)`` (temperature ``T``); a note lasts while
its sustain probability stays above :data:`DEFAULT_SUSTAIN`.  Keeping the expected count
keeps the density the model learned (a plain 0.5 threshold on a blurry VAE
output drops most notes); the seeded draw makes different seeds give
different pieces from the same latent.  The noise is drawn once per bar
position of the 4-bar cycle, so bars with the same latent and position repeat
(a 4-bar phrase), and the four positions share most of it
(:data:`SHARED_NOISE`), so consecutive bars keep a common rhythm — the groove
consistency of real music, which independent draws per bar lose.

Two optional knobs (issue 12, third round; off in the shipped weights, see
docs/generate.md): ``pitch_spread`` (:func:`spread_pitches`) spreads a bar's
onsets over more distinct pitches at the same count, and ``phrase_bars``
draws the noise per position of a longer cycle than the VAE's 4-bar window,
so a piece repeats its phrase less often.
"""
from __future__ import annotations

import numpy as np
import torch

from moodbridge.generate.model import MusicVAE
from moodbridge.generate.roll import N_PITCHES, STEPS_PER_BAR, TEMPO_RANGE, Roll
from moodbridge.generate.tensors import controls_to

__all__ = ["DEFAULT_PITCH_SPREAD", "DEFAULT_SUSTAIN", "DEFAULT_TEMPERATURE", "decode_bars", "spread_pitches"]

#: sharpness of the onset draw (lower: closer to taking the k most likely cells); this,
#: :data:`SHARED_NOISE` and :data:`DEFAULT_SUSTAIN` were set so that pieces decoded for training
#: VA points match the training clips' pitch entropy, polyphony rate and 16th-grid groove
#: (never by the judge; docs/generate.md); a weight file stores its own values (meta ``decoding``), which the
#: :class:`~moodbridge.generate.generator.Generator` uses
DEFAULT_TEMPERATURE = 1.6
#: share of the onset noise common to the four bar positions (a mix of Gumbel draws)
SHARED_NOISE = 0.85
#: a note lasts while its sustain probability stays above this
DEFAULT_SUSTAIN = 0.08
#: penalty (in units of the draw's keys) per earlier onset of the same pitch in the bar; 0 = plain top-k
DEFAULT_PITCH_SPREAD = 0.0


def spread_pitches(keys: np.ndarray, penalty: float) -> np.ndarray:
    """Keys ``(steps, pitches)`` less ``penalty`` times each cell's rank within its pitch.

    Top-k on the result equals the greedy draw that lowers a pitch's keys by
    ``penalty`` each time one of its cells is taken: the bar's onset count
    stays the same while its onsets spread over more distinct pitches, which
    raises the pitch entropy without adding simultaneous notes.
    """
    rank = np.argsort(np.argsort(-keys, axis=0, kind="stable"), axis=0, kind="stable")
    return keys - penalty * rank


def decode_bars(
    vae: MusicVAE,
    z: np.ndarray,
    *,
    rng: np.random.Generator,
    temperature: float = DEFAULT_TEMPERATURE,
    sustain_threshold: float = DEFAULT_SUSTAIN,
    pitch_spread: float = DEFAULT_PITCH_SPREAD,
    phrase_bars: int | None = None,
    sections: tuple[int, ...] = (0,),
) -> Roll:
    """Decode one latent per bar, ``z`` ``(bars, latent)``, into a :class:`Roll` (bar ``i`` at position ``i % 4``).

    The onset noise repeats every ``phrase_bars`` bars (default: the VAE's window, 4).
    """
    vae.eval()
    with torch.no_grad():
        zt = torch.as_tensor(np.asarray(z, dtype=np.float32))
        logits, controls = vae.decode_bars(zt, torch.arange(zt.shape[0]))
    probs = torch.sigmoid(logits).numpy().astype(np.float64)  # (bars, 2, 16, 88)
    n_bars = probs.shape[0]
    onset = np.zeros((n_bars, STEPS_PER_BAR, N_PITCHES), dtype=bool)
    cycle = int(phrase_bars or vae.config.bars)
    own = rng.gumbel(size=(cycle, STEPS_PER_BAR * N_PITCHES))
    shared = rng.gumbel(size=(1, STEPS_PER_BAR * N_PITCHES))
    gumbel = np.sqrt(SHARED_NOISE) * shared + np.sqrt(1.0 - SHARED_NOISE) * own
    for b in range(n_bars):
        p = probs[b, 0].ravel()
        k = max(1, int(round(p.sum())))  # at least one onset: every bar, and so every latent, makes music
        keys = np.log(np.maximum(p, 1e-12)) / temperature + gumbel[b % cycle]
        if pitch_spread > 0:
            keys = spread_pitches(keys.reshape(STEPS_PER_BAR, N_PITCHES), pitch_spread).ravel()
        onset[b].flat[np.argsort(-keys)[:k]] = True
    sustain = (probs[:, 1] > sustain_threshold) | onset
    velocity, tempo = controls_to(controls.numpy())
    return Roll(
        onset.reshape(-1, N_PITCHES),
        sustain.reshape(-1, N_PITCHES),
        np.clip(velocity, 20, 120),
        np.clip(tempo, *TEMPO_RANGE),
        sections,
    )
