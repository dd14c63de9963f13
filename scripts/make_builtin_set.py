"""Rebuild livegan's built-in training set: bass riffs and drum beats the project
composes, rendered with the FluidR3 GM soundfont (MIT licence, Debian package
`fluid-soundfont-gm`) by fluidsynth (Debian package `fluidsynth`), and with
``--sonic-pi``, the loops of Debian's `sonic-pi-samples` whose licence its
copyright file gives as CC0 (copied as they are; ``livegan train`` fits each
file to whole bars), listed with their authors and sources in ``SOURCES.md``.

    python scripts/make_builtin_set.py data/builtin             # 64 loops, 2 s each
    python scripts/make_builtin_set.py data/builtin --sonic-pi  # and the CC0 loops in data/builtin/sonic-pi
    python scripts/make_builtin_set.py data/bass --bass 96 --drums 0 --both 0 --sonic-pi bass_
                                                                # the bass model's: riffs and the CC0 basses

Every loop is one bar of 4/4 at 120 BPM (2 s). Each pattern is rendered three
times in a row and the middle bar is kept, so note tails from the previous bar
ring into its start exactly as they would when it loops: the loops are seamless.
Deterministic: the same seed list gives the same MIDI, and fluidsynth renders
MIDI deterministically (no chorus/reverb randomness: both are switched off).
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

import mido
import numpy as np
import soundfile as sf

SF2 = "/usr/share/sounds/sf2/FluidR3_GM.sf2"
RATE = 48000  # a bar (96000 frames) is a whole number of fluidsynth 64-frame blocks: bars render identically
BPM = 120.0
TPB = 480  # MIDI ticks per beat
BAR = 4 * TPB
BASS_PROGRAMS = (33, 34, 35, 36, 38, 39)  # GM: finger, pick, fretless, slap, synth bass 1, 2 (0-based 32..)
SCALES = ((0, 3, 5, 7, 10), (0, 2, 3, 5, 7, 9, 10), (0, 3, 5, 6, 7, 10), (0, 2, 4, 7, 9))
KICK, SNARE, CLAP, HAT, OPEN_HAT, RIDE, TOM_LO, TOM_HI = 36, 38, 39, 42, 46, 51, 45, 50


def bass_riff(rng: np.random.Generator) -> tuple[int, list[tuple[int, int, int, int]]]:
    """(program, [(start_tick, length_ticks, note, velocity)]) for one bar of 16ths."""
    program = int(rng.choice(BASS_PROGRAMS)) - 1
    scale = SCALES[int(rng.integers(len(SCALES)))]
    root = 28 + int(rng.integers(0, 12))
    notes, t = [], 0
    step = TPB // 4
    while t < BAR:
        length = step * int(rng.choice([1, 1, 2, 2, 3, 4]))
        if t == 0 or rng.random() < 0.75:
            deg = 0 if t == 0 else int(rng.integers(len(scale)))
            octave = 12 if rng.random() < 0.15 else 0
            vel = int(rng.integers(80, 120))
            notes.append((t, min(length, BAR - t) - 10, root + scale[deg] + octave, vel))
        t += length
    return program, notes


def drum_beat(rng: np.random.Generator) -> list[tuple[int, int, int, int]]:
    step = TPB // 4
    hits = []
    style = int(rng.integers(3))  # 0 rock, 1 four-on-the-floor, 2 broken
    for s in range(16):
        t = s * step
        if (style == 1 and s % 4 == 0) or (style != 1 and (s in (0, 8) or rng.random() < 0.12)):
            hits.append((t, step, KICK, int(rng.integers(100, 127))))
        if s in (4, 12) or (style == 2 and rng.random() < 0.08):
            hits.append((t, step, SNARE if rng.random() < 0.8 else CLAP, int(rng.integers(90, 120))))
        if s % 2 == 0 or rng.random() < 0.3:
            hat = OPEN_HAT if (style == 1 and s % 4 == 2) else HAT
            hits.append((t, step // 2, hat, int(rng.integers(50, 90))))
        if style == 2 and s >= 12 and rng.random() < 0.25:
            hits.append((t, step, TOM_LO if rng.random() < 0.5 else TOM_HI, 90))
    return hits


def write_midi(path: str, parts: list[tuple[int, int | None, list]], repeats: int = 3) -> None:
    """parts: [(channel, program or None, notes)] -> a type-1 MIDI file repeating the bar."""
    mf = mido.MidiFile(ticks_per_beat=TPB)
    tempo = mido.MidiTrack()
    tempo.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(BPM), time=0))
    mf.tracks.append(tempo)
    for ch, program, notes in parts:
        tr = mido.MidiTrack()
        if program is not None:
            tr.append(mido.Message("program_change", channel=ch, program=program, time=0))
        ev = []
        for r in range(repeats):
            for t, length, note, vel in notes:
                ev.append((r * BAR + t, 1, mido.Message("note_on", channel=ch, note=note, velocity=vel)))
                ev.append((r * BAR + t + length, 0, mido.Message("note_off", channel=ch, note=note, velocity=0)))
        ev.append((repeats * BAR + 2 * TPB, 0, None))  # room for tails after the last bar
        ev.sort(key=lambda e: (e[0], e[1]))
        now = 0
        for t, _, msg in ev:
            if msg is None:
                tr.append(mido.MetaMessage("end_of_track", time=t - now))
                break
            tr.append(msg.copy(time=t - now))
            now = t
        mf.tracks.append(tr)
    mf.save(path)


def render(mid: str, wav: str) -> np.ndarray:
    subprocess.run(["fluidsynth", "-ni", "-q", "-R", "0", "-C", "0", "-g", "0.6", "-r", str(RATE),
                    "-F", wav, "-T", "wav", SF2, mid], check=True, capture_output=True)
    y, sr = sf.read(wav, dtype="float64", always_2d=True)
    assert sr == RATE
    return y.mean(axis=1)


SONIC_PI = "/usr/share/sonic-pi/samples"
SONIC_PI_COPYRIGHT = "/usr/share/doc/sonic-pi-samples/copyright"


def cc0_loops(copyright_path: str = SONIC_PI_COPYRIGHT, prefix: str = "loop_") -> list[dict]:
    """The ``prefix*`` files (``loop_``, ``bass_``) the Debian copyright file licenses as CC0:
    [{file, copyright, source}]."""
    out = []
    for para in open(copyright_path, encoding="utf-8").read().split("\n\n"):
        fields = dict(re.findall(r"^(Files|Copyright|License|Source):[ \t]*(.*)$", para, re.M))
        name = os.path.basename(fields.get("Files", "").strip())
        if name.startswith(prefix) and fields.get("License", "").strip() == "CC0":
            out.append({"file": name, "copyright": fields.get("Copyright", "").strip(),
                        "source": fields.get("Source", "").strip()})
    return sorted(out, key=lambda r: r["file"])


def copy_sonic_pi(out: str, prefix: str = "loop_", own: str = "bass riffs and drum beats") -> int:
    """Copy the CC0 sonic-pi files named ``prefix*`` into ``out/sonic-pi`` and list them in
    ``out/SOURCES.md`` (beside ``own``: what the project's own loops in ``out`` are); -> how many."""
    rows = cc0_loops(prefix=prefix)
    dst = os.path.join(out, "sonic-pi")
    os.makedirs(dst, exist_ok=True)
    for r in rows:
        shutil.copyfile(os.path.join(SONIC_PI, r["file"]), os.path.join(dst, r["file"]))
    with open(os.path.join(out, "SOURCES.md"), "w") as f:
        f.write("# Where the built-in training set comes from\n\n"
                f"- `*.wav`: the project's own {own} (`scripts/make_builtin_set.py`, MIT licence like livegan), "
                "rendered by fluidsynth with the FluidR3 GM soundfont (Debian `fluid-soundfont-gm`, MIT licence).\n"
                f"- `sonic-pi/`: the `{prefix}*` files of Debian's `sonic-pi-samples` whose licence its "
                "copyright file gives as CC0:\n\n| file | copyright | source |\n|---|---|---|\n")
        f.writelines(f"| {r['file']} | {r['copyright']} | {r['source'] or '(none given)'} |\n" for r in rows)
    return len(rows)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("out", help="output folder")
    ap.add_argument("--bass", type=int, default=32, help="number of bass riffs")
    ap.add_argument("--drums", type=int, default=16, help="number of drum beats")
    ap.add_argument("--both", type=int, default=16, help="number of bass + drums loops")
    ap.add_argument("--sonic-pi", nargs="?", const="loop_", default=None, metavar="PREFIX",
                    help="add the CC0 files of Debian's sonic-pi-samples named PREFIX* (loop_, or bass_)")
    args = ap.parse_args(argv)
    if args.sonic_pi and not os.path.exists(SONIC_PI_COPYRIGHT):
        print("make_builtin_set: --sonic-pi needs Debian package sonic-pi-samples", file=sys.stderr)
        return 2
    if shutil.which("fluidsynth") is None or not os.path.exists(SF2):
        print("make_builtin_set: needs Debian packages fluidsynth and fluid-soundfont-gm "
              "(apt-get install fluidsynth fluid-soundfont-gm)", file=sys.stderr)
        return 2
    os.makedirs(args.out, exist_ok=True)
    bar = int(round(RATE * 4 * 60 / BPM))
    jobs = [("bass", i) for i in range(args.bass)] + [("drums", i) for i in range(args.drums)] + \
           [("both", i) for i in range(args.both)]
    with tempfile.TemporaryDirectory() as tmp:
        for kind, i in jobs:
            rng = np.random.default_rng([{"bass": 1, "drums": 2, "both": 3}[kind], i])
            parts = []
            if kind in ("bass", "both"):
                program, notes = bass_riff(rng)
                parts.append((0, program, notes))
            if kind in ("drums", "both"):
                parts.append((9, None, drum_beat(rng)))
            mid = os.path.join(tmp, f"{kind}_{i:03d}.mid")
            write_midi(mid, parts)
            y = render(mid, os.path.join(tmp, "x.wav"))
            loop = y[bar:2 * bar]  # the middle bar: tails of the bar before already ring into it
            peak = float(np.max(np.abs(loop)))
            if peak < 1e-4:
                print(f"  {kind}_{i:03d}: silent render, skipped", file=sys.stderr)
                continue
            loop = 0.9 * (loop - loop.mean()) / peak
            sf.write(os.path.join(args.out, f"{kind}_{i:03d}.wav"), loop.astype(np.float32), RATE,
                     subtype="PCM_16")
    n = len([f for f in os.listdir(args.out) if f.endswith(".wav")])
    print(f"wrote {n} loops of 2 s at {RATE} Hz to {args.out}")
    if args.sonic_pi:
        own = " and ".join(w for n, w in ((args.bass, "bass riffs"), (args.drums, "drum beats"),
                                          (args.both, "bass + drums loops")) if n)
        print(f"copied {copy_sonic_pi(args.out, args.sonic_pi, own)} CC0 sonic-pi files to "
              f"{os.path.join(args.out, 'sonic-pi')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
