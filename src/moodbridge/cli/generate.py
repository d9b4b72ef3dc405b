"""Command ``generate``: music for an image, a VA point or a slideshow (EIMG); ``generate train`` retrains it.

``--out`` here is the MIDI **file** to write (the issue's interface), the one
exception to the "``--out`` is a folder" rule; ``generate train --out`` is a folder.

A positional IMAGE and a ``train`` subcommand share one command: the group
below sends any first argument that is not a subcommand name (an image, a
folder, an option such as ``--va``) to the hidden default subcommand
``piece``, so ``moodbridge generate photo.jpg --out a.mid`` and
``moodbridge generate train --data DIR -o DIR`` both read naturally.
"""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import click
import typer
from typer.core import TyperGroup

from moodbridge.cli._common import JsonOpt, QuietOpt, echo_json, friendly_errors

__all__ = ["generate_app", "register"]

DEFAULT_COMMAND = "piece"


class DefaultCommandGroup(TyperGroup):
    """A group whose unknown first argument goes to :data:`DEFAULT_COMMAND`."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = [DEFAULT_COMMAND, *args]
        return super().parse_args(ctx, args)


generate_app = typer.Typer(
    cls=DefaultCommandGroup, no_args_is_help=True,
    help="Generate a piano piece whose emotion matches an image (EIMG), a VA point (--va V,A) or a slideshow.\n\n"
         "moodbridge generate IMAGE --out piece.mid [--wav piece.wav] [--seconds 15] [--seed N] [--json]\n\n"
         "moodbridge generate --va V,A --out piece.mid ...\n\n"
         "moodbridge generate PHOTO_DIR --slideshow --seconds-per-image 6 --out soundtrack.mid --wav soundtrack.wav\n\n"
         "moodbridge generate train --data ../shared/data/eimg --emotion6 ../shared/data/emotion6 -o DIR\n\n"
         "All options of a piece: moodbridge generate piece --help",
)


def _va_text(va: tuple[float, float]) -> str:
    return f"valence {va[0]:+.2f}, arousal {va[1]:+.2f}"


def _print(result: Any, as_json: bool) -> None:
    if as_json:
        echo_json({"source": result.source, "target_va": result.target_va, "heard_va": result.heard_va,
                   "heard_sections": result.heard_sections, "sections": result.sections,
                   "seconds": round(result.seconds, 2), "seed": result.seed,
                   "files": {k: str(v) for k, v in result.files.items()}})
        return
    typer.echo(f"{result.source}: {result.sections} section(s), {result.seconds:.1f} s, seed {result.seed}")
    for i, (target, heard) in enumerate(zip(result.target_va, result.heard_sections), start=1):
        label = f"  section {i}: " if result.sections > 1 else "  "
        typer.echo(f"{label}target {_va_text(target)}; the judge hears {_va_text(heard)}")
    if result.sections > 1:
        typer.echo(f"  whole piece: the judge hears {_va_text(result.heard_va)}")
    for kind, path in result.files.items():
        typer.echo(f"  wrote {kind}: {path}")


@generate_app.command(DEFAULT_COMMAND, hidden=True)
@friendly_errors
def piece(
    source: Annotated[Optional[Path], typer.Argument(help="An image, or a folder of photos with --slideshow.")] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="The MIDI file to write (a file, not a folder).")] = Path("piece.mid"),
    wav: Annotated[Optional[Path], typer.Option(help="Also render a WAV file (TimGM6mb SoundFont).")] = None,
    va: Annotated[Optional[str], typer.Option(help="Ask for an emotion directly: 'V,A', each in [-1, 1].")] = None,
    seconds: Annotated[float, typer.Option(help="Length of the piece in seconds.")] = 15.0,
    slideshow: Annotated[bool, typer.Option(help="SOURCE is a folder: one continuous piece following its photos.")] = False,
    seconds_per_image: Annotated[float, typer.Option(help="Seconds per photo with --slideshow.")] = 6.0,
    seed: Annotated[int, typer.Option(help="Random seed (different seeds, different pieces).")] = 0,
    library: Annotated[Optional[Path], typer.Option(help="A library whose stored image features to reuse.")] = None,
    weights: Annotated[Optional[Path], typer.Option(help="Generator weights (default: the shipped ones).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Generate a piece for IMAGE, for --va V,A, or for a folder of photos with --slideshow."""
    from moodbridge.errors import InvalidValueError
    from moodbridge.jobs.generate import run_generate, run_slideshow

    if slideshow:
        if source is None or va is not None:
            raise InvalidValueError("--slideshow needs a PHOTO_DIR (and no --va)")
        result = run_slideshow(library, source, out=out, wav=wav, seconds_per_image=seconds_per_image, seed=seed,
                               weights=weights)
    else:
        result = run_generate(library, source, out=out, wav=wav, va=va, seconds=seconds, seed=seed,
                              weights=weights)
    _print(result, as_json)


@generate_app.command("train")
@friendly_errors
def train(
    data: Annotated[Path, typer.Option(help="An EIMG-layout folder (labels.csv, midi/).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for eimg_generator.npz and eimg_judge.npz.")],
    emotion6: Annotated[Path, typer.Option(help="An Emotion6-layout folder (the image branch's photos).")] = Path("../shared/data/emotion6"),
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same weights).")] = 0,
    epochs: Annotated[int, typer.Option(help="Epochs of the music VAE.")] = 25,
    steps: Annotated[int, typer.Option(help="Steps of the projector training.")] = 1500,
    quiet: QuietOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Retrain the music VAE, the projectors and the independent judge; prints the held-out figures."""
    from moodbridge.jobs.generate import train_generator

    result = train_generator(data, emotion6, out=out, seed=seed, epochs=epochs, steps=steps, progress=not quiet)
    if as_json:
        echo_json(result)
        return
    rec, judge = result["reconstruction"], result["judge"]["test"]
    typer.echo(f"held-out reconstruction: VAE {rec['vae_bce']:.1f} vs trivial baseline {rec['baseline_bce']:.1f} "
               f"nats per 4-bar window ({rec['n_test_windows']} windows)")
    typer.echo(f"judge's own error on held-out clips: {judge['va_distance']:.3f} (1-9 scale)")
    for kind, path in result["files"].items():
        typer.echo(f"wrote {kind}: {path}")


def register(app: typer.Typer) -> None:
    """Add the ``generate`` group to ``app``."""
    app.add_typer(generate_app, name="generate")
