"""The hook for generated music (the generation issue): a button appears once ``moodbridge.jobs.generate`` exists.

Until that job is installed the image page says "generation not installed"
and offers nothing, and ``POST /generate`` answers 404 saying so.  The job is
expected to provide ``run_generate(library, image, *, out, wav) -> result`` with
``result.files`` holding ``"midi"`` and ``"wav"`` paths; the page then plays
the WAV and links both files.  The image is a library item (by id) or a photo
uploaded to this server (by the random key the image page was given); the
generated files are served from the server's own folder by a random key,
never by a path a client names.
"""
from __future__ import annotations

import importlib
import importlib.util
import secrets
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import FileResponse, Response

from moodbridge.web.templating import render

__all__ = ["GENERATE_JOB", "generation_available", "router"]

GENERATE_JOB = "moodbridge.jobs.generate"
KINDS = {"midi": ("audio/midi", ".mid"), "wav": ("audio/wav", ".wav")}
KEY_CHARS = set("0123456789abcdef")

router = APIRouter()


def generation_available() -> bool:
    """Whether the generation job is installed."""
    try:
        return importlib.util.find_spec(GENERATE_JOB) is not None
    except (ImportError, ValueError):
        return False


def _key(value: str) -> str:
    if not (0 < len(value) <= 64 and set(value) <= KEY_CHARS):
        raise HTTPException(404, "no such generated piece")
    return value


@router.post("/generate")
def generate(request: Request, item: int | None = Form(None), upload: str | None = Form(None)) -> Response:
    """Generate a piece for a library image (``item``) or an uploaded one (``upload`` key); show it on the image page."""
    st = request.app.state.mb
    if not generation_available():
        raise HTTPException(404, "generation not installed")
    if item is not None:
        with st.library() as lib:
            it = lib.item(item)
        if it.id != item or it.modality != "image":
            raise HTTPException(404, "no such image in the library")
        image, name, src = Path(it.path), it.name, f"/media/{it.id}"
    elif upload is not None:
        image = st.kept_uploads.get(_key(upload))
        if image is None or not image.is_file():
            raise HTTPException(404, "that upload is no longer on the server; upload it again")
        name, src = "upload", None
    else:
        raise HTTPException(400, "choose an image to generate music for")
    key = secrets.token_hex(12)
    out = st.uploads / "generated" / key
    out.mkdir(parents=True)
    job = importlib.import_module(GENERATE_JOB)
    with st.heavy:
        result = job.run_generate(st.library_root, image, out=out / "piece.mid", wav=out / "piece.wav")
    st.generated[key] = {k: Path(result.files[k]) for k in KINDS if k in result.files}
    return render(request, "generated.html", key=key, kinds=sorted(st.generated[key]), query_name=name,
                  query_src=src)


@router.get("/generated/{key}/{kind}")
def generated_file(request: Request, key: str, kind: str) -> Response:
    """A generated file, by the key the server gave it."""
    files = request.app.state.mb.generated.get(_key(key))
    if files is None or kind not in KINDS or kind not in files or not files[kind].is_file():
        raise HTTPException(404, "no such generated piece")
    media_type, suffix = KINDS[kind]
    return FileResponse(files[kind], media_type=media_type, filename=f"moodbridge-{key[:8]}{suffix}")


def keep_upload(state: Any, path: Path) -> str:
    """Keep an uploaded image for a later ``POST /generate``; returns its key."""
    key = secrets.token_hex(12)
    state.kept_uploads[key] = path
    return key
