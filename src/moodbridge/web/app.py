"""The FastAPI application: configuration, error pages, media by item id, static files.

:func:`create_app` builds the app for one library (and optionally one study
and some pair outputs).  Errors never show a stack trace: an
:class:`~moodbridge.errors.MoodbridgeError` becomes a 400 page with its one
readable line, an HTTP error its own status with a short message, anything
else a 500 page saying the details are in the server log (where the
traceback goes).  JSON routes (``/api/…``, ``/study/api/…``) answer
``{"error": …}`` instead of a page.
"""
from __future__ import annotations

import logging
import mimetypes
import tempfile
import shutil
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from moodbridge.errors import ItemNotFoundError, MoodbridgeError
from moodbridge.library import Library
from moodbridge.web.generation import generation_available
from moodbridge.web.safety import MAX_UPLOAD_BYTES, new_token

__all__ = ["WebConfig", "create_app"]

log = logging.getLogger("moodbridge.web")
HERE = Path(__file__).resolve().parent
STATIC_FILES = {"app.css": "text/css", "app.js": "text/javascript", "study.js": "text/javascript"}
MEDIA_TYPES = {".opus": "audio/ogg", ".ogg": "audio/ogg", ".mp3": "audio/mpeg", ".wav": "audio/wav",
               ".flac": "audio/flac", ".mid": "audio/midi", ".midi": "audio/midi"}


@dataclass
class WebConfig:
    """What one server serves.

    Attributes
    ----------
    library
        The library folder.
    study
        A study folder (``moodbridge study create``), or ``None``.
    pairs
        ``moodbridge pair`` output folders the pair viewer may open (by number, never by a path from the client).
    token
        The researcher token (a fresh one by default).
    max_upload
        Largest upload in bytes.
    """

    library: Path
    study: Path | None = None
    pairs: list[Path] = field(default_factory=list)
    token: str = field(default_factory=new_token)
    max_upload: int = MAX_UPLOAD_BYTES


class State:
    """Per-app state: the config, the open study session, a lock for CPU-heavy jobs, the upload folder."""

    def __init__(self, config: WebConfig) -> None:
        self.config = config
        self.library_root = Library.open(config.library).root  # fails early on a non-library
        Library.open(self.library_root).close()
        self.heavy = threading.Lock()  # two search jobs at once only slow both down on a small machine
        self.uploads = Path(tempfile.mkdtemp(prefix="moodbridge-uploads-"))
        self.session: Any = None
        self.generated: dict[str, dict[str, Path]] = {}  # key -> generated files (web.generation)
        self.kept_uploads: dict[str, Path] = {}  # key -> an uploaded image kept for generation
        if config.study is not None:
            from moodbridge.jobs.study import StudySession

            self.session = StudySession(config.study, self.library_root)
            pairs = [Path(p) for p in (self.session.study.params.get("pairs"), self.session.study.params.get("baseline_pairs")) if p]
            config.pairs = list(dict.fromkeys([*config.pairs, *pairs]))

    @contextmanager
    def library(self) -> Iterator[Library]:
        """The library, opened for one request (SQLite connections stay in their thread)."""
        with Library.open(self.library_root) as lib:
            yield lib


def _wants_json(request: Request) -> bool:
    p = request.url.path
    return p.startswith("/api/") or p.startswith("/study/api/") or "application/json" in request.headers.get("accept", "")


def create_app(config: WebConfig) -> FastAPI:
    """The app for ``config`` (see :class:`WebConfig`)."""
    state = State(config)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        shutil.rmtree(state.uploads, ignore_errors=True)
        if state.session is not None:
            state.session.close()

    app = FastAPI(title="moodbridge", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.state.mb = state
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.globals["study_enabled"] = state.session is not None
    templates.env.globals["generation"] = generation_available()  # the generate button (web.generation)
    app.state.templates = templates

    def error_page(request: Request, status: int, message: str) -> Response:
        if _wants_json(request):
            return JSONResponse({"error": message, "status": status}, status_code=status)
        return templates.TemplateResponse(request, "error.html", {"status": status, "message": message},
                                          status_code=status)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = exc.detail if isinstance(exc.detail, str) else "request refused"
        if exc.status_code == 404 and message == "Not Found":
            message = "no such page or item"
        return error_page(request, exc.status_code, message)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> Response:
        fields = ", ".join(".".join(str(x) for x in e.get("loc", ())[1:]) or "request" for e in exc.errors()[:3])
        return error_page(request, 422, f"malformed request ({fields})")

    @app.exception_handler(ItemNotFoundError)
    async def not_found(request: Request, exc: ItemNotFoundError) -> Response:
        return error_page(request, 404, "no such item in the library")

    @app.exception_handler(MoodbridgeError)
    async def user_error(request: Request, exc: MoodbridgeError) -> Response:
        log.info("refused %s: %s", request.url.path, exc)
        return error_page(request, 400, str(exc))

    @app.exception_handler(Exception)
    async def crash(request: Request, exc: Exception) -> Response:
        log.exception("error serving %s", request.url.path)
        return error_page(request, 500, "something went wrong on the server; the details are in its log")

    @app.middleware("http")
    async def limits(request: Request, call_next: Any) -> Response:
        if request.method == "POST" and request.headers.get("content-type", "").startswith("multipart/"):
            length = request.headers.get("content-length")
            if length is None:
                return error_page(request, 411, "an upload must say its length")
            if not length.isdigit() or int(length) > config.max_upload + 64 * 1024:
                return error_page(request, 413, f"the upload is larger than {config.max_upload // (1024 * 1024)} MB")
        try:
            response = await call_next(request)
        except Exception:  # noqa: BLE001 - a bug: the page says so, the log has the traceback
            log.exception("error serving %s", request.url.path)
            response = error_page(request, 500, "something went wrong on the server; the details are in its log")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("Content-Security-Policy",
                                    "default-src 'self'; img-src 'self' data:; media-src 'self'; "
                                    "style-src 'self'; script-src 'self'; object-src 'none'; frame-ancestors 'none'")
        return response

    @app.get("/static/{name}")
    def static(name: str) -> Response:
        if name not in STATIC_FILES:
            raise HTTPException(404)
        return FileResponse(HERE / "static" / name, media_type=STATIC_FILES[name])

    @app.get("/media/{item_id}")
    def media(item_id: int) -> Response:
        """A library item's file, by id only."""
        with state.library() as lib:
            item = lib.item(item_id) if item_id > 0 else None
        if item is None or item.id != item_id:  # by id only, never a path or name match
            raise HTTPException(404)
        path = Path(item.path)
        if not path.is_file():
            raise HTTPException(404, "the item's file is no longer there")
        suffix = path.suffix.lower()
        media_type = MEDIA_TYPES.get(suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return FileResponse(path, media_type=media_type)

    @app.get("/favicon.ico")
    def favicon() -> Response:
        return Response(status_code=204)

    from moodbridge.web import generation, pages, study

    app.include_router(pages.router)
    app.include_router(study.router)
    app.include_router(generation.router)
    return app
