"""Benchmark: image -> MIDI + WAV with ``moodbridge generate`` (EIMG), against its parts.

Target (issue 12): a 15-second piece from an image in under 3 s after the
model is loaded, and the first call (loading included) under 10 s, on this CPU.

Data: REAL photos — scikit-image's bundled sample photographs (``chelsea.png``,
``coffee.png``, ``astronaut.png``, ``rocket.jpg``); nothing synthetic.

Printed figures, one process, seeded:

* ``first call``: a fresh ``run_generate`` (weights, the EfficientNet-Lite0
  encoder, the image head and the judge loaded on the way) for one photo;
* ``warm call``: median of ``run_generate`` on the other photos (image
  decode + encoder + projector + decoding + MIDI + judge + WAV);
* baselines in the same run: one bare forward pass of the music decoder for
  the piece's bars (no sampling, no files) and the WAV rendering alone of the
  same MIDI file; their ratio to the warm call is printed.

Usage: python benchmarks/generate.py [--repeats 3]
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=15.0)
    args = parser.parse_args()

    import skimage.data

    photos = [Path(skimage.data.__file__).parent / n for n in ("chelsea.png", "coffee.png", "astronaut.png",
                                                               "rocket.jpg")]
    from moodbridge.jobs.generate import run_generate

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        t = time.perf_counter()
        first = run_generate(None, photos[0], out=out / "first.mid", wav=out / "first.wav", seconds=args.seconds)
        first_s = time.perf_counter() - t
        warm = []
        for r in range(args.repeats):
            for i, photo in enumerate(photos[1:]):
                t = time.perf_counter()
                run_generate(None, photo, out=out / f"w{r}{i}.mid", wav=out / f"w{r}{i}.wav", seconds=args.seconds,
                             seed=r)
                warm.append(time.perf_counter() - t)
        warm_s = statistics.median(warm)

        import torch

        from moodbridge.generate.generator import Generator
        from moodbridge.generate.render import render_wav
        from moodbridge.generate.roll import read_roll

        gen = Generator()
        bars = read_roll(first.files["midi"]).n_bars
        z = torch.zeros(bars, gen.config.code)
        times = []
        for _ in range(20):
            t = time.perf_counter()
            with torch.no_grad():
                gen.vae.decode_bars(z, torch.arange(bars))
            times.append(time.perf_counter() - t)
        forward_s = statistics.median(times)
        times = []
        for r in range(args.repeats):
            t = time.perf_counter()
            render_wav(first.files["midi"], out / f"render{r}.wav")
            times.append(time.perf_counter() - t)
        render_s = statistics.median(times)

    print(f"piece: {args.seconds:g} s asked, {first.seconds:.1f} s written, {bars} bars; photos: {len(photos)}")
    print(f"first call (loading included): {first_s:.2f} s   target < 10 s")
    print(f"warm call, median of {len(warm)}: {warm_s:.3f} s   target < 3 s")
    print(f"baseline: bare decoder forward pass ({bars} bars): {forward_s * 1000:.2f} ms "
          f"(warm call / forward = {warm_s / forward_s:.0f}x)")
    print(f"baseline: WAV rendering alone: {render_s:.3f} s (warm call / rendering = {warm_s / render_s:.2f}x)")


if __name__ == "__main__":
    main()
