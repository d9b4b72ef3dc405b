"""What keeps the web app safe: upload size and content checks, the researcher token, quiet errors.

* An upload is read in chunks and refused with 413 past :data:`MAX_UPLOAD_BYTES`
  (a ``Content-Length`` above the limit is refused before the body is read);
  it is saved under a random name in the server's own temporary folder and
  checked exactly as ``add`` checks a file (:func:`moodbridge.jobs.add.check_upload`:
  by content, not extension, the same vocabulary of reasons); refused with 400
  when empty or badly named, 413 when too large, else 415, the message naming
  the client's file name and the reason.
* Media are served by library item id only (``/media/{id}``); no route takes
  a path from the client.
* The researcher's pages need the token printed when the server starts
  (``?token=…`` once, then a cookie, or the ``X-Study-Token`` header): 401
  without one, 403 with a wrong one.
"""
from __future__ import annotations

import hmac
import secrets
import tempfile
from pathlib import Path
from typing import Any

from fastapi import HTTPException, Request, UploadFile

__all__ = ["MAX_UPLOAD_BYTES", "TOKEN_COOKIE", "check_token", "new_token", "save_image_upload"]

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
TOKEN_COOKIE = "moodbridge_token"
CHUNK = 1 << 16
NOT_AN_IMAGE = "the upload is not an image this app can read (JPEG, PNG, WebP, GIF, BMP, TIFF)"
#: HTTP status of a refused upload by reason (:data:`moodbridge.errors.REASONS`); others 415
UPLOAD_STATUS = {"empty": 400, "bad name": 400, "too large": 413, "too long": 413}


def new_token() -> str:
    """A fresh researcher token (URL-safe, 128 bits)."""
    return secrets.token_urlsafe(16)


def check_token(request: Request, token: str) -> str | None:
    """The token the request carries when it is right; 401 without one, 403 with a wrong one.

    Returns the token when it came in the query string (the caller sets the cookie), else ``None``.
    """
    given_query = request.query_params.get("token")
    given = given_query or request.headers.get("x-study-token") or request.cookies.get(TOKEN_COOKIE)
    if not given:
        raise HTTPException(401, "this page is for the researcher: open it with the link printed when the server started")
    if not hmac.compare_digest(given.encode(), token.encode()):
        raise HTTPException(403, "wrong researcher token")
    return given_query


async def save_image_upload(upload: UploadFile, folder: Path, *, limit: int = MAX_UPLOAD_BYTES) -> tuple[Path, Any]:
    """Save an uploaded file under a random name in ``folder`` and decode it as an image.

    Returns ``(path, PIL image)``.  413 past ``limit`` bytes, 400 when empty, else the status of
    :data:`UPLOAD_STATUS` for the reason :func:`moodbridge.jobs.add.check_upload` gives.
    """
    from moodbridge.errors import MediaError, display_path
    from moodbridge.jobs.add import check_upload

    fd, name = tempfile.mkstemp(dir=folder, prefix="upload-")
    path = Path(name)
    size = 0
    try:
        with open(fd, "wb") as fh:
            while chunk := await upload.read(CHUNK):
                size += len(chunk)
                if size > limit:
                    raise HTTPException(413, f"the upload is larger than {limit // (1024 * 1024)} MB")
                fh.write(chunk)
        if size == 0:
            shown = display_path(upload.filename or "upload")
            raise HTTPException(400, f"{shown}: empty: the upload is 0 bytes long; choose an image file")
        try:  # by content: the client's file name and type are ignored
            checked = check_upload(path, name=upload.filename or "upload", modality="image")
        except MediaError as exc:
            path = next(folder.glob(path.stem + "*"), path)  # check_upload may have renamed it
            raise HTTPException(UPLOAD_STATUS.get(exc.kind, 415), f"{exc}; {NOT_AN_IMAGE}") from None
        path = checked.path or path
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path, checked.decoded
