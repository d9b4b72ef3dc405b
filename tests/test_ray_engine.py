"""The Ray engine (issue 16) on one local Ray instance shared by the tests (``ray.init(num_cpus=2)``).

Same features (to float32 round-off: Ray's workers run torch on one thread
each, this process on two) and bit-identical pairs as the single-machine path on a small
real library; a worker killed with SIGKILL mid-run and a driver killed
mid-run (a subprocess) and re-run, with nothing lost or duplicated.  Without
``--engine`` Ray is never imported (that test needs no Ray).
"""
from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from moodbridge.library import Library
from moodbridge.library.catalogue import path_of
from moodbridge.pairing import pair_alphas
from moodbridge.pairing.dataset import build_pairs
from realmedia import write_photo_crops, write_photos, write_tracks

PHOTOS = ("astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg")


@pytest.fixture(scope="session")
def ray_address():
    """One local Ray instance for every test here; its GCS address (for drivers in subprocesses)."""
    ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'moodbridge[ray]')")
    if not ray.is_initialized():
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield ray.get_runtime_context().gcs_address
    ray.shutdown()


@pytest.fixture(scope="session")
def engine(ray_address):
    from moodbridge.engine import get_engine

    return get_engine("ray")


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("raymedia")
    write_photos(root / "photos", PHOTOS)
    write_photo_crops(root / "crops", 10)
    write_tracks(root / "music", 4)
    return root


@pytest.fixture(scope="module")
def local_lib(media, tmp_path_factory):
    library = Library.create(tmp_path_factory.mktemp("raylocal") / "lib")
    library.add([media], progress=False)
    yield library
    library.close()


def _features(library: Library) -> dict[tuple[str, str, str], np.ndarray]:
    """``(file name, encoder, output) → array`` for every stored feature."""
    with sqlite3.connect(library.root / "catalogue.sqlite") as conn:
        rows = conn.execute("SELECT i.path, f.encoder, f.output, f.dtype, f.shape, f.data FROM items i "
                            "JOIN features f ON f.content_hash = i.content_hash").fetchall()
    return {(Path(path_of(p)).name, enc, out): np.frombuffer(data, dtype=dtype).reshape(json.loads(shape))
            for p, enc, out, dtype, shape, data in rows}


def _paths(root: Path) -> list[str]:
    with sqlite3.connect(root / "catalogue.sqlite") as conn:
        return [path_of(r[0]) for r in conn.execute("SELECT path FROM items")]


def _assert_same_library(got: Library, expected: Library) -> None:
    paths = _paths(got.root)
    assert len(paths) == len(set(paths)) == len(_paths(expected.root))  # nothing lost, nothing twice
    mine, theirs = _features(got), _features(expected)
    assert mine.keys() == theirs.keys()
    for key in theirs:  # workers run torch on 1 thread, this process on 2: float32 round-off only
        np.testing.assert_allclose(mine[key], theirs[key], rtol=1e-5, atol=1e-6, err_msg=str(key))


def test_add_on_ray_gives_the_same_features(engine, media, local_lib, tmp_path):
    with Library.create(tmp_path / "lib") as lib:
        report = lib.add([media], progress=False, engine=engine, batch_size=4)
        assert len(report.added) == len(_paths(local_lib.root)) and not report.failed
        _assert_same_library(lib, local_lib)
        again = lib.add([media], progress=False, engine=engine)  # idempotent: nothing left to do
        assert again.unchanged == len(report.added) and not again.added


def _worker_pids() -> list[int]:
    """PIDs of the Ray Data actors running the add's workers (their process title names the class)."""
    pids = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            text = cmdline.read_bytes().decode(errors="replace")
        except OSError:
            continue
        if "MapWorker" in text and "_Adapter" in text:
            pids.append(int(cmdline.parent.name))
    return pids


def test_worker_killed_mid_run_loses_and_duplicates_nothing(engine, media, local_lib, tmp_path):
    killed: list[int] = []

    def kill_a_worker(done: int) -> None:
        if not killed:
            pids = _worker_pids()
            assert pids, "no Ray Data worker process found to kill"
            os.kill(pids[0], signal.SIGKILL)
            killed.append(pids[0])

    with Library.create(tmp_path / "lib") as lib:
        from moodbridge.library.ingest import add_paths

        report = add_paths(lib.catalogue, [media], progress=False, engine=engine, batch_size=1,
                           on_batch=kill_a_worker, exclude=lib.root)
        assert killed and not report.failed
        assert len(report.added) == len(set(report.added)) == len(_paths(local_lib.root))
        _assert_same_library(lib, local_lib)


def test_driver_killed_mid_run_resumes(ray_address, media, local_lib, tmp_path):
    root = tmp_path / "lib"
    Library.create(root).close()
    env = {**os.environ, "RAY_ADDRESS": ray_address}
    command = [sys.executable, "-m", "moodbridge", "add", str(root), str(media), "--engine", "ray",
               "--batch-size", "1", "-q"]
    driver = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    total = len(_paths(local_lib.root))
    try:
        deadline = time.monotonic() + 150
        while time.monotonic() < deadline and driver.poll() is None and not _paths(root):
            time.sleep(0.2)
        assert driver.poll() is None, f"the driver ended before it could be killed: {driver.stderr.read()[-800:]}"
        driver.send_signal(signal.SIGKILL)
        driver.wait(timeout=30)
    finally:
        if driver.poll() is None:
            driver.kill()
    written = len(_paths(root))
    assert 0 < written < total
    rerun = subprocess.run(command + ["--json"], env=env, capture_output=True, text=True, timeout=240)
    assert rerun.returncode == 0, rerun.stderr[-800:]

    summary = json.loads(rerun.stdout.strip().splitlines()[-1])
    assert summary["unchanged"] >= written and summary["added"] == total - summary["unchanged"]
    with Library.open(root) as lib:
        _assert_same_library(lib, local_lib)


def test_pair_on_ray_is_bit_identical(engine, local_lib, monkeypatch):
    from moodbridge.pairing import scores

    expected = build_pairs(local_lib, k=8, m=3, semantic_baseline=True)
    monkeypatch.setattr(scores, "_CLIP_CHUNK", 1)  # one clip per shard: the shards spread over both workers
    got = build_pairs(local_lib, k=8, m=3, semantic_baseline=True, engine=engine)
    for mine, theirs in ((got, expected), (got.semantic_only, expected.semantic_only)):
        for name in ("clip", "image", "rank", "semantic", "emotional", "total"):
            np.testing.assert_array_equal(getattr(mine.pairing, name), getattr(theirs.pairing, name))
        assert mine.frame.equals(theirs.frame)


def test_pair_alphas_on_ray_shards_checkpointed(engine, tmp_path, monkeypatch):
    """Synthetic unit vectors (mechanics): many shards, bit-identical, each finished shard saved."""
    from moodbridge.pairing import scores

    rng = np.random.default_rng(0)
    x = rng.standard_normal((300, 32)).astype(np.float32)
    y = rng.standard_normal((700, 32)).astype(np.float32)
    mva, iva = rng.uniform(-1, 1, (300, 2)), rng.uniform(-1, 1, (700, 2))
    monkeypatch.setattr(scores, "_CLIP_CHUNK", 64)
    expected = pair_alphas(x, y, mva, iva, alphas=(0.6,), k=20, normalise=True)[0]
    got = pair_alphas(x, y, mva, iva, alphas=(0.6,), k=20, normalise=True, engine=engine,
                      checkpoint=tmp_path / "ck")[0]
    for name in ("clip", "image", "rank", "semantic", "emotional", "total"):
        np.testing.assert_array_equal(getattr(got, name), getattr(expected, name))
    assert len(list((tmp_path / "ck").glob("shard-*.npz"))) == 5


def test_without_engine_ray_is_never_imported(media, tmp_path):
    Library.create(tmp_path / "lib").close()
    code = ("import sys; from moodbridge.jobs.add import add_media; from moodbridge.jobs.pair import run_pair; "
            f"r = add_media({str(tmp_path / 'lib')!r}, [{str(media / 'photos')!r}], progress=False); "
            "assert r.report.added, r.report.summary(); "
            "assert not [m for m in sys.modules if m == 'ray' or m.startswith('ray.')], 'ray was imported'")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-800:]


def test_sharded_search_on_ray_equals_one_exact_index(engine):
    """Synthetic unit vectors (mechanics): shards built and searched as Ray tasks, merged."""
    from moodbridge.search import build_index
    from moodbridge.search.sharded import build_sharded

    rng = np.random.default_rng(1)
    x = rng.standard_normal((2000, 24)).astype(np.float32)
    q = rng.standard_normal((30, 24)).astype(np.float32)
    expected, _ = build_index(x, kind="flat").search(q, 10)
    got, _ = build_sharded(x, shards=3, kind="flat", engine=engine).search(q, 10)
    np.testing.assert_array_equal(got, expected)


class _Counting:
    """The Ray engine, counting the tasks it is given and stopping the driver after ``stop_after`` results."""

    def __init__(self, engine, stop_after: int | None = None) -> None:
        self.engine, self.stop_after, self.tasks, self.pieces = engine, stop_after, 0, 0

    def map_tasks(self, fn, items, *, shared=(), pieces=None):
        self.tasks, self.pieces = len(items), len(pieces or ())
        for n, result in enumerate(self.engine.map_tasks(fn, items, shared=shared, pieces=pieces)):
            if self.stop_after is not None and n == self.stop_after:
                raise KeyboardInterrupt("driver stopped")
            yield result


def test_image_sharded_pair_on_ray_is_bit_identical_and_resumes_per_task(engine, tmp_path, monkeypatch):
    """Synthetic unit vectors (mechanics): 5 clip shards x 3 image shards = 15 tasks, partial top-K merged."""
    from moodbridge.pairing import scores, sharded

    rng = np.random.default_rng(2)
    x = rng.standard_normal((300, 32)).astype(np.float32)
    y = rng.standard_normal((2000, 32)).astype(np.float32)
    y[1700] = y[3]  # a tie across image shards: the lower index must win, as on one machine
    mva, iva = rng.uniform(-1, 1, (300, 2)), rng.uniform(-1, 1, (2000, 2))
    monkeypatch.setattr(scores, "_CLIP_CHUNK", 64)
    options = {"alphas": (0.6, 1.0), "k": 20, "normalise": True, "backend": "torch"}
    expected = pair_alphas(x, y, mva, iva, checkpoint=tmp_path / "local", **options)
    monkeypatch.setattr(sharded, "IMAGE_SHARD_BYTES", y.nbytes // 3 + 1)  # automatic: 3 image shards
    stopped = _Counting(engine, stop_after=6)
    with pytest.raises(KeyboardInterrupt):
        pair_alphas(x, y, mva, iva, engine=stopped, checkpoint=tmp_path / "ck", **options)
    assert (stopped.tasks, stopped.pieces) == (15, 3)
    saved = len(list((tmp_path / "ck").glob("part-*.npz"))) + 3 * len(list((tmp_path / "ck").glob("shard-*.npz")))
    assert saved == 6  # every finished task kept (a finished shard's parts replaced by the shard)
    again = _Counting(engine)
    got = pair_alphas(x, y, mva, iva, engine=again, checkpoint=tmp_path / "ck", **options)
    assert again.tasks == 15 - 6  # only the tasks not finished before the stop
    for mine, theirs in zip(got, expected):
        for name in ("clip", "image", "rank", "semantic", "emotional", "semantic_norm", "emotional_norm", "total"):
            np.testing.assert_array_equal(getattr(mine, name), getattr(theirs, name))
    assert not list((tmp_path / "ck").glob("part-*")) and len(list((tmp_path / "ck").glob("shard-*.npz"))) == 5

    # backend "auto": these shards are small enough for FAISS on one machine, so they run on the driver as there
    options["backend"] = "auto"
    small = _Counting(engine)
    got = pair_alphas(x, y, mva, iva, engine=small, image_shards=3, **options)
    expected = pair_alphas(x, y, mva, iva, checkpoint=tmp_path / "local-auto", **options)
    assert small.tasks == 0
    for mine, theirs in zip(got, expected):
        for name in ("clip", "image", "rank", "semantic", "emotional", "total"):
            np.testing.assert_array_equal(getattr(mine, name), getattr(theirs, name))


@pytest.mark.parametrize("address", ["closed-port", "not-an-address", "ray://127.0.0.1"])
def test_unreachable_or_malformed_address_is_one_clear_line(address, tmp_path):
    """``--engine ray --address`` pointing at nothing: exit 1, one line naming the address, no Ray retry loop."""
    import socket

    pytest.importorskip("ray", reason="Ray is not installed (pip install 'moodbridge[ray]')")
    if address == "closed-port":
        with socket.socket() as s:  # a port that was free a moment ago: nothing listens there
            s.bind(("127.0.0.1", 0))
            address = f"127.0.0.1:{s.getsockname()[1]}"
    Library.create(tmp_path / "lib").close()
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    done = subprocess.run([sys.executable, "-m", "moodbridge", "pair", str(tmp_path / "lib"), "-o", str(tmp_path / "out"),
                           "--engine", "ray", "--address", address], capture_output=True, text=True, env=env,
                          timeout=60)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and address in lines[0] and "Traceback" not in done.stderr, done.stderr[-800:]
    assert ("cannot reach a Ray cluster" if address.startswith("127.") else "is not a Ray address") in lines[0]
