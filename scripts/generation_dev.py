"""Dev selection of the EIMG generator's inference knobs, never with the judge (docs/generate.md).

The ``gen`` split's piece groups are halved (seeded): the conditional prior
uses the windows of half A only, the *dev predictor* (the judge's model class,
:func:`moodbridge.train.tasks.eimg.fit_model`) is fitted on the clips of half B
only, and the dev targets are the VA of ``--targets`` (default 40; round 3 used 200) half-B clips
(disjoint from the evaluation's ``test`` clips and photos).  Each SPEC is
``MODE:K:W:SUSTAIN:TEMPERATURE[:SPREAD[:NOISE[:PHRASE]]]`` (``SPREAD``:
:func:`~moodbridge.generate.decode.spread_pitches`' penalty, default 0; ``NOISE``: the latent
perturbation's standard deviation, default :data:`~moodbridge.generate.generator.LATENT_NOISE`;
``PHRASE``: :func:`~moodbridge.generate.decode.decode_bars`' ``phrase_bars``, default 4):

* ``proj``   the De-Projector's latent, attributes = mean of the K nearest windows;
* ``blend``  latent ``(1-W) proj + W mean(latents of the K nearest)``;
* ``mean``   latent ``(1-W) proj + W latent of one of the K nearest (seeded)``, mean attributes (shipped: W = 0.75);
* ``window`` as ``mean`` but that window's own attributes;
* ``resid``  ``proj + W (drawn latent - mean of the K nearest latents)``.

Printed per spec: dev emotion matching, the dev predictor's 1-9 difference for
``0.8,0.8`` vs ``-0.8,-0.8`` (``--seeds``, default four) and the music statistics.

    python scripts/generation_dev.py WEIGHTS.npz [--targets=40] [--seeds=4] mean:32:0.75:0.13:2.0 proj:64:0:0.08:1.6 ...
"""
from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

from moodbridge.affect.base import save_weights
from moodbridge.evaluate.music import emotion_matching, music_statistics, read_notes
from moodbridge.generate.decode import decode_bars
from moodbridge.generate.generator import LATENT_NOISE, Generator, bars_for_seconds
from moodbridge.generate.judge import Judge
from moodbridge.generate.roll import roll_to_midi
from moodbridge.train import generation as g
from moodbridge.train.tasks import eimg


def main(weights: str, specs: list[str], eimg_dir: str = "../shared/data/eimg", n_targets: int = 40,
         n_seeds: int = 4) -> None:
    torch.set_num_threads(1)
    tmp = Path(tempfile.mkdtemp(prefix="moodbridge-dev-"))
    data = g.eimg_split(eimg_dir)
    gen = data["split"] == "gen"
    groups = data["groups"][gen]
    half = (np.random.default_rng(5).permutation(groups.max() + 1) % 2)[groups]  # per gen clip: 0 = A, 1 = B
    X = eimg.features(data["paths"], progress=False)[gen]
    model = eimg.fit_model(X[half == 1], data["va"][gen][half == 1], seed=0)
    save_weights(tmp / "dev.npz", model.to_arrays("model."), {
        "head": "midi-va", "version": "1", "role": "dev predictor (gen half B)", "n_features": int(X.shape[1]),
        "n_train": int((half == 1).sum()), "n_test": 0, "seed": 0, "test": {}})
    dev = Judge(tmp / "dev.npz")
    G = Generator(weights)
    paths_a = [p for p, h in zip([p for p, s in zip(data["paths"], gen) if s], half) if h == 0]
    wa = g.window_data(paths_a, data["va"][gen][half == 0], stride=1, progress=False)
    lat_a, att_a, va_a = g.music_latents(G.vae, wa), wa["attributes"], wa["va"]
    va_b = data["va"][gen][half == 1]
    targets = va_b[np.random.default_rng(9).choice(len(va_b), n_targets, replace=False)]
    n_lat = G.config.latent

    def piece(t: np.ndarray, seed: int, mode: str, k: int, w: float, sus: float, temp: float, spread: float,
              noise: float, phrase: int):
        rng = np.random.default_rng(seed)
        near = np.argsort(((va_a - t) ** 2).sum(1))[:k]
        with torch.no_grad():
            proj = G.deproj(G.va(torch.as_tensor(t[None], dtype=torch.float32))).numpy()[0]
        attrs = att_a[near].mean(0)
        if mode == "proj":
            lat = proj
        elif mode == "blend":
            lat = (1 - w) * proj + w * lat_a[near].mean(0)
        else:
            j = near[rng.integers(0, k)]
            lat = proj + w * (lat_a[j] - lat_a[near].mean(0)) if mode == "resid" else (1 - w) * proj + w * lat_a[j]
            attrs = att_a[j] if mode == "window" else attrs
        code = np.concatenate([lat, attrs])
        code[:n_lat] += noise * rng.standard_normal(n_lat)
        bars = bars_for_seconds(15.0, G.tempo_of(code))
        return decode_bars(G.vae, np.repeat(code[None], bars, 0), rng=rng, sustain_threshold=sus, temperature=temp,
                           pitch_spread=spread, phrase_bars=phrase)

    for spec in specs:
        mode, k, w, sus, temp, *extra = spec.split(":")
        spread, noise, phrase = [float(x) for x in extra] + [0.0, LATENT_NOISE, 4][len(extra):]
        args = (mode, int(k), float(w), float(sus), float(temp), spread, noise, int(phrase))
        paths = [roll_to_midi(piece(t, i, *args), tmp / f"t{i}.mid") for i, t in enumerate(targets)]
        heard = dev.predict_files(paths)
        opp = {name: dev.predict_files([roll_to_midi(piece(np.array(t), s, *args), tmp / f"{name}{s}.mid")
                                        for s in range(n_seeds)]).mean(axis=0)
               for name, t in (("up", [0.8, 0.8]), ("down", [-0.8, -0.8]))}
        rows = [music_statistics(read_notes(p)) for p in paths]
        stats = {key: round(float(np.nanmean([r[key] for r in rows])), 4) for key in rows[0]}
        print(json.dumps({"spec": spec, "dev_matching": round(emotion_matching(heard, targets), 3),
                          "opposite_1to9": ((opp["up"] - opp["down"]) * 4).round(2).tolist(), **stats}), flush=True)


if __name__ == "__main__":
    flags = dict(a[2:].split("=", 1) for a in sys.argv[2:] if a.startswith("--"))
    main(sys.argv[1], [a for a in sys.argv[2:] if not a.startswith("--")], n_targets=int(flags.get("targets", 40)),
         n_seeds=int(flags.get("seeds", 4)))
