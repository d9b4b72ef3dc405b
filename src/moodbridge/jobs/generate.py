"""Job ``generate``: music for an image, a VA point or a slideshow of photos (EIMG), as MIDI and WAV.

Paper: Wang, Chen, Li, "Continuous Emotion-Based Image-to-Music Generation",
IEEE TMM 2023.  The image branch reads EfficientNet-Lite0 features and the
``image-va`` head's VA (from the library when the image is one of its items,
else by encoding the file); :class:`~moodbridge.generate.generator.Generator`
maps them to a music latent and decodes it; the independent judge
(:class:`~moodbridge.generate.judge.Judge`) reports the VA it hears.  Every
file is written through :func:`moodbridge.fileio.atomic_path`: a failure
leaves nothing half-written.  ``train_generator`` retrains the whole model.
"""
from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from moodbridge.errors import EmptyMediaError, InvalidValueError, MoodbridgeError
from moodbridge.fileio import atomic_path
from moodbridge.jobs.base import JobResult, LibraryLike

__all__ = ["GenerateResult", "parse_va", "run_generate", "run_slideshow", "train_generator"]

#: the image branch's encoder
IMAGE_ENCODER = "effnet-lite0"
#: file suffixes a slideshow folder may hold
PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff"}


@dataclass
class GenerateResult(JobResult):
    """A generated piece: ``files`` has ``"midi"`` (and ``"wav"`` when rendered).

    ``target_va`` is the VA asked for per section (an image's is the
    ``image-va`` head's estimate; in [-1, 1]); ``heard_va`` is what the
    independent judge hears in the whole piece, ``heard_sections`` per section.
    """

    source: str = ""
    target_va: list[tuple[float, float]] = field(default_factory=list)
    heard_va: tuple[float, float] = (0.0, 0.0)
    heard_sections: list[tuple[float, float]] = field(default_factory=list)
    sections: int = 1
    seconds: float = 0.0
    seed: int = 0


def parse_va(text: str) -> tuple[float, float]:
    """``"V,A"`` -> ``(v, a)``, both in [-1, 1].

    Raises
    ------
    InvalidValueError
        If the text is not two comma-separated finite numbers in [-1, 1].
    """
    parts = [p.strip() for p in str(text).split(",")]
    try:
        if len(parts) != 2:
            raise ValueError
        v, a = float(parts[0]), float(parts[1])
    except ValueError:
        raise InvalidValueError(f"--va {text!r}: expected two numbers 'V,A' (valence, arousal in [-1, 1])") from None
    if not all(np.isfinite(x) and -1.0 <= x <= 1.0 for x in (v, a)):
        raise InvalidValueError(f"--va {text!r}: valence and arousal must lie in [-1, 1]")
    return v, a


def _check_output(path: str | Path, suffix: str, what: str) -> Path:
    p = Path(path).expanduser()
    if p.is_dir():
        raise InvalidValueError(f"{p}: is a folder; give a {what} file name ending in {suffix}")
    if not p.parent.is_dir():
        raise InvalidValueError(f"{p}: cannot write the {what}: folder {p.parent} does not exist")
    return p


def _image_rows(images: Sequence[Path], library: LibraryLike | None) -> list[dict[str, Any]]:
    """``encoder -> outputs`` of each image: stored in the library when it is an item there, else encoded."""
    from moodbridge.encoders import get_encoder
    from moodbridge.encoders.run import Failure, encode_sources

    rows: list[dict[str, Any] | None] = [None] * len(images)
    if library is not None:
        from moodbridge.errors import ItemNotFoundError
        from moodbridge.jobs.base import using_library

        with using_library(library) as lib:
            for i, img in enumerate(images):
                try:
                    stored = lib.features(lib.item(str(img.resolve())), IMAGE_ENCODER)
                except (ItemNotFoundError, MoodbridgeError, KeyError):
                    continue
                if "features" in stored:
                    rows[i] = {IMAGE_ENCODER: stored}
    todo = [i for i, r in enumerate(rows) if r is None]
    if todo:
        encoded = encode_sources([images[i] for i in todo], [get_encoder(IMAGE_ENCODER)])
        for i, r in zip(todo, encoded):
            if isinstance(r, Failure):
                raise MoodbridgeError(r.message)
            rows[i] = r
    return rows  # type: ignore[return-value]


def _image_latents(generator: Any, images: Sequence[Path], library: LibraryLike | None, *, seed: int
                   ) -> tuple[np.ndarray, np.ndarray]:
    from moodbridge.affect.estimate import stack_rows
    from moodbridge.affect.heads.image_v2 import ImageVAHeadV2

    outputs = stack_rows(_image_rows(images, library))
    head_va = ImageVAHeadV2().predict_va(outputs)
    features = np.asarray(outputs[IMAGE_ENCODER]["features"], dtype=np.float64)
    return generator.latent_for_images(features, head_va, seed=seed), head_va


def _write(generator: Any, latents: np.ndarray, seconds: Sequence[float], *, seed: int, out: Path,
           wav: Path | None, judge: Any) -> tuple[dict[str, Path], Any, np.ndarray, np.ndarray]:
    """Compose, write MIDI (and WAV) atomically, judge the whole piece and each section."""
    from moodbridge.generate.render import render_wav
    from moodbridge.generate.roll import STEPS_PER_BAR, Roll, roll_to_midi

    roll = generator.compose(latents, seconds, seed=seed)
    files: dict[str, Path] = {}
    with tempfile.TemporaryDirectory(prefix="moodbridge-generate-") as tmp:
        parts = []
        bounds = list(roll.sections) + [roll.n_bars]
        for i in range(len(roll.sections)):
            sl = slice(bounds[i] * STEPS_PER_BAR, bounds[i + 1] * STEPS_PER_BAR)
            part = Roll(roll.onset[sl], roll.sustain[sl], roll.velocity[bounds[i]:bounds[i + 1]],
                        roll.tempo[bounds[i]:bounds[i + 1]])
            parts.append(roll_to_midi(part, Path(tmp) / f"section{i}.mid"))
        whole = roll_to_midi(roll, Path(tmp) / "piece.mid")
        heard = judge.predict_files([whole, *parts]) if len(parts) > 1 else judge.predict_files([whole])
        with atomic_path(out, what="MIDI file") as t:
            t.write_bytes(whole.read_bytes())
        files["midi"] = out
        if wav is not None:
            with atomic_path(wav, what="WAV file") as t:
                render_wav(whole, t)
            files["wav"] = wav
    sections = heard[1:] if len(heard) > 1 else heard
    return files, roll, heard[0], sections


def _result(files: dict[str, Path], roll: Any, heard: np.ndarray, sections: np.ndarray, target: np.ndarray,
            source: str, seed: int, generator: Any) -> GenerateResult:
    return GenerateResult(
        files=files, source=source, seed=seed, sections=len(roll.sections), seconds=generator.seconds_of(roll),
        target_va=[(float(v), float(a)) for v, a in target], heard_va=(float(heard[0]), float(heard[1])),
        heard_sections=[(float(v), float(a)) for v, a in sections],
        notes=["heard_va: the independent judge (fitted on EIMG clips the generator never saw)"],
    )


def run_generate(library: LibraryLike | None, image: str | Path | None = None, *, out: str | Path,
                 wav: str | Path | None = None, va: str | tuple[float, float] | None = None,
                 seconds: float = 15.0, seed: int = 0, weights: str | Path | None = None,
                 judge_weights: str | Path | None = None) -> GenerateResult:
    """A piece for one image (or for a VA point with ``va``), written to ``out`` (.mid) and ``wav``.

    Parameters
    ----------
    library
        A library (or its folder) whose stored image features are reused when
        ``image`` is one of its items; ``None`` encodes the file.
    image
        An image file; give exactly one of ``image`` and ``va``.
    out, wav
        The MIDI file and (optionally) the WAV file to write.
    va
        ``"V,A"`` or ``(v, a)`` in [-1, 1].
    seconds
        Length of the piece (whole bars at the decoded tempo).
    seed
        Seeds the latent perturbation and the onset draw.
    weights, judge_weights
        Generator and judge weight files (default: the shipped ones).

    Raises
    ------
    InvalidValueError
        Bad ``va``, ``seconds`` or output path, or both / neither of ``image`` and ``va``.
    MediaError
        If the image cannot be decoded.
    EncoderUnavailableError
        If a weight file is missing or damaged.
    """
    from moodbridge.generate.generator import Generator
    from moodbridge.generate.judge import Judge

    if (image is None) == (va is None):
        raise InvalidValueError("give an IMAGE or --va V,A (one of them)")
    seconds = _seconds(seconds, "--seconds")
    out_p = _check_output(out, ".mid", "MIDI")
    wav_p = _check_output(wav, ".wav", "WAV") if wav is not None else None
    target_va = parse_va(va) if isinstance(va, str) else (tuple(float(x) for x in va) if va is not None else None)
    if target_va is not None:
        parse_va(f"{target_va[0]},{target_va[1]}")
    generator = Generator(weights)
    judge = Judge(judge_weights)
    if image is not None:
        img = Path(image).expanduser()
        if not img.is_file():
            raise InvalidValueError(f"{img}: no such image file")
        latents, target = _image_latents(generator, [img], library, seed=seed)
        source = str(img)
    else:
        target = np.array([target_va], dtype=np.float64)
        latents, source = generator.latent_for_va(target, seed=seed), f"va {target_va[0]:+.2f},{target_va[1]:+.2f}"
    files, roll, heard, sections = _write(generator, latents, [seconds], seed=seed, out=out_p, wav=wav_p,
                                          judge=judge)
    return _result(files, roll, heard, sections, target, source, seed, generator)


def _seconds(value: float, name: str) -> float:
    value = float(value)
    if not (np.isfinite(value) and 1.0 <= value <= 600.0):
        raise InvalidValueError(f"{name} must be between 1 and 600 seconds, got {value}")
    return value


def photo_files(folder: str | Path) -> list[Path]:
    """Image files of a folder, in name order (a slideshow's order).

    Raises
    ------
    InvalidValueError, EmptyMediaError
        If the folder does not exist or holds no image file.
    """
    root = Path(folder).expanduser()
    if not root.is_dir():
        raise InvalidValueError(f"{root}: not a folder of photos")
    photos = sorted(p for p in root.iterdir() if p.is_file() and p.suffix.lower() in PHOTO_SUFFIXES)
    if not photos:
        raise EmptyMediaError(root, f"no photos in this folder (looked for {', '.join(sorted(PHOTO_SUFFIXES))})")
    return photos


def run_slideshow(library: LibraryLike | None, folder: str | Path, *, out: str | Path,
                  wav: str | Path | None = None, seconds_per_image: float = 6.0, seed: int = 0,
                  weights: str | Path | None = None, judge_weights: str | Path | None = None) -> GenerateResult:
    """One continuous piece following the photos of ``folder`` in name order, a section per photo.

    Transitions cross the bar boundary between sections: the last bar of one
    and the first of the next are decoded from interpolated latents (see
    :mod:`moodbridge.generate.generator`).  Raises as :func:`run_generate`, and
    :class:`~moodbridge.errors.EmptyMediaError` for a folder without photos.
    """
    from moodbridge.generate.generator import Generator
    from moodbridge.generate.judge import Judge

    photos = photo_files(folder)
    seconds = _seconds(seconds_per_image, "--seconds-per-image")
    out_p = _check_output(out, ".mid", "MIDI")
    wav_p = _check_output(wav, ".wav", "WAV") if wav is not None else None
    generator = Generator(weights)
    judge = Judge(judge_weights)
    latents, target = _image_latents(generator, photos, library, seed=seed)
    files, roll, heard, sections = _write(generator, latents, [seconds] * len(photos), seed=seed, out=out_p,
                                          wav=wav_p, judge=judge)
    return _result(files, roll, heard, sections, target, str(Path(folder)), seed, generator)


def train_generator(eimg: str | Path, emotion6: str | Path, *, out: str | Path, seed: int = 0, epochs: int = 25,
                    steps: int = 1500, progress: bool = True) -> dict[str, Any]:
    """Retrain the generator and its judge (``moodbridge generate train``); the figures measured.

    Writes ``eimg_generator.npz`` and ``eimg_judge.npz`` into the folder ``out``
    (copy them into ``moodbridge/generate/weights/`` to ship them).
    """
    from moodbridge.train.generation import train_generator as train

    return train(eimg, emotion6, out, seed=seed, epochs=epochs, steps=steps, progress=progress)
