"""Training and evaluation tasks of the shipped emotion heads (``moodbridge affect train|eval``).

Each task module offers ``train(data_dir, *, seed=0, out=None, progress=True) -> dict``
(fits the head on a folder laid out like ``../shared/data/<task>``, writes its
weight file — by default the shipped one — and returns cross-validated metrics)
and ``evaluate(data_dir, *, weights=None, progress=True) -> dict`` (flat metrics
of the shipped or given head on such a folder, with ``n``, ``head`` and ``version``).
"""
from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

from moodbridge.errors import InvalidValueError

TASKS: dict[str, str] = {
    "4q": "moodbridge.affect.tasks.fourq",
    "eimg": "moodbridge.affect.tasks.eimg",
    "vgmidi": "moodbridge.affect.tasks.vgmidi",
    "lexicon": "moodbridge.affect.tasks.lexicon",
    "naps": "moodbridge.affect.tasks.naps",
}


def get_task(name: str) -> ModuleType:
    """The module implementing task ``name``."""
    if name not in TASKS:
        raise InvalidValueError(f"unknown task {name!r}; known: {', '.join(TASKS)}")
    return importlib.import_module(TASKS[name])


def data_file(data_dir: str | Path, filename: str, what: str) -> Path:
    """``filename`` inside the folder ``data_dir`` (or ``data_dir`` itself when it is a file).

    Raises
    ------
    InvalidValueError
        If the file does not exist.
    """
    path = Path(data_dir)
    if path.is_dir():
        path = path / filename
    if not path.exists():
        raise InvalidValueError(f"{path}: {what} not found")
    return path
