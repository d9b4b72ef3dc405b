"""The Ray engine: Ray Data actor pools for batch maps, Ray tasks for shard maps.

``map_batches`` is a Ray Data pipeline: the rows become a dataset
(``ray.data.from_items``), go through ``map_batches`` with a callable class
(one actor per worker, built once, holding its models; ``concurrency`` actors,
``batch_size`` rows per call) and stream back to the driver with
``iter_batches``.  ``map_tasks`` puts the shared inputs in the object store
once (``ray.put``) and runs one task per item.  Actors are restarted and
tasks retried after a worker dies (``max_restarts``/``max_task_retries``/
``max_retries``); results are pure functions of their inputs, so a retry
gives the same result and the driver's keyed writes stay exactly-once.

Connecting: ``address`` (``--address``), else ``RAY_ADDRESS``, else a Ray
instance already started in this process (tests), else a new local one.
"""
from __future__ import annotations

import os
import pickle
import socket
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from moodbridge.errors import EngineError

__all__ = ["RayEngine", "check_address"]

#: Retries of a task or actor call after its worker died (a batch that kills every worker fails after that).
RETRIES = 5

#: Seconds to wait for the cluster's port to answer before giving up (Ray itself retries for about a minute).
CONNECT_TIMEOUT_S = 5.0

#: Addresses with a meaning of their own to ``ray.init`` (the cluster found on this machine, a new local one).
_SPECIAL_ADDRESSES = ("auto", "local")


def _ray() -> Any:
    try:
        import ray
    except ImportError as exc:
        raise EngineError("the ray engine needs Ray: pip install 'moodbridge[ray]'") from exc
    return ray


def check_address(address: str, *, source: str = "--address") -> None:
    """Fail fast, with one clear line, on a malformed Ray address or one where nothing answers.

    ``host:port`` (a cluster's GCS, e.g. ``10.0.0.5:6379``) or
    ``ray://host:port`` (Ray Client, port 10001 by default); ``auto`` and
    ``local`` are passed to Ray as they are.  The port is tried with one TCP
    connection (:data:`CONNECT_TIMEOUT_S`) before ``ray.init``, which would
    otherwise retry for about a minute and end in a traceback.

    Raises
    ------
    EngineError
        Naming the address, where it came from (``source``) and the cause.
    """
    if address in _SPECIAL_ADDRESSES:
        return
    target = address[len("ray://"):] if address.startswith("ray://") else address
    host, colon, port = target.rpartition(":")
    host = host.strip("[]")  # an IPv6 literal
    if not colon or not host or "/" in target or not port.isdigit() or not 0 < int(port) < 65536:
        raise EngineError(f"{source} {address!r} is not a Ray address: give host:port (a cluster's GCS, e.g. "
                          "10.0.0.5:6379) or ray://host:10001 (Ray Client)")
    try:
        with socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT_S):
            pass
    except OSError as exc:
        cause = "timed out" if isinstance(exc, TimeoutError) else (exc.strerror or type(exc).__name__)
        raise EngineError(f"cannot reach a Ray cluster at {address} ({source}): {cause}; start one there with "
                          "'ray start --head' or give the right address") from None


class _Adapter:
    """A Ray Data callable class around a moodbridge worker: pickled rows in, pickled results out."""

    def __init__(self, worker: type, worker_args: tuple) -> None:
        self.run = worker(*worker_args)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        rows = [pickle.loads(b) for b in batch["row"]]
        results = self.run(rows)
        return {"result": np.array([pickle.dumps(r) for r in results], dtype=object)}


class RayEngine:
    """Run jobs' batches and shards on Ray (see the module docstring).

    Parameters
    ----------
    address
        A Ray cluster (``ray://host:10001`` or ``host:6379``); default ``RAY_ADDRESS``,
        an instance already running in this process, or a new local one.
    num_cpus
        CPUs of a new local instance (default: all).
    progress
        Show Ray Data's own progress bars.

    Raises
    ------
    EngineError
        When Ray is not installed or the cluster cannot be reached.
    """

    name = "ray"

    def __init__(self, address: str | None = None, *, num_cpus: int | None = None, progress: bool = False) -> None:
        ray = _ray()
        self._ray = ray
        if not ray.is_initialized():
            source = "--address" if address else "RAY_ADDRESS"
            address = address or os.environ.get("RAY_ADDRESS") or None
            if address:
                check_address(address, source=source)
            try:
                ray.init(address=address, num_cpus=None if address else num_cpus, include_dashboard=False,
                         log_to_driver=False, configure_logging=False)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                raise EngineError(f"cannot connect to the Ray cluster at {address or 'a new local instance'}: "
                                  f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from exc
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = progress
        context.execution_options.preserve_order = False

    @property
    def cpus(self) -> int:
        """CPUs of the cluster."""
        return int(self._ray.cluster_resources().get("CPU", 1))

    def map_batches(self, rows: Sequence[dict[str, Any]], worker: type, *, worker_args: tuple = (),
                    batch_size: int = 16, concurrency: int | None = None) -> Iterator[list[Any]]:
        """See :meth:`moodbridge.engine.base.Engine.map_batches`: a Ray Data pipeline over an actor pool."""
        if not rows:
            return
        ray = self._ray
        data = ray.data.from_items([{"row": pickle.dumps(r)} for r in rows],
                                   override_num_blocks=max(1, -(-len(rows) // batch_size)))
        pool = max(1, min(concurrency or self.cpus, -(-len(rows) // batch_size)))
        mapped = data.map_batches(_Adapter, fn_constructor_args=(worker, worker_args), batch_size=batch_size,
                                  batch_format="numpy", concurrency=pool, num_cpus=1,
                                  max_restarts=RETRIES, max_task_retries=RETRIES)
        for batch in mapped.iter_batches(batch_size=None, batch_format="numpy"):
            yield [pickle.loads(b) for b in batch["result"]]

    def map_tasks(self, fn: Callable[..., Any], items: Sequence[Any], *, shared: tuple = (),
                  pieces: Sequence[Any] | None = None) -> Iterator[tuple[int, Any]]:
        """See :meth:`moodbridge.engine.base.Engine.map_tasks`: one Ray task per item, ``shared`` and each piece put once.

        A piece travels as a top-level argument (an object reference), so Ray
        fetches it only to the nodes whose tasks need it and prefers to run a
        task where its piece already is.
        """
        ray = self._ray
        remote = ray.remote(max_retries=RETRIES, retry_exceptions=False)(fn)
        refs = [ray.put(s) for s in shared]
        if pieces is None:
            pending = {remote.remote(item, *refs): i for i, item in enumerate(items)}
        else:
            piece_refs = [ray.put(p) for p in pieces]
            pending = {remote.remote(item, piece_refs[j], *refs): i for i, (j, item) in enumerate(items)}
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            for ref in done:
                yield pending.pop(ref), ray.get(ref)
