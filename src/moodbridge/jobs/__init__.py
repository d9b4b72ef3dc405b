"""Workflows: one module per job, called alike by the command line, the web app and Python.

Each job takes plain arguments (a library as an open
:class:`~moodbridge.library.Library` or its folder, paths, numbers) and returns a
result object that says what it did and which files it wrote.  Nothing here
prints or exits: the faces (:mod:`moodbridge.cli`, later ``moodbridge.web``)
decide how to show a result.

=================================  ===========================================================
module                             job
=================================  ===========================================================
:mod:`~moodbridge.jobs.add`        add media (and labels) to a library
:mod:`~moodbridge.jobs.emotion`    emotion of files and texts
:mod:`~moodbridge.jobs.pair`       EMID pairs, dataset.json and report.html
:mod:`~moodbridge.jobs.expand`     EMID music expansion from full tracks
:mod:`~moodbridge.jobs.align`      train and evaluate Emo-CLIM joint spaces
:mod:`~moodbridge.jobs.search`     cross-modal search in a library
:mod:`~moodbridge.jobs.recommend`  train, evaluate and query EMID's EMI-Adapter recommenders
:mod:`~moodbridge.jobs.affect`     retrain and evaluate the emotion heads
:mod:`~moodbridge.jobs.demo`       the demo library, its pairing and report
=================================  ===========================================================
"""
