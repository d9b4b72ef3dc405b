"""EIMG image-to-music generation (Wang, Chen, Li, IEEE TMM 2023): piano rolls, a music VAE, projectors, rendering.

Modules: :mod:`.roll` (the 16th-grid piano-roll representation and MIDI
writing), :mod:`.model` (the VAE and the projectors), :mod:`.decode`
(latent -> roll), :mod:`.generator` (image / VA -> piece, slideshows),
:mod:`.judge` (the independent evaluation predictor), :mod:`.render` (WAV
via tinysoundfont), :mod:`.bundle` (the weight file).  Training lives in
:mod:`moodbridge.train.generation`; the workflow in :mod:`moodbridge.jobs.generate`.
"""
