"""The EIMG networks: a bar-level music VAE and the projectors into the shared emotion space.

Paper: Wang, Chen, Li, "Continuous Emotion-Based Image-to-Music Generation",
IEEE TMM 2023, Eq. 2 (``v_y = Mus-Encoder(y)``, ``z_x = Img-Projector(v_x)``,
``z_y = Mus-Projector(v_y)``, ``ṽ_y = De-Projector(z_y)``) and Sec. V-A (the
image projector has three fully connected layers, the music projector and
de-projector two each, with batch normalisation and ReLU).

Choices where the paper is silent:

* the music autoencoder is a small VAE over a 4-bar :class:`~moodbridge.generate.roll.Roll`:
  a shared per-bar encoder, then one latent for the window; the decoder maps
  the latent and the bar's position to that bar's onset and sustain logits and
  its velocity and tempo (so a piece of any length is decoded bar by bar, and
  a latent that changes from bar to bar gives a smooth slideshow);
* moodbridge's addition: with ``conditions > 0`` the decoder also receives the
  window's musical attributes (:mod:`moodbridge.generate.attributes`: mode,
  register, density, velocity, tempo) beside the latent, a conditional VAE
  (Sohn et al. 2015); the encoder then takes those attributes as its controls.
  The decoder's input *code* is ``latent ⊕ attributes``;
* the projectors end on the unit sphere (``F.normalize``): Eq. 6-11 only see
  cosines, so the de-projector receives the same kind of vector from an image
  (``z_x``) as from music (``z_y``).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from moodbridge.generate.roll import BARS, N_PITCHES, STEPS_PER_BAR

__all__ = ["DirectMapper", "MusicVAE", "Projector", "VAEConfig"]

BAR_CELLS = 2 * STEPS_PER_BAR * N_PITCHES


@dataclass(frozen=True)
class VAEConfig:
    """Sizes of :class:`MusicVAE` (the shipped weights use the defaults)."""

    latent: int = 32
    bar_hidden: int = 160
    hidden: int = 256
    bars: int = BARS
    #: encoder control inputs (velocity and tempo, or the attributes when conditioned)
    controls: int = 2
    #: attributes the decoder is conditioned on (0: the paper's unconditioned decoder)
    conditions: int = 0

    @property
    def code(self) -> int:
        """Width of the decoder's input code: the latent and the conditioning attributes."""
        return self.latent + self.conditions

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


class MusicVAE(nn.Module):
    """EIMG's Mus-Encoder / Mus-Decoder as a VAE over 4-bar piano rolls.

    Input: ``(B, bars, 2, 16, 88)`` onset/sustain planes and ``(B, controls)``
    controls (mean velocity and tempo scaled to about [-1, 1], or the
    attributes, whose last two columns are those).  The decoder's bar input is
    the code (latent, then ``conditions`` attributes) plus a one-hot bar
    position (``bar % bars``).
    """

    def __init__(self, config: VAEConfig = VAEConfig()) -> None:
        super().__init__()
        c = self.config = config
        self.bar_encoder = nn.Sequential(nn.Linear(BAR_CELLS, c.bar_hidden), nn.ReLU())
        self.window_encoder = nn.Sequential(nn.Linear(c.bars * c.bar_hidden + c.controls, c.hidden), nn.ReLU(),
                                            nn.Linear(c.hidden, 2 * c.latent))
        self.bar_decoder = nn.Sequential(nn.Linear(c.code + c.bars, c.hidden), nn.ReLU(),
                                         nn.Linear(c.hidden, c.bar_hidden), nn.ReLU())
        self.cells = nn.Linear(c.bar_hidden, BAR_CELLS)
        self.controls = nn.Linear(c.bar_hidden, 2)

    def encode(self, planes: torch.Tensor, controls: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(mu, logvar)`` of the window posterior, each ``(B, latent)``."""
        b = planes.shape[0]
        h = self.bar_encoder(planes.reshape(b, self.config.bars, BAR_CELLS)).reshape(b, -1)
        mu, logvar = self.window_encoder(torch.cat([h, controls], dim=1)).chunk(2, dim=1)
        return mu, logvar.clamp(-8.0, 8.0)

    def code(self, z: torch.Tensor, controls: torch.Tensor) -> torch.Tensor:
        """The decoder's input ``(B, code)``: the latent, then the conditioning attributes (the controls) if any."""
        return torch.cat([z, controls], dim=1) if self.config.conditions else z

    def decode_bars(self, z: torch.Tensor, position: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits ``(N, 2, 16, 88)`` and controls ``(N, 2)`` of bars with codes ``(N, code)`` at positions ``(N,)``."""
        onehot = F.one_hot(position.long() % self.config.bars, self.config.bars).to(z.dtype)
        h = self.bar_decoder(torch.cat([z, onehot], dim=1))
        return self.cells(h).reshape(-1, 2, STEPS_PER_BAR, N_PITCHES), self.controls(h)

    def decode(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits ``(B, bars, 2, 16, 88)`` and controls ``(B, bars, 2)`` of whole windows with codes ``(B, code)``."""
        b, n = z.shape[0], self.config.bars
        zz = z.repeat_interleave(n, dim=0)
        pos = torch.arange(n, device=z.device).repeat(b)
        cells, controls = self.decode_bars(zz, pos)
        return cells.reshape(b, n, 2, STEPS_PER_BAR, N_PITCHES), controls.reshape(b, n, 2)


def _mlp(sizes: list[int], *, last_plain: bool = True) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2 or not last_plain:
            layers += [nn.BatchNorm1d(b), nn.ReLU()]
    return nn.Sequential(*layers)


class Projector(nn.Module):
    """EIMG's projectors (Sec. V-A): fully connected layers with batch norm and ReLU.

    ``layers`` = 3 for the Img-Projector, 2 for the Mus-Projector and the
    De-Projector.  ``sphere=True`` ends on the unit sphere (the shared space);
    the de-projector (``sphere=False``) ends on a plain linear layer (the music
    feature space).
    """

    def __init__(self, d_in: int, d_out: int, *, layers: int, hidden: int = 256, sphere: bool = True) -> None:
        super().__init__()
        self.sphere = sphere
        self.net = _mlp([d_in] + [hidden] * (layers - 1) + [d_out])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.net(x)
        return F.normalize(z, dim=-1) if self.sphere else z


class DirectMapper(nn.Module):
    """EIMG Table VII's baseline: five fully connected layers from image features straight to the music latent."""

    def __init__(self, d_in: int, d_out: int, hidden: int = 256) -> None:
        super().__init__()
        self.net = _mlp([d_in] + [hidden] * 4 + [d_out])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)
