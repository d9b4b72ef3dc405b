"""The engine interface: ordered batch maps over stateful workers, and tasks over shared inputs.

An engine runs two shapes of work for the jobs, and nothing else:

``map_batches(rows, worker, ...)``
    Rows (plain, picklable dicts) go in batches through ``worker`` instances
    (a class built once per worker: it holds the models) and come back as
    batches of results, each batch as soon as it is done.  The caller (the
    driver) is the only writer of results: workers never open a library.
``map_tasks(fn, items, shared, pieces)``
    ``fn(item, *shared)`` for every item, ``shared`` sent to the workers once;
    ``(index, result)`` pairs come back as they finish.  With ``pieces``
    (large inputs each needed by some tasks only: image shards), each item is
    ``(piece number, item)``, each piece is sent once, and the call is
    ``fn(item, pieces[number], *shared)``.

Every result must be a pure function of its input, so a retried batch or
task (Ray retries them after a worker dies) gives the same result, and the
driver's writes, keyed by content, are idempotent.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol

from moodbridge.registry import Registry

__all__ = ["ENGINES", "Engine", "LocalEngine", "get_engine"]


class Engine(Protocol):
    """What a job needs from an executor (see the module docstring)."""

    name: str

    def map_batches(self, rows: Sequence[dict[str, Any]], worker: type, *, worker_args: tuple = (),
                    batch_size: int = 16, concurrency: int | None = None) -> Iterator[list[Any]]:
        """Results of ``worker(*worker_args)(batch)`` for batches of ``rows`` (completion order)."""
        ...

    def map_tasks(self, fn: Callable[..., Any], items: Sequence[Any], *, shared: tuple = (),
                  pieces: Sequence[Any] | None = None) -> Iterator[tuple[int, Any]]:
        """``(i, fn(items[i], *shared))`` for every item (with ``pieces``: see the module docstring), in completion order."""
        ...


class LocalEngine:
    """Everything in this process, in order: one worker instance, one task at a time."""

    name = "local"

    def map_batches(self, rows: Sequence[dict[str, Any]], worker: type, *, worker_args: tuple = (),
                    batch_size: int = 16, concurrency: int | None = None) -> Iterator[list[Any]]:
        """See :meth:`Engine.map_batches`; ``concurrency`` is ignored."""
        run = worker(*worker_args)
        for start in range(0, len(rows), batch_size):
            yield run(list(rows[start : start + batch_size]))

    def map_tasks(self, fn: Callable[..., Any], items: Sequence[Any], *, shared: tuple = (),
                  pieces: Sequence[Any] | None = None) -> Iterator[tuple[int, Any]]:
        """See :meth:`Engine.map_tasks`."""
        for i, item in enumerate(items):
            if pieces is None:
                yield i, fn(item, *shared)
            else:
                yield i, fn(item[1], pieces[item[0]], *shared)


def _ray_engine(address: str | None = None, **options: Any) -> Engine:
    from moodbridge.engine.ray_engine import RayEngine

    return RayEngine(address=address, **options)


#: Engine factories by name (``--engine``).
ENGINES: Registry[Callable[..., Engine]] = Registry("engine")
ENGINES.register("local", lambda address=None, **options: LocalEngine())
ENGINES.register("ray", _ray_engine)


def get_engine(name: str, *, address: str | None = None, **options: Any) -> Engine:
    """The engine called ``name`` (``local`` or ``ray``), connected to ``address`` where it has one.

    Raises
    ------
    UnknownNameError
        On an unknown name.
    EngineError
        When the engine cannot start (Ray not installed, cluster unreachable).
    """
    return ENGINES.get(name)(address=address, **options)
