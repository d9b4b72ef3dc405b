"""The ``moodbridge`` command: a thin layer over the Python API.

Exit status: 0 success, 1 error (one readable line on stderr), 3 partial
(some files could not be used; the rest was done and the failures are listed).
"""
from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Optional, TypeVar

import typer

from moodbridge.errors import MoodbridgeError

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_show_locals=False,
                  help="Match images and music by the emotion they evoke.")

EXIT_ERROR = 1
EXIT_PARTIAL = 3
F = TypeVar("F", bound=Callable[..., Any])


def friendly_errors(func: F) -> F:
    """Turn a MoodbridgeError into one line on stderr and exit status 1."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except MoodbridgeError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(EXIT_ERROR) from None

    return wrapper  # type: ignore[return-value]


LibArg = Annotated[Path, typer.Argument(help="The library folder.")]


@app.command()
@friendly_errors
def init(lib: LibArg) -> None:
    """Create a library folder (does nothing to an existing one)."""
    from moodbridge.library import Library

    existed = (lib / "moodbridge-library.json").exists()
    with Library.create(lib) as library:
        typer.echo(f"{'library already exists' if existed else 'created library'}: {library.root}")


@app.command()
@friendly_errors
def add(
    lib: LibArg,
    paths: Annotated[list[Path], typer.Argument(help="Files or folders to add (folders recursively).")],
    encoder: Annotated[Optional[list[str]], typer.Option("--encoder", "-e", help="Encoder to run (repeatable); default: all offline encoders.")] = None,
    labels: Annotated[Optional[Path], typer.Option(help="CSV of labels to attach after adding.")] = None,
    path_column: Annotated[Optional[str], typer.Option(help="CSV column with the file paths (default: first).")] = None,
    label_column: Annotated[Optional[list[str]], typer.Option(help="CSV label column to import (repeatable; default: all).")] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="Files per batch and per committed transaction.")] = 16,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Add media to a library: decode, validate and embed each new or changed file."""
    from moodbridge.library import Library

    with Library.open(lib) as library:
        report = library.add(paths, encoders=encoder, batch_size=batch_size, progress=not quiet)
        typer.echo(report.summary())
        if labels is not None:
            imported = library.import_labels(labels, path_column=path_column, columns=label_column)
            typer.echo(f"labels: {imported.matched} item(s) labelled with {', '.join(imported.columns)}; "
                       f"{len(imported.unmatched)} row(s) matched no item")
    if report.partial:
        raise typer.Exit(EXIT_PARTIAL)


@app.command("labels")
@friendly_errors
def labels_cmd(
    lib: LibArg,
    csv_file: Annotated[Path, typer.Argument(help="CSV with a path column and label columns.")],
    path_column: Annotated[Optional[str], typer.Option(help="Column with file paths, names or stems (default: first).")] = None,
    column: Annotated[Optional[list[str]], typer.Option(help="Label column to import (repeatable; default: all).")] = None,
) -> None:
    """Attach labels from a CSV to the library's items."""
    from moodbridge.library import Library

    with Library.open(lib) as library:
        imported = library.import_labels(csv_file, path_column=path_column, columns=column)
    typer.echo(f"{imported.matched} item(s) labelled with {', '.join(imported.columns)}; "
               f"{len(imported.unmatched)} unmatched, {len(imported.ambiguous)} ambiguous row(s)")


@app.command("ls")
@friendly_errors
def ls_cmd(
    lib: LibArg,
    modality: Annotated[Optional[str], typer.Option(help="Only this modality.")] = None,
    errors: Annotated[bool, typer.Option("--errors", help="List the files that failed instead.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """List a library's items (or its failed files)."""
    from moodbridge.library import Library

    with Library.open(lib) as library:
        if errors:
            for err in library.errors():
                typer.echo(json.dumps(err.__dict__) if as_json else err.message)
            return
        items = library.items(modality=modality)
        for it in items:
            if as_json:
                typer.echo(json.dumps({"id": it.id, "path": it.path, "modality": it.modality,
                                       "hash": it.content_hash, "labels": it.labels, "metadata": it.metadata}))
            else:
                lab = " ".join(f"{k}={v}" for k, v in sorted(it.labels.items()))
                typer.echo(f"{it.id:>5}  {it.modality:<5}  {it.content_hash[:10]}  {it.path}  {lab}".rstrip())
        if not as_json:
            s = library.summary()
            counts = ", ".join(f"{n} {m}" for m, n in sorted(s["by_modality"].items())) or "empty"
            typer.echo(f"{s['items']} item(s): {counts}; {s['errors']} failed file(s)", err=True)


@app.command()
@friendly_errors
def info(
    lib: LibArg,
    item: Annotated[str, typer.Argument(help="Item id, path, file name or hash prefix.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show one item: file, metadata, labels, features and top classes/tags."""
    from moodbridge.describe import describe_item
    from moodbridge.library import Library

    with Library.open(lib) as library:
        desc = describe_item(library, library.item(item))
    if as_json:
        typer.echo(json.dumps(desc, indent=2))
        return
    typer.echo(f"#{desc['id']} {desc['modality']} {desc['path']}")
    typer.echo(f"  hash {desc['content_hash']}  {desc['size']} bytes")
    for k, v in sorted(desc["metadata"].items()):
        typer.echo(f"  {k}: {v}")
    for k, v in sorted(desc["labels"].items()):
        typer.echo(f"  label {k}: {v}")
    for emo in desc["emotions"]:
        typer.echo(f"  emotion ({emo['head']}): valence {emo['valence']:+.2f}, arousal {emo['arousal']:+.2f}, "
                   f"{emo['quadrant']}")
    for name, enc in desc["encoders"].items():
        typer.echo(f"  {enc['key']}: {enc['dim']}-d")
        for key, tops in enc.items():
            if key.startswith("top_"):
                typer.echo(f"    {key[4:]}: " + ", ".join(f"{n} {p:.2f}" for n, p in tops))


@app.command()
@friendly_errors
def encoders() -> None:
    """List the encoders, their modality, version and dimension."""
    from moodbridge.encoders import encoder_names, get_encoder

    for name in encoder_names():
        enc = get_encoder(name)
        flag = " (optional, needs its weights)" if enc.optional else ""
        typer.echo(f"{name:<14} {enc.modality:<6} {enc.version:<16} {enc.dim:>5}-d{flag}  {enc.description}")


@app.command()
@friendly_errors
def demo(
    directory: Annotated[Path, typer.Option("--dir", help="Where to build the demo library.")] = Path("demo-library"),
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")] = False,
) -> None:
    """Build a library from real photos and music that ship with PyPI packages, and show it."""
    from moodbridge.demo import run_demo

    run_demo(directory, progress=not quiet, echo=typer.echo)


@app.command()
@friendly_errors
def emotion(
    paths: Annotated[Optional[list[Path]], typer.Argument(help="Images, audio, MIDI or .txt files.")] = None,
    text: Annotated[Optional[list[str]], typer.Option("--text", "-t", help="A text to rate (repeatable).")] = None,
    text_file: Annotated[Optional[Path], typer.Option(help="A file with one text per line.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """Valence, arousal, quadrant and category distribution of files and texts."""
    from moodbridge.affect.estimate import estimate_sources
    from moodbridge.encoders.run import Failure

    sources: list[str | Path] = list(paths or []) + list(text or [])
    if text_file is not None:
        try:
            sources += [line.strip() for line in text_file.read_text(encoding="utf-8").splitlines() if line.strip()]
        except (OSError, UnicodeDecodeError) as exc:
            raise MoodbridgeError(f"{text_file}: cannot read texts: {exc}") from exc
    if not sources:
        raise MoodbridgeError("nothing to rate: give files, --text or --text-file")
    failed = 0
    for source, (modality, result) in zip(sources, estimate_sources(sources)):
        key = "path" if isinstance(source, Path) else "text"
        if isinstance(result, Failure):
            failed += 1
            if as_json:
                typer.echo(json.dumps({key: str(source), "modality": modality, "error": result.message}))
            else:
                typer.echo(f"error: {result.message}", err=True)
            continue
        if as_json:
            typer.echo(json.dumps({key: str(source), "modality": modality, **result.to_dict()}))
            continue
        top = sorted(result.distribution.items(), key=lambda kv: -kv[1])[:3]
        label = str(source) if key == "path" else repr(source if len(source) < 60 else source[:57] + "...")
        typer.echo(f"{label}\n  {modality}: valence {result.valence:+.2f}, arousal {result.arousal:+.2f}, "
                   f"{result.quadrant}; {result.taxonomy}: " + ", ".join(f"{n} {p:.2f}" for n, p in top)
                   + f"\n  head {result.head} on {', '.join(result.features)}")
    if failed:
        raise typer.Exit(EXIT_PARTIAL)


affect_app = typer.Typer(no_args_is_help=True, help="Train and evaluate the emotion heads.")
app.add_typer(affect_app, name="affect")


@affect_app.command("train")
@friendly_errors
def affect_train(
    task: Annotated[str, typer.Option(help="4q, eimg, vgmidi, lexicon or naps.")],
    data: Annotated[Path, typer.Option(help="A folder laid out like ../shared/data/<task>.")],
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same weights).")] = 0,
    out: Annotated[Optional[Path], typer.Option(help="Weight file to write (default: the shipped one).")] = None,
) -> None:
    """Retrain a head; prints its cross-validated metrics as JSON."""
    from moodbridge.affect.tasks import get_task

    metrics = get_task(task).train(data, seed=seed, out=out, progress=True)
    typer.echo(json.dumps(metrics, sort_keys=True))


@affect_app.command("eval")
@friendly_errors
def affect_eval(
    task: Annotated[str, typer.Option(help="4q, eimg, vgmidi, lexicon or naps.")],
    data: Annotated[Path, typer.Option(help="A folder laid out like ../shared/data/<task>.")],
    weights: Annotated[Optional[Path], typer.Option(help="Weight file (default: the shipped one).")] = None,
) -> None:
    """Evaluate a head on a labelled folder; prints one flat JSON object."""
    from moodbridge.affect.tasks import get_task

    metrics = get_task(task).evaluate(data, weights=weights, progress=True)
    typer.echo(json.dumps(metrics, sort_keys=True))


def _register_command_modules() -> None:
    """Commands that live in their own modules (kept out of this file's imports until used)."""
    from moodbridge.cli_expand import register as register_expand
    from moodbridge.cli_pair import register as register_pair
    from moodbridge.cli_search import register as register_search

    register_expand(app)
    register_pair(app)
    register_search(app)


_register_command_modules()


def main() -> None:  # pragma: no cover - console entry point
    """Entry point for ``python -m moodbridge``."""
    app(prog_name="moodbridge")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
