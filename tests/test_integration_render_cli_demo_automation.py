"""The documented command renders the bundled demo automation through the generic patch:
``livegan render --automation livegan/data/demo.mid --patch patches/generic.toml --model M ...``;
the tempo marker at 16 s takes the performance to 132 BPM, and leaving out --patch is the same."""
from __future__ import annotations

import os

import numpy as np
import soundfile as sf

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_demo_command_renders_with_and_without_explicit_patch(tiny_model, tmp_path, cli):
    outs = []
    for extra in (["--patch", os.path.join("patches", "generic.toml")], []):
        out = tmp_path / f"demo{len(outs)}.wav"
        r = _run(cli, ROOT, extra, tiny_model, out)
        assert r.returncode == 0, r.stderr
        assert "patch generic" in r.stdout and "tempo at the end 132 BPM" in r.stdout, r.stdout
        outs.append(sf.read(str(out), dtype="float32")[0])
    assert outs[0].shape == (17 * 48000, 2) and np.array_equal(outs[0], outs[1])
    assert np.max(np.abs(outs[0])) > 0.05


def _run(cli, root, extra, model, out):
    cwd = os.getcwd()
    os.chdir(root)  # the documented command uses paths relative to the checkout
    try:
        return cli("render", "--automation", os.path.join("livegan", "data", "demo.mid"), *extra,
                   "--model", model, "--seconds", 17, "-o", out)
    finally:
        os.chdir(cwd)
