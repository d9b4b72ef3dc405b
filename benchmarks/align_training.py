"""Benchmark: Emo-CLIM joint-space training on CPU against a bare forward/backward baseline.

Trains both projection heads with all four Emo-CLIM SupCon losses (Eq. 6:
image→audio, audio→image, image–image, audio–audio; λ = 0.25 each, τ = 0.07)
through :func:`moodbridge.align.train_joint_space` with the paper's defaults
(Sec. 4.4: batch 64, lr 1e-4, 15 epochs, lowest validation loss kept).  Early
stopping is turned off (``patience=None``) so that exactly 15 epochs are timed.
Target: < 2 min in total on a 2-core CPU.

Data are SYNTHETIC "cached features" with class structure: 10,000 items per
modality, 4 emotion classes (Russell quadrants), image-like 1280-d non-negative
features (EfficientNet-Lite0's pooled ReLU output) and audio-like 400-d features
(musicnn MSD + MTT penultimate, 2 × 200), each a class mean plus item noise
large enough that a single feature says little (per-feature SNR ≈ 0.1).

Baseline: one epoch (the same number of steps, batches of 64 per modality) of a
bare forward + backward pass through the same two heads with a trivial loss
(mean cosine of the paired rows), random batches, no sampler, no validation;
timed with and without the AdamW step.  The training's time per epoch is
reported as a ratio to it.  Both run in this process with the same torch
thread count; the training is run with ``cpu_threads=1`` (the trainer's CPU
default) and ``cpu_threads=2``.

A sanity check of what was learned: macro P@1 of image→audio retrieval on a
held-out set (1,000 per modality), by emotion class (chance 0.25).

With ``--device cuda`` both the baseline and the training run on the GPU
(timings synchronise the device; ``--threads`` is then only the CPU thread count).

Usage: python benchmarks/align_training.py [--items 10000] [--epochs 15] [--threads 1,2] [--device cpu|cuda]
"""
from __future__ import annotations

import argparse
import math
import time

import numpy as np
import torch

from moodbridge.align import AlignConfig, ProjectionHead, train_joint_space
from moodbridge.evaluate.retrieval import retrieval_metrics

CLASSES = ["Q1", "Q2", "Q3", "Q4"]


def features(rng: np.random.Generator, labels: np.ndarray, dim: int, *, nonneg: bool, means: np.ndarray) -> np.ndarray:
    x = means[labels] + rng.standard_normal((len(labels), dim)).astype(np.float32)
    return np.maximum(x, 0.0).astype(np.float32) if nonneg else x.astype(np.float32)


def synthetic(n: int, n_test: int, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    out: dict[str, np.ndarray] = {}
    for name, dim, nonneg in (("image", 1280, True), ("audio", 400, False)):
        means = (rng.standard_normal((len(CLASSES), dim)) * 0.1).astype(np.float32) + (0.5 if nonneg else 0.0)
        y = rng.integers(0, len(CLASSES), n + n_test)
        x = features(rng, y, dim, nonneg=nonneg, means=means)
        out[f"{name}_x"], out[f"{name}_y"] = x[:n], np.array(CLASSES, dtype=object)[y[:n]]
        out[f"{name}_xt"], out[f"{name}_yt"] = x[n:], np.array(CLASSES, dtype=object)[y[n:]]
    return out


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def baseline_epoch(data: dict[str, np.ndarray], steps: int, batch: int, *, optimiser_step: bool,
                   device: torch.device = torch.device("cpu")) -> float:
    """Seconds for ``steps`` bare forward/backward passes of both heads with a trivial loss."""
    torch.manual_seed(0)
    heads = [ProjectionHead(data["image_x"].shape[1]).fit_standardisation(data["image_x"]).to(device),
             ProjectionHead(data["audio_x"].shape[1]).fit_standardisation(data["audio_x"]).to(device)]
    xs = [torch.as_tensor(data["image_x"], device=device), torch.as_tensor(data["audio_x"], device=device)]
    params = [p for h in heads for p in h.parameters()]
    opt = torch.optim.AdamW(params, lr=1e-4)
    for h in heads:
        h.train()
    g = torch.Generator().manual_seed(0)
    _sync(device)
    start = time.perf_counter()
    for _ in range(steps):
        za, zb = (h(x[torch.randint(0, len(x), (batch,), generator=g).to(device)])
                  for h, x in zip(heads, xs, strict=True))
        loss = -(za * zb).sum(dim=1).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if optimiser_step:
            opt.step()
    _sync(device)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--items", type=int, default=10_000)
    ap.add_argument("--test-items", type=int, default=1_000)
    ap.add_argument("--epochs", type=int, default=15)
    ap.add_argument("--threads", default="1,2", help="cpu_threads values to train with")
    ap.add_argument("--device", default="cpu", help="cpu or cuda (baseline and training both run there)")
    args = ap.parse_args()
    device = torch.device(args.device)
    where = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    data = synthetic(args.items, args.test_items)
    train_n = args.items - round(0.1 * args.items)  # the trainer holds out a stratified 10 % for validation
    steps = math.ceil(train_n / 64)
    print(f"torch {torch.__version__}, default intra-op threads {torch.get_num_threads()};"
          f" {args.items:,} items per modality (1280-d image-like, 400-d audio-like, 4 classes),"
          f" batch 64, {steps} steps/epoch, {args.epochs} epochs; device {args.device} ({where})")

    print("\nbaseline: one epoch of bare forward+backward of both heads, trivial loss")
    base = {}
    for threads in (int(t) for t in args.threads.split(",")):
        torch.set_num_threads(threads)
        baseline_epoch(data, 10, 64, optimiser_step=True, device=device)  # warm-up
        base[threads] = (baseline_epoch(data, steps, 64, optimiser_step=False, device=device),
                         baseline_epoch(data, steps, 64, optimiser_step=True, device=device))
        print(f"  {threads} thread(s): fwd+bwd {base[threads][0]:.2f} s/epoch,"
              f" fwd+bwd+AdamW {base[threads][1]:.2f} s/epoch")
    torch.set_num_threads(max(base))

    print(f"\ntraining: train_joint_space, Emo-CLIM 4 losses, {args.epochs} epochs (patience=None)")
    print(f"  {'cpu_threads':>11} {'total s':>8} {'s/epoch':>8} {'x fwd+bwd':>10} {'x +AdamW':>9}"
          f" {'best ep':>7} {'val loss':>8} {'P@1 i→a':>8}  target < 120 s")
    for threads in (int(t) for t in args.threads.split(",")):
        cfg = AlignConfig(modalities=("image", "audio"), labels="categorical", max_epochs=args.epochs,
                          patience=None, cpu_threads=threads, device=args.device, progress=False)
        _sync(device)
        start = time.perf_counter()
        space, history = train_joint_space(data["image_x"], data["image_y"], data["audio_x"], data["audio_y"],
                                           config=cfg)
        _sync(device)
        total = time.perf_counter() - start
        per_epoch = total / len(history.epochs)
        zi = space.embed("image", data["image_xt"])
        za = space.embed("audio", data["audio_xt"])
        p1 = retrieval_metrics(zi, data["image_yt"], za, data["audio_yt"], ks=(1,)).macro["p@1"]
        bare, full = base.get(threads, base[max(base)])
        print(f"  {threads:>11} {total:8.1f} {per_epoch:8.2f} {per_epoch / bare:10.1f} {per_epoch / full:9.1f}"
              f" {history.best_epoch:>7} {history.best_val_loss:8.3f} {p1:8.3f}  {'yes' if total < 120 else 'no'}")


if __name__ == "__main__":
    main()
