"""Emotion heads: valence-arousal (and categories) from encoder outputs, with shipped weights."""
import moodbridge.affect.heads  # noqa: F401  (registers the built-in heads)
from moodbridge.affect.base import (
    EmotionEstimate,
    Head,
    get_head,
    head_names,
    load_weights,
    register_head,
    save_weights,
)

__all__ = ["EmotionEstimate", "Head", "get_head", "head_names", "load_weights", "register_head", "save_weights"]
