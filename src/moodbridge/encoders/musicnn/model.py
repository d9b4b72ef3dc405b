"""The musicnn network (Pons & Serra, 2019) in PyTorch, loading the original TF weights.

A faithful port of ``musicnn.models.build_musicnn`` (musicnn 0.1.0) in inference
mode:

* front end: batch norm of the log-mel input, then "timbral" convolutions
  (7 x 38 and 7 x 67 time x mel, 204 filters, time padded by 3 on both sides,
  valid in frequency) and "temporal" convolutions (128, 64 and 32 x 1, 51
  filters, TF ``"same"`` padding, i.e. the odd extra zero at the end), each
  followed by ReLU, batch norm and a max over the remaining frequency axis;
  561 channels in all;
* mid end: three 1-D convolutions of 64 filters over time (kernel 7, padding
  3) with ReLU and batch norm, the second and third with residual
  connections; dense connection of the front end and the three outputs into
  753 channels;
* back end: temporal max and mean pooling, interleaved per channel
  (``[max_0, mean_0, max_1, …]``), batch norm, a 200-unit dense layer with
  ReLU and batch norm (the "penultimate" features), and a 50-unit output layer.

Every batch norm uses TensorFlow's default epsilon of 1e-3 and the moving
statistics of the checkpoint; dropout is the identity at inference.

References
----------
J. Pons and X. Serra, "musicnn: Pre-trained convolutional neural networks for
music audio tagging", ISMIR late-breaking demo, 2019.  arXiv:1909.06654.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from moodbridge.encoders.musicnn.checkpoint import read_checkpoint
from moodbridge.errors import EncoderUnavailableError

__all__ = ["BN_EPSILON", "MODEL_NAMES", "MusicnnNet", "checkpoint_dir", "load_musicnn"]

#: ``tf.compat.v1.layers.batch_normalization``'s default epsilon.
BN_EPSILON = 1e-3
MODEL_NAMES = ("MSD_musicnn", "MTT_musicnn")
N_MELS = 96
N_FRAMES = 187


class _FrozenBatchNorm(nn.Module):
    """Inference-mode batch norm over dimension 1: ``gamma * (x - mean) / sqrt(var + eps) + beta``."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.channels = channels
        self.register_buffer("scale", torch.ones(channels))
        self.register_buffer("shift", torch.zeros(channels))

    def set_params(self, gamma: np.ndarray, beta: np.ndarray, mean: np.ndarray, var: np.ndarray) -> None:
        """Fold the TF parameters into one scale and shift (as TF's inference graph does)."""
        inv = gamma.astype(np.float32) / np.sqrt(var.astype(np.float32) + np.float32(BN_EPSILON))
        self.scale.copy_(torch.from_numpy(inv.astype(np.float32)))
        self.shift.copy_(torch.from_numpy((beta - mean * inv).astype(np.float32)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = (1, self.channels) + (1,) * (x.dim() - 2)
        return x * self.scale.view(shape) + self.shift.view(shape)


def _relu_bn_maxpool(conv_out: torch.Tensor, bn: _FrozenBatchNorm) -> torch.Tensor:
    """``max_f bn(relu(x))`` over the last (frequency) axis, computed after pooling.

    ReLU and a per-channel affine map are monotone (decreasing where the scale
    is negative, where the max becomes a min), and so is their float32
    rounding, so pooling first gives bit-identical results while touching the
    large pre-pooling map only once.
    """
    low, high = torch.aminmax(conv_out, dim=3)
    pooled = torch.where(bn.scale.view(1, -1, 1) >= 0, high, low)
    return bn(F.relu(pooled))


class MusicnnNet(nn.Module):
    """musicnn (Pons & Serra, 2019), inference only.

    Parameters
    ----------
    num_classes
        Number of output tags (50 for both shipped models).
    n_mels
        Mel bands of the input.
    num_filt_midend, num_units_backend
        Mid-end filters and penultimate units (64 and 200 for the shipped models).
    """

    def __init__(
        self,
        *,
        num_classes: int = 50,
        n_mels: int = N_MELS,
        num_filt_midend: int = 64,
        num_units_backend: int = 200,
    ) -> None:
        super().__init__()
        nf_timbral, nf_temporal = int(1.6 * 128), int(1.6 * 32)
        self.input_bn = _FrozenBatchNorm(1)
        self.timbral = nn.ModuleList(
            nn.Conv2d(1, nf_timbral, kernel_size=(7, int(frac * n_mels))) for frac in (0.4, 0.7)
        )
        self.timbral_bn = nn.ModuleList(_FrozenBatchNorm(nf_timbral) for _ in range(2))
        self.temporal_kernels = (128, 64, 32)
        self.temporal = nn.ModuleList(
            nn.Conv2d(1, nf_temporal, kernel_size=(k, 1)) for k in self.temporal_kernels
        )
        self.temporal_bn = nn.ModuleList(_FrozenBatchNorm(nf_temporal) for _ in range(3))
        frontend_channels = 2 * nf_timbral + 3 * nf_temporal  # 561
        self.midend = nn.ModuleList(
            nn.Conv1d(c_in, num_filt_midend, kernel_size=7, padding=3)
            for c_in in (frontend_channels, num_filt_midend, num_filt_midend)
        )
        self.midend_bn = nn.ModuleList(_FrozenBatchNorm(num_filt_midend) for _ in range(3))
        self.pool_channels = frontend_channels + 3 * num_filt_midend  # 753
        self.pool_bn = _FrozenBatchNorm(2 * self.pool_channels)
        self.dense = nn.Linear(2 * self.pool_channels, num_units_backend)
        self.dense_bn = _FrozenBatchNorm(num_units_backend)
        self.output = nn.Linear(num_units_backend, num_classes)
        self.eval()

    def forward(self, x: torch.Tensor, *, intermediates: bool = False) -> dict[str, torch.Tensor]:
        """Run the network on log-mel patches.

        Parameters
        ----------
        x
            ``(B, T, n_mels)`` float32 log-mel patches (``T = 187`` for 3 s).
        intermediates
            Also return the front- and mid-end maps as musicnn's extractor
            does: ``timbral`` (B, T, 408), ``temporal`` (B, T, 153), ``cnn1``,
            ``cnn2``, ``cnn3`` (B, T, 64).

        Returns
        -------
        dict
            ``logits`` (B, 50), ``probs`` (sigmoid of the logits), ``penultimate``
            (B, 200), ``max_pool`` and ``mean_pool`` (B, 753).
        """
        h = self.input_bn(x.unsqueeze(1))  # (B, 1, T, F)
        front: list[torch.Tensor] = []
        padded = F.pad(h, (0, 0, 3, 3))  # time only: an efficient "same" (Pons & Serra)
        for conv, bn in zip(self.timbral, self.timbral_bn):
            front.append(_relu_bn_maxpool(conv(padded), bn))
        for k, conv, bn in zip(self.temporal_kernels, self.temporal, self.temporal_bn):
            pad = k - 1  # TF "same": the extra zero goes after
            front.append(_relu_bn_maxpool(conv(F.pad(h, (0, 0, pad // 2, pad - pad // 2))), bn))
        frontend = torch.cat(front, dim=1)  # (B, 561, T)
        cnn1 = self.midend_bn[0](F.relu(self.midend[0](frontend)))
        cnn2 = self.midend_bn[1](F.relu(self.midend[1](cnn1))) + cnn1
        cnn3 = self.midend_bn[2](F.relu(self.midend[2](cnn2))) + cnn2
        midend = torch.cat([frontend, cnn1, cnn2, cnn3], dim=1)  # (B, 753, T)
        max_pool = midend.amax(dim=2)
        mean_pool = midend.mean(dim=2)
        pooled = torch.stack([max_pool, mean_pool], dim=2).flatten(1)  # interleaved per channel
        penultimate = self.dense_bn(F.relu(self.dense(self.pool_bn(pooled))))
        logits = self.output(penultimate)
        out = {
            "logits": logits,
            "probs": torch.sigmoid(logits),
            "penultimate": penultimate,
            "max_pool": max_pool,
            "mean_pool": mean_pool,
        }
        if intermediates:
            out["timbral"] = torch.cat(front[:2], dim=1).transpose(1, 2)
            out["temporal"] = torch.cat(front[2:], dim=1).transpose(1, 2)
            out["cnn1"], out["cnn2"], out["cnn3"] = (t.transpose(1, 2) for t in (cnn1, cnn2, cnn3))
        return out

    # ------------------------------------------------------------------ weights
    def _bn_layers(self) -> list[_FrozenBatchNorm]:
        # creation order in musicnn.models.build_musicnn = TF's automatic layer numbering
        return [
            self.input_bn,
            self.timbral_bn[0],
            self.timbral_bn[1],
            *self.temporal_bn,
            *self.midend_bn,
            self.pool_bn,
            self.dense_bn,
        ]

    def _conv_layers(self) -> list[nn.Conv1d | nn.Conv2d]:
        return [*self.timbral, *self.temporal, *self.midend]

    def load_tf_weights(self, weights: dict[str, np.ndarray], *, source: str = "checkpoint") -> None:
        """Copy TF variables (names as in the musicnn checkpoints) into this network.

        Raises
        ------
        EncoderUnavailableError
            If a variable is missing or has an unexpected shape.
        """

        def get(name: str, shape: tuple[int, ...]) -> np.ndarray:
            if name not in weights:
                raise EncoderUnavailableError(f"{source}: variable {name!r} is missing")
            arr = np.asarray(weights[name], dtype=np.float32)
            if arr.shape != shape:
                raise EncoderUnavailableError(f"{source}: variable {name!r} has shape {arr.shape}, expected {shape}")
            return arr

        def suffix(i: int) -> str:
            return "" if i == 0 else f"_{i}"

        with torch.no_grad():
            for i, bn in enumerate(self._bn_layers()):
                scope = f"batch_normalization{suffix(i)}"
                shape = (bn.channels,)
                params = ("gamma", "beta", "moving_mean", "moving_variance")
                bn.set_params(*(get(f"{scope}/{p}", shape) for p in params))
            for i, conv in enumerate(self._conv_layers()):
                scope = f"conv2d{suffix(i)}"
                out_c = conv.out_channels
                if isinstance(conv, nn.Conv2d):
                    kh, kw = conv.kernel_size
                    kernel = get(f"{scope}/kernel", (kh, kw, conv.in_channels, out_c))
                    conv.weight.copy_(torch.from_numpy(np.ascontiguousarray(kernel.transpose(3, 2, 0, 1))))
                else:  # TF conv2d over (time, all channels) with one input plane == conv1d
                    (k,) = conv.kernel_size
                    kernel = get(f"{scope}/kernel", (k, conv.in_channels, 1, out_c))
                    conv.weight.copy_(torch.from_numpy(np.ascontiguousarray(kernel[:, :, 0, :].transpose(2, 1, 0))))
                conv.bias.copy_(torch.from_numpy(get(f"{scope}/bias", (out_c,))))
            for i, lin in enumerate((self.dense, self.output)):
                scope = f"dense{suffix(i)}"
                kernel = get(f"{scope}/kernel", (lin.in_features, lin.out_features))
                lin.weight.copy_(torch.from_numpy(np.ascontiguousarray(kernel.T)))
                lin.bias.copy_(torch.from_numpy(get(f"{scope}/bias", (lin.out_features,))))


def checkpoint_dir(model: str) -> Path:
    """The folder of ``model``'s TF checkpoint inside the installed ``musicnn`` wheel.

    The package is located with :func:`importlib.util.find_spec`, never imported
    (importing it imports TensorFlow).

    Raises
    ------
    EncoderUnavailableError
        If ``musicnn`` is not installed or lacks the checkpoint.
    """
    if model not in MODEL_NAMES:
        raise EncoderUnavailableError(f"unknown musicnn model {model!r}; known: {', '.join(MODEL_NAMES)}")
    try:
        spec = importlib.util.find_spec("musicnn")
    except (ImportError, ValueError):
        spec = None
    hint = "install the weights with `pip install --no-deps musicnn==0.1.0` (TensorFlow is not needed)"
    if spec is None or not spec.submodule_search_locations:
        raise EncoderUnavailableError(f"the musicnn package is not installed; {hint}")
    folder = Path(next(iter(spec.submodule_search_locations))) / model
    if not (folder / ".index").is_file():
        raise EncoderUnavailableError(f"the musicnn package has no {model} checkpoint at {folder}; {hint}")
    return folder


def load_musicnn(model: str, *, folder: str | Path | None = None) -> MusicnnNet:
    """Build ``MSD_musicnn`` or ``MTT_musicnn`` with the weights of the musicnn wheel.

    Parameters
    ----------
    model
        ``"MSD_musicnn"`` or ``"MTT_musicnn"``.
    folder
        Checkpoint folder (holding ``.index`` and ``.data-00000-of-00001``);
        default: the one inside the installed ``musicnn`` package.

    Raises
    ------
    EncoderUnavailableError
        If the package or checkpoint is missing or corrupt.
    """
    folder = Path(folder) if folder is not None else checkpoint_dir(model)
    weights = read_checkpoint(
        f"{folder}/", include=lambda name: "/Adam" not in name and not name.endswith("_power")
    )
    net = MusicnnNet()
    net.load_tf_weights(weights, source=f"musicnn checkpoint {folder}")
    net.eval()
    for p in net.parameters():
        p.requires_grad_(False)
    return net
