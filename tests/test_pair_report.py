"""``report.html`` of ``moodbridge pair`` on a small real library: structure, counts, browser, CLI, errors.

Real photos (scikit-image) and real music tracks (immich-memories-music) in a
real library; the browser test opens the page in Debian's headless Chromium.
"""
from __future__ import annotations

import base64
import html
import io
import json
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from moodbridge.errors import InvalidValueError
from moodbridge.library import Library
from moodbridge.pairing.dataset import build_pairs, write_outputs
from moodbridge.pairing.report import REPORT_HTML, write_report
from realmedia import write_photos, write_tracks
from test_pair_command import PHOTOS, run_cli

CHROMIUM = Path("/usr/bin/chromium")
#: One clip gets a name that needs HTML escaping and URL quoting.
TRICKY = "tricky <b> & #1 'x'.opus"
VOID = {"meta", "img", "br", "link", "input", "hr", "source"}


@pytest.fixture(scope="module")
def lib(tmp_path_factory):
    root = tmp_path_factory.mktemp("reportlib")
    write_photos(root / "media" / "photos", PHOTOS)
    tracks = write_tracks(root / "media" / "music", 6)
    tracks[2].rename(tracks[2].with_name(TRICKY))
    library = Library.create(root / "lib")
    library.add([root / "media"], progress=False)
    yield library
    library.close()


@pytest.fixture(scope="module")
def tables(lib):
    return build_pairs(lib, alpha=0.6, k=5, m=3), build_pairs(lib, alpha=1.0, k=5, m=3)


class Page(HTMLParser):
    """Every start tag with its attributes, the count cells per table, and a tag-balance check."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.cells: dict[str, dict[tuple[str, str], str]] = {}
        self.stack: list[str] = []
        self.errors: list[str] = []
        self._table: str | None = None
        self._cell: tuple[str, str] | None = None
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        self.tags.append((tag, a))
        if tag not in VOID:
            self.stack.append(tag)
        if tag == "table":
            self._table = a.get("id")
        if tag == "td" and "data-music" in a:
            self._cell = (a["data-music"], a["data-image"])

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1] if self.stack else None}>")
        else:
            self.stack.pop()
        if tag == "td":
            self._cell = None

    def handle_data(self, data):
        if self._cell and self._table:
            self.cells.setdefault(self._table, {})[self._cell] = data

    def find(self, tag: str, **attrs: str) -> list[dict[str, str]]:
        return [a for t, a in self.tags if t == tag and all(a.get(k.replace("_", "-")) == v for k, v in attrs.items())]

    def counts(self, table_id: str) -> pd.DataFrame:
        cells = self.cells[table_id]
        rows = sorted({m for m, _ in cells})
        cols = sorted({i for _, i in cells})
        return pd.DataFrame([[int(cells[(r, c)]) for c in cols] for r in rows], index=rows, columns=cols)


def crosstab(pairs: pd.DataFrame) -> pd.DataFrame:
    q = ["Q1", "Q2", "Q3", "Q4"]
    ct = pd.crosstab(pairs["clip_quadrant"], pairs["image_quadrant"]).reindex(index=q, columns=q, fill_value=0)
    ct.index.name = ct.columns.name = None
    return ct.astype(int)


def data_png(uri: str) -> Image.Image:
    assert uri.startswith("data:image/png;base64,")
    im = Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1])))
    im.load()
    assert im.format == "PNG"
    return im


def test_report_structure_counts_and_links(tables, tmp_path):
    table, semantic = tables
    out = tmp_path / "out"
    write_outputs(table, out)
    write_outputs(semantic, tmp_path / "alpha1")
    path = write_report(table, semantic, out, progress=False)
    assert path == out / REPORT_HTML
    text = path.read_text(encoding="utf-8")
    page = Page(text)
    assert page.errors == [] and page.stack == []

    # one player per clip, pointing at the real file relative to the report, quoted and escaped
    audios = page.find("audio")
    assert len(audios) == len(table.music) == 6
    assert all(a["preload"] == "metadata" and "controls" in a for a in audios)
    targets = {(out / unquote(a["src"])).resolve() for a in audios}
    assert targets == {Path(it.path).resolve() for it in table.music}
    assert all(t.is_file() for t in targets)
    assert "<b>" not in text and "tricky &lt;b&gt; &amp; #1" in text
    assert any("%23" in a["src"] and "%3Cb%3E" in a["src"] for a in audios)

    # thumbnails: one per pair shown, real JPEGs of at most 160 px
    thumbs = page.find("img", **{"class": "thumb"})
    assert len(thumbs) == len(table.frame) == 18
    for t in thumbs:
        im = Image.open(io.BytesIO(base64.b64decode(t["src"].split(",", 1)[1])))
        assert im.format == "JPEG" and max(im.size) == 160

    # both Figure-5 panels as PNGs, counts equal to the quadrant cross-tab of each pairs.csv
    for key, csv in (("alpha-1", tmp_path / "alpha1" / "pairs.csv"), ("alpha-chosen", out / "pairs.csv")):
        (img,) = page.find("img", id=f"dist-{key}")
        assert data_png(img["src"]).size[0] > 200
        counts = page.counts(f"counts-{key}")
        pairs = pd.read_csv(csv)
        assert counts.to_numpy().sum() == len(pairs) == 18
        pd.testing.assert_frame_equal(counts, crosstab(pairs))
        (share,) = page.find("span", id=f"match-{key}")
        assert float(share["data-share"]) == pytest.approx((pairs.clip_quadrant == pairs.image_quadrant).mean())
    assert page.find("table", id="counts-alpha-1")[0]["data-alpha"] == "1"
    assert page.find("table", id="counts-alpha-chosen")[0]["data-alpha"] == "0.6"

    # header and links; nothing outside the page but the audio files and the pair files
    links = {a["href"] for a in page.find("a")}
    assert {"pairs.csv", "dataset.json"} <= links
    params = text.split('id="params"')[1].split("</table>")[0]
    assert "0.6" in params and "cosine" in params and str(table.library_path) in params
    assert all(html.escape(f.summary()) in params for f in getattr(table, "filters", []))
    refs = [a.get("src") or a.get("href") for t, a in page.tags if a.get("src") or a.get("href")]
    assert all(r.startswith("data:") or not r.startswith(("http:", "https:", "//")) for r in refs)
    assert "http://" not in text and "https://" not in text
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]


def test_contact_sheet_cap_and_missing_baseline(tables, tmp_path):
    table, _ = tables
    text = write_report(table, None, tmp_path, max_clips=2, progress=False).read_text(encoding="utf-8")
    page = Page(text)
    assert len(page.find("audio")) == 2
    assert len(page.find("img", **{"class": "thumb"})) == 2 * 3
    assert "first 2 of 6 clips" in text
    assert page.find("img", id="dist-alpha-chosen") and not page.find("img", id="dist-alpha-1")
    assert "Only the chosen-α panel is shown" in text and "K semantic candidates" in text
    # the plot still covers every pair, not only the clips shown
    assert page.counts("counts-alpha-chosen").to_numpy().sum() == len(table.frame)


def test_alpha_one_alone_gives_both_panels(tables, tmp_path):
    _, semantic = tables
    page = Page(write_report(semantic, None, tmp_path, progress=False).read_text(encoding="utf-8"))
    one, chosen = page.counts("counts-alpha-1"), page.counts("counts-alpha-chosen")
    pd.testing.assert_frame_equal(one, chosen)
    pd.testing.assert_frame_equal(one, crosstab(semantic.frame))


def test_bad_input(tables, tmp_path):
    table, semantic = tables
    a_file = tmp_path / "not-a-folder"
    a_file.write_text("x")
    with pytest.raises(InvalidValueError, match=r"not-a-folder: exists and is not a folder"):
        write_report(table, semantic, a_file, progress=False)
    with pytest.raises(InvalidValueError, match=r"must be the α = 1 pairing, got α = 0.6"):
        write_report(table, table, tmp_path / "x", progress=False)
    with pytest.raises(InvalidValueError, match="max_clips"):
        write_report(table, semantic, tmp_path / "y", max_clips=-1, progress=False)
    assert a_file.read_text() == "x" and not (tmp_path / "x").exists()


def test_report_in_headless_chromium(tables, tmp_path):
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (install Debian's chromium package)")
    from playwright.sync_api import sync_playwright

    table, semantic = tables
    path = write_report(table, semantic, tmp_path / "report", progress=False)
    shot = tmp_path / "report.png"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(path.as_uri(), wait_until="load")
            images = page.evaluate("Array.from(document.images)"
                                   ".map(i => [i.id || i.className, i.complete, i.naturalWidth])")
            # every audio element reads its file's metadata (they are real tracks); waits, asserts nothing on time
            page.wait_for_function("Array.from(document.querySelectorAll('audio'))"
                                   ".every(a => a.readyState >= 1 || a.error)", timeout=60_000)
            audio = page.evaluate("Array.from(document.querySelectorAll('audio'))"
                                  ".map(a => [a.readyState, a.duration, a.error && a.error.code])")
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    assert len(images) == 2 + len(table.frame)
    assert all(done and width > 0 for _, done, width in images), images
    assert {"dist-alpha-1", "dist-alpha-chosen"} <= {name for name, _, _ in images}
    assert len(audio) == len(table.music)
    assert all(state >= 1 and duration > 0 and err is None for state, duration, err in audio), audio
    im = Image.open(shot)
    assert im.format == "PNG" and im.size[0] >= 800 and im.size[1] > 900
    assert np.asarray(im.convert("L"), dtype=float).var() > 100


def test_cli_writes_report(lib, tmp_path):
    out = tmp_path / "cli"
    ok = run_cli(str(lib.root), "--k", "4", "--m", "2", "--out", str(out), "--report-clips", "3")
    assert ok.returncode == 0, ok.stderr
    assert f"wrote {out / REPORT_HTML}" in ok.stdout
    page = Page((out / REPORT_HTML).read_text(encoding="utf-8"))
    assert len(page.find("audio")) == 3 and len(page.find("img", **{"class": "thumb"})) == 6
    meta = json.loads((out / "dataset.json").read_text())
    assert meta["parameters"]["alpha"] == 0.6
    pd.testing.assert_frame_equal(page.counts("counts-alpha-chosen"), crosstab(pd.read_csv(out / "pairs.csv")))
    with Library.open(lib.root) as again:
        semantic = build_pairs(again, alpha=1.0, k=4, m=2)
    pd.testing.assert_frame_equal(page.counts("counts-alpha-1"), crosstab(semantic.frame))

    skip = run_cli(str(lib.root), "--k", "4", "--m", "2", "--out", str(tmp_path / "plain"), "--no-report")
    assert skip.returncode == 0, skip.stderr
    assert (tmp_path / "plain" / "pairs.csv").exists() and not (tmp_path / "plain" / REPORT_HTML).exists()
    assert "report.html" not in skip.stdout

    a_file = tmp_path / "file-out"
    a_file.write_text("x")
    bad = run_cli(str(lib.root), "--k", "4", "--out", str(a_file))
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
    assert "file-out: exists and is not a folder" in bad.stderr


def test_unreadable_image_gets_a_placeholder(tables, tmp_path):
    table, semantic = tables
    gone = tmp_path / "gone.png"
    frame = table.frame.copy()
    frame.loc[frame.index[0], "image_path"] = str(gone)
    text = write_report(replace(table, frame=frame), semantic, tmp_path / "out", progress=False).read_text("utf-8")
    page = Page(text)
    assert len(page.find("img", **{"class": "thumb"})) == len(frame) - 1
    assert len(page.find("div", **{"class": "missing"})) == 1
    assert "image unavailable" in text and html.escape(str(gone)) in text


def test_finer_category_columns_are_used(tables, tmp_path):
    table, semantic = tables
    def with_categories(t):  # mechanics only: categories from file names
        return replace(t, frame=t.frame.assign(clip_category=[Path(p).name[:4] for p in t.frame.clip_path],
                                               image_category=[Path(p).stem for p in t.frame.image_path]))
    fine, fine_semantic = with_categories(table), with_categories(semantic)
    page = Page(write_report(fine, fine_semantic, tmp_path, max_clips=0, progress=False).read_text("utf-8"))
    for key, t in (("alpha-chosen", fine), ("alpha-1", fine_semantic)):
        counts = page.counts(f"counts-{key}")
        expected = pd.crosstab(t.frame.clip_category, t.frame.image_category)
        expected = expected.reindex(index=counts.index, columns=counts.columns, fill_value=0)
        expected.index.name = expected.columns.name = None
        pd.testing.assert_frame_equal(counts, expected.astype(int))
        assert counts.to_numpy().sum() == len(t.frame) and "Q1" not in counts.index
    assert page.find("audio") == []
