"""Fingerprint of a fixed-seed tiny run of every preset through the CLI: losses, weights, exported loops.

    python benchmarks/train_fingerprint.py OUT.json WORK_DIR

Each preset (shrunk as tests/test_train_presets_end_to_end.py shrinks it, one torch thread) trains 3 steps,
resumes for a 4th and exports; OUT.json holds the loss history, hashes of G's and D's weights, of the
exported file's loops for 3 fixed z and its directions, and of its archive entries. Run it before and
after a change that must not change training (e.g. on a copy of the old tree with PYTHONPATH pointing at
it) and compare the files. TorchScript writes Final constants in hash-seed order and debug files with
absolute source paths, so archive entries compare only under one PYTHONHASHSEED and one checkout path.
"""
import hashlib
import json
import os
import sys
import zipfile

import numpy as np
import torch

from livegan.cli import main
from livegan.model import LoopModel
from livegan.testing.synth import write_loop_folder

sys.path.insert(0, os.path.join(os.getcwd(), "tests"))
from test_train_presets_end_to_end import TINY

out_json, work = sys.argv[1], sys.argv[2]
os.makedirs(work, exist_ok=True)
folder = os.path.join(work, "loops")
if not os.path.isdir(folder):
    write_loop_folder(os.path.join(folder, "bass"), 3, sr=22050, kinds=("bass",))
    write_loop_folder(os.path.join(folder, "drums"), 2, sr=44100, kinds=("drums",), seed0=10, subtype="FLOAT")
res = {}
def h(t): return hashlib.sha256(t.detach().contiguous().numpy().tobytes()).hexdigest()[:16]
for preset in sorted(TINY):
    run = os.path.join(work, preset)
    args = ["train", folder, "--preset", preset, "--out", run, "--steps", "3", "--device", "cpu", "--set", "threads=1",
            "--set", "report=false"]
    for kv in TINY[preset]:
        args += ["--set", kv]
    assert main(args) == 0
    # resume one more step
    assert main(args[:7] + ["4"] + args[8:] + ["--resume"]) == 0
    ck = torch.load(os.path.join(run, "checkpoint.pt"), weights_only=True)
    r = {"history": {k: [repr(x) for x in v] if not isinstance(v[0], list) else repr(v)
                     for k, v in ck["history"].items() if v},
         "g": {k: h(v) for k, v in ck["g"].items()}, "d": {k: h(v) for k, v in ck["d"].items()},
         "preset": ck["preset"]}
    ts = os.path.join(work, preset + ".ts")
    assert main(["export", run, "-o", ts]) == 0
    m = LoopModel(ts, device="cpu", threads=1)
    z = np.random.default_rng(5).standard_normal((3, m.meta.latent_dim)).astype(np.float32)
    y = m.generate(z)
    r["export_out"] = hashlib.sha256(np.ascontiguousarray(y).tobytes()).hexdigest()[:16]
    r["directions"] = hashlib.sha256(np.asarray(m.meta.directions).tobytes()).hexdigest()[:16]
    zf = zipfile.ZipFile(ts)
    r["archive"] = {n.split("/", 1)[1]: hashlib.sha256(zf.read(n)).hexdigest()[:16] for n in zf.namelist()
                    if "/code/" in n or "/data/" in n or n.endswith("constants.pkl")}
    res[preset] = r
json.dump(res, open(out_json, "w"), indent=1, sort_keys=True)
print("ok", out_json)
