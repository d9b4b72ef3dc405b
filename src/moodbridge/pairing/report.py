"""``report.html``: a browsable report of an EMID-style pairing.

:func:`write_report` writes one self-contained HTML page (only the audio
files stay outside it) next to ``pairs.csv`` and ``dataset.json``:

* a header with the pairing parameters, one line per data filter run
  (``table.filters``, if any), the item counts and links to the pair files;
* EMID's Figure 5 (Sec. 3.3): the distribution of pairs over music emotion
  category × image emotion category without emotional alignment (α = 1,
  the semantic-only ablation of Sec. 4.1.2) and with it (the chosen α), as two
  matplotlib heatmaps embedded as PNG ``data:`` URIs, each followed by its
  counts as a table (``data-music`` / ``data-image`` cells) and the share of
  pairs whose clip and image lie in the same Russell quadrant;
* a contact sheet: per clip, its name, VA, quadrant and VA source, an
  ``<audio>`` player pointing at the clip (relative to the report folder) and
  its m images as embedded JPEG thumbnails with rank, S, E, T and quadrant.

The categories are the Russell quadrants (``clip_quadrant`` ×
``image_quadrant``) unless the frame carries finer ``clip_category`` and
``image_category`` columns, which are then used.
"""
from __future__ import annotations

import base64
import html
import io
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from moodbridge.errors import InvalidValueError, MoodbridgeError, display_path
from moodbridge.fileio import output_folder, write_text_atomic
from moodbridge.pairing.dataset import DATASET_JSON, PAIRS_CSV

if TYPE_CHECKING:
    import pandas as pd

    from moodbridge.pairing.dataset import PairTable

REPORT_HTML = "report.html"
#: Clips shown on the contact sheet by default (the plots always cover every pair).
DEFAULT_MAX_CLIPS = 200
#: Longest side of a thumbnail, in pixels.
THUMB_PX = 160
#: Finer category columns used for the distribution when a frame has both.
FINE_COLUMNS: tuple[str, str] = ("clip_category", "image_category")
QUADRANT_COLUMNS: tuple[str, str] = ("clip_quadrant", "image_quadrant")

_CSS = """
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222;max-width:1400px}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.5em}table{border-collapse:collapse}
td,th{border:1px solid #ccc;padding:2px 6px;text-align:right;font-size:.9em}th{background:#f3f3f3}
.params td,.params th{text-align:left}.panels{display:flex;gap:2em;align-items:flex-start}
.panel{flex:1 1 0;min-width:0;margin:0}.panel img{max-width:100%;height:auto}
.panel figcaption,.note{font-size:.9em;color:#555;max-width:60em}
.clips{display:grid;grid-template-columns:repeat(auto-fill,minmax(560px,1fr));gap:0 2em}
.clip{border-top:1px solid #ddd;padding:.6em 0}.clip h3{font-size:1em;margin:.2em 0}
.meta{font-size:.85em;color:#555}.thumbs{display:flex;flex-wrap:wrap;gap:.8em;margin-top:.4em}
.thumbs figure{margin:0;width:170px;font-size:.8em}.thumbs img{max-width:160px;max-height:160px;display:block}
.missing{width:160px;height:100px;background:#eee;color:#a00;font-size:.8em;overflow:hidden}
"""


# --- the distribution (EMID Fig. 5) ---------------------------------------------------------

def category_columns(*frames: "pd.DataFrame") -> tuple[str, str]:
    """Music and image category columns for the distribution.

    ``clip_category`` / ``image_category`` when every frame has them without
    gaps, else the Russell quadrant columns.
    """
    if frames and all(set(FINE_COLUMNS) <= set(f.columns) and f[list(FINE_COLUMNS)].notna().all().all()
                      for f in frames):
        return FINE_COLUMNS
    return QUADRANT_COLUMNS


def distribution(frame: "pd.DataFrame", columns: tuple[str, str] = QUADRANT_COLUMNS,
                 categories: tuple[list[str], list[str]] | None = None) -> "pd.DataFrame":
    """Pairs per music category (rows) × image category (columns), EMID Fig. 5.

    ``categories`` fixes the row and column labels (missing ones count 0);
    by default Q1–Q4 for quadrant columns, else the sorted values present.
    """
    import pandas as pd

    music_col, image_col = columns
    if categories is None:
        categories = (_categories([frame], music_col), _categories([frame], image_col))
    counts = pd.crosstab(frame[music_col].astype(str), frame[image_col].astype(str))
    return counts.reindex(index=categories[0], columns=categories[1], fill_value=0).astype(int)


def matching_share(frame: "pd.DataFrame") -> float:
    """Share of pairs whose clip and image lie in the same Russell quadrant (NaN if no pairs)."""
    if len(frame) == 0:
        return float("nan")
    return float((frame["clip_quadrant"] == frame["image_quadrant"]).mean())


def _categories(frames: Iterable["pd.DataFrame"], column: str) -> list[str]:
    if column in QUADRANT_COLUMNS:
        return ["Q1", "Q2", "Q3", "Q4"]
    return sorted({str(v) for f in frames for v in f[column]})


def _png_uri(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def heatmap_uri(counts: "pd.DataFrame", title: str, vmax: int) -> str:
    """A counts heatmap (music rows × image columns) as a PNG ``data:`` URI (matplotlib, Agg)."""
    import numpy as np
    from matplotlib.figure import Figure

    rows, cols = counts.shape
    fig = Figure(figsize=(1.5 + 0.75 * cols, 1.2 + 0.6 * rows))
    ax = fig.add_subplot()
    image = ax.imshow(counts.to_numpy(), cmap="Blues", vmin=0, vmax=max(vmax, 1), aspect="auto")
    for (r, c), n in np.ndenumerate(counts.to_numpy()):
        ax.text(c, r, str(int(n)), ha="center", va="center", fontsize=9,
                color="white" if n > 0.6 * max(vmax, 1) else "black")
    ax.set_xticks(range(cols), [str(c) for c in counts.columns], rotation=45 if cols > 6 else 0)
    ax.set_yticks(range(rows), [str(r) for r in counts.index])
    ax.set_xlabel("image emotion")
    ax.set_ylabel("music emotion")
    ax.set_title(title)
    fig.colorbar(image, ax=ax, label="pairs")
    return _png_uri(fig)


def _counts_table(counts: "pd.DataFrame", key: str, alpha: float) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in counts.columns)
    body = "".join(
        f"<tr><th>{html.escape(str(r))}</th>" + "".join(
            f'<td data-music="{html.escape(str(r))}" data-image="{html.escape(str(c))}">{int(n)}</td>'
            for c, n in row.items()) + "</tr>"
        for r, row in counts.iterrows())
    total = int(counts.to_numpy().sum())
    return (f'<table class="dist-counts" id="counts-{key}" data-alpha="{alpha:g}" data-total="{total}">'
            f"<tr><th>music \\ image</th>{head}</tr>{body}</table>")


def _panel(frame: "pd.DataFrame", key: str, alpha: float, label: str, columns: tuple[str, str],
           categories: tuple[list[str], list[str]], vmax: int) -> str:
    counts = distribution(frame, columns, categories)
    share = matching_share(frame)
    share_text = "n/a" if share != share else f"{share:.1%}"
    title = f"{label}: α = {alpha:g}"
    return (f'<figure class="panel"><img id="dist-{key}" alt="{html.escape(title)} distribution of pairs" '
            f'src="{heatmap_uri(counts, title, vmax)}">'
            f'<figcaption>{html.escape(title)} — {len(frame)} pairs; same quadrant: '
            f'<span class="match-share" id="match-{key}" data-share="{share:.17g}">{share_text}</span>'
            f"</figcaption>{_counts_table(counts, key, alpha)}</figure>")


def _distribution_html(table: "PairTable", baseline: "PairTable | None", why_not: str) -> str:
    from moodbridge.emotion import Quadrant

    frames = [table.frame] + ([baseline.frame] if baseline is not None else [])
    columns = category_columns(*frames)
    categories = (_categories(frames, columns[0]), _categories(frames, columns[1]))
    vmax = max(int(distribution(f, columns, categories).to_numpy().max(initial=0)) for f in frames)
    panels = []
    if baseline is not None:
        panels.append(_panel(baseline.frame, "alpha-1", 1.0, "without emotional alignment", columns, categories, vmax))
    chosen = "with emotional alignment" if _alpha(table) < 1.0 else "chosen (no emotional alignment)"
    panels.append(_panel(table.frame, "alpha-chosen", _alpha(table), chosen, columns, categories, vmax))
    if columns == QUADRANT_COLUMNS:
        what = "Russell quadrants of the clip's and the image's valence-arousal point: " + "; ".join(
            f"{q.label} = {q.description}" for q in Quadrant)
    else:
        what = f"the {columns[0]} and {columns[1]} columns of the pairs"
    note = f'<p class="note">{html.escape(why_not)}</p>' if why_not else ""
    return ('<section id="distribution"><h2>Distribution of pairs over music emotion × image emotion '
            "(EMID Fig. 5)</h2>"
            f'<p class="note">Categories: {html.escape(what)}. Both panels share one colour scale. '
            "“Same quadrant” is the share of pairs whose clip and image lie in the same quadrant.</p>"
            f'{note}<div class="panels">{"".join(panels)}</div></section>')


# --- the contact sheet -------------------------------------------------------------------------

def audio_src(clip_path: str | Path, out_dir: Path) -> str:
    """The clip's path relative to the report folder, URL-quoted; a ``file:`` URI if there is none."""
    try:
        rel = os.path.relpath(Path(clip_path).resolve(), out_dir.resolve())
    except ValueError:  # another drive (Windows)
        return Path(clip_path).resolve().as_uri()
    return quote(os.fsencode(Path(rel).as_posix()))  # bytes: a non-UTF-8 name is quoted byte by byte


def thumbnail_uri(path: str | Path, size: int = THUMB_PX) -> str:
    """An upright RGB thumbnail (longest side ``size``) as a JPEG ``data:`` URI.

    Raises
    ------
    MediaError
        If the image cannot be read (see :func:`moodbridge.media.image.decode_image`).
    """
    from moodbridge.media.image import decode_image

    im = decode_image(path)  # EXIF-transposed, RGB
    im.thumbnail((size, size))
    buf = io.BytesIO()
    im.save(buf, format="JPEG", quality=80)
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _thumb_html(row: Any, cache: dict[str, str]) -> str:
    path = str(row.image_path)
    if path not in cache:
        try:
            cache[path] = (f'<img class="thumb" alt="{html.escape(display_path(Path(path).name))}" '
                           f'src="{thumbnail_uri(path)}">')
        except (MoodbridgeError, OSError) as exc:
            cache[path] = f'<div class="missing">image unavailable: {html.escape(str(exc))}</div>'
    caption = (f"#{int(row.rank) + 1} {html.escape(display_path(Path(path).name))}<br>S {row.S:.3f} · E {row.E:.3f} · "
               f"T {row.T:.3f} · {html.escape(str(row.image_quadrant))}")
    return f'<figure title="{html.escape(display_path(path))}">{cache[path]}<figcaption>{caption}</figcaption></figure>'


def _clip_html(clip_path: str, rows: "pd.DataFrame", out_dir: Path, cache: dict[str, str]) -> str:
    first = rows.iloc[0]
    src = html.escape(audio_src(clip_path, out_dir))
    meta = (f"valence {first.clip_valence:+.2f}, arousal {first.clip_arousal:+.2f} · {first.clip_quadrant} · "
            f"VA from {first.clip_source}")
    thumbs = "".join(_thumb_html(r, cache) for r in rows.itertuples(index=False))
    return (f'<section class="clip"><h3 title="{html.escape(display_path(clip_path))}">'
            f'{html.escape(display_path(Path(clip_path).name))}</h3>'
            f'<div class="meta">{html.escape(meta)}</div>'
            f'<audio controls preload="metadata" src="{src}"></audio> <a class="meta" href="{src}">file</a>'
            f'<div class="thumbs">{thumbs}</div></section>')


def _contact_sheet_html(table: "PairTable", out_dir: Path, max_clips: int | None, progress: bool) -> str:
    from tqdm.auto import tqdm

    import pandas as pd

    # grouped by integer codes: a pandas Index of the paths would be Arrow strings, which refuse non-UTF-8 paths
    codes, _ = pd.factorize(table.frame["clip_path"])
    groups = [rows for _, rows in table.frame.groupby(codes, sort=False)]
    shown = groups if max_clips is None else groups[:max_clips]
    cache: dict[str, str] = {}
    sections = [_clip_html(str(rows["clip_path"].iloc[0]), rows, out_dir, cache)
                for rows in tqdm(shown, desc="report", unit="clip", disable=not progress, leave=False)]
    note = (f"Showing the first {len(shown)} of {len(groups)} clips (raise the cap with --report-clips / "
            "max_clips); the distributions above cover every pair." if len(shown) < len(groups)
            else f"All {len(groups)} clips.")
    return (f'<section id="contact-sheet"><h2>Contact sheet</h2>'
            f'<p class="note" id="contact-note">{html.escape(note)}</p>'
            f'<div class="clips">{"".join(sections)}</div></section>')


# --- the page ---------------------------------------------------------------------------------

def _alpha(table: "PairTable") -> float:
    return float(table.params.get("alpha", table.pairing.alpha))


def _value(v: Any) -> str:
    return v if isinstance(v, str) else json.dumps(v, default=str)


def _header_html(table: "PairTable", out_dir: Path, title: str) -> str:
    params = dict(table.params)
    filters = getattr(table, "filters", None) or params.pop("filters", None) or []
    filters = [filters] if isinstance(filters, (str, dict)) else filters
    rows: list[tuple[str, Any]] = [("α (alpha)", _alpha(table))]
    rows += [("K (candidates per clip)", f"{params.pop('k', table.k)} (used: {params.pop('k_used', table.k)})")]
    params.pop("alpha", None)
    rows += [(k, v) for k, v in params.items()]
    rows += [("clips", len(table.music)), ("images", len(table.images)), ("pairs", len(table.frame)),
             ("library", table.library_path), ("library fingerprint", table.fingerprint[:16] + "…")]
    rows += [("filter", f.summary() if hasattr(f, "summary") else f) for f in filters]
    sources = table.source_counts()
    rows += [(f"{what} VA from", ", ".join(f"{n} {s}" for s, n in sorted(sources[what].items())))
             for what in ("music", "images")]
    body = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(_value(v))}</td></tr>" for k, v in rows)
    links = " · ".join(f'<a href="{quote(name)}">{name}</a>' if (out_dir / name).exists()
                       else f"{name} (not written)" for name in (PAIRS_CSV, DATASET_JSON))
    return (f"<header><h1>{html.escape(title)}</h1><p>Files: {links}</p>"
            f'<table class="params" id="params">{body}</table></header>')


def _baseline(table: "PairTable", semantic_only: "PairTable | None") -> tuple["PairTable | None", str]:
    if semantic_only is not None:
        if abs(_alpha(semantic_only) - 1.0) > 1e-12:
            raise InvalidValueError(f"semantic_only must be the α = 1 pairing, got α = {_alpha(semantic_only):g}")
        if semantic_only.fingerprint != table.fingerprint:
            raise InvalidValueError("semantic_only pairs other items than the table (library fingerprints differ); "
                                    "build both from the same library with the same filters")
        return semantic_only, ""
    if abs(_alpha(table) - 1.0) <= 1e-12:
        return table, "The chosen α is 1, so both panels show the same (semantic-only) pairing."
    return None, ("Only the chosen-α panel is shown: the α = 1 pairing needs each clip's K semantic candidates, "
                  "which the pair table does not keep (only its m chosen images); pass the α = 1 table "
                  "(moodbridge pair computes it).")


def write_report(table: "PairTable", semantic_only: "PairTable | None", out_dir: str | Path, *,
                 title: str | None = None, max_clips: int | None = DEFAULT_MAX_CLIPS,
                 progress: bool = True) -> Path:
    """Write ``report.html`` for a pairing into ``out_dir``, atomically (module docstring).

    Parameters
    ----------
    table
        The pairing at the chosen α (:func:`moodbridge.pairing.dataset.build_pairs`).
    semantic_only
        The same library paired with α = 1 (EMID Fig. 5, left; Sec. 4.1.2
        ablation), or None: then the left panel is left out unless the chosen
        α is already 1.
    out_dir
        The output folder (created if needed), usually the one holding ``pairs.csv``.
    title
        Page title; default names the library folder.
    max_clips
        Clips shown on the contact sheet (the first ones, in pair order);
        None shows all.
    progress
        Show a tqdm bar while making thumbnails.

    Returns
    -------
    pathlib.Path
        The report's path.

    Raises
    ------
    InvalidValueError
        If ``out_dir`` is not a folder or cannot be written, ``max_clips`` is
        negative, or ``semantic_only`` is not an α = 1 pairing of the same items.
    """
    if max_clips is not None and (isinstance(max_clips, bool) or not isinstance(max_clips, int) or max_clips < 0):
        raise InvalidValueError(f"max_clips must be a whole number ≥ 0 or None, got {max_clips!r}")
    baseline, why_not = _baseline(table, semantic_only)
    out = output_folder(out_dir, what="report")
    title = title or f"moodbridge pairs — {Path(table.library_path).name}"
    page = (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"<style>{_CSS}</style></head><body>{_header_html(table, out, title)}"
            f"{_distribution_html(table, baseline, why_not)}"
            f"{_contact_sheet_html(table, out, max_clips, progress)}</body></html>\n")
    return write_text_atomic(out / REPORT_HTML, page, what="report")
