"""Bounds on the work done for one file, so no single input costs minutes or gigabytes.

Every limit is named in the message of the error a file over it gets, and
each can be changed by an environment variable (read when the limit is
used, so a test or a server can set it):

=======================  ===========================  ==============================================
limit                    default                      over it
=======================  ===========================  ==============================================
audio duration           20 min                       ``too long`` (from the header, before decoding)
                         ``MOODBRIDGE_MAX_AUDIO_S``
musicnn patches / clip   32 (3 s each)                the 32 patches are spread evenly over the clip
image pixels             100 MP                       ``too large`` (from the header)
                         ``MOODBRIDGE_MAX_PIXELS``
image decode budget      24 MP                        JPEG is decoded at 1/2 … 1/8 size (``draft``);
                         ``MOODBRIDGE_DECODE_PIXELS``  other formats are decoded, then ``reduce``-d
MIDI notes               1,000,000                    ``too large``
MIDI tracks              65,535 (the format's own)    ``corrupt``: a header claiming more is absurd
=======================  ===========================  ==============================================

Evenly spaced patches (rather than the first 32) keep a long clip's
beginning, middle and end in its features; clips up to 96 s (32 patches)
are unaffected.  32 rather than 64: on a loaded 2-core machine ``emotion`` on a
200 s clip took 47 s with 64 patches and 23 s with 32 (the issue's bound is 30 s).
"""
from __future__ import annotations

import os

import numpy as np

from moodbridge.errors import InvalidValueError

__all__ = [
    "MAX_AUDIO_SECONDS", "MAX_MIDI_NOTES", "MAX_PATCHES", "MAX_PIXELS", "DECODE_PIXELS",
    "limit", "max_audio_seconds", "max_pixels", "decode_pixels", "spread_indices",
]

MAX_AUDIO_SECONDS = 20 * 60
MAX_PATCHES = 32
MAX_PIXELS = 100_000_000
DECODE_PIXELS = 24_000_000
MAX_MIDI_NOTES = 1_000_000


def limit(env: str, default: float) -> float:
    """The value of environment variable ``env`` if set (a positive number), else ``default``."""
    raw = os.environ.get(env)
    if raw is None or not raw.strip():
        return default
    try:
        value = float(raw)
    except ValueError:
        raise InvalidValueError(f"{env}={raw!r}: must be a positive number") from None
    if not value > 0:
        raise InvalidValueError(f"{env}={raw!r}: must be a positive number")
    return value


def max_audio_seconds() -> float:
    """Longest audio accepted, in seconds (``MOODBRIDGE_MAX_AUDIO_S``, default 20 min)."""
    return limit("MOODBRIDGE_MAX_AUDIO_S", MAX_AUDIO_SECONDS)


def max_pixels() -> int:
    """Largest image accepted, in pixels (``MOODBRIDGE_MAX_PIXELS``, default 100 MP)."""
    return int(limit("MOODBRIDGE_MAX_PIXELS", MAX_PIXELS))


def decode_pixels() -> int:
    """Pixels above which an image is decoded or kept at reduced size (``MOODBRIDGE_DECODE_PIXELS``)."""
    return int(limit("MOODBRIDGE_DECODE_PIXELS", DECODE_PIXELS))


def spread_indices(n: int, at_most: int = MAX_PATCHES) -> np.ndarray:
    """``min(n, at_most)`` indices spread evenly over ``range(n)``, first and last included.

    Examples
    --------
    >>> spread_indices(5, 3).tolist()
    [0, 2, 4]
    >>> spread_indices(2, 64).tolist()
    [0, 1]
    """
    if n <= at_most:
        return np.arange(n)
    return np.unique(np.round(np.linspace(0, n - 1, at_most)).astype(np.int64))
