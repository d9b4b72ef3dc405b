"""Incremental, resumable ingestion of media files into a library (``moodbridge add``).

Each file is stat-ed, hashed, sniffed, decoded once per distinct decoded form
and prepared for every encoder of its modality that has not yet seen its
content.  Decoding of the next batch runs in background threads while the
current batch goes through the models.  Each batch — its items, features and
errors — is committed in one SQLite transaction, so a run killed at any moment
keeps every finished batch and a re-run does only what is left.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from tqdm import tqdm

from moodbridge.encoders import Encoder, default_encoders, get_encoder
from moodbridge.encoders.run import Failure, embed_prepared, failure_from, prepare_source
from moodbridge.errors import display_path
from moodbridge.library.catalogue import Catalogue
from moodbridge.library.scan import scan_paths
from moodbridge.media import content_hash, sniff
from moodbridge.media.sniff import unreadable

if TYPE_CHECKING:
    from moodbridge.engine import Engine


@dataclass
class AddReport:
    """What one ``add`` run did.

    Attributes
    ----------
    added, updated
        Paths newly added, and paths whose content changed and was re-encoded.
    unchanged
        Number of files already complete in the library.
    failed
        Files that failed in this run.
    known_failures
        Files that failed before and have not changed since (not retried).
    encoded
        ``encoder key → number of items embedded`` in this run.
    annotated
        Items whose emotion was estimated and stored in this run.
    """

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0
    failed: list[Failure] = field(default_factory=list)
    known_failures: list[Failure] = field(default_factory=list)
    encoded: dict[str, int] = field(default_factory=dict)
    annotated: int = 0

    @property
    def partial(self) -> bool:
        """True when some given file is not in the library."""
        return bool(self.failed or self.known_failures)

    def summary(self) -> str:
        """A few lines for the terminal."""
        lines = [
            f"added {len(self.added)}, updated {len(self.updated)}, unchanged {self.unchanged}, "
            f"failed {len(self.failed) + len(self.known_failures)}"
        ]
        for key, n in sorted(self.encoded.items()):
            lines.append(f"  {key}: {n} item(s) embedded")
        if self.annotated:
            lines.append(f"  emotion estimated for {self.annotated} item(s)")
        if self.failed or self.known_failures:
            lines.append("not added:")
            lines += [f"  {f.message}" for f in self.failed]
            lines += [f"  {f.message} (unchanged since the last run)" for f in self.known_failures]
        return "\n".join(lines)


@dataclass
class _Work:
    path: Path
    modality: str
    size: int
    mtime_ns: int
    item_id: int | None
    known_hash: str | None  # set when size and mtime are unchanged
    encoders: list[Encoder]  # encoders still missing for this file (None known yet → all)
    accept_damaged: bool = False


@dataclass
class _Loaded:
    work: _Work
    content_hash: str = ""
    prepared: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    error: Failure | None = None


EncoderChoice = dict[str, list[Encoder]]

#: ``encoder key → {index in the batch → outputs or failure}``
_Results = dict[str, dict[int, "dict[str, np.ndarray] | Failure"]]


def add_paths(
    catalogue: Catalogue,
    paths: Iterable[str | Path],
    *,
    encoders: EncoderChoice | None = None,
    batch_size: int = 16,
    progress: bool = True,
    exclude: Path | None = None,
    decode_workers: int = 2,
    on_batch: Callable[[int], None] | None = None,
    follow_links: bool = False,
    accept_damaged: bool = False,
    engine: "Engine | None" = None,
    concurrency: int | None = None,
) -> AddReport:
    """Add files and folders to a library; see the module docstring.

    Parameters
    ----------
    catalogue
        The library's catalogue.
    paths
        Files or folders (searched recursively; hidden entries skipped).
    encoders
        ``modality → encoders``; default: every offline encoder of each modality.
    batch_size
        Files per model batch and per committed transaction.
    progress
        Show a progress bar on stderr.
    exclude
        A folder never to scan (the library's own folder).
    decode_workers
        Threads decoding ahead of the models.
    on_batch
        Called with the number of files done after each committed batch.
    follow_links
        Follow links whose target is outside the folder being added (see :mod:`moodbridge.library.scan`).
    accept_damaged
        Add audio whose checksums show damage, knowingly (see :func:`moodbridge.media.audio.load_audio`).
    engine
        Where decoding and encoding run (:mod:`moodbridge.engine`); default: this
        process, with ``decode_workers`` threads.  With an engine, the files go
        through its workers (:class:`IngestWorker`, ``concurrency`` of them) and
        only this process writes the catalogue, batch by batch as results arrive.
    concurrency
        Workers of the engine (default: one per CPU of the cluster).
    """
    report = AddReport()
    scan = scan_paths(paths, exclude=exclude, follow_links=follow_links)
    for path in scan.missing:
        report.failed.append(Failure(str(path), "missing", f"{display_path(path)}: missing: no such file or folder"))
    for path in scan.empty_folders:
        report.failed.append(Failure(str(path), "empty", f"{display_path(path)}: empty: this folder holds no files"))
    choice = encoders if encoders is not None else {m: default_encoders(m) for m in {m for _, m in scan.media}}

    refused = [Failure(str(p), "unsupported",
                       f"{display_path(p)}: unsupported: no reader for '{display_path(p.suffix or p.name)}' files")
               for p in scan.unsupported]
    refused += [failure_from(exc, exc.path) for exc in scan.refused]
    _record_refused(catalogue, refused, report)

    work = _plan(catalogue, scan.media, choice, report)
    if not work:
        return report
    for w in work:
        w.accept_damaged = accept_damaged
    done = 0
    with ExitStack() as stack:
        bar = stack.enter_context(tqdm(total=len(work), desc="adding", unit="file", disable=not progress,
                                       leave=False))
        if engine is None:
            pool = stack.enter_context(ThreadPoolExecutor(max_workers=max(1, decode_workers)))
            batches: Iterable[tuple[list[_Loaded], _Results | None]] = (
                (b, None) for b in _prefetched_batches(pool, work, batch_size))
        else:
            batches = _engine_batches(engine, work, batch_size, concurrency)
        for batch, results in batches:
            if results is None:
                _commit_batch(catalogue, batch, report)
            else:
                _write_batch(catalogue, batch, results, report)
            done += len(batch)
            bar.update(len(batch))
            if on_batch is not None:
                on_batch(done)
    return report


def _record_refused(catalogue: Catalogue, refused: Sequence[Failure], report: AddReport) -> None:
    """Record files refused without decoding (by ``lstat``: a FIFO or link is never opened)."""
    known = catalogue.error_state([f.path for f in refused])
    with catalogue.transaction() as conn:
        for failure in refused:
            try:
                st = os.lstat(failure.path)
                size, mtime_ns = st.st_size, st.st_mtime_ns
            except OSError:
                size, mtime_ns = -1, -1
            old = known.get(failure.path)
            if old is not None and (old.size, old.mtime_ns, old.message) == (size, mtime_ns, failure.message):
                report.known_failures.append(failure)
                continue
            catalogue.record_error(conn, path=failure.path, kind=failure.kind, message=failure.message,
                                   size=size, mtime_ns=mtime_ns)
            report.failed.append(failure)


def _work_row(work: _Work) -> dict[str, Any]:
    """A plain, picklable description of one file's work for an engine's workers."""
    return {"path": str(work.path), "modality": work.modality, "size": work.size, "mtime_ns": work.mtime_ns,
            "item_id": work.item_id, "known_hash": work.known_hash, "encoders": [e.name for e in work.encoders],
            "accept_damaged": work.accept_damaged}


class IngestWorker:
    """An engine worker of ``add``: decodes and embeds rows of :func:`_work_row`, never writes.

    Built once per worker (its encoders, and their models, load on first use
    and stay); each call returns, per row, its content hash, metadata, error
    and ``encoder key → outputs``: the same computation as the single-machine
    path, so a retried batch gives the same result.
    """

    def __call__(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        batch = [_load(_Work(Path(r["path"]), r["modality"], r["size"], r["mtime_ns"], r["item_id"],
                             r["known_hash"], [get_encoder(n) for n in r["encoders"]], r["accept_damaged"]))
                 for r in rows]
        results = _embed_batch(batch)
        return [{"path": r["path"], "content_hash": l.content_hash, "metadata": l.metadata, "error": l.error,
                 "outputs": {key: found[i] for key, found in results.items() if i in found}}
                for i, (r, l) in enumerate(zip(rows, batch))]


def _engine_batches(engine: "Engine", work: list[_Work], batch_size: int,
                    concurrency: int | None) -> Iterator[tuple[list[_Loaded], _Results]]:
    """Batches of results from the engine's workers, as this process's loaded items and results.

    One pipeline per modality, so each actor pool loads only that modality's
    models, in batches of the smallest ``Encoder.batch_size`` among them (at
    most ``batch_size``: musicnn 8, EfficientNet 16, MIDI descriptors 256 …).
    A path already returned in this run (a retried batch) is dropped, so each
    file is written and counted once.
    """
    by_path = {str(w.path): w for w in work}
    seen: set[str] = set()
    groups: dict[str, list[_Work]] = {}
    for w in work:
        groups.setdefault(w.modality, []).append(w)
    for group in groups.values():
        size = min([batch_size] + [e.batch_size for w in group for e in w.encoders])
        for rows in engine.map_batches([_work_row(w) for w in group], IngestWorker, batch_size=max(1, size),
                                       concurrency=concurrency):
            rows = [r for r in rows if r["path"] not in seen]
            seen.update(r["path"] for r in rows)
            batch = [_Loaded(by_path[r["path"]], r["content_hash"], {}, r["metadata"], r["error"]) for r in rows]
            results: _Results = {}
            for i, r in enumerate(rows):
                for key, out in r["outputs"].items():
                    results.setdefault(key, {})[i] = out
            if batch:
                yield batch, results


def _plan(catalogue: Catalogue, media: Sequence[tuple[Path, str]], choice: EncoderChoice, report: AddReport) -> list[_Work]:
    """Decide which files need work; count the unchanged ones and known failures."""
    keys = [str(p) for p, _ in media]
    state = catalogue.state_by_path(keys)
    errors = catalogue.error_state(keys)
    work: list[_Work] = []
    unchanged_by_modality: dict[str, list[_Work]] = {}
    for path, modality in media:
        try:
            st = path.stat()
        except OSError as exc:  # gone or changed since the scan
            report.failed.append(failure_from(unreadable(path, exc), str(path)))
            continue
        key = str(path)
        encs = choice.get(modality, [])
        if key in state and state[key][2:] == (st.st_size, st.st_mtime_ns):
            item_id, h = state[key][0], state[key][1]
            w = _Work(path, modality, st.st_size, st.st_mtime_ns, item_id, h, encs)
            unchanged_by_modality.setdefault(modality, []).append(w)
            continue
        if key in errors and (errors[key].size, errors[key].mtime_ns) == (st.st_size, st.st_mtime_ns):
            report.known_failures.append(Failure(key, errors[key].kind, errors[key].message))
            continue
        item_id = state[key][0] if key in state else None
        work.append(_Work(path, modality, st.st_size, st.st_mtime_ns, item_id, None, encs))
    for modality, group in unchanged_by_modality.items():
        hashes = [w.known_hash for w in group if w.known_hash]
        done_by_encoder = {e.key: catalogue.encoded_hashes(e.key, hashes) for e in choice.get(modality, [])}
        for w in group:
            missing = [e for e in w.encoders if w.known_hash not in done_by_encoder[e.key]]
            if missing:
                w.encoders = missing
                work.append(w)
            else:
                report.unchanged += 1
    # keep files of one modality together so batches share encoders
    work.sort(key=lambda w: (w.modality, str(w.path)))
    return work


def _prefetched_batches(pool: ThreadPoolExecutor, work: list[_Work], batch_size: int) -> Iterator[list[_Loaded]]:
    """Yield loaded batches in order while the next batches decode in the pool."""
    batches = [work[i : i + batch_size] for i in range(0, len(work), batch_size)]
    pending: list[list[Future[_Loaded]]] = []
    lookahead = 2
    for i, batch in enumerate(batches):
        while len(pending) < lookahead and i + len(pending) < len(batches):
            pending.append([pool.submit(_load, w) for w in batches[i + len(pending)]])
        futures = pending.pop(0)
        yield [f.result() for f in futures]


def _load(work: _Work) -> _Loaded:
    """Hash, sniff, decode and prepare one file for its missing encoders; never raises."""
    loaded = _Loaded(work)
    try:
        loaded.content_hash = work.known_hash or content_hash(work.path)
        if work.known_hash is None:
            sniff(work.path)
        loaded.prepared, loaded.metadata = prepare_source(work.path, work.encoders,
                                                          accept_damaged=work.accept_damaged)
    except Exception as exc:  # noqa: BLE001 - a decoder bug must not stop the batch
        loaded.error = failure_from(exc, str(work.path))
    return loaded


def _embed(enc: Encoder, loaded: list[_Loaded]) -> dict[int, dict[str, np.ndarray] | Failure]:
    """Run one encoder on the items of a batch that need it."""
    todo = [i for i, item in enumerate(loaded) if item.error is None and enc.key in item.prepared]
    rows = embed_prepared(enc, [loaded[i].prepared[enc.key] for i in todo], [str(loaded[i].work.path) for i in todo])
    return dict(zip(todo, rows))


def _embed_batch(batch: list[_Loaded]) -> dict[str, dict[int, dict[str, np.ndarray] | Failure]]:
    """Embed a loaded batch with each encoder it needs; an item's first encoder failure becomes its error."""
    encoders = {e.key: e for l in batch for e in l.work.encoders}
    results = {key: _embed(enc, batch) for key, enc in encoders.items()}
    for i, l in enumerate(batch):
        if l.error is None:
            for key in encoders:
                r = results[key].get(i)
                if isinstance(r, Failure):
                    l.error = r
                    break
    return results


def _commit_batch(catalogue: Catalogue, batch: list[_Loaded], report: AddReport) -> None:
    """Embed a loaded batch with each encoder and commit items, features and errors at once."""
    _write_batch(catalogue, batch, _embed_batch(batch), report)


def _write_batch(catalogue: Catalogue, batch: list[_Loaded],
                 results: dict[str, dict[int, dict[str, np.ndarray] | Failure]], report: AddReport) -> None:
    """Commit a batch's items, features and errors in one transaction (features keyed by content hash
    and encoder key, items by path: writing the same batch twice changes nothing)."""
    encoders = results
    with catalogue.transaction() as conn:
        for i, l in enumerate(batch):
            w = l.work
            if l.error is not None:
                catalogue.record_error(conn, path=str(w.path), kind=l.error.kind, message=l.error.message,
                                       size=w.size, mtime_ns=w.mtime_ns)
                report.failed.append(l.error)
                if w.item_id is not None and w.known_hash is None:
                    # the file changed and no longer decodes: its old entry no longer describes it
                    catalogue.remove_item(conn, w.item_id)
                continue
            for key in encoders:
                row = results[key].get(i)
                if isinstance(row, dict):
                    catalogue.put_features(conn, l.content_hash, key, row)
                    report.encoded[key] = report.encoded.get(key, 0) + 1
            metadata = l.metadata
            if w.known_hash is not None and w.item_id is not None:
                metadata = {**catalogue.item(w.item_id).metadata, **metadata}
            catalogue.upsert_item(conn, path=str(w.path), modality=w.modality, content_hash=l.content_hash,
                                  size=w.size, mtime_ns=w.mtime_ns, metadata=metadata)
            if w.item_id is None:
                report.added.append(str(w.path))
            elif w.known_hash is None:
                report.updated.append(str(w.path))
