"""Emotional arcs (the iso principle): the assignment, the command, and the page in a real Chromium.

The assignment's optimality is checked against brute force on synthetic points
(mechanics only); the command and the page run on the small real library of
:mod:`weblib`.
"""
from __future__ import annotations

import itertools
import json
import re
import subprocess
import sys

import httpx
import numpy as np
import pytest

from moodbridge.errors import InvalidValueError, LibraryError
from moodbridge.search.arc import build_arc, emotion_point, monotone_assignment
from moodbridge.web import WebConfig
from webserver import CHROMIUM, browser, save_screenshot, thread_server


def brute_force(targets: np.ndarray, va: np.ndarray, end: np.ndarray) -> float:
    best = np.inf
    d_end = np.linalg.norm(va - end, axis=1)
    for perm in itertools.permutations(range(len(va)), len(targets)):
        if all(d_end[perm[i]] >= d_end[perm[i + 1]] for i in range(len(perm) - 1)):
            best = min(best, float(np.linalg.norm(va[list(perm)] - targets, axis=1).sum()))
    return best


@pytest.mark.parametrize("seed", range(6))
def test_assignment_is_distinct_monotone_and_least_cost(seed):
    rng = np.random.default_rng(seed)
    va = rng.uniform(-1, 1, size=(7, 2))
    start, end = rng.uniform(-1, 1, 2), rng.uniform(-1, 1, 2)
    targets = start + (end - start) * np.linspace(0, 1, 4)[:, None]
    picks = monotone_assignment(targets, va, end)
    assert len(set(picks)) == 4
    d = np.linalg.norm(va[picks] - end, axis=1)
    assert np.all(np.diff(d) <= 1e-12)
    cost = float(np.linalg.norm(va[picks] - targets, axis=1).sum())
    assert cost == pytest.approx(brute_force(targets, va, end), abs=1e-9)


def test_too_few_items_and_bad_ends():
    with pytest.raises(InvalidValueError, match="at least 3 items"):
        monotone_assignment(np.zeros((3, 2)), np.zeros((2, 2)), np.zeros(2))
    assert emotion_point("0.5,-0.25")[0] == (0.5, -0.25)
    calm, how = emotion_point("calm")
    assert calm[1] < 0 and "calm" in how
    anxious, _ = emotion_point("anxious")
    assert anxious[0] < 0 < anxious[1]
    for bad in ("", "   ", "2,0", "0,nan"):
        with pytest.raises(InvalidValueError):
            emotion_point(bad)


def test_arc_command_writes_the_playlist(web_library, tmp_path):
    res = subprocess.run([sys.executable, "-m", "moodbridge", "arc", str(web_library["library"]), "--from", "anxious",
                          "--to", "calm", "--steps", "4", "--out", str(tmp_path / "arc"), "--json"],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    data = json.loads(res.stdout)
    steps = data["steps"]
    assert len(steps) == 4
    end = np.array(data["end"])
    for kind in ("music", "image"):
        d = [np.hypot(s[kind]["valence"] - end[0], s[kind]["arousal"] - end[1]) for s in steps]
        assert all(a >= b - 1e-9 for a, b in zip(d, d[1:])), (kind, d)
        assert len({s[kind]["id"] for s in steps}) == 4
    m3u = (tmp_path / "arc" / "arc.m3u").read_text().splitlines()
    assert m3u[0] == "#EXTM3U" and [l for l in m3u if not l.startswith("#")] == [s["music"]["path"] for s in steps]
    assert len((tmp_path / "arc" / "arc.csv").read_text().splitlines()) == 5
    too_many = subprocess.run([sys.executable, "-m", "moodbridge", "arc", str(web_library["library"]), "--from",
                               "sad", "--to", "happy", "--steps", "7"], capture_output=True, text=True, timeout=300)
    assert too_many.returncode == 1 and "needs 7 image items" in too_many.stderr
    assert "Traceback" not in too_many.stderr


def test_arc_page_in_chromium_moves_towards_the_end(web_library, tmp_path):
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (install Debian's chromium package)")
    with thread_server(WebConfig(library=web_library["library"])) as url, browser() as b:
        # bypass_csp: Playwright's wait_for_function evaluates strings, which the app's CSP (no eval) forbids
        page = b.new_context(viewport={"width": 1200, "height": 900}, bypass_csp=True).new_page()
        page.goto(f"{url}/arc")
        page.fill("#arc-from", "anxious")
        page.fill("#arc-to", "calm")
        page.fill("#arc-steps", "5")
        page.click("#arc-go")
        page.wait_for_selector("#arc-steps-list li.arc-step", timeout=120_000)
        steps = page.evaluate("Array.from(document.querySelectorAll('li.arc-step')).map(li => ["
                              "+li.dataset.musicValence, +li.dataset.musicArousal,"
                              "+li.dataset.imageValence, +li.dataset.imageArousal, li.querySelector('audio').src])")
        end = [float(x) for x in page.get_attribute("#arc", "data-end").split(",")]
        page.wait_for_function("Array.from(document.querySelectorAll('li.arc-step audio'))"
                               ".every(a => a.readyState >= 1)", timeout=60_000)
        page.click("#arc-play")  # play it through: the first step plays
        page.wait_for_function("document.querySelector('li.arc-step.playing audio') && "
                               "!document.querySelector('li.arc-step.playing audio').paused", timeout=30_000)
        playing = page.evaluate("document.querySelector('li.arc-step.playing').dataset.step")
        save_screenshot(page, tmp_path, "web-arc.png")
        page.click("#arc-stop")
        m3u = httpx.get(f"{url}{page.get_attribute('#export-m3u', 'href')}").text
        listed = json.loads(httpx.get(f"{url}{page.get_attribute('#export-json', 'href')}").text)
    assert len(steps) == 5 and playing == "0"
    for k in (0, 2):  # music, then images: each step no farther from the end than the one before
        d = [np.hypot(s[k] - end[0], s[k + 1] - end[1]) for s in steps]
        assert all(a >= b - 1e-9 for a, b in zip(d, d[1:])), d
    assert len({s[4] for s in steps}) == 5  # no clip repeated
    ids = [int(re.search(r"/media/(\d+)$", s[4]).group(1)) for s in steps]
    assert [s["music"]["id"] for s in listed["steps"]] == ids
    assert m3u.startswith("#EXTM3U") and m3u.count("#EXTINF") == 5


def test_arc_job_refuses_bad_steps(web_library):
    from moodbridge.library import Library

    with Library.open(web_library["library"]) as lib:
        for bad in (1, 65, 0):
            with pytest.raises(InvalidValueError):
                build_arc(lib, "sad", "happy", steps=bad)
        with pytest.raises(LibraryError, match="needs 8 audio items|needs 8 image items"):
            build_arc(lib, "sad", "happy", steps=8)
