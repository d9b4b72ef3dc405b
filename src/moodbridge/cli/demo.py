"""Command ``demo``: build, pair and show the demo library (job :mod:`moodbridge.jobs.demo`)."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from moodbridge.cli._common import JsonOpt, QuietOpt, echo_json, friendly_errors

__all__ = ["demo", "register"]


@friendly_errors
def demo(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder that receives the demo's media, library and pairs.")] = Path("demo-library"),
    legacy_dir: Annotated[Optional[Path], typer.Option("--dir", hidden=True, help="Old name of --out.")] = None,
    quiet: QuietOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Build a library from real photos and music that ship with PyPI packages, pair it and show it."""
    from moodbridge.jobs.demo import DEMO_PAIRING, run_demo

    result = run_demo(legacy_dir or out, progress=not quiet and not as_json)
    if as_json:
        echo_json(result.to_dict())
        return
    echo = typer.echo
    assert result.add is not None and result.pairing is not None and result.pairing.table is not None
    echo(f"demo library: {result.library}")
    echo(result.add.summary())
    echo("")
    echo("photos (EfficientNet-Lite0 top ImageNet classes):")
    for name, tops in result.photos:
        echo(f"  {name:<24} " + ", ".join(f"{n} {p:.2f}" for n, p in tops))
    echo("")
    echo("music (mood label, musicnn MTT top tags):")
    for name, mood, tops in result.music:
        echo(f"  {name:<32} {mood:<10} " + ", ".join(f"{n} {p:.2f}" for n, p in tops))
    echo("")
    table = result.pairing.table
    for report in table.filters:
        echo(report.summary())
    p = DEMO_PAIRING
    echo(f"EMID pairing (alpha {p['alpha']:g}, K {p['k']}, m {p['m']}): best image per clip")
    best = table.frame[table.frame["rank"] == 0]
    for row in best.itertuples():
        echo(f"  {Path(row.clip_path).name:<32} -> {Path(row.image_path).name:<22} T {row.T:.2f}")
    echo(f"pairs: {result.files['csv']}")
    echo(f"report: {result.files['report']}")
    if result.generated is not None:
        g = result.generated
        echo(f"generated for {Path(g.source).name}: target valence {g.target_va[0][0]:+.2f}, arousal "
             f"{g.target_va[0][1]:+.2f}; the judge hears {g.heard_va[0]:+.2f}, {g.heard_va[1]:+.2f}")
        echo(f"  {result.files['generated_midi']}  {result.files['generated_wav']}")
    echo("")
    assert result.media is not None
    echo(f"try: moodbridge ls {result.library}   |   moodbridge info {result.library} chelsea.png")
    echo(f"     moodbridge search {result.library} {result.media / 'photos' / 'coffee.png'} --to music")
    echo("")
    echo("open it in the browser (search by image, music or text, the library plane, arcs, the pairs):")
    echo(f"     moodbridge serve {result.library} --pairs {result.files['csv'].parent}")
    echo("     then visit http://127.0.0.1:8000/")


def register(app: typer.Typer) -> None:
    """Add ``demo`` to ``app``."""
    app.command()(demo)
