"""What keeps the web app safe: upload size and content checks, the researcher token, quiet errors.

* An upload is read in chunks and refused with 413 past :data:`MAX_UPLOAD_BYTES`
  (a ``Content-Length`` above the limit is refused before the body is read);
  it is saved under a random name in the server's own temporary folder and
  accepted only when it decodes as an image
  (:func:`moodbridge.media.image.decode_image`: by content, not extension),
  else 415.
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

from moodbridge.errors import MoodbridgeError

__all__ = ["MAX_UPLOAD_BYTES", "TOKEN_COOKIE", "check_token", "new_token", "save_image_upload"]

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
TOKEN_COOKIE = "moodbridge_token"
CHUNK = 1 << 16
#: image formats an upload may have (by content) and the suffix its saved copy gets
IMAGE_SUFFIXES = {"jpeg": ".jpg", "png": ".png", "gif": ".gif", "webp": ".webp", "bmp": ".bmp", "tiff": ".tif",
                  "avif": ".avif"}
NOT_AN_IMAGE = "the upload is not an image this app can read (JPEG, PNG, WebP, GIF, BMP, TIFF)"


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

    Returns ``(path, PIL image)``.  413 past ``limit`` bytes, 400 when empty, 415 when it is not an image.
    """
    from moodbridge.media.image import decode_image
    from moodbridge.media.sniff import detect_format

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
            raise HTTPException(400, "the upload is empty: choose an image file")
        fmt = detect_format(path)  # by content: the client's file name and type are ignored
        if fmt is None or fmt.modality != "image" or fmt.name not in IMAGE_SUFFIXES or not fmt.decodable:
            raise HTTPException(415, NOT_AN_IMAGE)
        named = path.with_suffix(IMAGE_SUFFIXES[fmt.name])
        path = path.rename(named)
        try:
            image = decode_image(path, fmt=fmt)
        except MoodbridgeError:
            raise HTTPException(415, NOT_AN_IMAGE) from None
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path, image
