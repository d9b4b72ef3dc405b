"""Training and evaluation tasks of the shipped emotion heads (``moodbridge affect train|eval``).

Each task module offers ``train(data_dir, *, seed=0, out=None, progress=True) -> dict``
(fits the head on a folder laid out like ``../shared/data/<task>``, writes its
weight file to the path it is given and returns cross-validated metrics)
and ``evaluate(data_dir, *, weights=None, progress=True) -> dict`` (flat metrics
of the shipped or given head on such a folder, with ``n``, ``head`` and ``version``).
"""
from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

from moodbridge.errors import InvalidValueError
from moodbridge.registry import Registry

#: task name -> the module implementing it (imported on first use: each pulls in its models)
TASKS: Registry[str] = Registry("task")
for _name, _module in (("4q", "fourq"), ("eimg", "eimg"), ("vgmidi", "vgmidi"), ("lexicon", "lexicon"),
                       ("naps", "naps"), ("zeroshot", "zeroshot"),
                       ("emotion6", "emotion6"), ("emobank", "emobank")):
    TASKS.register(_name, f"moodbridge.train.tasks.{_module}")


def get_task(name: str) -> ModuleType:
    """The module implementing task ``name`` (:class:`~moodbridge.errors.UnknownNameError` if none)."""
    return importlib.import_module(TASKS.get(name))


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
