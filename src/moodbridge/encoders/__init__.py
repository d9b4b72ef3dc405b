"""Encoders: a registry of feature extractors per modality, all offline by default.

Built in: ``effnet-lite0`` and ``image-stats`` (images), ``musicnn-msd`` and
``musicnn-mtt`` (audio), ``midi-stats`` (MIDI), ``minilm`` and ``text-stats`` (text); optional
``clip`` and ``clap`` through ``transformers`` for users with internet.
"""
from __future__ import annotations

from moodbridge.encoders.base import (
    ENCODERS,
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

__all__ = [
    "ENCODERS",
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
