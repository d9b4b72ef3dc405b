"""Music generation (EIMG, Wang, Chen, Li, IEEE TMM 2023): representation, VAE, decoding, job, files, bad input.

Real-data tests read ``../shared/data/eimg`` and skip when it is absent.  The
model tests use the weights shipped in ``moodbridge/generate/weights``.
"""
from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

import mido
import numpy as np
import pretty_midi
import pytest
import soundfile as sf
from conftest import shared_path

from moodbridge.errors import EmptyMediaError, EncoderUnavailableError, InvalidValueError, MoodbridgeError
from moodbridge.generate.bundle import GENERATOR_FILE, load_bundle, shipped_path
from moodbridge.generate.roll import Roll, read_roll, roll_to_midi, windows
from moodbridge.jobs.generate import parse_va, photo_files, run_generate, run_slideshow


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "moodbridge", *args], capture_output=True, text=True, timeout=600,
                          cwd=cwd)


@pytest.fixture(scope="module")
def eimg_files() -> list[Path]:
    return sorted((shared_path("eimg") / "midi").glob("*.mid"))[::97]


@pytest.fixture(scope="module")
def generator():
    from moodbridge.generate.generator import Generator

    return Generator()


def notes_of(path: Path) -> list[tuple[int, float, float]]:
    pm = pretty_midi.PrettyMIDI(str(path))
    return sorted((n.pitch, round(n.start, 6), round(n.end, 6)) for i in pm.instruments for n in i.notes)


# ----------------------------------------------------------------------------- representation
def test_roll_round_trip_on_real_midi(eimg_files, tmp_path) -> None:
    """Real EIMG clips -> 16th-grid roll -> MIDI -> roll: the same notes, and the file loads in pretty_midi and mido."""
    total = 0
    for f in eimg_files:
        roll = read_roll(f)
        out = roll_to_midi(roll, tmp_path / f.name)
        back = read_roll(out, bars=roll.n_bars)
        assert np.array_equal(roll.notes(), back.notes()), f
        assert np.allclose(roll.velocity, back.velocity, atol=0.5)
        mido.MidiFile(str(out))
        total += len(roll.notes())
    assert total > 500


def test_roll_keeps_the_real_notes_onsets(eimg_files) -> None:
    """Quantising to 16ths keeps every piano note of the clip (one per pitch and 16th at most)."""
    for f in eimg_files[:8]:
        pm = pretty_midi.PrettyMIDI(str(f))
        keys = {(n.pitch, round(pm.time_to_tick(n.start) / (pm.resolution / 4)))
                for i in pm.instruments for n in i.notes if 21 <= n.pitch <= 108}
        got = {(int(p), int(s)) for p, s, _ in read_roll(f).notes()}
        assert got == keys


def test_windows_are_four_bars_and_skip_silence() -> None:
    T = 16 * 9
    onset = np.zeros((T, 88), bool)
    onset[::4, 40] = True
    onset[16 * 4 : 16 * 8] = False  # bars 4-7 silent
    roll = Roll(onset, onset.copy(), np.full(9, 70.0), np.full(9, 100.0))
    ws = windows(roll)
    assert [w.n_bars for w in ws] == [4]
    # 4 onsets per bar in bars 0-3 and 8: windows from bars 0..5 hold 16, 12, 8, 4, 0, 4 onsets
    assert len(windows(roll, stride=1)) == 5
    assert len(windows(roll, stride=1, min_onsets=5)) == 3


def test_read_roll_errors(tmp_path) -> None:
    bad = tmp_path / "bad.mid"
    bad.write_bytes(b"not midi at all")
    with pytest.raises(MoodbridgeError, match="bad.mid"):
        read_roll(bad)
    empty = tmp_path / "empty.mid"
    pretty_midi.PrettyMIDI().write(str(empty))
    with pytest.raises(EmptyMediaError, match="no pitched notes"):
        read_roll(empty)


# ----------------------------------------------------------------------------- the model
def test_shipped_weights_are_small_and_complete() -> None:
    path = shipped_path(GENERATOR_FILE)
    assert path.stat().st_size < 4_000_000
    b = load_bundle()
    assert {"vae", "img", "va", "mus", "deproj"} <= set(b.parts)
    rec = b.meta["reconstruction"]
    assert rec["vae_bce"] < rec["baseline_bce"]


def test_vae_reconstruction_beats_the_trivial_baseline_on_held_out_clips(generator) -> None:
    """Held-out EIMG clips (the ``test`` split): BCE of the VAE's reconstruction < BCE of per-cell frequencies."""
    from moodbridge.train.generation import baseline_bce, eimg_split, reconstruction_bce, window_data

    data = eimg_split(shared_path("eimg"), seed=generator.meta["seed"])
    pick = lambda split, step: [p for p, s in zip(data["paths"], data["split"]) if s == split][::step]  # noqa: E731
    train_w = window_data(pick("gen", 6), np.zeros((len(pick("gen", 6)), 2)), stride=1, progress=False)
    test_w = window_data(pick("test", 4), np.zeros((len(pick("test", 4)), 2)), stride=None, progress=False)
    model, base = reconstruction_bce(generator.vae, test_w), baseline_bce(train_w, test_w)
    assert model < 0.9 * base, (model, base)


def test_any_latent_decodes_to_valid_midi(generator, tmp_path) -> None:
    from moodbridge.generate.decode import decode_bars

    rng = np.random.default_rng(3)
    for i, z in enumerate(rng.standard_normal((6, generator.config.latent)) * np.array([0.0, 1, 1, 2, 3, 5])[:, None]):
        code = generator.with_attributes(z[None], rng.uniform(-1, 1, (1, 2)))[0]
        roll = decode_bars(generator.vae, np.repeat(code[None], 4, axis=0), rng=rng)
        path = roll_to_midi(roll, tmp_path / f"z{i}.mid")
        assert len(notes_of(path)) > 0
        assert len(mido.MidiFile(str(path)).tracks) == 1


def test_pitch_spread_keeps_the_onset_count_and_spreads_the_pitches(generator) -> None:
    """:func:`spread_pitches` equals the greedy penalised draw; decoding with it keeps each bar's count."""
    from moodbridge.generate.decode import decode_bars, spread_pitches

    rng = np.random.default_rng(4)
    keys = rng.standard_normal((16, 88))
    k, penalty = 20, 1.5
    naive, work, taken = np.zeros_like(keys, dtype=bool), keys.copy(), np.zeros(88)
    for _ in range(k):  # the greedy loop: take the best cell, then lower the rest of its pitch
        t, p = np.unravel_index(np.argmax(np.where(naive, -np.inf, work)), keys.shape)
        naive[t, p] = True
        taken[p] += 1
        work[:, p] = keys[:, p] - penalty * taken[p]
    fast = np.zeros_like(naive)
    fast.flat[np.argsort(-spread_pitches(keys, penalty).ravel())[:k]] = True
    assert (fast == naive).all()

    code = generator.latent_for_va(np.array([[0.5, 0.7]]))
    plain = decode_bars(generator.vae, np.repeat(code, 4, axis=0), rng=np.random.default_rng(0), pitch_spread=0.0)
    spread = decode_bars(generator.vae, np.repeat(code, 4, axis=0), rng=np.random.default_rng(0), pitch_spread=3.0)
    per_bar = [r.onset.reshape(4, 16, 88) for r in (plain, spread)]
    assert (per_bar[0].sum(axis=(1, 2)) == per_bar[1].sum(axis=(1, 2))).all()
    distinct = [int(b.any(axis=1).sum()) for b in per_bar]
    assert distinct[1] > distinct[0], distinct


def test_phrase_bars_sets_how_often_the_onsets_repeat(generator) -> None:
    from moodbridge.generate.decode import decode_bars

    code = np.repeat(generator.latent_for_va(np.array([[0.2, 0.4]])), 8, axis=0)
    bars = {n: decode_bars(generator.vae, code, rng=np.random.default_rng(1), phrase_bars=n).onset.reshape(8, -1)
            for n in (4, 8)}
    assert (bars[4][:4] == bars[4][4:]).all()
    assert not (bars[8][:4] == bars[8][4:]).all()


def test_hundred_seeds_give_hundred_different_pieces(generator) -> None:
    z = generator.latent_for_va(np.array([[0.3, 0.2]]))
    digests = {hashlib.sha1(generator.compose(z, [15.0], seed=s).notes().tobytes()).hexdigest() for s in range(100)}
    assert len(digests) == 100


def test_same_seed_same_piece(generator) -> None:
    z = generator.latent_for_va(np.array([[-0.4, 0.6]]))
    assert np.array_equal(generator.compose(z, [8.0], seed=7).notes(), generator.compose(z, [8.0], seed=7).notes())


def test_compose_covers_the_seconds_asked(generator) -> None:
    z = generator.latent_for_va(np.array([[0.0, 0.0], [0.5, 0.5]]))
    roll = generator.compose(z, [10.0, 10.0], seed=1)
    assert len(roll.sections) == 2
    assert 20.0 <= generator.seconds_of(roll) < 20.0 + 2 * 240.0 / 40.0


def _chord_roll(pitches: list[int]) -> Roll:
    onset = np.zeros((16, 88), dtype=bool)
    onset[0, [p - 21 for p in pitches]] = True
    return Roll(onset, onset | np.roll(onset, 1, axis=0), np.full(1, 64.0), np.full(1, 110.0))


def test_attributes_tell_major_from_minor_and_low_from_high() -> None:
    """Mode is the best major minus the best minor key correlation; register the mean onset pitch."""
    from moodbridge.generate.attributes import ATTRIBUTES, attributes_of

    major, minor = attributes_of(_chord_roll([60, 64, 67])), attributes_of(_chord_roll([60, 63, 67]))
    m, r = ATTRIBUTES.index("mode"), ATTRIBUTES.index("register")
    assert major[m] > 0 > minor[m]
    assert attributes_of(_chord_roll([36, 40, 43]))[r] < 0 < attributes_of(_chord_roll([84, 88, 91]))[r]


def test_conditional_prior_draws_among_the_nearest_windows() -> None:
    """Attributes are the mean over the k windows nearest in VA; a draw is one of those windows' latents."""
    from moodbridge.generate.attributes import ConditionalPrior

    va = np.array([[0.9, 0.9], [0.8, 0.9], [-0.9, -0.8], [-0.8, -0.9]])
    attrs = np.arange(20, dtype=float).reshape(4, 5)
    prior = ConditionalPrior(va, attrs, np.eye(4), k=2)
    assert np.allclose(prior.attributes([[1.0, 1.0]]), attrs[:2].mean(axis=0))
    draws = prior.sample(np.tile([[-1.0, -1.0]], (50, 1)), np.random.default_rng(0))
    assert {int(np.argmax(d)) for d in draws} == {2, 3}


# ----------------------------------------------------------------------------- the job and its files
def test_generate_for_va_writes_valid_midi_and_wav(tmp_path) -> None:
    r = run_generate(None, va="0.5,0.5", out=tmp_path / "p.mid", wav=tmp_path / "p.wav", seconds=8, seed=2)
    assert set(r.files) == {"midi", "wav"}
    assert len(notes_of(r.files["midi"])) > 10
    mido.MidiFile(str(r.files["midi"]))
    audio, rate = sf.read(str(r.files["wav"]))
    assert rate == 44100 and audio.ndim == 2
    assert np.sqrt((audio**2).mean()) > 0.01  # not silent
    assert np.abs(audio).max() < 0.999  # no clipping
    assert r.target_va == [(0.5, 0.5)] and all(-1 <= x <= 1 for x in r.heard_va)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.mid", "p.wav"]  # no temporary left


def test_opposite_emotions_are_heard_apart(tmp_path) -> None:
    """``--va 0.8,0.8`` vs ``--va -0.8,-0.8``, three seeds each, as the independent judge hears them.

    Issue 12 asks for more than 1.5 apart on each axis of the 1-9 scale.  With the
    attribute-conditioned decoder and the conditional prior (docs/generate.md) the
    judge measured 1.90 (valence) and 4.18 (arousal) on these seeds (1.53 / 3.91 on
    seeds 3-12).  Float round-off on another CPU moves the sampled notes, so the test
    guards the issue's 1.5 on both axes: 0.4 below the measured valence, far below
    the measured arousal.
    """
    heard = {}
    for name, va in (("up", "0.8,0.8"), ("down", "-0.8,-0.8")):
        heard[name] = np.mean([run_generate(None, va=va, out=tmp_path / f"{name}{s}.mid", seed=s).heard_va
                               for s in range(3)], axis=0)
    diff = (heard["up"] - heard["down"]) * 4.0  # [-1, 1] -> 1-9 units
    assert diff[0] > 1.5 and diff[1] > 1.5, diff


def test_generate_for_an_image(tmp_path) -> None:
    photo = next((shared_path("emotion6") / "images" / "joy").glob("*.jpg"))
    r = run_generate(None, photo, out=tmp_path / "joy.mid", seconds=6)
    assert r.source == str(photo) and len(r.target_va) == 1
    assert len(notes_of(r.files["midi"])) > 0


def test_slideshow_has_a_section_per_photo(tmp_path) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    for kw in ("joy", "fear", "sadness"):
        shutil.copy(next((shared_path("emotion6") / "images" / kw).glob("*.jpg")), photos / f"{kw}.jpg")
    r = run_slideshow(None, photos, out=tmp_path / "show.mid", wav=tmp_path / "show.wav", seconds_per_image=4)
    assert r.sections == 3 and len(r.target_va) == 3 and len(r.heard_sections) == 3
    markers = [m.text for t in mido.MidiFile(str(r.files["midi"])).tracks for m in t if m.type == "marker"]
    assert markers == ["section 1", "section 2", "section 3"]
    assert 12.0 <= r.seconds < 12.0 + 3 * 6.0


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("text", ["1.5,0", "0.2", "a,b", "0.1,0.2,0.3", "nan,0"])
def test_parse_va_rejects(text: str) -> None:
    with pytest.raises(InvalidValueError, match="--va"):
        parse_va(text)


def test_parse_va_accepts() -> None:
    assert parse_va(" -1, 0.25 ") == (-1.0, 0.25)


def test_empty_photo_folder(tmp_path) -> None:
    (tmp_path / "notes.txt").write_text("no photos here")
    with pytest.raises(EmptyMediaError, match="no photos"):
        photo_files(tmp_path)


def test_damaged_and_missing_weights(tmp_path) -> None:
    from moodbridge.generate.generator import Generator

    with pytest.raises(EncoderUnavailableError, match="not found"):
        Generator(tmp_path / "nothing.npz")
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"PK\x03\x04 garbage")
    with pytest.raises(EncoderUnavailableError, match="damaged"):
        Generator(bad)


def _one_clean_error(proc: subprocess.CompletedProcess[str], needle: str) -> None:
    assert proc.returncode == 1, proc.stderr
    lines = [ln for ln in proc.stderr.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and needle in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr


def test_cli_bad_inputs_give_one_line_and_leave_nothing(tmp_path) -> None:
    fake = tmp_path / "fake.jpg"
    fake.write_text("this is not an image")
    empty = tmp_path / "empty"
    empty.mkdir()
    bad_weights = tmp_path / "w.npz"
    bad_weights.write_bytes(b"garbage")
    out = tmp_path / "x.mid"
    cases = [
        (["generate", str(fake), "--out", str(out)], "fake.jpg"),
        (["generate", "--va", "2,0", "--out", str(out)], "[-1, 1]"),
        (["generate", "--va", "0.5", "--out", str(out)], "two numbers"),
        (["generate", str(empty), "--slideshow", "--out", str(out)], "no photos"),
        (["generate", "--va", "0,0", "--out", str(out), "--weights", str(tmp_path / "none.npz")], "not found"),
        (["generate", "--va", "0,0", "--out", str(out), "--weights", str(bad_weights)], "damaged"),
        (["generate", "--va", "0,0", "--out", str(tmp_path / "no" / "such" / "x.mid")], "does not exist"),
    ]
    for args, needle in cases:
        _one_clean_error(run_cli(*args), needle)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty", "fake.jpg", "w.npz"]


def test_cli_generate_json_and_train_help(tmp_path) -> None:
    import json

    proc = run_cli("generate", "--va", "-0.5,0.7", "--out", str(tmp_path / "a.mid"), "--seconds", "5", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["target_va"] == [[-0.5, 0.7]] and data["files"]["midi"] == str(tmp_path / "a.mid")
    assert len(data["heard_va"]) == 2
    help_ = run_cli("generate", "train", "--help")
    assert help_.returncode == 0 and "--data" in help_.stdout
    top = run_cli("generate", "--help")
    assert top.returncode == 0 and "train" in top.stdout and "--slideshow" in top.stdout


def test_training_steps_run_and_reject_unknown_terms() -> None:
    """Mechanics only (synthetic arrays): the projector and direct-MLP trainers run a few seeded steps."""
    import torch

    from moodbridge.train.generation import train_direct, train_projectors

    rng = np.random.default_rng(0)
    v, va_m = rng.standard_normal((64, 32)), rng.uniform(-1, 1, (64, 2))
    x, va_x = rng.standard_normal((48, 10)), rng.uniform(-1, 1, (48, 2))
    nets = train_projectors(v, va_m, x, va_x, steps=3, batch=32, progress=False)
    with torch.no_grad():
        z = nets["img"](torch.as_tensor(x[:5], dtype=torch.float32))
    assert torch.allclose(z.norm(dim=1), torch.ones(5), atol=1e-5)  # the shared space is the unit sphere
    again = train_projectors(v, va_m, x, va_x, steps=3, batch=32, progress=False)
    for a, b in zip(nets["deproj"].parameters(), again["deproj"].parameters()):
        assert torch.equal(a, b)  # seeded
    assert train_direct(v, va_m, x, va_x, steps=2, batch=16)(torch.zeros(2, 10)).shape == (2, 32)
    with pytest.raises(InvalidValueError, match="terms"):
        train_projectors(v, va_m, x, va_x, terms=("intra_z",), steps=1, progress=False)
