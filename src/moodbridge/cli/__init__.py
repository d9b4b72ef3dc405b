"""The ``moodbridge`` command: one module per command group, each a thin face over :mod:`moodbridge.jobs`.

Exit status: 0 done, 1 error (one readable line on stderr), 2 usage error,
3 partial (some files could not be used; the rest was done and the failures
are listed).  Every module registers its commands on :data:`app` with its
``register`` function; :mod:`moodbridge.cli._common` holds the exit codes,
the error handling and the shared options.
"""
from __future__ import annotations

import typer

from moodbridge.cli import align, arc, demo, emotion, expand, generate, library, pair, recommend, search, serve, study
from moodbridge.cli._common import EXIT_CODES_HELP

__all__ = ["app", "main"]

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_show_locals=False,
                  help=f"Match images and music by the emotion they evoke.\n\n{EXIT_CODES_HELP}")

for _module in (library, emotion, pair, expand, search, align, recommend, arc, generate, study, serve, demo):
    _module.register(app)


def main() -> None:  # pragma: no cover - console entry point
    """Entry point for ``python -m moodbridge``."""
    app(prog_name="moodbridge")
