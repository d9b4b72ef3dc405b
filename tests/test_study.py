"""EMID's 4-choice study end to end: real participants in Chromium, a killed server, refused answers, the report.

A real server (uvicorn on 127.0.0.1, or ``moodbridge serve`` in a subprocess
for the kill test) over the small real library of :mod:`weblib`; two
participants answer a 6-trial study in two browser contexts of Debian's
headless Chromium, one of them reloading mid-way; the report and the CSV
export must then hold exactly the answers they clicked.
"""
from __future__ import annotations

import csv
import io
import json
import re
import threading
from pathlib import Path

import httpx
import pytest

from moodbridge.jobs.study import StudySession, create_study, export_answers, report_study
from moodbridge.web import WebConfig
from webserver import CHROMIUM, ServeProcess, browser, save_screenshot, thread_server

TOKEN = "study-token-456"
CLIP_SECONDS = 0.6


@pytest.fixture(scope="module")
def six(web_library, tmp_path_factory) -> Path:
    """A 6-trial study: 4 image-to-music trials (one per mood; four clips each) and 2 catch trials."""
    out = tmp_path_factory.mktemp("studies") / "six"
    result = create_study(web_library["pairs"], out, direction="image-to-music", trials_per_category=1,
                          catch_trials=2, clip_seconds=CLIP_SECONDS, seed=3)
    assert result.study is not None and len(result.study.trials) == 6
    return out


@pytest.fixture(scope="module")
def both(web_library, tmp_path_factory) -> Path:
    """Both directions and both conditions (EMID pairs at α 0.6 and the α = 1 baseline)."""
    out = tmp_path_factory.mktemp("studies") / "both"
    create_study(web_library["pairs"], out, baseline_pairs=web_library["baseline"], direction="both",
                 trials_per_category=1, catch_trials=2, clip_seconds=0.3, seed=5)
    return out


def study_json(folder: Path) -> dict:
    return json.loads((folder / "study.json").read_text())


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


# -- the design ---------------------------------------------------------------------------
def test_trials_follow_emid_and_conditions_are_balanced(both):
    data = study_json(both)
    trials = data["trials"]
    main = [t for t in trials if t["direction"] != "catch"]
    # 4 moods x 2 directions x 2 conditions, and 2 catch trials
    assert len(main) == 16 and sum(t["direction"] == "catch" for t in trials) == 2
    for cond in ("aligned", "baseline"):
        for d in ("music-to-image", "image-to-music"):
            cats = sorted(t["category"] for t in main if t["condition"] == cond and t["direction"] == d)
            assert cats == ["calm", "energetic", "happy", "tender"], (cond, d)
    for t in main:  # the options stand for four different music emotion categories, the answer for the clip's
        assert len(t["options"]) == 4 and len({o["category"] for o in t["options"]}) == 4
        assert t["options"][t["correct"]]["category"] == t["category"]
    for t in (t for t in trials if t["direction"] == "catch"):
        assert t["options"][t["correct"]]["item"] == t["images"][0]
    assert data["parameters"]["alphas"] == {"aligned": 0.6, "baseline": 1.0}


def test_every_participant_gets_the_same_trials_in_their_own_stored_order(both):
    session = StudySession(both)
    try:
        a, b = session.store.start("pa"), session.store.start("pb")
        again = session.store.start("pa")  # idempotent: the stored order, not a new one
        ids = [t.id for t in session.study.trials]
        assert sorted(a.order) == sorted(b.order) == sorted(ids)
        assert a.order != b.order and a.seed != b.seed
        assert again.order == a.order and again.seed == a.seed and again.permutations == a.permutations
        assert all(sorted(p) == [0, 1, 2, 3] for p in a.permutations.values())
    finally:
        session.close()


# -- refused answers (HTTP) ----------------------------------------------------------------
@pytest.fixture(scope="module")
def both_site(web_library, both):
    config = WebConfig(library=web_library["library"], study=both, token=TOKEN)
    with thread_server(config) as url:
        with httpx.Client(base_url=url, timeout=60) as client:
            yield client


def test_answers_are_validated(both_site, both):
    c = both_site
    t = c.post("/study/api/start", json={"pid": "val-1"}).json()
    assert t["done"] is False and len(t["options"]) == 4
    forged = c.post("/study/api/answer", json={"pid": "val-1", "trial": "t999", "choice": 0})
    assert forged.status_code == 400 and "not one of this participant's trials" in forged.json()["error"]
    for bad in (4, -1, "1", 1.5, True, None, [0]):
        r = c.post("/study/api/answer", json={"pid": "val-1", "trial": t["trial"], "choice": bad})
        assert r.status_code == 400, bad
        assert "choice" in r.json()["error"]
    bad_rt = c.post("/study/api/answer", json={"pid": "val-1", "trial": t["trial"], "choice": 0, "rt_ms": "soon"})
    assert bad_rt.status_code == 400
    first = c.post("/study/api/answer", json={"pid": "val-1", "trial": t["trial"], "choice": 2, "rt_ms": 812})
    assert first.status_code == 200 and first.json()["trial"] != t["trial"] and first.json()["answered"] == 1
    twice = c.post("/study/api/answer", json={"pid": "val-1", "trial": t["trial"], "choice": 1})
    assert twice.status_code == 409 and "already answered" in twice.json()["error"]
    stranger = c.post("/study/api/answer", json={"pid": "nobody", "trial": t["trial"], "choice": 0})
    assert stranger.status_code == 404
    for pid in ("../etc", "a" * 65, "", "x y", 7):
        assert c.post("/study/api/answer", json={"pid": pid, "trial": t["trial"], "choice": 0}).status_code == 400
    assert c.post("/study/api/answer", content=b"{not json", headers={"content-type": "application/json"}
                  ).status_code == 422
    export = c.get("/research/export.csv", params={"token": TOKEN})
    mine = [r for r in rows_of(export.text) if r["participant"] == "val-1"]
    assert len(mine) == 1 and mine[0]["trial"] == t["trial"] and mine[0]["choice"] == "3"  # 1-4 as shown
    assert mine[0]["rt_ms"] == "812.0"


def test_forged_trial_ids_are_refused(both_site, both):
    """Only an id of this study's trial set counts; look-alikes and other types are refused (400)."""
    ids = {t["id"] for t in study_json(both)["trials"]}
    assert ids == {f"t{n:03d}" for n in range(1, 19)}
    assert both_site.post("/study/api/start", json={"pid": "val-2"}).status_code == 200
    for forged in ("t000", "t019", "T001", "t001 ", "../t001", {"id": "t001"}, 1, None):
        res = both_site.post("/study/api/answer", json={"pid": "val-2", "trial": forged, "choice": 0})
        assert res.status_code == 400, forged
    assert both_site.get("/study/api/next", params={"pid": "val-2"}).json()["answered"] == 0


def test_researcher_pages_of_a_study_need_the_token(both_site):
    for page in ("/research", "/research/report", "/research/export.csv", "/research/plot/accuracy.png"):
        assert both_site.get(page).status_code == 401, page
        assert both_site.get(page, params={"token": "wrong"}).status_code == 403, page
        assert both_site.get(page, headers={"X-Study-Token": TOKEN}).status_code == 200, page
    assert both_site.post("/research/create", data={"pairs": 0, "name": "x"}).status_code == 401
    page = both_site.get("/study", params={"pid": "who-1"})
    assert page.status_code == 200 and "who-1" in page.text and TOKEN not in page.text
    assert both_site.get("/study", follow_redirects=False).headers["location"].startswith("/study?pid=p-")


def test_only_the_study_clips_are_served(both_site, both, web_library):
    data = study_json(both)
    clips = {i for t in data["trials"] for i in ([o["item"] for o in t["options"]] if t["direction"] ==
                                                  "image-to-music" else [t["clip"]])}
    some = min(clips)
    r = both_site.get(f"/study/clip/{some}")
    assert r.status_code == 200 and r.headers["content-type"] == "audio/wav" and r.content[:4] == b"RIFF"
    from moodbridge.library import Library

    with Library.open(web_library["library"]) as lib:
        images = [it.id for it in lib.items(modality="image")]
    assert both_site.get(f"/study/clip/{images[0]}").status_code == 404
    assert both_site.get("/study/clip/0").status_code == 404


# -- two participants in Chromium, one reloading -------------------------------------------
LOCK_STATE = ("(() => ({unheard: Array.from(document.querySelectorAll('#trial audio')).filter(a => !a.ended).length,"
              " locked: Array.from(document.querySelectorAll('button.choose')).every(b => b.disabled)}))()")


def _answer_in_browser(page, *, miss_catch: bool, log: list[dict]) -> None:
    """Answer the trial on screen: play every clip to the end, check the buttons stayed locked, choose."""
    page.wait_for_selector("#study[data-state='trial'] button.choose", timeout=30_000)
    trial = page.get_attribute("#study", "data-trial")
    options = page.locator("#options .option")
    assert options.count() == 4
    kinds = page.evaluate("Array.from(document.querySelectorAll('#options .option')).map(o => "
                          "o.querySelector('audio') ? 'audio' : 'image')")
    n_audio = page.locator("#trial audio").count()
    # the answer buttons stay locked while a clip of the trial has not played to its end
    players = page.locator("#trial button.play")
    if page.evaluate("(() => { const a = document.querySelector('#trial audio'); return a.paused && !a.ended; })()"):
        players.nth(0).click()  # the page autoplays the first clip; where the browser blocked it, a user gesture
    if n_audio > 1:  # the first clip heard to its end, the other three not yet: still locked
        page.wait_for_function("document.querySelector('#trial audio').ended", timeout=30_000)
        state = page.evaluate(LOCK_STATE)
        assert state["unheard"] == n_audio - 1 and state["locked"], state
        for i in range(1, n_audio):
            players.nth(i).click()
    page.wait_for_selector("button.choose:not([disabled])", timeout=30_000)
    assert page.evaluate(LOCK_STATE)["unheard"] == 0  # unlocked only once every clip has ended
    catch = page.evaluate("document.getElementById('instruction').textContent.includes('identical')")
    choice = len(log) % 4
    if catch:
        probe = page.get_attribute("#prompt .prompt-images img", "src")
        srcs = page.evaluate("Array.from(document.querySelectorAll('#options .option img')).map(i => i.getAttribute('src'))")
        right = srcs.index(probe)
        choice = (right + 1) % 4 if miss_catch else right
    log.append({"trial": trial, "choice": choice, "catch": catch, "kinds": kinds, "audio": n_audio})
    with page.expect_response("**/study/api/answer") as resp:
        page.click(f"button.choose[data-index='{choice}']")
    assert resp.value.status == 200
    page.wait_for_function(f"document.getElementById('study').dataset.trial !== '{trial}' || "
                           "document.getElementById('study').dataset.state === 'done'", timeout=30_000)


def test_two_participants_in_chromium_one_reloading(web_library, six, tmp_path):
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (install Debian's chromium package)")
    config = WebConfig(library=web_library["library"], study=six, token=TOKEN)
    logs: dict[str, list[dict]] = {"ana": [], "ben": []}
    codes = {}
    with thread_server(config) as url, browser() as b:
        # bypass_csp: Playwright's wait_for_function evaluates strings, which the app's CSP (no eval) forbids
        pages = {pid: b.new_context(viewport={"width": 1100, "height": 900}, bypass_csp=True).new_page() for pid in logs}
        for pid, page in pages.items():
            page.goto(f"{url}/study?pid={pid}")
            assert page.get_attribute("#study", "data-state") == "consent"
        save_screenshot(pages["ana"], tmp_path, "study-consent.png")
        for page in pages.values():
            page.click("#start")
        # interleaved: ana and ben answer turn about; ben reloads after his third answer
        for step in range(6):
            for pid, page in pages.items():
                if pid == "ben" and step == 3:
                    shown = page.get_attribute("#study", "data-trial")
                    page.reload()
                    assert "continue (3 of 6 answered)" in page.inner_text("#start")
                    page.click("#start")
                    page.wait_for_selector("#study[data-state='trial']")
                    assert page.get_attribute("#study", "data-trial") == shown  # where he stopped
                    # an answer already saved cannot be given again, whatever the page sends
                    again = page.request.post(f"{url}/study/api/answer",
                                              data={"pid": "ben", "trial": logs["ben"][0]["trial"], "choice": 0})
                    assert again.status == 409
                if step == 1 and pid == "ana":
                    save_screenshot(page, tmp_path, "study-trial.png")
                _answer_in_browser(page, miss_catch=(pid == "ben"), log=logs[pid])
        for pid, page in pages.items():
            page.wait_for_selector("#study[data-state='done']")
            codes[pid] = page.inner_text("#code")
        save_screenshot(pages["ana"], tmp_path, "study-done.png")
        report_page = pages["ana"].context.new_page()
        report_page.goto(f"{url}/research/report?token={TOKEN}")
        report_page.wait_for_function("document.getElementById('plot-accuracy').naturalWidth > 0")
        save_screenshot(report_page, tmp_path, "study-report.png")
        report_html = report_page.content()
        export = httpx.get(f"{url}/research/export.csv", params={"token": TOKEN}).text

    data = study_json(six)
    trials = {t["id"]: t for t in data["trials"]}
    for pid, log in logs.items():
        assert sorted(e["trial"] for e in log) == sorted(trials)  # each trial once
        assert sum(e["catch"] for e in log) == 2
        for e in log:
            if not e["catch"]:  # image-to-music: four clips, all heard
                assert e["kinds"] == ["audio"] * 4 and e["audio"] == 4
    assert re.fullmatch(r"[0-9A-F]{8}", codes["ana"]) and codes["ana"] != codes["ben"]

    rows = rows_of(export)
    assert len(rows) == 12
    for pid, log in logs.items():
        mine = [r for r in rows if r["participant"] == pid]
        assert [(r["trial"], int(r["choice"]) - 1) for r in mine] == [(e["trial"], e["choice"]) for e in log]
        for r in mine:
            shown = [int(r[f"option_{k}"]) for k in range(1, 5)]
            t = trials[r["trial"]]
            assert sorted(shown) == sorted(o["item"] for o in t["options"])
            assert int(r["chosen_item"]) == shown[int(r["choice"]) - 1]
            assert r["correct"] == str(int(int(r["chosen_item"]) == t["options"][t["correct"]]["item"]))
            assert r["rt_ms"] != "" and float(r["rt_ms"]) >= 0
        assert all(r["excluded"] == ("1" if pid == "ben" else "0") for r in mine)

    # the report: ben missed his catch trials (excluded, listed), so the table holds exactly ana's 4 answers
    ana_main = [r for r in rows if r["participant"] == "ana" and r["direction"] != "catch"]
    cell = re.search(r'<tr data-group="all / overall" data-answers="(\d+)" data-correct="(\d+)">', report_html)
    assert cell and (int(cell.group(1)), int(cell.group(2))) == (4, sum(r["correct"] == "1" for r in ana_main))
    assert re.search(r"<li>ben: 0 of 2 catch trials passed</li>", report_html)
    assert 'data-pid="ana" data-answered="6"' in report_html and 'data-pid="ben" data-answered="6"' in report_html

    # the command line's jobs read the same store
    rep = report_study(six, tmp_path / "report").report
    assert rep is not None and rep.answers == 12 and [e["participant"] for e in rep.excluded] == ["ben"]
    files = export_answers(six, tmp_path / "export").files
    assert rows_of(files["csv"].read_text()) == rows


# -- a server killed with SIGKILL mid-study ------------------------------------------------
def test_sigkill_mid_study_loses_no_saved_answer(web_library, both):
    """Participants answer while the server is SIGKILLed; after a restart every acknowledged answer is there."""
    server = ServeProcess(str(web_library["library"]), "--study", str(both)).start()
    acked: list[tuple[str, str, int]] = []
    stop = threading.Event()

    def participant(pid: str) -> None:
        with httpx.Client(base_url=server.url, timeout=10) as c:
            try:
                t = c.post("/study/api/start", json={"pid": pid}).json()
                while not t["done"] and not stop.is_set():
                    choice = len(acked) % 4
                    r = c.post("/study/api/answer", json={"pid": pid, "trial": t["trial"], "choice": choice})
                    if r.status_code != 200:
                        return
                    acked.append((pid, t["trial"], choice))
                    t = r.json()
            except httpx.HTTPError:  # the server died under us
                return

    try:
        threads = [threading.Thread(target=participant, args=(f"kill-{i}",)) for i in range(3)]
        for th in threads:
            th.start()
        import time

        deadline = time.monotonic() + 60
        while len(acked) < 12 and time.monotonic() < deadline:
            time.sleep(0.02)
        server.kill()  # SIGKILL: no shutdown, no flush
        stop.set()
        for th in threads:
            th.join(30)
        assert 12 <= len(acked) < 3 * 18
        before = list(acked)
        server.token = None
        server.start()
        with httpx.Client(base_url=server.url, timeout=30) as c:
            stored = rows_of(c.get("/research/export.csv", params={"token": server.token}).text)
            keyed = {(r["participant"], r["trial"]): int(r["choice"]) - 1 for r in stored if r["participant"].startswith("kill-")}
            for pid, trial, choice in before:  # every acknowledged answer survived, as given
                assert keyed[(pid, trial)] == choice
            assert len(keyed) - len(before) <= 3  # at most one in flight per participant
            # each continues at their first unanswered trial and finishes; nothing is asked twice
            for i in range(3):
                pid = f"kill-{i}"
                t = c.get("/study/api/next", params={"pid": pid}).json()
                assert t["answered"] == sum(1 for (p, _) in keyed if p == pid)
                seen = {tr for (p, tr) in keyed if p == pid}
                while not t["done"]:
                    assert t["trial"] not in seen
                    seen.add(t["trial"])
                    r = c.post("/study/api/answer", json={"pid": pid, "trial": t["trial"], "choice": 0})
                    assert r.status_code == 200
                    t = r.json()
                assert len(seen) == 18 and re.fullmatch(r"[0-9A-F]{8}", t["code"])
            final = rows_of(c.get("/research/export.csv", params={"token": server.token}).text)
            assert len([r for r in final if r["participant"].startswith("kill-")]) == 3 * 18
    finally:
        stop.set()
        server.stop()


# -- the commands --------------------------------------------------------------------------
def run_cli(*args: str) -> "subprocess.CompletedProcess[str]":
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "moodbridge", "study", *args], capture_output=True, text=True,
                          timeout=300)


def test_study_commands(web_library, tmp_path):
    out = tmp_path / "cli-study"
    made = run_cli("create", "--pairs", str(web_library["pairs"]), "--baseline-pairs", str(web_library["baseline"]),
                   "--direction", "music-to-image", "--trials-per-category", "1", "--clip-seconds", "0.3",
                   "--out", str(out), "--json")
    assert made.returncode == 0, made.stderr[-2000:]
    info = json.loads(made.stdout)
    assert info["trials"] == 10 and info["by_group"] == {"aligned / music-to-image": 4,
                                                         "baseline / music-to-image": 4, "catch": 2}
    again = run_cli("create", "--pairs", str(web_library["pairs"]), "--out", str(out))
    assert again.returncode == 1 and "never overwritten" in again.stderr and "Traceback" not in again.stderr
    notpairs = run_cli("create", "--pairs", str(tmp_path), "--out", str(tmp_path / "x"))
    assert notpairs.returncode == 1 and "not a 'moodbridge pair' output" in notpairs.stderr
    session = StudySession(out)
    try:  # two participants, both conditions: the paired comparison has two rows
        for pid, pick in (("c1", 0), ("c2", 1)):
            session.store.start(pid)
            while (nxt := session.store.next_trial(pid)) is not None:
                session.store.answer(pid, nxt[0].id, nxt[1].index(nxt[0].correct) if nxt[0].is_catch else pick)
    finally:
        session.close()
    rep = run_cli("report", str(out), "--json")
    assert rep.returncode == 0, rep.stderr[-2000:]
    data = json.loads(rep.stdout)
    assert data["answers"] == 20 and data["excluded"] == [] and data["paired"]["participants"] == 2
    assert Path(data["files"]["accuracy"]).read_bytes()[:4] == b"\x89PNG"
    exp = run_cli("export", str(out), "--out", str(tmp_path / "exp"))
    assert exp.returncode == 0 and len(rows_of((tmp_path / "exp" / "answers.csv").read_text())) == 20
