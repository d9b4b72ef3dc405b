"""Jobs ``affect train`` and ``affect eval``: retrain an emotion head on its data, or score it.

The tasks live in :mod:`moodbridge.train.tasks` (training is not part of the
run-time package).  Training writes the new weights into a folder the caller
gives, under the shipped file name; replacing the head shipped inside the
installed package is an explicit choice (``replace_shipped=True``).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from moodbridge.errors import InvalidValueError

__all__ = ["TASK_NAMES", "evaluate_head", "train_head"]

#: the tasks, in the order the help lists them
TASK_NAMES: tuple[str, ...] = ("4q", "eimg", "vgmidi", "lexicon", "naps", "zeroshot", "emotion6", "emobank")


def _weights_name(module: Any, task: str) -> str:
    name = getattr(module, "WEIGHTS_FILE", None)
    if name is None:
        raise InvalidValueError(f"task {task!r} has no weight file to write")
    return str(name)


def train_head(task: str, data: str | Path, *, out: str | Path | None = None, replace_shipped: bool = False,
               seed: int = 0, progress: bool = True) -> dict[str, Any]:
    """Retrain the head of ``task`` on a folder laid out like ``../shared/data/<task>``; its metrics.

    Parameters
    ----------
    task
        ``4q``, ``eimg``, ``vgmidi``, ``lexicon``, ``naps``, ``zeroshot``, ``emotion6`` or ``emobank``.
    data
        The data folder.
    out
        Folder that receives the weight file (under the shipped file name).
    replace_shipped
        Write over the weights shipped in the installed package instead.
    seed
        Random seed (same seed, same weights).

    Raises
    ------
    InvalidValueError
        Neither or both of ``out`` and ``replace_shipped``.
    """
    from moodbridge.affect.base import weights_path
    from moodbridge.fileio import output_folder
    from moodbridge.train.tasks import get_task

    if (out is None) == (not replace_shipped):
        raise InvalidValueError("give a folder for the new weights (--out DIR) or --replace-shipped, not both"
                                if out is not None else
                                "give a folder for the new weights (--out DIR), or --replace-shipped to replace"
                                " the head shipped with moodbridge")
    module = get_task(task)
    name = _weights_name(module, task)
    target = weights_path(name) if replace_shipped else output_folder(out, what="weights") / name  # type: ignore[arg-type]
    return module.train(data, seed=seed, out=target, progress=progress)


def evaluate_head(task: str, data: str | Path, *, weights: str | Path | None = None,
                  progress: bool = True) -> dict[str, Any]:
    """Flat metrics (``n``, ``head``, ``version`` …) of the shipped or given head on a labelled folder."""
    from moodbridge.train.tasks import get_task

    return get_task(task).evaluate(data, weights=weights, progress=progress)
