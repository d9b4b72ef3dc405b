"""Benchmark: ``moodbridge add`` and ``emotion`` on the seeded hostile corpus (issue 15).

Builds the corpus of ``tests/hostile_corpus.py`` (synthetic hostile files made
from a few real photos and tracks; the figures are about robustness and
bounded work, not about quality), then measures, each in a fresh subprocess:

* one ``add`` of the whole corpus (plus a FIFO and ``/dev/null`` as arguments):
  wall time, files added / reported, exit status, peak RSS (``getrusage`` of
  the child);
* a second ``add`` of the same paths (baseline: it must do nothing), and the
  ratio first / second;
* ``PRAGMA integrity_check`` of the catalogue;
* ``add`` of each of the heaviest single files alone: peak RSS (the issue's
  bound: under 1 GB per file), against ``add`` of one small photo (the baseline
  cost of loading the models);
* ``emotion`` on every file one by one (in one process, as a user's loop would):
  slowest file and total.

Usage: python benchmarks/input_safety.py [--seed 15] [--keep DIR]
"""
from __future__ import annotations

import argparse
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from hostile_corpus import build_corpus  # noqa: E402

HEAVY = ("unusual/bomb 100 MP.png", "unusual/big 36 MP.jpg", "unusual/many notes.mid",
         "unusual/two minutes.flac", "unusual/192 kHz.flac", "unusual/eight channels.wav",
         "absurd/an hour of silence.flac")


def run(*args: str | Path) -> tuple[subprocess.CompletedProcess[bytes], float, float]:
    """Run ``python -m moodbridge ARGS``; returns (process, seconds, peak RSS of that child in MB)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "moodbridge", *map(os.fsencode, args)], capture_output=True)
    seconds = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    # ru_maxrss of children is the max over all children so far: run the smallest first
    return proc, seconds, max(after, before) / 1024


def peak_alone(args: list[str | Path]) -> float:
    """Peak RSS (MB) of one ``add`` in a child of its own (so earlier children do not mask it)."""
    code = ("import resource,subprocess,sys,os;"
            "subprocess.run([sys.executable,'-m','moodbridge',*map(os.fsencode,sys.argv[1:])],capture_output=True);"
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    out = subprocess.run([sys.executable, "-c", code, *map(os.fsencode, args)], capture_output=True, check=True)
    return int(out.stdout.split()[-1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--keep", type=Path, default=None, help="build the corpus here and keep it")
    args = parser.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="mb-hostile-"))
    start = time.monotonic()
    corpus = build_corpus(root, seed=args.seed)
    print(f"corpus: {len(corpus.cases)} entries ({len(corpus.of('valid'))} valid, {len(corpus.of('bad'))} bad, "
          f"{len(corpus.of('either'))} either) + {len(corpus.arguments)} arguments, built in "
          f"{time.monotonic() - start:.1f} s")

    small = root / "small-lib"
    run("init", small)
    base = peak_alone(["add", small, corpus.root / "valid" / "photo.png", "-q"])
    print(f"baseline: add of one small photo: peak {base:.0f} MB")
    for rel in HEAVY:
        lib = root / f"lib-{Path(rel).stem}"
        run("init", lib)
        peak = peak_alone(["add", lib, corpus.root / rel, "-q"])
        print(f"add {rel!r} alone: peak {peak:.0f} MB ({peak / base:.2f} x baseline)")

    lib = root / "lib"
    run("init", lib)
    paths = [corpus.root, *corpus.arguments]
    peak = peak_alone(["add", lib, *paths, "-q"])
    run("init", root / "lib2")
    first, t1, _ = run("add", root / "lib2", *paths, "-q")
    summary = first.stdout.decode().splitlines()[0]
    reported = sum(1 for line in first.stdout.decode().splitlines() if line.startswith("  ") and ": " in line
                   and "embedded" not in line and "emotion estimated" not in line)
    second, t2, _ = run("add", root / "lib2", *paths, "-q")
    con = sqlite3.connect(root / "lib2" / "catalogue.sqlite")
    integrity = con.execute("PRAGMA integrity_check").fetchone()[0]
    con.close()
    tb = b"Traceback" in first.stderr + first.stdout
    print(f"add of the corpus: {t1:.1f} s, exit {first.returncode}, {summary}; {reported} reported; "
          f"peak {peak:.0f} MB (whole run, {peak / base:.2f} x baseline); traceback: {tb}")
    print(f"second add: {t2:.1f} s, exit {second.returncode}, {second.stdout.decode().splitlines()[0]} "
          f"(first / second = {t1 / t2:.1f})")
    print(f"PRAGMA integrity_check: {integrity}")

    from moodbridge.jobs.emotion import estimate

    times = []
    for case in corpus.files:
        s = time.monotonic()
        estimate([case.path])
        times.append((time.monotonic() - s, case.path))
    slowest = max(times)
    for t, path in sorted(times, reverse=True)[:5]:
        print(f"  emotion {path.relative_to(corpus.root)}: {t:.1f} s")
    print(f"emotion on {len(times)} files one by one: total {sum(t for t, _ in times):.1f} s, slowest "
          f"{slowest[0]:.1f} s ({slowest[1].relative_to(corpus.root)})")


if __name__ == "__main__":
    main()
