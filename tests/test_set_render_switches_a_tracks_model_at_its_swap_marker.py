"""``livegan render --set`` plays a log's hot swap (``livegan model TRACK SHA PATHHEX``, ``livegan.swap``):

1. the marker survives the performance log both ways (the ``.mid`` and a crash's journal), for a path
   with spaces and non-ASCII letters;
2. the swapped track renders as before up to the swap and from the new model after it (another
   generator: different audio), while the other track is untouched, bit for bit;
3. a log whose swap names a file that is gone is one line naming the set, the track and the file, no
   traceback and no output; a file whose SHA-256 is not the logged one renders with one warning.
"""
from __future__ import annotations

import hashlib

import numpy as np
import soundfile as sf
from conftest import run_cli

from livegan.io.journal import Journal, read_journal
from livegan.io.model_marker import log_model, marker_model
from livegan.io.perflog import PerfLog, read_perflog
from livegan.testing.tiny import make_quiet_generator, tiny_meta

SR = 48000


def _log(path, swap_path, sha, at):
    log = PerfLog(SR)
    log.log(SR // 2, [0xB1, 20, 100])  # track 2's knob (channel 2)
    log_model(log, at, 1, str(swap_path), sha)
    log.log(at + SR // 2, [0xB1, 21, 30])  # and another after the swap: the new controller takes it
    log.save(path)
    return log


def test_a_swap_marker_switches_the_tracks_model_in_the_render(tmp_path, tiny_model):
    from train.export import save_loop_model

    other = tmp_path / "другой model.ts"  # spaces and non-ASCII letters in the path
    save_loop_model(make_quiet_generator(0.25), other, tiny_meta(name="quiet"), quiet=True)
    sha = hashlib.sha256(other.read_bytes()).hexdigest()
    set_path = tmp_path / "s.toml"
    set_path.write_text(f'[master]\nlimiter = false\n\n[[track]]\nname = "a"\nmodel = "{tiny_model}"\n\n'
                        f'[[track]]\nname = "b"\nmodel = "{tiny_model}"\n')
    at = 3 * SR + 1234
    log = _log(tmp_path / "swap.mid", other, sha, at)
    texts = [m.text for _, m in read_perflog(tmp_path / "swap.mid", SR) if m.type == "marker"]
    assert [marker_model(t) for t in texts if t.startswith("livegan model")] == [(1, sha, str(other))]
    j = Journal(str(tmp_path / "j.journal"), log, 0)  # a crash's journal keeps the marker too
    j.close(remove=False)
    assert [m.text for _, m in read_journal(str(tmp_path / "j.journal"), SR) if m.type == "marker"] == texts

    none = PerfLog(SR)
    none.log(SR // 2, [0xB1, 20, 100])
    none.log(at + SR // 2, [0xB1, 21, 30])
    none.save(tmp_path / "none.mid")
    out = {}
    for name in ("swap", "none"):
        r = run_cli("render", "--set", set_path, "--automation", tmp_path / f"{name}.mid", "--seconds", "8",
                    "-o", tmp_path / f"{name}.wav", "--stems", tmp_path / name, timeout=300)
        assert r.returncode == 0 and "SHA-256" not in r.stderr and "Traceback" not in r.stderr, r.stderr
        out[name] = {k: sf.read(str(tmp_path / name / f"{k}.wav"), dtype="float32")[0] for k in ("a", "b")}
    assert np.array_equal(out["swap"]["a"], out["none"]["a"])  # the other track: untouched
    b1, b0 = out["swap"]["b"], out["none"]["b"]
    assert np.array_equal(b1[:at], b0[:at])  # the swap comes in on the next boundary, not before
    late = slice(6 * SR, 8 * SR)  # bars after the swap: the quiet model plays
    assert 0.15 < np.abs(b1[late]).max() / np.abs(b0[late]).max() < 0.4


def test_a_swap_to_a_missing_file_is_one_line_and_a_changed_file_a_warning(tmp_path, tiny_model):
    from train.export import save_loop_model

    set_path = tmp_path / "s.toml"
    set_path.write_text(f'[[track]]\nname = "a"\nmodel = "{tiny_model}"\n\n[[track]]\nname = "b"\n'
                        f'model = "{tiny_model}"\n')
    gone = tmp_path / "gone.ts"
    _log(tmp_path / "gone.mid", gone, "00" * 32, SR)
    r = run_cli("render", "--set", set_path, "--automation", tmp_path / "gone.mid", "--seconds", "2", "-o",
                tmp_path / "out.wav", timeout=300)
    lines = r.stderr.strip().splitlines()
    assert r.returncode != 0 and len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    assert str(gone) in lines[0] and "no such file" in lines[0] and "track[1] (b)" in lines[0], lines
    assert not (tmp_path / "out.wav").exists()

    save_loop_model(make_quiet_generator(0.25), gone, tiny_meta(name="quiet"), quiet=True)  # not the logged file
    r = run_cli("render", "--set", set_path, "--automation", tmp_path / "gone.mid", "--seconds", "2", "-o",
                tmp_path / "out.wav", timeout=300)
    assert r.returncode == 0, r.stderr
    warned = [ln for ln in r.stderr.splitlines() if "SHA-256" in ln]
    assert len(warned) == 1 and str(gone) in warned[0], r.stderr
