"""Benchmark: many participants answering a study at once against a real ``moodbridge serve`` on loopback.

What it checks and measures (issue 13): 50 simulated participants answering
20 trials each *concurrently* (asyncio + httpx, one connection each) against a
real server process (``python -m moodbridge serve LIB --study STUDY`` on
127.0.0.1, answers in the library's SQLite, one ``BEGIN IMMEDIATE`` transaction
and ``synchronous=FULL`` per answer).  Afterwards the researcher's CSV export
must hold every acknowledged answer exactly once, with the choice that was
sent, and nothing else: no answer lost, none doubled.  Each simulated
participant also double-submits one answer (a double click), which must be
refused with 409 and not stored.

Latency: wall time of one ``POST /study/api/answer`` (store the answer and
send the next trial), measured by the client.  Baseline, in the same run and
against the same server: one participant alone answering 20 trials.  The
ratio p95(concurrent) / p95(alone) is printed beside the figures.

Data: the REAL demo library (``moodbridge demo``: scikit-image photos and the
28 mood-labelled immich-memories-music tracks), paired at α 0.6 (EMID) and at
α = 1 (the baseline condition); the study has both directions, both
conditions, 2 clips per mood, 2 catch trials.  The *participants* are
simulated (their choices are random): this measures the server, not people.

Usage: python benchmarks/study_load.py [--work DIR] [--participants 50] [--trials 20]
"""
from __future__ import annotations

import argparse
import asyncio
import csv
import io
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np

REPO = Path(__file__).resolve().parents[1]


def build(work: Path) -> tuple[Path, Path]:
    """The demo library, its α = 1 pairing and a fresh study (the library is reused between runs)."""
    from moodbridge.jobs.demo import run_demo
    from moodbridge.jobs.pair import run_pair
    from moodbridge.jobs.study import create_study

    demo = work / "demo"
    if not (demo / "pairs" / "pairs.csv").exists():
        run_demo(demo, progress=True)
    if not (demo / "baseline" / "pairs.csv").exists():
        run_pair(demo / "library", demo / "baseline", report=False, progress=False, alpha=1.0, k=10, m=3)
    study = work / f"study-{int(time.time())}"
    create_study(demo / "pairs", study, baseline_pairs=demo / "baseline", direction="both",
                 trials_per_category=2, catch_trials=2, clip_seconds=2.0, seed=0)
    return demo / "library", study


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(library: Path, study: Path) -> tuple[subprocess.Popen, str, str]:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen([sys.executable, "-m", "moodbridge", "serve", str(library), "--study", str(study),
                             "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            env=env)
    assert proc.stdout is not None
    token = None
    for line in proc.stdout:
        if m := re.search(r"research\?token=(\S+)", line):
            token = m.group(1)
            break
    if token is None:
        raise SystemExit("the server did not start")
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return proc, url, token
        time.sleep(0.1)
    raise SystemExit("the server does not listen")


async def participant(url: str, pid: str, trials: int, rng: np.random.Generator,
                      latencies: list[float], acked: list[tuple[str, str, int]], refused: list[int]) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=120) as c:
        r = await c.post("/study/api/start", json={"pid": pid})
        r.raise_for_status()
        t = r.json()
        for n in range(trials):
            if t["done"]:
                break
            choice = int(rng.integers(0, 4))
            t0 = time.perf_counter()
            r = await c.post("/study/api/answer", json={"pid": pid, "trial": t["trial"], "choice": choice,
                                                        "rt_ms": float(rng.integers(200, 3000))})
            latencies.append(time.perf_counter() - t0)
            r.raise_for_status()
            acked.append((pid, t["trial"], choice))
            if n == trials // 2:  # a double click: the same answer again, refused
                again = await c.post("/study/api/answer", json={"pid": pid, "trial": t["trial"], "choice": choice})
                refused.append(again.status_code)
            t = r.json()


async def run(url: str, pids: list[str], trials: int, seed: int) -> tuple[list[float], list, list[int], float]:
    latencies: list[float] = []
    acked: list[tuple[str, str, int]] = []
    refused: list[int] = []
    rngs = np.random.default_rng(seed).spawn(len(pids))
    t0 = time.perf_counter()
    await asyncio.gather(*(participant(url, p, trials, g, latencies, acked, refused) for p, g in zip(pids, rngs)))
    return latencies, acked, refused, time.perf_counter() - t0


def describe(name: str, lat: list[float], wall: float) -> tuple[float, float]:
    ms = np.array(lat) * 1000
    p50, p95 = float(np.percentile(ms, 50)), float(np.percentile(ms, 95))
    print(f"{name:<28} answers {len(ms):>5}  p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  max {ms.max():7.1f} ms"
          f"  wall {wall:6.2f} s  ({len(ms) / wall:6.1f} answers/s)")
    return p50, p95


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--work", type=Path, default=Path("/tmp/moodbridge-study-load"))
    ap.add_argument("--participants", type=int, default=50)
    ap.add_argument("--trials", type=int, default=20)
    args = ap.parse_args()
    library, study = build(args.work)
    import json

    n_trials = len(json.loads((study / "study.json").read_text())["trials"])
    if n_trials < args.trials:
        raise SystemExit(f"the study has only {n_trials} trials")
    proc, url, token = serve(library, study)
    try:
        base_lat, base_acked, base_ref, base_wall = asyncio.run(run(url, ["alone"], args.trials, 1))
        pids = [f"sim-{i:03d}" for i in range(args.participants)]
        lat, acked, refused, wall = asyncio.run(run(url, pids, args.trials, 2))
        export = httpx.get(f"{url}/research/export.csv", params={"token": token}, timeout=120).text
    finally:
        proc.terminate()
        proc.wait(30)
    rows = list(csv.DictReader(io.StringIO(export)))
    stored = [(r["participant"], r["trial"], int(r["choice"]) - 1) for r in rows]
    sent = base_acked + acked
    print(f"study {study.name}: {n_trials} trials; {args.participants} participants x {args.trials} trials at once,"
          f" server {url} (one process)")
    _, b95 = describe("baseline: 1 participant", base_lat, base_wall)
    p50, p95 = describe(f"{args.participants} participants at once", lat, wall)
    print(f"p95 ratio concurrent / alone: {p95 / b95:.1f}x")
    keys = [(p, t) for p, t, _ in stored]
    lost = set(sent) - set(stored)
    extra = set(stored) - set(sent)
    print(f"answers acknowledged {len(sent)}, stored {len(stored)}, distinct {len(set(keys))},"
          f" lost {len(lost)}, unexpected {len(extra)}; double submissions refused with"
          f" {sorted(set(refused + base_ref))} ({len(refused) + len(base_ref)} tries)")
    ok = (len(sent) == (args.participants + 1) * args.trials and len(stored) == len(sent) == len(set(keys))
          and not lost and not extra and set(refused + base_ref) == {409})
    print("OK: every answer stored exactly once" if ok else "FAILED")
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
