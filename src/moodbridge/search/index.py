"""FAISS nearest-neighbour indexes over one modality of a joint emotion space.

Emo-CLIM (Stewart et al., ICASSP 2024) retrieves across modalities by cosine
similarity between projection-head embeddings in the joint space: "music for
this photo" embeds the photo with the image head and ranks the audio items by
cosine to it.  A :class:`VectorIndex` holds the embeddings of one modality of
one joint space and answers such queries with FAISS (Johnson, Douze, Jégou,
"Billion-scale similarity search with GPUs", IEEE Trans. Big Data 2019;
Douze et al., "The Faiss library", arXiv:2401.08281, 2024).

Cosine similarity is computed as an inner product on L2-normalised float32
vectors: both the stored vectors and the queries are normalised here, so the
scores are cosines in ``[-1, 1]`` whatever the caller passes.

Index kinds
-----------
``"flat"``
    ``IndexFlatIP``: exact, brute force.  Chosen by ``kind="auto"`` up to
    :data:`EXACT_MAX` items (50,000: about 1 ms per query on one core).
``"ivf"``
    ``IndexIVFFlat`` with ``METRIC_INNER_PRODUCT``: k-means cells with inverted
    lists (Jégou, Douze, Schmid, IEEE TPAMI 2011), ``nlist ≈ 4·√N`` cells,
    ``nprobe = 32`` probed per query.  Chosen by ``kind="auto"`` above
    :data:`EXACT_MAX`.  On 1M 128-d clustered vectors on a 2-core machine
    (``benchmarks/search.py``): median 0.31 ms, p95 0.41 ms, recall@10 0.999
    against exact search; 25 s to build, 522 bytes per item.
``"hnsw"``
    ``IndexHNSWFlat`` with ``METRIC_INNER_PRODUCT`` (Malkov & Yashunin, IEEE
    TPAMI 2020), ``M = 32``, ``efSearch = 128``.  On the same data: median
    0.33 ms, p95 0.53 ms, recall@10 0.974, but 106 s to build and 784 bytes
    per item, so IVF is the default; HNSW stays available.

Both approximate kinds miss the target on unstructured (uniform random)
128-d vectors, which have no neighbourhood structure to exploit; real
joint-space embeddings, trained to cluster by emotion, are far from that.

Storage
-------
An index of modality ``m`` lives in a folder (in a library:
``LIB/indexes/<space>/``) as two files:

* ``m.<sha12>.faiss`` — the FAISS index (``faiss.write_index``);
* ``m.json`` — the manifest: format and version, space, modality, dimension,
  count, kind, FAISS factory string, build parameters, the data file's name
  and SHA-256, and the item ids in index order.

A save writes the data file under a temporary name, renames it to its
checksum-named final name, then writes the manifest to a temporary file and
renames it over ``m.json``.  The rename of the manifest is the commit: until it
happens readers see the old manifest, which still names the old, untouched data
file; after it they see the new pair.  A failed save therefore never damages
the index already there.  Superseded data files are deleted after the commit.
One writer per folder at a time is assumed.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from moodbridge.errors import InvalidValueError, LibraryError
from moodbridge.validate import check_name, positive_int, unit_rows

__all__ = [
    "DEFAULT_EF_CONSTRUCTION",
    "DEFAULT_EF_SEARCH",
    "DEFAULT_HNSW_M",
    "DEFAULT_NPROBE",
    "EXACT_MAX",
    "INDEX_KINDS",
    "SMALL_BATCH",
    "VectorIndex",
    "build_index",
    "index_dir",
    "load_index",
]

FORMAT = "moodbridge-vector-index"
FORMAT_VERSION = 1
INDEX_KINDS = ("auto", "flat", "hnsw", "ivf")
#: ``kind="auto"`` uses the exact flat index up to this many items, IVF above.
EXACT_MAX = 50_000
#: HNSW neighbours per node (FAISS's ``M``).
DEFAULT_HNSW_M = 32
#: HNSW candidate-list size while building.
DEFAULT_EF_CONSTRUCTION = 80
#: HNSW candidate-list size while searching (raised to ``top`` when smaller).
DEFAULT_EF_SEARCH = 128
#: IVF cells probed per query.
DEFAULT_NPROBE = 32
#: Searches of at most this many queries run on one OpenMP thread: a single
#: query gains nothing from a parallel region and pays its start-up and, on a
#: busy machine, waits for a second core (see ``benchmarks/search.py``).
SMALL_BATCH = 4



def _faiss() -> Any:
    import faiss

    return faiss


class VectorIndex:
    """A FAISS index of unit vectors with the item id of each row.

    Build one with :func:`build_index` (or :meth:`build`), read one with
    :func:`load_index`.  Scores are cosine similarities.

    Parameters
    ----------
    index
        The FAISS index (inner-product metric, rows already L2-normalised).
    ids
        Item id of each row, in index order (ints or strings, unique).
    meta
        The manifest fields (kind, dim, params, space, modality …).
    """

    def __init__(self, index: Any, ids: Sequence[Any], meta: Mapping[str, Any]) -> None:
        self.index = index
        self.ids = _id_array(ids)
        self.meta = dict(meta)
        self.meta.pop("ids", None)
        if self.index.ntotal != len(self.ids):
            raise InvalidValueError(f"the FAISS index holds {self.index.ntotal} vectors but {len(self.ids)} ids")

    # ------------------------------------------------------------------ facts
    @property
    def dim(self) -> int:
        """Vector dimension."""
        return int(self.index.d)

    @property
    def kind(self) -> str:
        """``"flat"``, ``"hnsw"`` or ``"ivf"``."""
        return str(self.meta["kind"])

    @property
    def params(self) -> dict[str, Any]:
        """Build and default search parameters (``M``, ``ef_search``, ``nlist`` …)."""
        return dict(self.meta.get("params", {}))

    @property
    def modality(self) -> str:
        """The modality of the indexed items."""
        return str(self.meta.get("modality", "items"))

    @property
    def space(self) -> str | None:
        """The joint space's name, if given."""
        return self.meta.get("space")

    def __len__(self) -> int:
        return int(self.index.ntotal)

    def __repr__(self) -> str:
        return f"VectorIndex(kind={self.kind!r}, modality={self.modality!r}, n={len(self)}, dim={self.dim})"

    def nbytes(self) -> int:
        """Size of the serialised FAISS index in bytes (``faiss.serialize_index``)."""
        return int(_faiss().serialize_index(self.index).size)

    # ----------------------------------------------------------------- search
    def search(
        self,
        queries: Any,
        top: int = 10,
        *,
        ef_search: int | None = None,
        nprobe: int | None = None,
        threads: int | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The ``top`` most cosine-similar items of each query.

        Parameters
        ----------
        queries
            One query ``(dim,)`` or a batch ``(Q, dim)``; normalised here.
        top
            How many results per query (at most the index size: fewer columns
            come back when the index holds fewer items).
        ef_search, nprobe
            Override the stored HNSW ``efSearch`` / IVF ``nprobe`` for this call
            (higher: better recall, slower).
        threads
            OpenMP threads for this call; default: 1 for batches of at most
            :data:`SMALL_BATCH` queries, FAISS's default otherwise.

        Returns
        -------
        (ids, scores)
            ``(Q, k)`` item ids (int64 when the ids are ints, else object) and
            ``(Q, k)`` float32 cosines, best first, ``k = min(top, len(self))``;
            1-D ``(k,)`` arrays for a 1-D query.  An approximate index may find
            fewer than ``k`` results for a query: the missing slots hold id
            ``-1`` (``None`` for non-integer ids) and score ``-inf``.

        Raises
        ------
        InvalidValueError
            If the index is empty, ``top`` is not a positive integer, the query
            dimension differs from the index's (both are named), or a query is
            NaN, infinite or all zeros.
        """
        if len(self) == 0:
            raise InvalidValueError(f"the {self._label()} index is empty (0 items); add items and rebuild it")
        if isinstance(top, bool) or not isinstance(top, (int, np.integer)) or top <= 0:
            raise InvalidValueError(f"top must be a positive integer, got {top!r}")
        single = np.ndim(queries) == 1
        q = _unit_rows(np.atleast_2d(np.asarray(queries, dtype=np.float32)) if single else queries,
                       what="queries", dim=self.dim, index_label=self._label())
        k = int(min(top, len(self)))
        params = self._search_params(k, ef_search, nprobe)
        n_threads = threads if threads is not None else (1 if len(q) <= SMALL_BATCH else None)
        with _omp_threads(n_threads):
            if params is None:
                scores, labels = self.index.search(q, k)
            else:
                scores, labels = self.index.search(q, k, params=params)
        missing = labels < 0
        if self.ids.dtype == np.int64:
            out_ids = np.where(missing, -1, self.ids[np.where(missing, 0, labels)])
        else:
            out_ids = self.ids[np.where(missing, 0, labels)].astype(object)
            out_ids[missing] = None
        scores = np.where(missing, -np.inf, np.clip(scores, -1.0, 1.0)).astype(np.float32)
        if single:
            return out_ids[0], scores[0]
        return out_ids, scores

    def _search_params(self, k: int, ef_search: int | None, nprobe: int | None) -> Any:
        faiss = _faiss()
        if self.kind == "hnsw":
            ef = positive_int(ef_search, "ef_search") if ef_search is not None else int(self.index.hnsw.efSearch)
            params = faiss.SearchParametersHNSW()
            params.efSearch = max(ef, k)
            return params
        if self.kind == "ivf":
            probe = positive_int(nprobe, "nprobe") if nprobe is not None else int(self.index.nprobe)
            params = faiss.SearchParametersIVF()
            params.nprobe = min(probe, int(self.index.nlist))
            return params
        return None

    def _label(self) -> str:
        return f"{self.modality!r}" + (f" (space {self.space!r})" if self.space else "")

    # ------------------------------------------------------------------- disk
    def save(self, directory: str | Path) -> Path:
        """Write ``<directory>/<modality>.json`` and its data file atomically.

        Returns
        -------
        Path
            The manifest's path.

        Raises
        ------
        LibraryError
            If the files cannot be written (the message names the folder and the
            cause); any index saved there before is left intact.
        """
        faiss = _faiss()
        directory = Path(directory)
        name = self.modality
        manifest = directory / f"{name}.json"
        tag = uuid.uuid4().hex[:8]
        tmp_data = directory / f".{name}.tmp-{tag}.faiss"
        tmp_manifest = directory / f".{name}.tmp-{tag}.json"
        try:
            directory.mkdir(parents=True, exist_ok=True)
            faiss.write_index(self.index, str(tmp_data))
            _fsync(tmp_data)
            digest = _sha256(tmp_data)
            data_file = f"{name}.{digest[:12]}.faiss"
            os.replace(tmp_data, directory / data_file)
            meta = {**self.meta, "data_file": data_file, "sha256": digest, "ids": self.ids.tolist()}
            with open(tmp_manifest, "w", encoding="utf-8") as fh:
                json.dump(meta, fh, separators=(",", ":"))
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp_manifest, manifest)
            _fsync_dir(directory)
        except OSError as exc:
            raise LibraryError(f"{directory}: could not save the {self._label()} index: {exc}") from None
        except RuntimeError as exc:  # FAISS I/O errors
            raise LibraryError(f"{directory}: could not save the {self._label()} index: {_first_line(exc)}") from None
        finally:
            for tmp in (tmp_data, tmp_manifest):
                with contextlib.suppress(OSError):
                    tmp.unlink()
        self.meta.update(data_file=data_file, sha256=digest)
        for stale in directory.glob(f"{name}.*.faiss"):
            if stale.name != data_file:
                with contextlib.suppress(OSError):
                    stale.unlink()
        return manifest

    @classmethod
    def load(cls, directory: str | Path, modality: str, *, verify: bool = True, mmap: bool = False) -> VectorIndex:
        """Read the index of ``modality`` saved in ``directory`` (same as :func:`load_index`)."""
        faiss = _faiss()
        check_name(modality, "index names")
        directory = Path(directory)
        manifest = directory / f"{modality}.json"
        if not manifest.is_file():
            raise LibraryError(f"{directory}: no {modality!r} index here ({manifest.name} is missing); build it first")
        try:
            meta = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise LibraryError(f"{manifest}: unreadable index manifest: {exc}") from None
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise LibraryError(f"{manifest}: not a moodbridge index manifest")
        if int(meta.get("version", 0)) > FORMAT_VERSION:
            raise LibraryError(f"{manifest}: index format {meta.get('version')} is newer than this moodbridge")
        data = directory / str(meta.get("data_file", ""))
        if not data.is_file():
            raise LibraryError(f"{manifest}: its data file {data.name} is missing; rebuild the index")
        if verify and _sha256(data) != meta.get("sha256"):
            raise LibraryError(
                f"{data}: checksum does not match {manifest.name}; the file is damaged, rebuild the index"
            )
        try:
            flags = faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY if mmap else 0
            index = faiss.read_index(str(data), flags)
        except RuntimeError as exc:
            raise LibraryError(f"{data}: unreadable FAISS index: {_first_line(exc)}") from None
        if index.d != meta.get("dim") or index.ntotal != len(meta.get("ids", ())):
            raise LibraryError(
                f"{data}: holds {index.ntotal} vectors of dimension {index.d} but {manifest.name} says"
                f" {len(meta.get('ids', ()))} of dimension {meta.get('dim')}; rebuild the index"
            )
        ids = meta.pop("ids")
        return cls(index, ids, meta)


# --------------------------------------------------------------------- functions
def build_index(
    vectors: Any,
    ids: Sequence[Any] | None = None,
    *,
    kind: str = "auto",
    modality: str = "items",
    space: str | None = None,
    exact_max: int = EXACT_MAX,
    hnsw_m: int = DEFAULT_HNSW_M,
    ef_construction: int = DEFAULT_EF_CONSTRUCTION,
    ef_search: int = DEFAULT_EF_SEARCH,
    nlist: int | None = None,
    nprobe: int = DEFAULT_NPROBE,
    seed: int = 0,
    threads: int | None = None,
) -> VectorIndex:
    """Build a cosine-similarity index of ``(N, dim)`` vectors.

    Parameters
    ----------
    vectors
        Joint-space embeddings (any float array; rows are L2-normalised here).
    ids
        Item id of each row (unique ints or strings); default ``0 … N-1``.
    kind
        ``"auto"`` (exact ``"flat"`` up to ``exact_max`` items, ``"ivf"``
        above), ``"flat"``, ``"ivf"`` or ``"hnsw"``.
    modality, space
        Names recorded in the manifest; ``modality`` also names the files.
    exact_max
        Largest set ``"auto"`` indexes exactly.
    hnsw_m, ef_construction, ef_search
        HNSW graph degree, build and default search candidate lists.
    nlist, nprobe
        IVF cells (default ``4·√N`` rounded to a power of two, at most
        ``N / 39`` so that k-means has enough points per cell, within
        1…65536) and cells probed by default.  The k-means quantizer is trained on at
        most ``64·nlist`` rows, sampled with ``seed``.
    threads
        OpenMP threads while building (default: FAISS's, all cores).

    Returns
    -------
    VectorIndex

    Raises
    ------
    InvalidValueError
        On a bad kind or parameter, vectors that are not a 2-D finite array, a
        zero row, ids of the wrong count or with duplicates, or an approximate
        index of 0 vectors.
    """
    faiss = _faiss()
    if kind not in INDEX_KINDS:
        raise InvalidValueError(f"index kind must be one of {INDEX_KINDS}, got {kind!r}")
    for name, value in (("hnsw_m", hnsw_m), ("ef_construction", ef_construction), ("ef_search", ef_search),
                        ("nprobe", nprobe)):
        positive_int(value, name)
    if not isinstance(exact_max, (int, np.integer)) or exact_max < 0:
        raise InvalidValueError(f"exact_max must be a non-negative integer, got {exact_max!r}")
    for name in (modality,) + ((space,) if space is not None else ()):
        check_name(name, "index names")
    x = _unit_rows(vectors, what=f"{modality} vectors", allow_empty=True)
    n, d = x.shape
    ids_arr = _id_array(range(n) if ids is None else ids)
    if len(ids_arr) != n:
        raise InvalidValueError(f"{len(ids_arr)} ids for {n} vectors")
    if len(set(ids_arr.tolist())) != n:
        raise InvalidValueError(f"item ids must be unique; {n - len(set(ids_arr.tolist()))} duplicate(s) given")
    if kind == "auto":
        kind = "flat" if n <= exact_max else "ivf"
    if kind != "flat" and n == 0:
        raise InvalidValueError(f"cannot build an approximate ({kind}) index from 0 vectors")
    params: dict[str, Any]
    start = time.perf_counter()
    with _omp_threads(threads):
        if kind == "flat":
            factory, params = "Flat", {}
            index = faiss.IndexFlatIP(d)
        elif kind == "hnsw":
            factory = f"HNSW{int(hnsw_m)},Flat"
            params = {"M": int(hnsw_m), "ef_construction": int(ef_construction), "ef_search": int(ef_search)}
            index = faiss.IndexHNSWFlat(d, int(hnsw_m), faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = int(ef_construction)
            index.hnsw.efSearch = int(ef_search)
        else:
            nlist = positive_int(nlist, "nlist") if nlist is not None else _default_nlist(n)
            if n < nlist:
                raise InvalidValueError(f"an IVF index of {nlist} cells needs at least {nlist} vectors, got {n}")
            factory = f"IVF{nlist},Flat"
            params = {"nlist": int(nlist), "nprobe": int(min(nprobe, nlist)), "train_size": 0}
            index = faiss.index_factory(d, factory, faiss.METRIC_INNER_PRODUCT)
            sample = x
            if n > 64 * nlist:
                rng = np.random.default_rng(seed)
                sample = x[np.sort(rng.choice(n, 64 * nlist, replace=False))]
            params["train_size"] = int(len(sample))
            if hasattr(index, "cp"):
                index.cp.seed = int(seed)
            index.train(sample)
            index.nprobe = params["nprobe"]
        if n:
            index.add(x)
    meta = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "space": space,
        "modality": modality,
        "dim": int(d),
        "count": int(n),
        "kind": kind,
        "metric": "inner_product",
        "normalised": True,
        "factory": factory,
        "params": params,
        "build_seconds": round(time.perf_counter() - start, 3),
        "faiss_version": getattr(faiss, "__version__", "unknown"),
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    return VectorIndex(index, ids_arr, meta)


def load_index(directory: str | Path, modality: str, *, verify: bool = True, mmap: bool = False) -> VectorIndex:
    """Read the ``modality`` index that :meth:`VectorIndex.save` wrote in ``directory``.

    Parameters
    ----------
    directory
        The folder (in a library: :func:`index_dir`).
    modality
        Which index.
    verify
        Check the data file's SHA-256 against the manifest (one extra read).
    mmap
        Memory-map the data file read-only instead of reading it into memory.

    Raises
    ------
    LibraryError
        If the index is missing, damaged, or of a newer format.
    """
    return VectorIndex.load(directory, modality, verify=verify, mmap=mmap)


def index_dir(library: Any, space: str) -> Path:
    """The folder of a joint space's indexes in a library: ``LIB/indexes/<space>``.

    Parameters
    ----------
    library
        A :class:`~moodbridge.library.Library` or its root folder.
    space
        The joint space's name (letters, digits, ``.``, ``_``, ``-``).
    """
    check_name(space, "index names")
    root = Path(getattr(library, "root", library))
    return root / "indexes" / space


# --------------------------------------------------------------------- helpers
def _unit_rows(
    x: Any, *, what: str, dim: int | None = None, index_label: str = "", allow_empty: bool = False
) -> np.ndarray:
    """Validated, C-contiguous, L2-normalised float32 copy of a 2-D array (:func:`moodbridge.validate.unit_rows`)."""
    if dim is not None and np.ndim(x) == 2 and np.shape(x)[1] != dim:
        raise InvalidValueError(
            f"{what}: dimension mismatch: the query has dimension {np.shape(x)[1]}, the {index_label} index {dim}"
        )
    return unit_rows(x, what, allow_empty=allow_empty)


def _id_array(ids: Any) -> np.ndarray:
    values = list(ids)
    if all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values):
        return np.asarray(values, dtype=np.int64)
    if all(isinstance(v, str) for v in values):
        return np.asarray(values, dtype=object)
    raise InvalidValueError("item ids must be all integers or all strings")


def _default_nlist(n: int) -> int:
    """``4·√n`` rounded to a power of two, capped so that each cell gets 39+ training points."""
    target = 2 ** int(round(np.log2(4.0 * np.sqrt(max(n, 1)))))
    cap = 2 ** int(np.log2(max(n // 39, 1)))
    return int(min(65536, max(1, min(target, cap))))


@contextlib.contextmanager
def _omp_threads(n: int | None) -> Iterator[None]:
    """Run FAISS with ``n`` OpenMP threads, restoring the previous setting."""
    if n is None:
        yield
        return
    faiss = _faiss()
    previous = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(max(1, int(n)))
    try:
        yield
    finally:
        faiss.omp_set_num_threads(previous)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()


def _fsync(path: Path) -> None:
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _first_line(exc: BaseException) -> str:
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    return lines[-1] if lines else type(exc).__name__
