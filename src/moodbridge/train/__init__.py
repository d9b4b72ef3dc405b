"""Training and paper experiments, kept apart from the run-time package (as open_clip keeps its training CLI).

Nothing under ``moodbridge`` imports this package at run time; the ``affect
train|eval`` commands and ``scripts/`` reach it through
:mod:`moodbridge.jobs.affect`.

* :mod:`~moodbridge.train.tasks`: one module per shipped emotion head
  (``train`` writes a weight file to a path the caller gives, ``evaluate``
  scores a head on a labelled folder);
* :mod:`~moodbridge.train.features`: encoder outputs of training sets, cached
  in a moodbridge library under the user cache;
* :mod:`~moodbridge.train.experiments`: the Emo-CLIM experiments on real data
  (``scripts/align_experiments.py``).
"""
