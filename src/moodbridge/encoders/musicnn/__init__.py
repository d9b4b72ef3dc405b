"""musicnn audio taggers (Pons & Serra, 2019) ported to PyTorch.

Registers two encoders:

* ``musicnn-msd``: trained on the Million Song Dataset (50 Last.fm tags);
* ``musicnn-mtt``: trained on MagnaTagATune (50 tags).

Both read the original TensorFlow checkpoints shipped in the ``musicnn`` 0.1.0
wheel (``pip install --no-deps musicnn==0.1.0``) with a small checkpoint
reader; TensorFlow is not needed.  Importing this package is cheap: torch and
the weights are loaded on the first :meth:`~MusicnnEncoder.load`.

References
----------
J. Pons and X. Serra, "musicnn: Pre-trained convolutional neural networks for
music audio tagging", ISMIR late-breaking demo, 2019.  arXiv:1909.06654.
"""
from __future__ import annotations

from moodbridge.encoders.base import register
from moodbridge.encoders.musicnn.encoder import (
    MSD_TAGS,
    MTT_TAGS,
    MusicnnEncoder,
    MusicnnMSDEncoder,
    MusicnnMTTEncoder,
)

register(MusicnnMSDEncoder.name, MusicnnMSDEncoder)
register(MusicnnMTTEncoder.name, MusicnnMTTEncoder)

__all__ = ["MSD_TAGS", "MTT_TAGS", "MusicnnEncoder", "MusicnnMSDEncoder", "MusicnnMTTEncoder"]
