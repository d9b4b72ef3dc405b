"""Rendering a page: a template with the context every page shares (the library's path)."""
from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response

__all__ = ["render"]


def render(request: Request, name: str, **context: Any) -> Response:
    """``name`` rendered with ``context`` and the library root (``generation`` is a template global, see the app)."""
    context.setdefault("library_root", str(request.app.state.mb.library_root))
    return request.app.state.templates.TemplateResponse(request, name, context)
