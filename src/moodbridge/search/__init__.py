"""Cross-modal retrieval: FAISS indexes over the modalities of a joint emotion space.

Emo-CLIM (Stewart et al., ICASSP 2024) retrieves music for an image (and back)
by cosine similarity in its joint space; :class:`VectorIndex` answers those
queries with FAISS (Johnson et al. 2019; Douze et al. 2024), exactly for small
libraries and with an IVF index (or HNSW) for large ones, and stores them in
the library folder (``LIB/indexes/<space>/<modality>.json`` + data file), or
sharded for large libraries (:mod:`~moodbridge.search.library_index`).
"""
from moodbridge.search.index import (
    DEFAULT_EF_CONSTRUCTION,
    DEFAULT_EF_SEARCH,
    DEFAULT_HNSW_M,
    DEFAULT_NPROBE,
    EXACT_MAX,
    INDEX_KINDS,
    SMALL_BATCH,
    VectorIndex,
    build_index,
    index_dir,
    load_index,
)
from moodbridge.search.library_index import index_library, open_library_index

__all__ = ["DEFAULT_EF_CONSTRUCTION", "DEFAULT_EF_SEARCH", "DEFAULT_HNSW_M", "DEFAULT_NPROBE", "EXACT_MAX",
           "INDEX_KINDS", "SMALL_BATCH", "VectorIndex", "build_index", "index_dir", "index_library", "load_index",
           "open_library_index"]
