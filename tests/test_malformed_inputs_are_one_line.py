"""The malformed-input corpus: every bad option, file or path at every entry point gives exit code 2
and exactly one stderr line naming it; no traceback, no hang, and no file already there is changed.

Each case runs ``python -m livegan`` in a subprocess with a timeout (a hang fails the test). Args
are templates: ``{name}`` is a file built by ``corpus`` below, ``{model}`` the tiny model.
"""
from __future__ import annotations

import json
import os
import struct

import pytest

from livegan.testing.tiny import make_tiny_generator, tiny_meta

GOOD_TRACK = b"\x00\xb0\x01\x40\x10\x02\x41\x00\xff\x2f\x00"


def smf(fmt: int, ntracks: int, division: int, tracks) -> bytes:
    b = b"MThd" + struct.pack(">IHHH", 6, fmt, ntracks, division)
    for t in tracks:
        b += b"MTrk" + struct.pack(">I", len(t)) + t
    return b


def marker(text: str) -> bytes:
    t = text.encode("latin-1")
    n, var = len(t), [len(t) & 0x7F]
    while n > 0x7F:
        n >>= 7
        var.insert(0, 0x80 | (n & 0x7F))
    return b"\x00\xff\x06" + bytes(var) + t


FILES = {  # name -> bytes (None: a folder)
    "type2.mid": smf(2, 1, 480, [GOOD_TRACK]),
    "tpb0.mid": smf(1, 1, 0, [GOOD_TRACK]),
    "smpte_bad.mid": smf(0, 1, 0xE500, [GOOD_TRACK]),
    "random.mid": bytes(range(256)) * 8,
    "truncated.mid": smf(0, 1, 480, [GOOD_TRACK])[:-4],
    "empty.mid": b"",
    "fewer_tracks.mid": smf(1, 3, 480, [GOOD_TRACK]),
    "data_byte.mid": smf(0, 1, 480, [b"\x00\xb0\x01\xc0"]),
    "no_status.mid": smf(0, 1, 480, [b"\x00\x01\x02"]),
    "long_varlen.mid": smf(0, 1, 480, [b"\xff\xff\xff\xff\x7f\xb0\x01\x02"]),
    "short_tempo.mid": smf(0, 1, 480, [b"\x00\xff\x51\x02\x07\xa1"]),
    "undefined_status.mid": smf(0, 1, 480, [b"\x00\xf4"]),
    "tempo_word.mid": smf(0, 1, 480, [marker("livegan tempo abc")]),
    "tempo_9000.mid": smf(0, 1, 480, [marker("livegan tempo 9000")]),
    "tempo_nan.mid": smf(0, 1, 480, [marker("livegan tempo nan")]),
    "tempo_escape.mid": smf(0, 1, 480, [marker("livegan tempo \x1b[2J")]),
    "take_huge.mid": smf(0, 1, 480, [marker("livegan take 99999999999")]),
    "locate_bad.mid": smf(0, 1, 480, [marker("livegan locate x 5")]),
    "run_bad.mid": smf(0, 1, 480, [marker("livegan run 2")]),
    "loop_bad.mid": smf(0, 1, 480, [marker("livegan loop -5 x")]),
    "loop_huge.mid": smf(0, 1, 480, [marker("livegan loop 99999999999999999999 0")]),
    "base_odd.mid": smf(0, 1, 480, [marker("livegan base 3f80000")]),
    "base_word.mid": smf(0, 1, 480, [marker("livegan base zzzzzzzz")]),
    "base_nan.mid": smf(0, 1, 480, [marker("livegan base 7fc00000")]),
    "base_huge.mid": smf(0, 1, 480, [marker("livegan base " + "3f800000" * 5000)]),
    "wave.mid": b"RIFF\x00\x00\x00\x00WAVEfmt ",
    "folder.mid": None,
    "nonutf8.toml": b'name = "caf\xe9"\n',
    "nested.toml": b"a = " + b"[" * 100000 + b"]" * 100000 + b"\n",
    "bigint.toml": b"[transport]\ntempo = 1" + b"0" * 5000 + b"\n",
    "folder.toml": None,
    "folder.wav": None,
    "folder.json": None,
    "set_missing_model.toml": b'[[track]]\nname = "drums"\nmodel = "nothere.ts"\n',
    "set_dup_names.toml": (b'[[track]]\nname = "a"\nmodel = "builtin:beats"\n'
                           b'[[track]]\nname = "a"\nmodel = "builtin:beats"\n'),
    "set_one_channel.toml": (b'[[track]]\nname = "a"\nmodel = "builtin:beats"\nchannel = 2\n'
                             b'[[track]]\nname = "b"\nmodel = "builtin:beats"\n'),
    "set_1000.toml": b"".join(b'[[track]]\nname = "t%d"\nmodel = "builtin:beats"\n' % i for i in range(1000)),
    "set_bad_pan.toml": b'[[track]]\nname = "a"\nmodel = "builtin:beats"\npan = -3\n',
    "set_unknown_key.toml": b'[[track]]\nname = "a"\nmodel = "builtin:beats"\nvolume = 1\n',
    "set_harp.toml": b'[[track]]\nname = "harp"\nmodel = "builtin:harp"\n',
    "set_tiny.toml": b'[[track]]\nname = "a"\nmodel = "builtin:beats"\n',
    "set_scene_track.toml": (b'[[track]]\nname = "a"\nmodel = "builtin:beats"\n'
                             b'[[scene]]\nname = "v"\n[scene.b]\nseed = 1\n'),
    "existing.wav": b"RIFF-an earlier take, not to be touched",
    "a.wav": b"RIFF-a stem of an earlier render, not to be touched",
    "existing.json": b'{"xruns": 0, "note": "an earlier show\'s statistics, not to be touched"}',
}


@pytest.fixture(scope="module")
def bad_models(tmp_path_factory, tiny_model):
    folder = tmp_path_factory.mktemp("bad_models")
    paths = {name.replace(".", "_"): _raw_model(folder / name, **over) for name, over in MODELS.items()}
    paths["bomb_ts"] = _metadata_bomb(tiny_model, folder / "bomb.ts", 64 << 20)
    return paths


@pytest.fixture
def corpus(tmp_path, tiny_model, bad_models):
    paths = {"model": str(tiny_model), "missing": str(tmp_path / "missing.mid"), "tmp": str(tmp_path)}
    for name, data in FILES.items():
        p = tmp_path / name
        if data is None:
            p.mkdir()
        else:
            p.write_bytes(data)
        paths[name.replace(".", "_")] = str(p)
    paths["good_mid"] = paths["type2_mid"].replace("type2", "good")
    with open(paths["good_mid"], "wb") as f:
        f.write(smf(0, 1, 480, [GOOD_TRACK]))
    paths.update(bad_models)
    return paths


def _metadata_bomb(model, path, nbytes: int) -> str:
    """``model`` re-zipped with its ``livegan.json`` padded to ``nbytes`` of valid JSON and deflated
    (a few KB on disk): read whole, it cost RSS without bound."""
    import zipfile

    from livegan.model import META_NAME

    with zipfile.ZipFile(model) as src, zipfile.ZipFile(path, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename.endswith("/extra/" + META_NAME):
                data = data + b" " * (nbytes - len(data))
                dst.writestr(info.filename, data, compress_type=zipfile.ZIP_DEFLATED)
            else:
                dst.writestr(info, data)
    return str(path)


def _raw_model(path, **over) -> str:
    """The tiny generator saved with metadata ``over`` as is (``save_loop_model`` would refuse it)."""
    import torch

    from livegan.model import META_NAME

    meta = {**tiny_meta(**over), "format": 1}
    torch.jit.save(torch.jit.script(make_tiny_generator()), str(path), _extra_files={META_NAME: json.dumps(meta)})
    return str(path)


# model files whose tempo lies outside the one range every part plays (20-400 BPM); the model check
# allowed 10-1000 and the engine then raised ValueError in render and perform
MODELS = {"fast.ts": dict(bars=4, beats_per_bar=4, bpm=480.0), "slow.ts": dict(sample_rate=2048, bpm=15.0)}


def _snapshot(folder):
    return {n: open(os.path.join(folder, n), "rb").read() for n in os.listdir(folder)
            if os.path.isfile(os.path.join(folder, n))}


def run_case(cli, corpus, command, args, names):
    """Run one case; assert the one-line contract and that no file in the corpus folder changed."""
    before = _snapshot(corpus["tmp"])
    argv = [a.format(**corpus) for a in args]
    r = cli(command, *argv, timeout=60)
    assert r.returncode == 2, (argv, r.stderr)
    assert "Traceback" not in r.stderr, r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.strip() and ": warning: " not in ln]
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith(f"livegan {command}: error: "), r.stderr
    for n in names:
        assert n.format(**corpus) in lines[0], (n, lines[0])
    assert "\x1b" not in r.stderr
    after = _snapshot(corpus["tmp"])
    assert {n: b for n, b in after.items() if n in before} == before  # nothing already there changed
    return lines[0]


R = ["--model", "{model}", "-o", "{tmp}/out.wav", "--seconds", "1"]
RENDER = {  # id -> (args, words the line must hold)
    "samplerate 0": (["--automation", "{good_mid}", *R, "--samplerate", "0"], ["--samplerate"]),
    "samplerate -48000": (["--automation", "{good_mid}", *R, "--samplerate=-48000"], ["--samplerate"]),
    "samplerate 1": (["--automation", "{good_mid}", *R, "--samplerate", "1"], ["--samplerate"]),
    "samplerate 10^7": (["--automation", "{good_mid}", *R, "--samplerate", "10000000"], ["--samplerate"]),
    "samplerate word": (["--automation", "{good_mid}", *R, "--samplerate", "fast"], ["--samplerate"]),
    "blocksize 0": (["--automation", "{good_mid}", *R, "--blocksize", "0"], ["--blocksize"]),
    "blocksize 10^12": (["--automation", "{good_mid}", *R, "--blocksize", "1000000000000"], ["--blocksize"]),
    "seconds nan": (["--automation", "{good_mid}", "--model", "{model}", "-o", "{tmp}/o.wav", "--seconds", "nan"],
                    ["--seconds"]),
    "seconds inf": (["--automation", "{good_mid}", "--model", "{model}", "-o", "{tmp}/o.wav", "--seconds", "inf"],
                    ["--seconds"]),
    "seconds 0": (["--automation", "{good_mid}", "--model", "{model}", "-o", "{tmp}/o.wav", "--seconds", "0"],
                  ["--seconds"]),
    "seconds -1": (["--automation", "{good_mid}", "--model", "{model}", "-o", "{tmp}/o.wav", "--seconds=-1"],
                   ["--seconds"]),
    "seconds 1e9": (["--automation", "{good_mid}", "--model", "{model}", "-o", "{tmp}/o.wav", "--seconds", "1e9"],
                    ["--seconds"]),
    "wav past 4 GiB": (["--automation", "{good_mid}", "--model", "{model}", "-o", "{tmp}/o.wav", "--seconds",
                        "20000", "--samplerate", "384000"], ["{tmp}/o.wav", "4 GiB"]),
    "output is a folder": (["--automation", "{good_mid}", "--model", "{model}", "-o", "{folder_wav}",
                            "--seconds", "1"], ["{folder_wav}", "folder"]),
    "output folder missing": (["--automation", "{good_mid}", "--model", "{model}", "-o", "{tmp}/no/o.wav",
                               "--seconds", "1"], ["{tmp}/no/o.wav", "does not exist"]),
    "output unwritable": (["--automation", "{good_mid}", "--model", "{model}", "-o", "/proc/o.wav",
                           "--seconds", "1"], ["/proc/o.wav", "cannot write"]),
    "output not audio": (["--automation", "{good_mid}", "--model", "{model}", "-o", "{tmp}/o.mp3",
                          "--seconds", "1"], ["{tmp}/o.mp3"]),
    "automation missing": (["--automation", "{missing}", *R], ["{missing}", "no such file"]),
    "automation folder": (["--automation", "{folder_mid}", *R], ["{folder_mid}", "folder"]),
    "patch non-UTF-8": (["--automation", "{good_mid}", *R, "--patch", "{nonutf8_toml}"], ["{nonutf8_toml}", "UTF-8"]),
    "patch nested": (["--automation", "{good_mid}", *R, "--patch", "{nested_toml}"], ["{nested_toml}", "nested"]),
    "patch huge integer": (["--automation", "{good_mid}", *R, "--patch", "{bigint_toml}"], ["{bigint_toml}"]),
    "patch folder": (["--automation", "{good_mid}", *R, "--patch", "{folder_toml}"], ["{folder_toml}", "folder"]),
    "patch missing": (["--automation", "{good_mid}", *R, "--patch", "{tmp}/none.toml"], ["{tmp}/none.toml"]),
    "model missing": (["--automation", "{good_mid}", "--model", "{tmp}/none.ts", "-o", "{tmp}/o.wav", "--seconds",
                       "1"], ["{tmp}/none.ts"]),
    "loops unwritable": (["--automation", "{good_mid}", *R, "--loops", "/proc/loops"], ["--loops /proc/loops"]),
    "output exists": (["--automation", "{good_mid}", "--model", "{model}", "-o", "{existing_wav}", "--seconds", "1"],
                      ["{existing_wav}", "exists", "--force"]),
    "no arguments": ([], ["--automation"]),
    "model at 480 BPM": (["--automation", "{good_mid}", "--model", "{fast_ts}", "-o", "{tmp}/o.wav", "--seconds", "1"],
                         ["{fast_ts}", "'bpm'", "[20, 400]"]),
    "model at 15 BPM": (["--automation", "{good_mid}", "--model", "{slow_ts}", "-o", "{tmp}/o.wav", "--seconds", "1"],
                        ["{slow_ts}", "'bpm'", "[20, 400]"]),
    "metadata bomb": (["--automation", "{good_mid}", "--model", "{bomb_ts}", "-o", "{tmp}/o.wav", "--seconds", "1"],
                      ["{bomb_ts}", "livegan.json", "16 MiB"]),
}
S = ["--automation", "{good_mid}", "-o", "{tmp}/o.wav", "--seconds", "1", "--set"]
RENDER.update({  # set files (docs/sets.md): one line naming the set file, the track and the field
    "set missing model": ([*S, "{set_missing_model_toml}"], ["{set_missing_model_toml}", "track[0] (drums).model",
                                                               "nothere.ts"]),
    "set duplicate names": ([*S, "{set_dup_names_toml}"], ["{set_dup_names_toml}", "track[1] (a).name"]),
    "set two tracks on one channel": ([*S, "{set_one_channel_toml}"], ["{set_one_channel_toml}",
                                                                       "track[1] (b).channel", "channel 2"]),
    "set 1000 tracks": ([*S, "{set_1000_toml}"], ["{set_1000_toml}", "1000 tracks", "at most 16"]),
    "set bad pan": ([*S, "{set_bad_pan_toml}"], ["{set_bad_pan_toml}", "track[0] (a).pan"]),
    "set unknown key": ([*S, "{set_unknown_key_toml}"], ["{set_unknown_key_toml}", "track[0] (a).volume"]),
    "set unknown builtin": ([*S, "{set_harp_toml}"], ["{set_harp_toml}", "track[0] (harp).model", "builtin:bass"]),
    "set scene unknown track": ([*S, "{set_scene_track_toml}"], ["{set_scene_track_toml}", "scene[0] (v).b"]),
    "set missing": ([*S, "{tmp}/none.set.toml"], ["{tmp}/none.set.toml", "no such file"]),
    "set with --model": ([*S, "{set_tiny_toml}", "--model", "{model}"], ["--model", "--set"]),
    "stems without --set": (["--automation", "{good_mid}", *R, "--stems", "{tmp}/stems"], ["--stems", "--set"]),
    "stems is a file": ([*S, "{set_tiny_toml}", "--stems", "{existing_wav}"], ["--stems", "{existing_wav}"]),
    "stem exists": ([*S, "{set_tiny_toml}", "--stems", "{tmp}"], ["{tmp}/a.wav", "exists", "--force"]),
})
MIDI_WORDS = {"type2.mid": "type-2", "tpb0.mid": "ticks per beat is 0", "smpte_bad.mid": "SMPTE",
              "random.mid": "not a standard MIDI file", "truncated.mid": "truncated", "empty.mid": "not a standard",
              "fewer_tracks.mid": "3 tracks", "data_byte.mid": "above 127", "no_status.mid": "no status",
              "long_varlen.mid": "longer than 4 bytes", "short_tempo.mid": "set_tempo", "undefined_status.mid":
              "undefined status", "tempo_word.mid": "livegan tempo abc", "tempo_9000.mid": "[20, 400]",
              "tempo_nan.mid": "[20, 400]", "tempo_escape.mid": "livegan tempo", "take_huge.mid": "99999999999",
              "locate_bad.mid": "livegan locate", "run_bad.mid": "livegan run", "wave.mid": "not a standard MIDI",
              "loop_bad.mid": "livegan loop", "loop_huge.mid": "livegan loop", "base_odd.mid": "livegan base",
              "base_word.mid": "livegan base", "base_nan.mid": "livegan base", "base_huge.mid": "livegan base"}
for _name, _words in MIDI_WORDS.items():
    _key = "{" + _name.replace(".", "_") + "}"
    RENDER[f"automation {_name}"] = (["--automation", _key, *R], [_key, _words])


@pytest.mark.parametrize("case", sorted(RENDER))
def test_render_refuses_malformed_input_in_one_line(cli, corpus, case):
    args, names = RENDER[case]
    run_case(cli, corpus, "render", args, names)


def _seed_notes_every_bar(path, bars: int, channels=(0, 1)) -> None:
    """A log that plays a new seed note on every channel in ``channels`` every bar (a new loop each bar)."""
    import mido

    mid = mido.MidiFile(ticks_per_beat=480)
    tr = mido.MidiTrack()
    mid.tracks.append(tr)
    for bar in range(bars):
        for i, ch in enumerate(channels):
            tr.append(mido.Message("note_on", channel=ch, note=36 + bar % 8, velocity=100,
                                   time=(960 if bar == 0 else 1800) if i == 0 else 0))
        for i, ch in enumerate(channels):
            tr.append(mido.Message("note_off", channel=ch, note=36 + bar % 8, time=120 if i == 0 else 0))
    mid.save(str(path))


def test_a_set_track_whose_model_raises_mid_show_keeps_its_loop_and_the_others_play_on(cli, tmp_path, tiny_model):
    """A set file whose second track's model raises from its 6th call on (after its first loops): the render
    completes (exit 0); the first track's stem is bit for bit what it is when both models are good (the
    others play on); the failing track is never silent for a bar (the loop before each failure plays on,
    which is within the issue's "silent for a bar at most"); one warning line names the track and the fault."""
    import numpy as np
    import soundfile as sf

    from livegan.testing.faulty_models import save_faulty

    save_faulty(tmp_path / "raise.ts", "raise", after=5)
    _seed_notes_every_bar(tmp_path / "notes.mid", 8)
    sets = {"good": "tiny.ts", "bad": "raise.ts"}
    (tmp_path / "tiny.ts").write_bytes(open(tiny_model, "rb").read())
    out = {}
    for name, second in sets.items():
        (tmp_path / f"{name}.toml").write_text('[master]\nlimiter = false\n[[track]]\nname = "drums"\n'
                                              f'model = "tiny.ts"\n[[track]]\nname = "bass"\nmodel = "{second}"\n')
        r = cli("render", "--set", tmp_path / f"{name}.toml", "--automation", tmp_path / "notes.mid", "--seconds",
                "12", "-o", tmp_path / f"{name}.wav", "--stems", tmp_path / f"{name}.stems", timeout=120)
        assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
        out[name] = (r, {t: sf.read(tmp_path / f"{name}.stems" / f"{t}.wav", dtype="float32")[0]
                         for t in ("drums", "bass")})
    bad, stems = out["bad"]
    said = [ln for ln in bad.stderr.splitlines() if "generation failed" in ln]
    assert len(said) == 1 and "track[1] (bass)" in said[0] and "faulty model" in said[0], bad.stderr
    assert "failed: the loop before each played on" in bad.stdout, bad.stdout
    assert np.array_equal(stems["drums"], out["good"][1]["drums"])  # the other track: untouched
    bars = np.abs(stems["bass"]).reshape(-1, 96000, 2).max(axis=(1, 2))  # 2-s bars at 48 kHz
    assert bars.min() > 0.1, bars  # no bar of the failing track is silent
    assert not np.array_equal(stems["bass"], out["good"][1]["bass"])  # it did fail (the loops it kept differ)



def test_a_live_set_track_whose_model_raises_mid_show_keeps_its_loop_and_the_others_play_on(jack_server, tmp_path,
                                                                                           tiny_model):
    """The same set played live (``perform --set`` on JACK, 240 BPM: a bar a second, both tracks' knob 1 moved
    every bar over OSC): the show runs to its end (exit 0); the good track makes a loop every bar with none
    late; the failing track's generations fail and it plays on (its stem never silent for a bar); one
    warning line names the failing track, and the stats count its faults as the show's."""
    import numpy as np
    import soundfile as sf

    from livegan.control.patch import default_patch_path, load_patch, replace
    from livegan.control.patch_write import save_patch
    from livegan.testing.faulty_models import save_faulty
    from livegan.testing.osc_sender import perform_with_osc

    save_faulty(tmp_path / "raise.ts", "raise", after=5)
    save_patch(replace(load_patch(default_patch_path()), name="fast", tempo=240.0, quantize="bar"), tmp_path / "f.toml")
    (tmp_path / "s.toml").write_text(f'[[track]]\nname = "drums"\nmodel = "{tiny_model}"\npatch = "f.toml"\n'
                                     '[[track]]\nname = "bass"\nmodel = "raise.ts"\npatch = "f.toml"\n')
    plan = [(1.5 + bar + 0.01 * k, f"/livegan/track/{k + 1}/knob/1", [0.2 + 0.15 * (bar % 5)])
            for bar in range(6) for k in range(2)]
    rc, err, (s_rc, _, s_err) = perform_with_osc(None, tmp_path, [
        "--set", tmp_path / "s.toml", "--seconds", 9, "--record", tmp_path / "take.wav", "--stems",
        "--stats-json", tmp_path / "stats.json"], plan=plan)
    assert rc == 0 and s_rc == 0 and "Traceback" not in err, err + s_err
    stats = json.loads((tmp_path / "stats.json").read_text())
    # the others play on (a loop a bar from 4 s: the pickup takeover waits for the knob to pass 0.5)
    assert stats["track0_loops_generated"] >= 5 and stats["track0_late_loops"] == 0, stats
    assert 1 <= stats["track1_loops_generated"] <= 3, stats  # its first good calls only, then failures
    assert stats["track1_gen_faults"] >= 1 and stats["gen_faults"] == stats["track1_gen_faults"], stats
    said = [ln for ln in err.splitlines() if "a generation failed" in ln]
    assert len(said) == 1 and "track[1] (bass)" in said[0], err  # one line, naming the track
    bass, rate = sf.read(str(tmp_path / "take.stems" / "bass.wav"), dtype="float32")
    bars = np.abs(bass[: len(bass) // rate * rate]).reshape(-1, rate, 2).max(axis=(1, 2))  # 1-s bars
    assert bars.min() > 0.05, bars  # never silent for a bar: the loop before each failure plays on


PERFORM = {
    "samplerate 0": (["--samplerate", "0"], ["--samplerate"]),
    "samplerate -1": (["--samplerate=-1"], ["--samplerate"]),
    "samplerate 1": (["--samplerate", "1"], ["--samplerate"]),
    "blocksize 1": (["--blocksize", "1"], ["--blocksize"]),
    "blocksize word": (["--blocksize", "big"], ["--blocksize"]),
    "latency nan": (["--latency", "nan"], ["--latency"]),
    "latency -1": (["--latency=-1"], ["--latency"]),
    "latency word": (["--latency", "soon"], ["--latency"]),
    "seconds nan": (["--seconds", "nan"], ["--seconds"]),
    "seconds inf": (["--seconds", "inf"], ["--seconds"]),
    "seconds 0": (["--seconds", "0"], ["--seconds"]),
    "record folder": (["--seconds", "1", "--record", "{folder_wav}"], ["{folder_wav}", "folder"]),
    "record unwritable": (["--seconds", "1", "--record", "/proc/take.wav"], ["/proc/take.wav"]),
    "record folder missing": (["--seconds", "1", "--record", "{tmp}/no/take.wav"], ["{tmp}/no/take.wav"]),
    "record not audio": (["--seconds", "1", "--record", "{tmp}/take.txt"], ["{tmp}/take.txt"]),
    "stats-json folder": (["--seconds", "1", "--stats-json", "{folder_json}"], ["{folder_json}", "folder"]),
    "stats-json unwritable": (["--seconds", "1", "--stats-json", "/proc/s.json"], ["/proc/s.json"]),
    "stats-json exists": (["--seconds", "1", "--stats-json", "{existing_json}"], ["{existing_json}", "--force"]),
    "loops-dir a file": (["--seconds", "1", "--loops-dir", "{good_mid}"], ["--loops-dir {good_mid}", "not a folder"]),
    "loops-dir unwritable": (["--seconds", "1", "--loops-dir", "/proc/loops"], ["--loops-dir /proc/loops"]),
    "patch non-UTF-8": (["--seconds", "1", "--patch", "{nonutf8_toml}"], ["{nonutf8_toml}"]),
    "patch nested": (["--seconds", "1", "--patch", "{nested_toml}"], ["{nested_toml}"]),
    "patch folder": (["--seconds", "1", "--patch", "{folder_toml}"], ["{folder_toml}"]),
    "osc port 70000": (["--osc", "70000"], ["--osc"]),
    "osc port word": (["--osc", "nine"], ["--osc"]),
    "osc-host without osc": (["--osc-host", "0.0.0.0"], ["--osc-host", "--osc"]),
    "osc-host not here": (["--osc", "9000", "--osc-host", "192.0.2.1"], ["--osc-host 192.0.2.1"]),
    "model at 480 BPM": (["--seconds", "1", "--model", "{fast_ts}"], ["{fast_ts}", "'bpm'", "[20, 400]"]),
}


@pytest.mark.parametrize("case", sorted(PERFORM))
def test_perform_refuses_malformed_input_in_one_line(cli, corpus, case):
    """All of these are refused before any audio device is opened: no JACK server is needed."""
    args, names = PERFORM[case]
    run_case(cli, corpus, "perform", ["--model", "{model}", *args], names)


INFO = {
    "runs 0": (["{model}", "--runs", "0"], ["--runs"]),
    "runs -5": (["{model}", "--runs=-5"], ["--runs"]),
    "runs 10^9": (["{model}", "--runs", "1000000000"], ["--runs"]),
    "device gpu": (["{model}", "--device", "gpu"], ["--device"]),
    "model folder": (["{tmp}"], ["{tmp}"]),
    "model random bytes": (["{random_mid}"], ["{random_mid}"]),
    "model at 480 BPM": (["{fast_ts}"], ["{fast_ts}", "'bpm'", "[20, 400]"]),
    "metadata bomb": (["{bomb_ts}"], ["{bomb_ts}", "livegan.json", "16 MiB"]),
}


@pytest.mark.parametrize("case", sorted(INFO))
def test_info_refuses_malformed_input_in_one_line(cli, corpus, case):
    args, names = INFO[case]
    run_case(cli, corpus, "info", args, names)


def test_info_device_cuda_without_cuda_is_one_line(cli, corpus):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA: --device cuda is valid here")
    run_case(cli, corpus, "info", ["{model}", "--device", "cuda"], ["--device cuda", "CUDA"])


LEARN = {
    "patch folder": (["--patch", "{folder_toml}"], ["{folder_toml}", "folder"]),
    "patch unwritable": (["--patch", "/proc/p.toml"], ["/proc/p.toml"]),
    "patch folder missing": (["--patch", "{tmp}/no/p.toml"], ["{tmp}/no/p.toml"]),
    "patch non-UTF-8 template": (["--patch", "{nonutf8_toml}"], ["{nonutf8_toml}"]),
}


@pytest.mark.parametrize("case", sorted(LEARN))
def test_learn_refuses_malformed_input_before_learning(cli, corpus, case):
    """Refused before the MIDI port opens (the old code found an unwritable path after learning)."""
    args, names = LEARN[case]
    line = run_case(cli, corpus, "learn", args, names)
    assert "move the knob" not in line


DEMO = {
    "output folder": (["--no-play", "-o", "{folder_wav}"], ["{folder_wav}"]),
    "output unwritable": (["--no-play", "-o", "/proc/demo.wav"], ["/proc/demo.wav"]),
}


@pytest.mark.parametrize("case", sorted(DEMO))
def test_demo_refuses_malformed_output_in_one_line(cli, corpus, case):
    args, names = DEMO[case]
    run_case(cli, corpus, "demo", args, names)


WRAP = {  # refused before the decoder is loaded
    "bpm 480": (["{model}", "-o", "{tmp}/w.ts", "--bpm", "480"], ["--bpm", "[20, 400]"]),
    "bpm 15": (["{model}", "-o", "{tmp}/w.ts", "--bpm", "15"], ["--bpm", "[20, 400]"]),
}


@pytest.mark.parametrize("case", sorted(WRAP))
def test_wrap_refuses_malformed_input_in_one_line(cli, corpus, case):
    args, names = WRAP[case]
    run_case(cli, corpus, "wrap", args, names)
    assert not os.path.exists(os.path.join(corpus["tmp"], "w.ts"))


@pytest.mark.parametrize("args", [["devices"], ["info", "{model}", "--json", "--runs", "1"],
                                  ["info", "{model}", "--runs", "1"]], ids=["devices", "info --json", "info"])
def test_a_closed_stdout_ends_the_command_quietly(corpus, args):
    """``livegan devices | head -1``: the reader is gone before the output is written. The command ends
    as a SIGPIPE'd tool does (141), with nothing on stderr (a BrokenPipeError traceback before)."""
    import subprocess
    import sys

    r, w = os.pipe()
    os.close(r)  # the reader left: every write to w fails with EPIPE
    try:
        p = subprocess.run([sys.executable, "-m", "livegan", *[a.format(**corpus) for a in args]], stdout=w,
                           stderr=subprocess.PIPE, text=True, timeout=120)
    finally:
        os.close(w)
    assert p.returncode == 141 and p.stderr == "", (p.returncode, p.stderr[-2000:])
