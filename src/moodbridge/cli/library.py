"""Commands over a library's contents: ``init``, ``add``, ``labels``, ``ls``, ``info``, ``encoders``."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from moodbridge.errors import display_path

from moodbridge.cli._common import (
    AddressOpt,
    EngineName,
    EngineOpt,
    JsonOpt,
    LibArg,
    LibraryModality,
    QuietOpt,
    echo_json,
    friendly_errors,
    partial_exit,
    stderr,
)

__all__ = ["register"]


@friendly_errors
def init(lib: LibArg, as_json: JsonOpt = False) -> None:
    """Create a library folder (does nothing to an existing one)."""
    from moodbridge.library import Library

    existed = (lib / "moodbridge-library.json").exists()
    with Library.create(lib) as library:
        if as_json:
            echo_json({"library": str(library.root), "created": not existed})
        else:
            typer.echo(f"{'library already exists' if existed else 'created library'}: {library.root}")


def _label_summary(imported: object) -> str:
    return (f"{imported.matched} item(s) labelled with {', '.join(imported.columns)}; "  # type: ignore[attr-defined]
            f"{len(imported.unmatched)} unmatched, {len(imported.ambiguous)} ambiguous row(s)")  # type: ignore[attr-defined]


@friendly_errors
def add(
    lib: LibArg,
    paths: Annotated[list[Path], typer.Argument(help="Files or folders to add (folders recursively).")],
    encoder: Annotated[Optional[list[str]], typer.Option("--encoder", "-e", help="Encoder to run (repeatable); default: all offline encoders.")] = None,
    labels: Annotated[Optional[Path], typer.Option(help="CSV of labels to attach after adding.")] = None,
    path_column: Annotated[Optional[str], typer.Option(help="CSV column with the file paths (default: first).")] = None,
    label_column: Annotated[Optional[list[str]], typer.Option(help="CSV label column to import (repeatable; default: all).")] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="Files per batch and per committed transaction.")] = 16,
    follow_links: Annotated[bool, typer.Option("--follow-links", help="Also follow symbolic links whose target is outside the folder being added.")] = False,
    accept_damaged: Annotated[bool, typer.Option("--accept-damaged", help="Add audio whose checksums show damage (what decodes is kept).")] = False,
    engine: EngineOpt = EngineName.local,
    address: AddressOpt = None,
    quiet: QuietOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Add media to a library: decode, validate and embed each new or changed file."""
    from moodbridge.jobs.add import add_media

    result = add_media(lib, paths, encoders=encoder, labels=labels, path_column=path_column,
                       label_columns=label_column, batch_size=batch_size, progress=not quiet and not as_json,
                       follow_links=follow_links, accept_damaged=accept_damaged, engine=engine.value, address=address)
    report = result.report
    assert report is not None
    if as_json:
        echo_json({"added": len(report.added), "updated": len(report.updated), "unchanged": report.unchanged,
                   "failed": [f.message for f in report.failed + report.known_failures],
                   "labelled": result.labels.matched if result.labels else 0, "partial": result.partial})
    else:
        typer.echo(report.summary())
        if result.labels is not None:
            typer.echo(f"labels: {_label_summary(result.labels)}")
    partial_exit(result.partial)


@friendly_errors
def labels(
    lib: LibArg,
    csv_file: Annotated[Path, typer.Argument(help="CSV with a path column and label columns.")],
    path_column: Annotated[Optional[str], typer.Option(help="Column with file paths, names or stems (default: first).")] = None,
    column: Annotated[Optional[list[str]], typer.Option(help="Label column to import (repeatable; default: all).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Attach labels from a CSV to the library's items."""
    from moodbridge.jobs.add import attach_labels

    imported = attach_labels(lib, csv_file, path_column=path_column, columns=column)
    if as_json:
        echo_json({"matched": imported.matched, "columns": list(imported.columns),
                   "unmatched": list(imported.unmatched), "ambiguous": list(imported.ambiguous)})
    else:
        typer.echo(_label_summary(imported))


@friendly_errors
def ls(
    lib: LibArg,
    modality: Annotated[Optional[LibraryModality], typer.Option(help="Only this modality.")] = None,
    errors: Annotated[bool, typer.Option("--errors", help="List the files that failed instead.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """List a library's items (or its failed files)."""
    from moodbridge.library import Library

    with Library.open(lib) as library:
        if errors:
            for err in library.errors():
                if as_json:
                    echo_json({**err.__dict__, "path": display_path(err.path)})
                else:
                    typer.echo(err.message)
            return
        items = library.items(modality=modality.value if modality else None)
        for it in items:
            if as_json:
                echo_json({"id": it.id, "path": display_path(it.path), "modality": it.modality, "hash": it.content_hash,
                           "labels": it.labels, "metadata": it.metadata})
            else:
                lab = " ".join(f"{k}={v}" for k, v in sorted(it.labels.items()))
                typer.echo(f"{it.id:>5}  {it.modality:<5}  {it.content_hash[:10]}  {display_path(it.path)}  {lab}".rstrip())
        if not as_json:
            s = library.summary()
            counts = ", ".join(f"{n} {m}" for m, n in sorted(s["by_modality"].items())) or "empty"
            stderr(f"{s['items']} item(s): {counts}; {s['errors']} failed file(s)")


@friendly_errors
def info(
    lib: LibArg,
    item: Annotated[str, typer.Argument(help="Item id, path, file name or hash prefix.")],
    as_json: JsonOpt = False,
) -> None:
    """Show one item: file, metadata, labels, emotions, features and top classes/tags."""
    from moodbridge.library import Library
    from moodbridge.library.describe import describe_item

    with Library.open(lib) as library:
        desc = describe_item(library, library.item(item))
    if as_json:
        typer.echo(json.dumps(desc, indent=2))
        return
    typer.echo(f"#{desc['id']} {desc['modality']} {display_path(desc['path'])}")
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


@friendly_errors
def encoders(as_json: JsonOpt = False) -> None:
    """List the encoders, their modality, version and dimension."""
    from moodbridge.encoders import encoder_names, get_encoder

    for name in encoder_names():
        enc = get_encoder(name)
        if as_json:
            echo_json({"name": name, "modality": enc.modality, "version": enc.version, "dim": enc.dim,
                       "optional": enc.optional, "description": enc.description})
            continue
        flag = " (optional, needs its weights)" if enc.optional else ""
        typer.echo(f"{name:<14} {enc.modality:<6} {enc.version:<16} {enc.dim:>5}-d{flag}  {enc.description}")


def register(app: typer.Typer) -> None:
    """Add the library commands to ``app``."""
    app.command()(init)
    app.command()(add)
    app.command("labels")(labels)
    app.command("ls")(ls)
    app.command()(info)
    app.command()(encoders)
