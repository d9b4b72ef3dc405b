"""Benchmark: ``moodbridge add`` against the encoders' bare work on the same items.

Baseline (same run, same files): for each modality, decode each file once per
decoded form, ``prepare`` it for each encoder and run ``embed_batch`` in batches
— the minimum work any pipeline must do.  The ratio pipeline / baseline is the
cost of everything ``add`` does on top (hashing, sniffing, SQLite writes,
bookkeeping); the target is under 1.15.  Also prints items/s of each encoder's
forward pass alone.

Real media: scikit-image photographs (random crops), the 28 immich-memories-music
tracks, and EIMG MIDI clips from ../shared/data when present.

Usage: python benchmarks/add_throughput.py [--images 96] [--tracks 28] [--midi 200]
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from realmedia import immich_tracks, write_midi, write_photo_crops  # noqa: E402

from moodbridge.encoders import default_encoders  # noqa: E402
from moodbridge.library import Library  # noqa: E402
from moodbridge.media import decode  # noqa: E402


def build_corpus(root: Path, n_images: int, n_tracks: int, n_midi: int) -> dict[str, list[Path]]:
    files: dict[str, list[Path]] = {}
    files["image"] = write_photo_crops(root / "images", n_images, size=256)
    (root / "audio").mkdir()
    files["audio"] = []
    for src in immich_tracks()[:n_tracks]:
        dst = root / "audio" / src.name
        shutil.copyfile(src, dst)
        files["audio"].append(dst)
    eimg = REPO.parent / "shared" / "data" / "eimg" / "midi"
    (root / "midi").mkdir()
    if eimg.exists():
        srcs = sorted(eimg.glob("*.mid"))[:n_midi]
        files["midi"] = [Path(shutil.copyfile(s, root / "midi" / s.name)) for s in srcs]
    else:
        files["midi"] = [write_midi(root / "midi" / f"m{i}.mid", (60 + i % 12, 64, 67)) for i in range(n_midi)]
    return files


def bare(files: dict[str, list[Path]], batch_size: int) -> tuple[float, dict[str, tuple[int, float]]]:
    """Decode once per spec, prepare, embed in batches.

    Returns total seconds, and per encoder (and per decoder, as ``decode:<modality>``)
    ``(items, seconds)`` of its own work: prepare + forward.
    """
    own: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
    t0 = time.perf_counter()
    for modality, paths in files.items():
        encs = default_encoders(modality)
        for e in encs:
            e.load()
        prepared = defaultdict(list)
        for p in paths:
            decoded = {}
            for e in encs:
                if e.input_spec not in decoded:
                    t = time.perf_counter()
                    decoded[e.input_spec] = decode(p, e.input_spec)
                    _tally(own, f"decode:{modality}", 1, time.perf_counter() - t)
                t = time.perf_counter()
                prepared[e.key].append(e.prepare(decoded[e.input_spec], source=str(p)))
                _tally(own, e.key, 1, time.perf_counter() - t)
        for e in encs:
            t = time.perf_counter()
            items = prepared[e.key]
            for i in range(0, len(items), batch_size):
                e.embed_batch(items[i : i + batch_size])
            _tally(own, e.key, 0, time.perf_counter() - t)
    return time.perf_counter() - t0, {k: (int(v[0]), v[1]) for k, v in own.items()}


def _tally(own: dict[str, list[float]], key: str, n: int, secs: float) -> None:
    own[key][0] += n
    own[key][1] += secs


def pipeline(files: dict[str, list[Path]], root: Path, batch_size: int) -> float:
    lib_dir = root / f"lib-{time.time_ns()}"
    t0 = time.perf_counter()
    with Library.create(lib_dir) as lib:
        report = lib.add([p for ps in files.values() for p in ps], batch_size=batch_size, progress=False)
    elapsed = time.perf_counter() - t0
    assert not report.partial, report.summary()
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--images", type=int, default=96)
    ap.add_argument("--tracks", type=int, default=28)
    ap.add_argument("--midi", type=int, default=200)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        files = build_corpus(root, args.images, args.tracks, args.midi)
        n = sum(len(v) for v in files.values())
        bare(files, args.batch_size)  # warm-up: load weights, fill caches
        bare_times, pipe_times, fwd = [], [], {}
        for _ in range(args.repeats):
            t, fwd = bare(files, args.batch_size)
            bare_times.append(t)
            pipe_times.append(pipeline(files, root, args.batch_size))
        tb, tp = min(bare_times), min(pipe_times)
        print(f"items: {', '.join(f'{len(v)} {k}' for k, v in files.items())} ({n} files)")
        print("each encoder's own work (prepare + forward) and each decoder, items/s on this machine:")
        for key, (count, secs) in fwd.items():
            print(f"  {key:<28} {count / secs:9.1f} items/s  ({secs:.2f} s for {count})")
        print(f"bare decode+prepare+forward: {tb:.2f} s  ({n / tb:.1f} files/s)")
        print(f"moodbridge add (pipeline):   {tp:.2f} s  ({n / tp:.1f} files/s)")
        print(f"ratio pipeline / bare = {tp / tb:.3f}  (overhead {100 * (tp / tb - 1):+.1f}%, target < +15%)")


if __name__ == "__main__":
    main()
