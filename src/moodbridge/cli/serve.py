"""Command ``serve``: the web app for a library (and a study) on 127.0.0.1 (:mod:`moodbridge.web`)."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from moodbridge.cli._common import LibArg, friendly_errors

__all__ = ["register", "serve"]


@friendly_errors
def serve(
    lib: LibArg,
    host: Annotated[str, typer.Option(help="Address to listen on; 127.0.0.1 keeps the app to this machine.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    study: Annotated[Optional[Path], typer.Option(help="A study folder (moodbridge study create) to run.")] = None,
    pairs: Annotated[Optional[list[Path]], typer.Option("--pairs", help="A 'moodbridge pair' output the pair viewer may open (repeatable).")] = None,
    token: Annotated[Optional[str], typer.Option(help="The researcher token (default: a fresh random one).", envvar="MOODBRIDGE_TOKEN")] = None,
    max_upload_mb: Annotated[int, typer.Option(help="Largest upload in MB.")] = 20,
) -> None:
    """Open the library in the browser: image/music/text search, the library plane, arcs, pair outputs, the study."""
    import logging

    import uvicorn

    from moodbridge.web import WebConfig, create_app
    from moodbridge.web.safety import new_token

    if max_upload_mb < 1:
        raise typer.BadParameter("must be at least 1", param_hint="--max-upload-mb")
    config = WebConfig(library=lib, study=study, pairs=[p.expanduser().resolve() for p in pairs or []],
                       token=token or new_token(), max_upload=max_upload_mb * 1024 * 1024)
    app = create_app(config)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    base = f"http://{shown}:{port}"
    typer.echo(f"moodbridge: serving {app.state.mb.library_root} at {base}/", )
    if host not in ("127.0.0.1", "localhost", "::1"):
        typer.echo(f"warning: listening on {host}: other machines can reach this server", err=True)
    if app.state.mb.session is not None:
        typer.echo(f"study {app.state.mb.session.study.id}: participants open {base}/study?pid=ID")
    typer.echo(f"researcher: {base}/research?token={config.token}", )
    typer.echo("press Ctrl-C to stop")
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)


def register(app: typer.Typer) -> None:
    """Add ``serve`` to ``app``."""
    app.command("serve")(serve)
