"""Benchmark: ``moodbridge emotion`` on one photograph, after the first model load, against the bare network.

Baseline (same run, same photos): one EfficientNet-Lite0 forward pass on the
prepared 224x224 tensor — the least any image head on these features can cost.
``emotion`` adds decoding, preparing, the ``image-stats``-free v2 head (ridge +
softmax regression in numpy) and the result object.  Target: under 0.3 s per
photo after the first load.  Real photographs: the scikit-image samples.

Usage: python benchmarks/emotion_latency.py [--repeats 5]
"""
from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
import skimage.data

from moodbridge.encoders import get_encoder
from moodbridge.jobs.emotion import estimate
from moodbridge.media import decode

PHOTOS = ("astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg", "motorcycle_left.png")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    root = Path(skimage.data.__file__).parent
    photos = [root / p for p in PHOTOS if (root / p).exists()]
    start = time.perf_counter()
    first = estimate([photos[0]])
    first_s = time.perf_counter() - start
    head = first.results[0].estimate.head if first.results[0].estimate else "?"
    enc = get_encoder("effnet-lite0")
    prepared = [enc.prepare(decode(p, enc.input_spec), source=str(p)) for p in photos]
    enc.embed_batch(prepared[:1])
    emotion_s, bare_s = [], []
    for _ in range(args.repeats):
        for p, x in zip(photos, prepared):
            t = time.perf_counter()
            estimate([p])
            emotion_s.append(time.perf_counter() - t)
            t = time.perf_counter()
            enc.embed_batch([x])
            bare_s.append(time.perf_counter() - t)
    e, b = statistics.median(emotion_s), statistics.median(bare_s)
    print(f"head {head}; first call (model load included) {first_s:.2f} s")
    print(f"emotion on one photo: median {e * 1000:.1f} ms, p90 {np.percentile(emotion_s, 90) * 1000:.1f} ms"
          f" over {len(emotion_s)} calls (target < 300 ms)")
    print(f"bare EfficientNet-Lite0 forward: median {b * 1000:.1f} ms")
    print(f"ratio emotion / bare forward: {e / b:.2f}")


if __name__ == "__main__":
    main()
