"""Real media for tests, from installed packages (no network), and deliberately bad files."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np


def skimage_photo(name: str) -> Path:
    """Path of one of scikit-image's bundled sample photographs."""
    import skimage.data

    path = Path(skimage.data.__file__).parent / name
    assert path.exists(), path
    return path


def immich_tracks() -> list[Path]:
    """The 28 mood-labelled Opus tracks of immich-memories-music, sorted."""
    from immich_memories_music import tracks_dir

    return sorted(Path(tracks_dir()).glob("*/*.opus"))


def write_photos(folder: Path, names: tuple[str, ...] = ("chelsea.png", "coffee.png", "rocket.jpg")) -> list[Path]:
    """Copy real photographs into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for name in names:
        dst = folder / name
        shutil.copyfile(skimage_photo(name), dst)
        out.append(dst)
    return out


def write_photo_crops(folder: Path, n: int, *, size: int = 96) -> list[Path]:
    """``n`` distinct crops of real photographs saved as PNG (for tests that need many items)."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    sources = [np.asarray(Image.open(skimage_photo(s)).convert("RGB"))
               for s in ("astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg")]
    rng = np.random.default_rng(0)
    out = []
    for i in range(n):
        img = sources[i % len(sources)]
        y = int(rng.integers(0, img.shape[0] - size))
        x = int(rng.integers(0, img.shape[1] - size))
        path = folder / f"crop_{i:04d}.png"
        Image.fromarray(img[y : y + size, x : x + size]).save(path)
        out.append(path)
    return out


def write_tracks(folder: Path, n: int = 2) -> list[Path]:
    """Copy ``n`` real music tracks (Opus) into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for src in immich_tracks()[:n]:
        dst = folder / src.name
        shutil.copyfile(src, dst)
        out.append(dst)
    return out


def write_midi(path: Path, pitches: tuple[int, ...] = (60, 64, 67, 72), step: float = 0.5) -> Path:
    """A small piano MIDI file made with pretty_midi."""
    import pretty_midi

    pm = pretty_midi.PrettyMIDI()
    piano = pretty_midi.Instrument(program=0)
    for i, p in enumerate(pitches * 4):
        piano.notes.append(pretty_midi.Note(velocity=80, pitch=p, start=i * step, end=(i + 1) * step))
    pm.instruments.append(piano)
    path.parent.mkdir(parents=True, exist_ok=True)
    pm.write(str(path))
    return path


def write_bad_files(folder: Path) -> dict[str, str]:
    """Bad files of every kind; returns ``file name → expected error kind``."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "empty.jpg").write_bytes(b"")
    png = skimage_photo("chelsea.png").read_bytes()
    (folder / "truncated.png").write_bytes(png[: len(png) // 3])
    (folder / "noise.mp3").write_bytes(np.random.default_rng(1).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    (folder / "photo_named_as.mp3").write_bytes(png)
    (folder / "notes.mid").write_text("this is not a MIDI file\n")
    (folder / "paper.pdf").write_bytes(b"%PDF-1.4\n%fake\n")
    return {
        "empty.jpg": "empty",
        "truncated.png": "truncated",
        "noise.mp3": "corrupt",
        "photo_named_as.mp3": "mislabelled",
        "notes.mid": "mislabelled",
        "paper.pdf": "unsupported",
    }
