"""MIDI -> WAV with the General MIDI SoundFont that pretty_midi ships (TimGM6mb.sf2), rendered by tinysoundfont.

Nothing is downloaded and no system synthesiser is needed: ``tinysoundfont``
(PyPI) renders in-process.  The SoundFont is read from the installed
``pretty_midi`` package, never copied.  The output is 16-bit PCM; its peak is
scaled to :data:`PEAK` of full scale, so it never clips.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from moodbridge.errors import EncoderUnavailableError

__all__ = ["PEAK", "SAMPLE_RATE", "render_wav", "soundfont_path", "synthesise"]

SAMPLE_RATE = 44100
#: peak level after normalisation (fraction of full scale)
PEAK = 0.89
#: seconds rendered after the last note (release tails)
TAIL_SECONDS = 1.0


def soundfont_path() -> Path:
    """TimGM6mb.sf2 inside the installed pretty_midi package."""
    import pretty_midi

    path = Path(pretty_midi.__file__).with_name("TimGM6mb.sf2")
    if not path.is_file():
        raise EncoderUnavailableError(f"{path}: the SoundFont pretty_midi ships is missing; reinstall pretty_midi")
    return path


def synthesise(midi_path: str | Path, *, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """``(n, 2)`` float32 stereo samples of a MIDI file, peak-normalised to :data:`PEAK`."""
    import mido

    try:
        import tinysoundfont
    except ImportError as exc:
        raise EncoderUnavailableError("WAV rendering needs tinysoundfont: pip install --no-deps tinysoundfont "
                                      "(its PyAudio dependency is not needed)") from exc

    synth = tinysoundfont.Synth(samplerate=sample_rate)
    sfid = synth.sfload(str(soundfont_path()))
    synth.program_select(0, sfid, 0, 0)
    blocks = []
    midi = mido.MidiFile(str(midi_path))
    for msg in midi:  # iterating a MidiFile yields messages with delta times in seconds
        if msg.time > 0:
            blocks.append(np.frombuffer(synth.generate(int(round(msg.time * sample_rate))), dtype=np.float32))
        if msg.type == "note_on" and msg.velocity > 0:
            synth.noteon(msg.channel, msg.note, msg.velocity)
        elif msg.type in ("note_off", "note_on"):
            synth.noteoff(msg.channel, msg.note)
        elif msg.type == "program_change":
            synth.program_change(msg.channel, msg.program)
    blocks.append(np.frombuffer(synth.generate(int(TAIL_SECONDS * sample_rate)), dtype=np.float32))
    audio = np.concatenate(blocks).reshape(-1, 2)
    peak = float(np.abs(audio).max()) if audio.size else 0.0
    return (audio * (PEAK / peak)).astype(np.float32) if peak > 0 else audio


def render_wav(midi_path: str | Path, wav_path: str | Path, *, sample_rate: int = SAMPLE_RATE) -> Path:
    """Render ``midi_path`` to 16-bit stereo ``wav_path`` (the caller wraps it in ``fileio.atomic_path``)."""
    import soundfile as sf

    sf.write(str(wav_path), synthesise(midi_path, sample_rate=sample_rate), sample_rate, subtype="PCM_16",
             format="WAV")
    return Path(wav_path)
