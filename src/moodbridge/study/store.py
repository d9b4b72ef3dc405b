"""Participants and answers of a study, in the library's SQLite catalogue, one transaction per change.

Two tables beside the catalogue's own (``catalogue.sqlite``, WAL journal,
``synchronous=FULL`` on this connection, so a committed answer survives a
killed server and a power cut):

``study_participants``
    one row per (study, participant): the seed of their order, the order
    itself (trial ids, and each trial's option permutation), when they
    started, the trial on screen and since when, when they finished and
    their completion code.
``study_answers``
    one row per (study, participant, trial) — the primary key, so an answer
    is stored once and a second submission is refused
    (:class:`DuplicateAnswerError`) — with the condition, direction,
    category, the options in the order shown, the choice, whether it was
    correct, the time from the end of the audio to the answer, and the
    server's timestamps.

Each :meth:`StudyStore.answer` runs in one ``BEGIN IMMEDIATE`` transaction
that checks and writes; it is committed before the next trial is sent.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from moodbridge.errors import InvalidValueError, MoodbridgeError
from moodbridge.study.design import OPTIONS, Study, Trial

__all__ = [
    "Answer", "DuplicateAnswerError", "PID_PATTERN", "Participant", "StudyStore", "UnknownParticipantError",
    "check_pid",
]

PID_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS study_participants (
    study TEXT NOT NULL,
    pid TEXT NOT NULL,
    seed INTEGER NOT NULL,
    plan TEXT NOT NULL,
    started_at REAL NOT NULL,
    current_trial TEXT,
    shown_at REAL,
    finished_at REAL,
    code TEXT,
    PRIMARY KEY (study, pid)
);
CREATE TABLE IF NOT EXISTS study_answers (
    study TEXT NOT NULL,
    pid TEXT NOT NULL,
    trial TEXT NOT NULL,
    position INTEGER NOT NULL,
    condition TEXT NOT NULL,
    direction TEXT NOT NULL,
    category TEXT NOT NULL,
    options TEXT NOT NULL,
    choice INTEGER NOT NULL,
    chosen_item INTEGER NOT NULL,
    correct_item INTEGER NOT NULL,
    correct INTEGER NOT NULL,
    rt_ms REAL,
    shown_at REAL,
    answered_at REAL NOT NULL,
    PRIMARY KEY (study, pid, trial)
);
"""


class DuplicateAnswerError(MoodbridgeError):
    """The participant has already answered this trial."""


class UnknownParticipantError(MoodbridgeError):
    """No participant of that id has started the study."""


def check_pid(pid: Any) -> str:
    """A participant id: 1-64 letters, digits, ``_``, ``.``, ``-``."""
    if not isinstance(pid, str) or not PID_PATTERN.match(pid):
        raise InvalidValueError("a participant id has 1-64 letters, digits, '_', '.' or '-'")
    return pid


@dataclass(frozen=True)
class Participant:
    """A participant's plan and progress."""

    pid: str
    seed: int
    order: list[str]
    permutations: dict[str, list[int]]
    started_at: float
    answered: int
    finished_at: float | None
    code: str | None
    current_trial: str | None = None


@dataclass(frozen=True)
class Answer:
    """One stored answer (a row of ``study_answers``)."""

    pid: str
    trial: str
    position: int
    condition: str
    direction: str
    category: str
    options: list[int]
    choice: int
    chosen_item: int
    correct_item: int
    correct: bool
    rt_ms: float | None
    shown_at: float | None
    answered_at: float


class StudyStore:
    """The study tables of one library catalogue, safe to use from many threads (one connection per thread)."""

    def __init__(self, catalogue: str | Path, study: Study) -> None:
        self.path = Path(catalogue)
        self.study = study
        self._trials = {t.id: t for t in study.trials}
        self._local = threading.local()
        # one writer at a time inside this process: threads queue on the lock instead of polling SQLite's busy
        # handler (whose back-off lets some writers starve for seconds under many participants)
        self._write = threading.Lock()
        self._conn().executescript(_SCHEMA)

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=60.0, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA busy_timeout=60000")
            self._local.conn = conn
        return conn

    def _tx(self) -> "_Tx":
        return _Tx(self._conn(), self._write)

    # -- participants ----------------------------------------------------------------------
    def start(self, pid: str, *, seed: int | None = None) -> Participant:
        """The participant ``pid``, created with a fresh seeded order if new (idempotent)."""
        pid = check_pid(pid)
        seed = secrets.randbits(62) if seed is None else int(seed)
        rng = np.random.default_rng(seed)
        ids = [t.id for t in self.study.trials]
        order = [ids[i] for i in rng.permutation(len(ids))]
        perms = {tid: [int(x) for x in rng.permutation(OPTIONS)] for tid in order}
        with self._tx() as conn:
            conn.execute("INSERT OR IGNORE INTO study_participants(study, pid, seed, plan, started_at)"
                         " VALUES (?, ?, ?, ?, ?)",
                         (self.study.id, pid, seed, json.dumps({"order": order, "permutations": perms}), time.time()))
        return self.participant(pid)

    def participant(self, pid: str) -> Participant:
        """A participant who has started.

        Raises
        ------
        UnknownParticipantError
            If ``pid`` has not started.
        """
        row = self._conn().execute(
            "SELECT seed, plan, started_at, finished_at, code, current_trial FROM study_participants"
            " WHERE study=? AND pid=?",
            (self.study.id, check_pid(pid))).fetchone()
        if row is None:
            raise UnknownParticipantError(f"participant {pid!r} has not started this study")
        plan = json.loads(row[1])
        n = self._conn().execute("SELECT COUNT(*) FROM study_answers WHERE study=? AND pid=?",
                                 (self.study.id, pid)).fetchone()[0]
        return Participant(pid, int(row[0]), plan["order"], plan["permutations"], float(row[2]), int(n),
                           row[3], row[4], row[5])

    def participants(self) -> list[Participant]:
        rows = self._conn().execute("SELECT pid FROM study_participants WHERE study=? ORDER BY started_at, pid",
                                    (self.study.id,)).fetchall()
        return [self.participant(r[0]) for r in rows]

    def next_trial(self, pid: str) -> tuple[Trial, list[int], int] | None:
        """(trial, option permutation, position) the participant sees now, or ``None`` when done.

        The first unanswered trial of their order; its ``shown_at`` is recorded once (by :meth:`answer`
        for the trial after an answer, in the answer's own transaction).
        """
        p = self.participant(pid)
        done = {r[0] for r in self._conn().execute("SELECT trial FROM study_answers WHERE study=? AND pid=?",
                                                   (self.study.id, pid))}
        for pos, tid in enumerate(p.order):
            if tid not in done:
                if p.current_trial == tid:
                    return self._trials[tid], p.permutations[tid], pos
                with self._tx() as conn:
                    conn.execute("UPDATE study_participants SET current_trial=?, shown_at=? WHERE study=? AND pid=?"
                                 " AND (current_trial IS NULL OR current_trial != ?)",
                                 (tid, time.time(), self.study.id, pid, tid))
                return self._trials[tid], p.permutations[tid], pos
        return None

    def completion_code(self, pid: str) -> str:
        """Eight characters derived from the study's secret and the participant id."""
        return hmac.new(self.study.secret.encode(), pid.encode(), hashlib.sha256).hexdigest()[:8].upper()

    # -- answers ---------------------------------------------------------------------------
    def answer(self, pid: str, trial_id: str, choice: Any, *, rt_ms: Any = None) -> Answer:
        """Store the participant's choice (an index into the options *as shown*) in one transaction.

        Raises
        ------
        UnknownParticipantError
            ``pid`` has not started.
        InvalidValueError
            ``trial_id`` is not in the participant's set, or ``choice`` is not one of the four options.
        DuplicateAnswerError
            The trial was already answered.
        """
        p = self.participant(pid)
        trial = self._trials.get(trial_id) if isinstance(trial_id, str) else None
        if trial is None or trial_id not in p.permutations:
            raise InvalidValueError(f"trial {str(trial_id)[:40]!r} is not one of this participant's trials")
        if isinstance(choice, bool) or not isinstance(choice, int) or not 0 <= choice < OPTIONS:
            raise InvalidValueError(f"the choice must be 0-{OPTIONS - 1}, got {str(choice)[:20]!r}")
        rt = None
        if rt_ms is not None:
            try:
                rt = float(rt_ms)
            except (TypeError, ValueError):
                raise InvalidValueError("rt_ms must be a number of milliseconds") from None
            if not np.isfinite(rt) or rt < 0:
                raise InvalidValueError("rt_ms must be a non-negative number of milliseconds")
        perm = p.permutations[trial_id]
        shown = [trial.options[i].item for i in perm]
        correct_item = trial.options[trial.correct].item
        now = time.time()
        position = p.order.index(trial_id)
        with self._tx() as conn:
            row = conn.execute("SELECT shown_at, current_trial FROM study_participants WHERE study=? AND pid=?",
                               (self.study.id, pid)).fetchone()
            shown_at = row[0] if row and row[1] == trial_id else None
            try:
                conn.execute(
                    "INSERT INTO study_answers VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (self.study.id, pid, trial_id, position, trial.condition, trial.direction, trial.category,
                     json.dumps(shown), choice, shown[choice], correct_item, int(shown[choice] == correct_item),
                     rt, shown_at, now))
            except sqlite3.IntegrityError:
                raise DuplicateAnswerError(f"trial {trial_id} was already answered") from None
            done = {r[0] for r in conn.execute("SELECT trial FROM study_answers WHERE study=? AND pid=?",
                                               (self.study.id, pid))}
            following = next((t for t in p.order if t not in done), None)
            if following is None:
                conn.execute("UPDATE study_participants SET finished_at=?, code=?, current_trial=NULL"
                             " WHERE study=? AND pid=?", (now, self.completion_code(pid), self.study.id, pid))
            else:  # the trial shown next: its shown_at in this one commit (one fsync per answer)
                conn.execute("UPDATE study_participants SET current_trial=?, shown_at=? WHERE study=? AND pid=?",
                             (following, now, self.study.id, pid))
        return Answer(pid, trial_id, position, trial.condition, trial.direction, trial.category, shown, choice,
                      shown[choice], correct_item, shown[choice] == correct_item, rt, shown_at, now)

    def answers(self) -> list[Answer]:
        """Every stored answer of the study, by participant then position."""
        rows = self._conn().execute(
            "SELECT pid, trial, position, condition, direction, category, options, choice, chosen_item, correct_item,"
            " correct, rt_ms, shown_at, answered_at FROM study_answers WHERE study=? ORDER BY pid, position",
            (self.study.id,)).fetchall()
        return [Answer(r[0], r[1], int(r[2]), r[3], r[4], r[5], json.loads(r[6]), int(r[7]), int(r[8]), int(r[9]),
                       bool(r[10]), r[11], r[12], float(r[13])) for r in rows]

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None


class _Tx:
    """``BEGIN IMMEDIATE`` … ``COMMIT`` (``ROLLBACK`` on an exception), holding the store's write lock."""

    def __init__(self, conn: sqlite3.Connection, lock: threading.Lock) -> None:
        self.conn = conn
        self.lock = lock

    def __enter__(self) -> sqlite3.Connection:
        self.lock.acquire()
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except BaseException:
            self.lock.release()
            raise
        return self.conn

    def __exit__(self, exc_type: Any, *exc: Any) -> None:
        try:
            self.conn.execute("ROLLBACK" if exc_type else "COMMIT")
        finally:
            self.lock.release()
