"""EMID's 4-choice matching study (Sec. 4.1, Table 3, Fig. 6) with real participants.

=====================  ============================================================
module                 what it holds
=====================  ============================================================
:mod:`.design`         the trial set from a pairing (and its α = 1 baseline), catch trials, ``study.json``
:mod:`.stimuli`        the audio excerpts the participants hear (WAV, in the study folder)
:mod:`.store`          participants and answers in the library's SQLite, one transaction per answer
:mod:`.report`         accuracy per direction, condition and category; Wilson intervals, tests, plots
=====================  ============================================================
"""
from moodbridge.study.design import CONDITIONS, DIRECTIONS, Option, Study, Trial, load_study

__all__ = ["CONDITIONS", "DIRECTIONS", "Option", "Study", "Trial", "load_study"]
