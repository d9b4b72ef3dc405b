"""Encoders: a registry of feature extractors per modality, all offline by default.

Built in: ``effnet-lite0`` and ``image-stats`` (images), ``musicnn-msd`` and
``musicnn-mtt`` (audio), ``midi-stats`` (MIDI), ``minilm`` (text); optional
``clip`` and ``clap`` through ``transformers`` for users with internet.
"""
from __future__ import annotations

import importlib

from moodbridge.encoders.base import (
    MODALITIES,
    Encoder,
    EncoderOutput,
    InputSpec,
    Modality,
    default_encoders,
    encoder_names,
    get_encoder,
    register,
)

_BUILTIN_MODULES = (
    "moodbridge.encoders.effnet",
    "moodbridge.encoders.image_stats",
    "moodbridge.encoders.musicnn",
    "moodbridge.encoders.midi_stats",
    "moodbridge.encoders.midi_extra",
    "moodbridge.encoders.minilm",
    "moodbridge.encoders.hf_optional",
)
for _mod in _BUILTIN_MODULES:
    importlib.import_module(_mod)

__all__ = [
    "MODALITIES",
    "Encoder",
    "EncoderOutput",
    "InputSpec",
    "Modality",
    "default_encoders",
    "encoder_names",
    "get_encoder",
    "register",
]
