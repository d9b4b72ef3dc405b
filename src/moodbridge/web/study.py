"""The study's pages: the participant flow (EMID Sec. 4.1.2) and the researcher's pages (token).

Participants need only their link (``/study?pid=…``, as recruitment panels
pass it; without one a random id is made and put in the URL).  The page shows
consent and instructions; its start button unlocks audio (browsers block
sound before a user gesture); then ``study.js`` shows one trial at a time from
``/study/api/next``, keeps the answer buttons disabled until every clip of
the trial has played to the end, and posts the answer to
``/study/api/answer``, which stores it (one transaction) before the next
trial is sent.  A reload or a return continues at the first unanswered trial;
a second answer to a trial is refused (409), as is a trial that is not the
participant's (400).

The researcher's pages (``/research…``) need the token printed at start-up.
"""
from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Body, Form, HTTPException, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from moodbridge.errors import InvalidValueError
from moodbridge.study.store import DuplicateAnswerError, UnknownParticipantError, check_pid
from moodbridge.web.templating import render
from moodbridge.web.safety import TOKEN_COOKIE, check_token

__all__ = ["router"]

router = APIRouter()


def _session(request: Request) -> Any:
    session = request.app.state.mb.session
    if session is None:
        raise HTTPException(404, "no study is running on this server (start it with 'moodbridge serve LIB --study STUDY')")
    return session


def _pid(pid: Any) -> str:
    try:
        return check_pid(pid)
    except InvalidValueError as exc:
        raise HTTPException(400, str(exc)) from None


def _trial_payload(session: Any, pid: str) -> dict[str, Any]:
    store = session.store
    p = store.participant(pid)
    nxt = store.next_trial(pid)
    if nxt is None:
        return {"done": True, "answered": p.answered, "total": len(p.order), "code": store.completion_code(pid)}
    trial, perm, pos = nxt
    shown = [trial.options[i] for i in perm]
    audio_options = trial.direction == "image-to-music"
    return {
        "done": False, "trial": trial.id, "position": pos + 1, "total": len(p.order), "answered": p.answered,
        "direction": trial.direction,
        "prompt": {"clip": None if trial.clip is None else f"/study/clip/{trial.clip}",
                   "images": [f"/media/{i}" for i in trial.images]},
        "options": [{"index": k, "kind": "audio" if audio_options else "image",
                     "src": f"/study/clip/{o.item}" if audio_options else f"/media/{o.item}"}
                    for k, o in enumerate(shown)],
    }


# -- participants --------------------------------------------------------------------------
@router.get("/study")
def study_page(request: Request, pid: str | None = None) -> Response:
    session = _session(request)
    if pid is None:
        return RedirectResponse(f"/study?pid=p-{secrets.token_hex(6)}", status_code=303)
    pid = _pid(pid)
    try:
        p = session.store.participant(pid)
        answered = p.answered
    except UnknownParticipantError:
        answered = None
    return render(request, "study.html", pid=pid, answered=answered, total=len(session.study.trials))


@router.post("/study/api/start")
def api_start(request: Request, body: dict[str, Any] = Body(...)) -> dict[str, Any]:
    session = _session(request)
    pid = _pid(body.get("pid"))
    session.store.start(pid)
    return _trial_payload(session, pid)


@router.get("/study/api/next")
def api_next(request: Request, pid: str) -> dict[str, Any]:
    session = _session(request)
    pid = _pid(pid)
    try:
        return _trial_payload(session, pid)
    except UnknownParticipantError as exc:
        raise HTTPException(404, str(exc)) from None


@router.post("/study/api/answer")
def api_answer(request: Request, body: dict[str, Any] = Body(...)) -> dict[str, Any]:
    """Store one answer, then send the next trial."""
    session = _session(request)
    pid = _pid(body.get("pid"))
    try:
        session.store.answer(pid, body.get("trial"), body.get("choice"), rt_ms=body.get("rt_ms"))
    except UnknownParticipantError as exc:
        raise HTTPException(404, str(exc)) from None
    except DuplicateAnswerError as exc:
        raise HTTPException(409, str(exc)) from None
    except InvalidValueError as exc:
        raise HTTPException(400, str(exc)) from None
    return _trial_payload(session, pid)


@router.get("/study/clip/{item_id}")
def clip(request: Request, item_id: int) -> Response:
    path = _session(request).stimulus(item_id)
    if path is None:
        raise HTTPException(404, "no such clip in this study")
    return FileResponse(path, media_type="audio/wav")


# -- researcher ----------------------------------------------------------------------------
def _researcher(request: Request) -> str | None:
    return check_token(request, request.app.state.mb.config.token)


def _with_cookie(response: Response, token: str | None) -> Response:
    if token:
        response.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="strict")
    return response


@router.get("/research")
def research(request: Request) -> Response:
    """Monitor: participants, progress, the participant link; create a study."""
    token = _researcher(request)
    st = request.app.state.mb
    session = st.session
    participants = session.store.participants() if session else []
    return _with_cookie(render(request, "research.html", session=session, participants=participants,
                               pairs=[str(p) for p in st.config.pairs], created=request.query_params.get("created")),
                        token)


@router.get("/research/report")
def research_report(request: Request) -> Response:
    token = _researcher(request)
    report = _session(request).report()
    return _with_cookie(render(request, "report.html", report=report, study=_session(request).study), token)


@router.get("/research/plot/{name}.png")
def research_plot(request: Request, name: str) -> Response:
    import tempfile

    from moodbridge.study.report import write_plots

    _researcher(request)
    if name not in ("accuracy", "categories"):
        raise HTTPException(404)
    report = _session(request).report()
    with tempfile.TemporaryDirectory() as tmp:
        data = write_plots(report, Path(tmp))[name].read_bytes()
    return Response(data, media_type="image/png")


@router.get("/research/export.csv")
def research_export(request: Request) -> Response:
    _researcher(request)
    session = _session(request)
    return Response(session.answers_csv(), media_type="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{session.study.id}-answers.csv"'})


@router.post("/research/create")
def research_create(request: Request, pairs: int = Form(...), baseline: int = Form(-1),
                    direction: str = Form("both"), trials_per_category: int = Form(7),
                    catch_trials: int = Form(2), clip_seconds: float = Form(10.0), name: str = Form(...)) -> Response:
    """Create a study from the pair outputs this server knows (by number) and run it here from now on."""
    from moodbridge.jobs.study import StudySession, create_study
    from moodbridge.validate import check_name

    _researcher(request)
    st = request.app.state.mb
    outputs = st.config.pairs
    if not 0 <= pairs < len(outputs) or not -1 <= baseline < len(outputs):
        raise HTTPException(400, "choose pair outputs from the list")
    try:
        name = check_name(name, "study names")
    except InvalidValueError as exc:
        raise HTTPException(400, str(exc)) from None
    out = st.library_root.parent / "studies" / name
    with st.heavy:
        result = create_study(outputs[pairs], out, baseline_pairs=outputs[baseline] if baseline >= 0 else None,
                              direction=direction, trials_per_category=trials_per_category,
                              catch_trials=catch_trials, clip_seconds=clip_seconds)
    old = st.session
    st.session = StudySession(out, st.library_root)
    request.app.state.templates.env.globals["study_enabled"] = True
    if old is not None:
        old.close()
    assert result.study is not None
    return RedirectResponse(f"/research?created={result.study.id}", status_code=303)
