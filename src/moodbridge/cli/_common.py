"""What every command shares: exit codes, error handling, the shared options and choices.

Exit codes (also in the README and ``moodbridge --help``):

====  ==============================================================
0     done
1     error: one line on stderr naming the file or value at fault
2     usage error: an unknown option, a missing or malformed argument
3     partial: some files could not be used; each is listed, the rest was done
====  ==============================================================
"""
from __future__ import annotations

import functools
import json
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Optional, TypeVar

import typer

from moodbridge.errors import MoodbridgeError

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_PARTIAL = 3
EXIT_CODES_HELP = "Exit status: 0 done, 1 error, 2 usage error, 3 partial (some files failed, the rest was done)."

F = TypeVar("F", bound=Callable[..., Any])


def friendly_errors(func: F) -> F:
    """One readable line on stderr instead of a traceback: exit 1 for an error, 130 on Ctrl-C.

    A :class:`~moodbridge.errors.MoodbridgeError` is printed as it is; any other
    exception (a bug) is printed by type and message with a request to report it.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (typer.Exit, typer.Abort, SystemExit):
            raise
        except MoodbridgeError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(EXIT_ERROR) from None
        except KeyboardInterrupt:
            typer.echo("interrupted; run the command again to resume", err=True)
            raise typer.Exit(130) from None
        except Exception as exc:  # noqa: BLE001 - no traceback reaches a user
            typer.echo(f"error: unexpected {type(exc).__name__}: {exc} (please report this)", err=True)
            raise typer.Exit(EXIT_ERROR) from None

    return wrapper  # type: ignore[return-value]


def echo_json(data: Any) -> None:
    """One JSON object on one line (paths as strings)."""
    typer.echo(json.dumps(data, default=_json_default))


def _json_default(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    try:
        import numpy as np

        if isinstance(value, np.generic):
            return value.item()
        if isinstance(value, np.ndarray):
            return value.tolist()
    except ImportError:  # pragma: no cover
        pass
    raise TypeError(f"not JSON-serialisable: {type(value).__name__}")


def partial_exit(partial: bool) -> None:
    """Exit with status 3 when some files failed."""
    if partial:
        raise typer.Exit(EXIT_PARTIAL)


class Target(str, Enum):
    """What ``search`` finds (``--to``)."""

    music = "music"
    audio = "audio"
    image = "image"
    midi = "midi"


class ModalityChoice(str, Enum):
    """A modality on the command line (``--from``, ``--to`` of ``align``, ``--modality``)."""

    image = "image"
    music = "music"
    audio = "audio"
    midi = "midi"
    text = "text"


class LibraryModality(str, Enum):
    """A library item's modality (``ls --modality``)."""

    image = "image"
    audio = "audio"
    midi = "midi"
    text = "text"


LibArg = Annotated[Path, typer.Argument(help="The library folder.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
class EngineName(str, Enum):
    """Where a job's batches and shards run (:mod:`moodbridge.engine`)."""

    local = "local"
    ray = "ray"


EngineOpt = Annotated[EngineName, typer.Option("--engine", help="Where the work runs: 'local' (this process) or 'ray' (a Ray cluster; pip install 'moodbridge\\[ray]').")]
AddressOpt = Annotated[Optional[str], typer.Option("--address", help="With --engine ray: the Ray cluster (e.g. ray://head:10001); default $RAY_ADDRESS, else a local instance.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")]


def stderr(message: str) -> None:
    """A note or warning line on stderr."""
    typer.echo(message, err=True)


__all__ = [
    "EXIT_CODES_HELP", "EXIT_ERROR", "EXIT_OK", "EXIT_PARTIAL", "EXIT_USAGE", "JsonOpt", "LibArg",
    "LibraryModality", "ModalityChoice", "QuietOpt", "Target", "echo_json", "friendly_errors", "partial_exit",
    "stderr",
]
