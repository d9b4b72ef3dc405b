"""Image / VA -> music latent -> MIDI: EIMG's inference path (Wang, Chen, Li, IEEE TMM 2023, Sec. IV-A, Fig. 2).

``z_x = Img-Projector(v_x)``, ``ṽ = De-Projector(z_x)``, music = Mus-Decoder(ṽ).
For ``--va`` the VA-Projector plays the Img-Projector with the VA point
itself as input (trained with the same losses; moodbridge's addition).
When the decoder is conditioned on musical attributes (moodbridge's
addition, :mod:`moodbridge.generate.attributes`), the decoder's *code* is
the latent followed by the attributes that the
:class:`~moodbridge.generate.attributes.ConditionalPrior` gives for the
target VA (for an image: the ``image-va`` head's VA of it), and the latent
is ``(1 - w) ṽ + w z_prior`` with ``z_prior`` a seeded draw from that prior
and ``w`` = the weight file's ``prior_weight`` (0 for the paper's path).

Pieces and slideshows are decoded bar by bar (:func:`~moodbridge.generate.decode.decode_bars`).
A slideshow has one section per photo; its **transitions** cross the bar
boundary between two sections: the last bar of a section and the first bar
of the next are decoded from latents interpolated linearly between the two
photos' latents (weights 1/3 and 2/3), so tempo, loudness, register and
density move over two bars instead of jumping.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from moodbridge.errors import InvalidValueError
from moodbridge.generate.attributes import ConditionalPrior
from moodbridge.generate.bundle import load_bundle
from moodbridge.generate.decode import DEFAULT_PITCH_SPREAD, DEFAULT_SUSTAIN, DEFAULT_TEMPERATURE, decode_bars
from moodbridge.generate.roll import STEPS_PER_BAR, Roll

__all__ = ["LATENT_NOISE", "Generator", "bars_for_seconds"]

#: standard deviation of the seeded latent perturbation (the VAE prior is N(0, I))
LATENT_NOISE = 0.35
#: bars of the crossfade between sections (the last bar of one, the first of the next)
TRANSITION_WEIGHTS = (1.0 / 3.0, 2.0 / 3.0)


def bars_for_seconds(seconds: float, tempo: float) -> int:
    """Whole 4/4 bars covering ``seconds`` at ``tempo`` bpm (at least one)."""
    return max(1, math.ceil(seconds * tempo / 240.0 - 1e-9))


class Generator:
    """The trained EIMG networks, loaded from a weight file (default: the shipped one).

    Raises
    ------
    EncoderUnavailableError
        If the weight file is missing or damaged.
    """

    def __init__(self, weights: str | Path | None = None) -> None:
        import torch

        from moodbridge.generate.model import MusicVAE, Projector, VAEConfig

        torch.set_num_threads(1)
        b = load_bundle(weights, parts=("vae", "img", "va", "deproj"))
        self.meta: dict[str, Any] = b.meta
        self.config = VAEConfig(**b.meta["vae_config"])
        dims = b.meta["dims"]
        self.vae = MusicVAE(self.config)
        self.img = Projector(dims["image"], dims["shared"], layers=3)
        self.va = Projector(2, dims["shared"], layers=3)
        self.deproj = Projector(dims["shared"], self.config.latent, layers=2, sphere=False)
        for part, module in (("vae", self.vae), ("img", self.img), ("va", self.va), ("deproj", self.deproj)):
            try:
                module.load_state_dict(b.parts[part])
            except RuntimeError as exc:
                from moodbridge.errors import EncoderUnavailableError

                raise EncoderUnavailableError(f"damaged generator weights: part {part!r} does not fit ({exc})"
                                              ) from None
            module.eval()
        self.img_mean = b.arrays.get("img_mean")
        self.img_std = b.arrays.get("img_std")
        decoding = b.meta.get("decoding", {})
        #: onset temperature, sustain threshold, pitch spread and phrase length the weights were tuned with (:func:`decode_bars`)
        self.temperature = float(decoding.get("temperature", DEFAULT_TEMPERATURE))
        self.sustain_threshold = float(decoding.get("sustain_threshold", DEFAULT_SUSTAIN))
        self.pitch_spread = float(decoding.get("pitch_spread", DEFAULT_PITCH_SPREAD))
        self.phrase_bars = int(decoding.get("phrase_bars", self.config.bars))
        #: weight ``w`` of the conditional prior's latent against the De-Projector's
        self.prior_weight = float(b.meta.get("prior", {}).get("weight", 0.0))
        self.prior: ConditionalPrior | None = None
        if self.config.conditions:
            if "attr_va" not in b.arrays or "attr_values" not in b.arrays:
                from moodbridge.errors import EncoderUnavailableError

                raise EncoderUnavailableError("damaged generator weights: the conditional prior is missing")
            self.prior = ConditionalPrior(b.arrays["attr_va"], b.arrays["attr_values"], b.arrays.get("prior_latents"),
                                          k=int(b.meta.get("prior", {}).get("k", 64)))

    # ------------------------------------------------------------------ codes
    def with_attributes(self, latents: np.ndarray, va: np.ndarray, *, seed: int = 0,
                        prior_weight: float | None = None) -> np.ndarray:
        """Decoder codes ``(K, code)`` from projected latents ``(K, latent)`` and the target VA ``(K, 2)``.

        The latent is blended with a seeded draw of the conditional prior
        (weight ``prior_weight``, default the weight file's) and followed by
        the prior's attributes for ``va``; without a prior (the paper's
        unconditioned VAE) the latents are returned as they are.
        """
        latents = np.asarray(latents, dtype=np.float64)
        if self.prior is None:
            return latents
        w = self.prior_weight if prior_weight is None else float(prior_weight)
        if w > 0:
            latents = (1.0 - w) * latents + w * self.prior.sample(va, np.random.default_rng(seed))
        return np.concatenate([latents, self.prior.attributes(va)], axis=1)

    # ------------------------------------------------------------------ latents
    def latent_for_va(self, va: np.ndarray, *, seed: int = 0) -> np.ndarray:
        """``(K, code)`` decoder codes for VA points ``(K, 2)`` in [-1, 1] (:meth:`with_attributes`)."""
        import torch

        va = np.asarray(va, dtype=np.float32).reshape(-1, 2)
        with torch.no_grad():
            z = self.va(torch.as_tensor(va))
            return self.with_attributes(self.deproj(z).numpy(), va, seed=seed)

    def image_input(self, features: np.ndarray, head_va: np.ndarray) -> np.ndarray:
        """The Img-Projector's input: standardised EfficientNet-Lite0 features beside the ``image-va`` head's VA."""
        X = (np.asarray(features, dtype=np.float64) - self.img_mean) / self.img_std
        return np.concatenate([X, np.asarray(head_va, dtype=np.float64).reshape(len(X), 2)], axis=1)

    def latent_for_images(self, features: np.ndarray, head_va: np.ndarray, *, seed: int = 0) -> np.ndarray:
        """``(K, code)`` decoder codes for images given their features ``(K, D)`` and head VA ``(K, 2)``."""
        import torch

        with torch.no_grad():
            z = self.img(torch.as_tensor(self.image_input(features, head_va), dtype=torch.float32))
            return self.with_attributes(self.deproj(z).numpy(), np.asarray(head_va).reshape(-1, 2), seed=seed)

    # ------------------------------------------------------------------ music
    def tempo_of(self, latent: np.ndarray) -> float:
        """The tempo (bpm) the decoder gives the first bar of the code ``latent``."""
        import torch

        from moodbridge.generate.tensors import controls_to

        with torch.no_grad():
            _, c = self.vae.decode_bars(torch.as_tensor(np.asarray(latent, dtype=np.float32)[None]),
                                        torch.zeros(1))
        return float(controls_to(c.numpy())[1][0])

    def compose(self, latents: np.ndarray, seconds: Sequence[float], *, seed: int = 0,
                temperature: float | None = None, sustain_threshold: float | None = None) -> Roll:
        """One piece with a section per code (``(S, code)``), section ``i`` lasting about ``seconds[i]``.

        The seed draws the latent perturbation (:data:`LATENT_NOISE`, on the latent part
        of the code, not on the attributes) and the onsets;
        ``temperature`` and ``sustain_threshold`` are :func:`~moodbridge.generate.decode.decode_bars`'s
        (default: the values stored with the weights).
        """
        latents = np.asarray(latents, dtype=np.float64)
        if latents.ndim != 2 or len(latents) != len(seconds) or len(latents) == 0:
            raise InvalidValueError("compose needs one latent per section and at least one section")
        rng = np.random.default_rng(seed)
        noisy = latents.copy()
        noisy[:, : self.config.latent] += LATENT_NOISE * rng.standard_normal((len(latents), self.config.latent))
        per_bar: list[np.ndarray] = []
        starts: list[int] = []
        for i, (z, s) in enumerate(zip(noisy, seconds)):
            starts.append(len(per_bar))
            per_bar.extend([z] * bars_for_seconds(float(s), self.tempo_of(z)))
        bars = np.array(per_bar)
        w_out, w_in = TRANSITION_WEIGHTS
        for i in range(1, len(starts)):
            b = starts[i]
            a, c = noisy[i - 1], noisy[i]
            bars[b - 1] = (1 - w_out) * a + w_out * c
            if b + 1 <= len(bars) and (i + 1 >= len(starts) or starts[i + 1] > b + 1):
                bars[b] = (1 - w_in) * a + w_in * c
        return decode_bars(self.vae, bars, rng=rng, sections=tuple(starts), pitch_spread=self.pitch_spread,
                           phrase_bars=self.phrase_bars,
                           temperature=self.temperature if temperature is None else temperature,
                           sustain_threshold=self.sustain_threshold if sustain_threshold is None else sustain_threshold)

    @staticmethod
    def seconds_of(roll: Roll) -> float:
        """Length of ``roll`` in seconds (its per-bar tempi)."""
        return float(sum(240.0 / t for t in roll.tempo[: roll.onset.shape[0] // STEPS_PER_BAR]))
