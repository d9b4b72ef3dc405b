"""``moodbridge serve``: the search pages, the library plane, the pair viewer, and what the server refuses.

A real server (uvicorn on 127.0.0.1) over a small real library (scikit-image
photos, immich-memories-music tracks); the browser test drives Debian's
headless Chromium.
"""
from __future__ import annotations

import json
import re
import socket
from pathlib import Path

import httpx
import pytest
from PIL import Image

from moodbridge.library import Library
from moodbridge.web import WebConfig
from webserver import CHROMIUM, browser, raw_get, save_screenshot, thread_server

TOKEN = "right-token-123"


@pytest.fixture(scope="module")
def broken_pairs(tmp_path_factory) -> Path:
    """A pair output whose pairs.csv lacks the columns the viewer needs: the viewer fails inside (a 500)."""
    folder = tmp_path_factory.mktemp("broken-pairs")
    (folder / "pairs.csv").write_text("a,b\n1,2\n")
    (folder / "dataset.json").write_text(json.dumps({"parameters": {"alpha": 0.6}}))
    return folder


@pytest.fixture(scope="module")
def site(web_library, broken_pairs):
    config = WebConfig(library=web_library["library"], pairs=[web_library["pairs"], broken_pairs], token=TOKEN,
                       max_upload=2 * 1024 * 1024)
    with thread_server(config) as url:
        with httpx.Client(base_url=url, timeout=120) as client:
            yield client


@pytest.fixture(scope="module")
def items(web_library):
    with Library.open(web_library["library"]) as lib:
        return {it.name: it for it in lib.items()}


def no_trace(text: str) -> None:
    assert "Traceback" not in text and 'File "' not in text and "site-packages" not in text


def test_image_page_lists_music_with_players_and_reasons(site, items):
    chelsea = items["chelsea.png"]
    r = site.get("/image", params={"item": chelsea.id, "top": 4})
    assert r.status_code == 200
    music_ids = {it.id for it in items.values() if it.modality == "audio"}
    srcs = [int(s) for s in re.findall(r'<audio controls preload="metadata" src="/media/(\d+)"', r.text)]
    assert len(srcs) == 4 and set(srcs) <= music_ids
    assert "va similarity" in r.text and "bridge cosine" in r.text and "label:mood=" in r.text
    assert r.text.count('class="pt audio"') == 4 and 'class="pt query"' in r.text
    assert 'id="generate-form"' in r.text  # moodbridge.jobs.generate exists (the hook in web/generation.py)
    # the same ranking as the job the command line calls
    from moodbridge.jobs.search import run_search

    job = run_search(items["chelsea.png"] and Path(chelsea.path).parent.parent.parent / "library", Path(chelsea.path),
                     to="music", top=4)
    assert srcs == [h.id for h in job.hits]


def test_music_and_text_pages(site, items):
    clip = next(it for it in items.values() if it.modality == "audio")
    r = site.get("/music", params={"item": clip.id})
    assert r.status_code == 200
    image_ids = {it.id for it in items.values() if it.modality == "image"}
    shown = {int(i) for i in re.findall(r'<a href="/item/(\d+)"><img src="/media/\d+"', r.text)}
    assert shown and shown <= image_ids
    assert f'src="/media/{clip.id}"' in r.text
    t = site.get("/text", params={"q": "a calm quiet evening by the sea"})
    assert t.status_code == 200
    assert 'class="hits music-hits"' in t.text and 'class="grid image-hits"' in t.text
    assert len(re.findall(r'<audio controls preload="metadata" src="/media/(\d+)"', t.text)) == 5


def test_library_plane_and_filters(site, items):
    r = site.get("/library")
    assert r.status_code == 200
    assert len(re.findall(r'<tr data-id="\d+">', r.text)) == len(items)
    assert r.text.count('class="pt audio"') == 8 and r.text.count('class="pt image"') == 6
    calm = site.get("/library", params={"modality": "audio", "label": "mood=calm"})
    rows = re.findall(r'<tr data-id="(\d+)">', calm.text)
    assert len(rows) == 2 and all(items_by_id(items)[int(i)].labels["mood"] == "calm" for i in rows)
    q4 = site.get("/library", params={"quadrant": "Q4"})
    assert all("Q4" in row for row in re.findall(r'<tr data-id="\d+">.*?</tr>', q4.text))
    assert site.get("/library", params={"quadrant": "Q9"}).status_code == 422
    one = next(iter(items.values()))
    page = site.get(f"/item/{one.id}")
    assert page.status_code == 200 and one.name in page.text


def items_by_id(items):
    return {it.id: it for it in items.values()}


def test_pair_viewer(site, web_library):
    r = site.get("/pairs")
    assert r.status_code == 200 and str(web_library["pairs"]) in r.text
    v = site.get("/pairs/0")
    assert v.status_code == 200
    assert 'id="pairs-plot"' in v.text and "data:image/png;base64," in v.text
    counts = [int(x) for x in re.findall(r"<td>(\d+)</td>", v.text.split('id="pairs-counts"')[1].split("</table>")[0])]
    import pandas as pd

    assert sum(counts) == len(pd.read_csv(web_library["pairs"] / "pairs.csv"))
    assert site.get("/pairs/7").status_code == 404


def test_media_by_id_only(site, items):
    photo = items["coffee.png"]
    r = site.get(f"/media/{photo.id}")
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert r.content == Path(photo.path).read_bytes()
    clip = next(it for it in items.values() if it.modality == "audio")
    a = site.get(f"/media/{clip.id}")
    assert a.status_code == 200 and a.headers["content-type"] == "audio/ogg"
    for bad in ("/media/0", "/media/99999", "/media/-1", "/media/coffee.png"):
        res = site.get(bad)
        assert res.status_code in (404, 422), bad
        no_trace(res.text)


@pytest.mark.parametrize("target", [
    "/media/../../../../etc/passwd",
    "/media/%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "/media/..%2f..%2f..%2fetc%2fpasswd",
    "/media//etc/passwd",
    "/media/%2Fetc%2Fpasswd",
    "/media/1/../../../etc/passwd",
    "/static/../app.py",
    "/static/..%2fapp.py",
    "/static/%2e%2e%2fapp.py",
    "/static//etc/passwd",
    "/study/clip/..%2f..%2fstudy.json",
])
def test_path_traversal_is_refused(site, target):
    port = int(str(site.base_url).rsplit(":", 1)[1])
    status, body = raw_get(port, target)
    assert status in (400, 404), (target, status)
    assert b"root:" not in body and b"import" not in body and b"secret" not in body
    no_trace(body.decode("utf-8", "replace"))


def test_upload_of_a_real_photo(site, items, tmp_path):
    src = Path(items["rocket.jpg"].path)
    r = site.post("/image", files={"file": ("holiday.txt", src.read_bytes(), "text/plain")})  # name and type ignored
    assert r.status_code == 200
    assert len(re.findall(r'<audio controls preload="metadata" src="/media/(\d+)"', r.text)) == 5
    assert "data:image/jpeg;base64," in r.text


def test_upload_that_is_not_an_image(site, tmp_path):
    for name, data in (("photo.png", b"%PDF-1.4 not an image at all" * 10), ("song.jpg", b"\x00" * 5000),
                       ("a.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)):
        r = site.post("/image", files={"file": (name, data, "image/png")})
        assert r.status_code == 415, name
        assert "not an image" in r.text
        no_trace(r.text)
    empty = site.post("/image", files={"file": ("e.png", b"", "image/png")})
    assert empty.status_code == 400


def test_upload_of_100_mb_is_refused(site):
    """Declared 100 MB: refused from the header, before the body is read."""
    port = int(str(site.base_url).rsplit(":", 1)[1])
    boundary = "xyz"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.png\"\r\n"
            f"Content-Type: image/png\r\n\r\n").encode()
    size = 100 * 1024 * 1024
    with socket.create_connection(("127.0.0.1", port), timeout=60) as s:
        s.sendall((f"POST /image HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary={boundary}"
                   f"\r\nContent-Length: {size}\r\nConnection: close\r\n\r\n").encode() + head)
        sent = len(head)
        chunk = b"\x89PNG" + b"\x00" * (1 << 20)
        try:
            while sent < size:
                s.sendall(chunk[: min(len(chunk), size - sent)])
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        data = b""
        try:
            while part := s.recv(65536):
                data += part
        except ConnectionResetError:
            pass
    assert data.startswith(b"HTTP/1.1 413"), data[:200]
    assert b"larger than 2 MB" in data


def test_upload_just_over_the_limit_without_a_false_length(site):
    """A body a little over the 2 MB limit with an honest length: refused (413) while counting, not stored."""
    big = b"\x89PNG\r\n\x1a\n" + b"\x00" * (2 * 1024 * 1024 + 10)
    r = site.post("/image", files={"file": ("big.png", big, "image/png")})
    assert r.status_code == 413
    no_trace(r.text)


def test_researcher_pages_need_the_token(site):
    assert site.get("/research").status_code == 401
    assert site.get("/research", params={"token": "wrong"}).status_code == 403
    assert site.get("/research", headers={"X-Study-Token": "wrong"}).status_code == 403
    ok = site.get("/research", params={"token": TOKEN})
    assert ok.status_code == 200 and "No study is running" in ok.text
    with httpx.Client(base_url=str(site.base_url), cookies=ok.cookies) as again:
        assert again.get("/research").status_code == 200  # the cookie set by the token link
    assert site.get("/study").status_code == 404  # no study on this server
    assert site.get("/research/report", params={"token": "nope"}).status_code == 403


def test_a_crash_shows_a_clean_page(site, caplog):
    r = site.get("/pairs/1")  # the broken pair output: a KeyError inside the viewer
    assert r.status_code == 500
    assert "the details are in its log" in r.text
    no_trace(r.text)
    assert "KeyError" not in r.text and "clip_path" not in r.text
    j = site.get("/study/api/next", params={"pid": "x"})
    assert j.status_code == 404 and j.json()["status"] == 404


def test_security_headers_and_no_network_assets(site):
    r = site.get("/")
    assert "default-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["x-content-type-options"] == "nosniff"
    pages = [site.get(p).text for p in ("/", "/image", "/library", "/arc", "/text")]
    for text in pages:
        refs = re.findall(r'(?:src|href)="([^"]+)"', text)
        assert refs and all(not r.startswith(("http:", "https:", "//")) for r in refs)
    assert site.get("/static/app.js").headers["content-type"].startswith("text/javascript")


def test_browser_upload_shows_music_that_loads(site, items, tmp_path):
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (install Debian's chromium package)")
    with browser() as b:
        page = b.new_context(viewport={"width": 1200, "height": 900}, bypass_csp=True).new_page()
        page.goto(f"{site.base_url}/image")
        page.set_input_files("#upload", items["chelsea.png"].path)
        page.click("#upload-go")
        page.wait_for_selector("#result", timeout=120_000)
        page.wait_for_function("Array.from(document.querySelectorAll('audio')).length > 0 && "
                               "Array.from(document.querySelectorAll('audio')).every(a => a.readyState >= 1 || a.error)",
                               timeout=60_000)
        audio = page.evaluate("Array.from(document.querySelectorAll('audio'))"
                              ".map(a => [a.readyState, a.duration, a.error && a.error.code])")
        query = page.evaluate("document.querySelector('.query-img').naturalWidth")
        shot = save_screenshot(page, tmp_path, "web-image-to-music.png")
        page.goto(f"{site.base_url}/library")
        points = page.evaluate("document.querySelectorAll('#library-plane circle.pt').length")
        save_screenshot(page, tmp_path, "web-library.png")
        page.click("#library-plane circle.pt >> nth=-1")
        page.wait_for_url(re.compile(r"/item/\d+$"))
        page.goto(f"{site.base_url}/text?q=a+quiet+morning+by+the+sea")
        save_screenshot(page, tmp_path, "web-text.png")
    assert len(audio) == 5
    assert all(state >= 1 and duration > 0 and err is None for state, duration, err in audio), audio
    assert query > 0 and points == 14
    assert Image.open(shot).size[0] >= 1000


def test_templates_and_static_files_are_package_data():
    """A wheel carries every template and static file: each matches a package-data pattern of pyproject.toml."""
    import fnmatch
    import tomllib

    import moodbridge.web

    root = Path(__file__).resolve().parents[1]
    patterns = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["moodbridge"]
    web = Path(moodbridge.web.__file__).parent
    files = [p for d in ("templates", "static") for p in (web / d).rglob("*") if p.is_file()]
    assert len(files) >= 10
    for f in files:
        rel = f.relative_to(web.parent).as_posix()
        assert any(fnmatch.fnmatch(rel, pat.replace("**/", "*")) for pat in patterns), rel


def test_generation_hook(site, items):
    """Not installed: the page says so and ``POST /generate`` refuses; installed: a WAV to play, MIDI and WAV to fetch."""
    from moodbridge.web.generation import generation_available

    chelsea = items["chelsea.png"]
    for bad in ("/generated/../../etc/passwd", "/generated/zz/wav", "/generated/" + "a" * 24 + "/wav"):
        assert site.get(bad).status_code == 404, bad
    r = site.post("/generate", data={"item": chelsea.id})
    if not generation_available():
        assert r.status_code == 404 and "generation not installed" in r.text
        assert 'id="generate-form"' not in site.get("/image", params={"item": chelsea.id}).text
        return
    assert 'id="generate-form"' in site.get("/image", params={"item": chelsea.id}).text
    assert r.status_code == 200
    key = re.search(r'src="/generated/([0-9a-f]+)/wav"', r.text).group(1)
    wav = site.get(f"/generated/{key}/wav")
    midi = site.get(f"/generated/{key}/midi")
    assert wav.status_code == 200 and wav.content[:4] == b"RIFF"
    assert midi.status_code == 200 and midi.content[:4] == b"MThd"
    assert site.post("/generate", data={"item": 99999}).status_code == 404
    assert site.post("/generate", data={"upload": "../../etc"}).status_code == 404
