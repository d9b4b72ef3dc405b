"""The pages for therapists, creators and curious listeners: search by image, music or text; the library; arcs; pairs.

Each page calls the job the command line calls: :func:`moodbridge.jobs.search.run_search`
(image → music, music → image, text → both), :func:`moodbridge.jobs.arc.run_arc`
(arcs); the library plane reads items and their emotion by the library's one
rule (:func:`moodbridge.library.emotion.item_emotions`), the pair viewer a
``moodbridge pair`` output (EMID Fig. 5 distribution by
:func:`moodbridge.pairing.report.distribution`).
"""
from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

from fastapi import APIRouter, File, HTTPException, Query, Request, UploadFile
from fastapi.responses import Response

from moodbridge.emotion import quadrant_of
from moodbridge.fileio import read_csv_frame
from moodbridge.web.generation import generation_available, keep_upload
from moodbridge.web.safety import save_image_upload
from moodbridge.web.templating import render

__all__ = ["router"]

router = APIRouter()
QUADRANTS = ("Q1", "Q2", "Q3", "Q4")


def _state(request: Request) -> Any:
    return request.app.state.mb


def _hits(result: Any) -> list[dict[str, Any]]:
    return [{"rank": h.rank, "id": h.id, "name": h.name, "score": h.score, "valence": h.valence,
             "arousal": h.arousal, "quadrant": h.quadrant, "source": h.source, "components": h.components}
            for h in result.hits]


def _search(request: Request, query: Path | None = None, *, text: str | None = None, to: str, top: int) -> Any:
    from moodbridge.jobs.search import run_search

    st = _state(request)
    with st.heavy:
        return run_search(st.library_root, query, text=text, to=to, top=top)


def _item(request: Request, item_id: int, modality: str | None = None) -> Any:
    with _state(request).library() as lib:
        item = lib.item(item_id)
    if item.id != item_id or (modality and item.modality != modality):
        raise HTTPException(404, f"no {modality or ''} item {item_id} in the library".replace("  ", " "))
    return item


def _thumb_uri(image: Any, size: int = 320) -> str:
    im = image.copy()
    im.thumbnail((size, size))
    buf = io.BytesIO()
    im.save(buf, format="JPEG", quality=85)
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _top(value: int) -> int:
    if not 1 <= value <= 50:
        raise HTTPException(422, "top must be between 1 and 50")
    return value


@router.get("/")
def home(request: Request) -> Response:
    with _state(request).library() as lib:
        summary = lib.summary()
    return render(request, "home.html", summary=summary)


# -- image -> music ------------------------------------------------------------------------
@router.get("/image")
def image_page(request: Request, item: int | None = None, top: int = 5) -> Response:
    """Pick a library image (or upload one) and hear the music that matches it."""
    with _state(request).library() as lib:
        images = [{"id": it.id, "name": it.name} for it in lib.items(modality="image")]
    context: dict[str, Any] = {"images": images}
    if item is not None:
        it = _item(request, item, "image")
        result = _search(request, Path(it.path), to="music", top=_top(top))
        context.update(query_name=it.name, query_src=f"/media/{it.id}", query_item=it.id, result=result,
                       hits=_hits(result))
    return render(request, "image.html", **context)


@router.post("/image")
async def image_upload(request: Request, file: UploadFile = File(...), top: int = 5) -> Response:
    """An uploaded photo: checked by decoding, searched, then deleted."""
    st = _state(request)
    path, image = await save_image_upload(file, st.uploads, limit=st.config.max_upload)
    upload_key = None
    try:
        from starlette.concurrency import run_in_threadpool

        result = await run_in_threadpool(_search, request, path, to="music", top=_top(top))
        if generation_available():  # kept (in the server's own folder) for the generate button
            upload_key = keep_upload(st, path)
    finally:
        if upload_key is None:
            path.unlink(missing_ok=True)
    with st.library() as lib:
        images = [{"id": it.id, "name": it.name} for it in lib.items(modality="image")]
    return render(request, "image.html", images=images, query_name=file.filename or "upload",
                  query_src=_thumb_uri(image), query_item=None, upload_key=upload_key, result=result,
                  hits=_hits(result))


# -- music -> image ------------------------------------------------------------------------
@router.get("/music")
def music_page(request: Request, item: int | None = None, top: int = 6) -> Response:
    """Pick a clip and see the images that match it."""
    from moodbridge.library.emotion import item_emotions

    with _state(request).library() as lib:
        music = lib.items(modality="audio")
        clips = [{"id": it.id, "name": it.name, "labels": it.labels,
                  "emotion": None if e is None else {"valence": e.valence, "arousal": e.arousal,
                                                     "quadrant": e.quadrant.label}}
                 for it, e in zip(music, item_emotions(lib, music))]
    context: dict[str, Any] = {"clips": clips}
    if item is not None:
        it = _item(request, item, "audio")
        result = _search(request, Path(it.path), to="image", top=_top(top))
        context.update(query_name=it.name, query_item=it.id, result=result, hits=_hits(result))
    return render(request, "music.html", **context)


# -- text -> both --------------------------------------------------------------------------
@router.get("/text")
def text_page(request: Request, q: str = "", top: int = 5) -> Response:
    """Type a sentence; get music and images for it."""
    context: dict[str, Any] = {"q": q}
    if q.strip():
        if len(q) > 500:
            raise HTTPException(422, "the text is longer than 500 characters")
        music = _search(request, text=q, to="music", top=_top(top))
        images = _search(request, text=q, to="image", top=_top(top))
        context.update(music=music, mhits=_hits(music), ihits=_hits(images), result=music)
    return render(request, "text.html", **context)


# -- library plane -------------------------------------------------------------------------
@router.get("/library")
def library_page(request: Request, modality: str = "", quadrant: str = "", label: str = "") -> Response:
    """Every item a point on the valence-arousal plane, coloured by modality; filters."""
    from moodbridge.library.emotion import item_emotions

    if modality not in ("", "image", "audio", "midi", "text") or quadrant not in ("", *QUADRANTS):
        raise HTTPException(422, "unknown modality or quadrant")
    with _state(request).library() as lib:
        items = lib.items(modality=modality or None)
        emotions = item_emotions(lib, items)
    rows = []
    needle = label.strip().lower()
    for it, e in zip(items, emotions):
        q = e.quadrant.label if e else None
        if quadrant and q != quadrant:
            continue
        if needle and not any(needle in f"{k}={v}".lower() for k, v in it.labels.items()):
            continue
        rows.append({"id": it.id, "name": it.name, "modality": it.modality, "labels": it.labels,
                     "valence": e.valence if e else None, "arousal": e.arousal if e else None,
                     "quadrant": q, "source": e.source if e else None})
    return render(request, "library.html", rows=rows, modality=modality, quadrant=quadrant, label=label)


@router.get("/item/{item_id}")
def item_page(request: Request, item_id: int) -> Response:
    from moodbridge.library.emotion import item_emotions

    it = _item(request, item_id)
    with _state(request).library() as lib:
        (e,) = item_emotions(lib, [it])
        estimates = lib.emotions(it)
    return render(request, "item.html", item=it, emo=e, estimates=estimates)


# -- arcs ----------------------------------------------------------------------------------
def _arc(request: Request, start: str, end: str, steps: int) -> Any:
    from moodbridge.jobs.arc import run_arc

    if len(start) > 100 or len(end) > 100:
        raise HTTPException(422, "an arc end is a word or a point, at most 100 characters")
    return run_arc(_state(request).library_root, start, end, steps=steps).arc


@router.get("/arc")
def arc_page(request: Request, start: str = Query("", alias="from"), end: str = Query("", alias="to"),
             steps: int = 6) -> Response:
    """Choose a start and an end emotion and a number of steps; play the arc through."""
    context: dict[str, Any] = {"start": start, "end": end, "steps": steps}
    if start.strip() and end.strip():
        context["arc"] = _arc(request, start, end, steps)
    return render(request, "arc.html", **context)


@router.get("/arc/export.{fmt}")
def arc_export(request: Request, fmt: str, start: str = Query(..., alias="from"), end: str = Query(..., alias="to"),
               steps: int = 6) -> Response:
    """The arc as an M3U playlist, JSON or CSV (the same files ``moodbridge arc --out`` writes)."""
    kinds = {"m3u": ("audio/x-mpegurl", "to_m3u"), "json": ("application/json", "to_json"),
             "csv": ("text/csv", "to_csv")}
    if fmt not in kinds:
        raise HTTPException(404)
    arc = _arc(request, start, end, steps)
    media_type, method = kinds[fmt]
    return Response(getattr(arc, method)(), media_type=media_type,
                    headers={"Content-Disposition": f'attachment; filename="arc.{fmt}"'})


# -- pair outputs --------------------------------------------------------------------------
@router.get("/pairs")
def pairs_list(request: Request) -> Response:
    return render(request, "pairs.html", outputs=[str(p) for p in _state(request).config.pairs], sheet=None)


@router.get("/pairs/{n}")
def pairs_view(request: Request, n: int) -> Response:
    """A pair output's contact sheet (clips with their images) and its distribution (EMID Fig. 5)."""
    import json

    from moodbridge.pairing.report import distribution, heatmap_uri, matching_share

    outputs = _state(request).config.pairs
    if not 0 <= n < len(outputs):
        raise HTTPException(404, "no such pair output")
    folder = outputs[n]
    try:
        frame = read_csv_frame(folder / "pairs.csv")
        meta = json.loads((folder / "dataset.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise HTTPException(404, "that pair output cannot be read") from None
    with _state(request).library() as lib:
        ids = {it.path: it.id for it in lib.items()}
    sheet = []
    for clip, rows in frame.groupby("clip_path", sort=False):
        sheet.append({"clip": ids.get(clip), "name": Path(clip).name, "quadrant": rows.clip_quadrant.iloc[0],
                      "images": [{"id": ids.get(r.image_path), "name": Path(r.image_path).name, "T": r.T,
                                  "quadrant": r.image_quadrant} for r in rows.itertuples()]})
    counts = distribution(frame)
    alpha = meta.get("parameters", {}).get("alpha")
    plot = heatmap_uri(counts, f"pairs per quadrant (alpha {alpha})", int(counts.to_numpy().max() or 1))
    return render(request, "pairs.html", outputs=[str(p) for p in outputs], n=n, folder=str(folder), meta=meta,
                  sheet=sheet, plot=plot, counts=counts, share=matching_share(frame))
