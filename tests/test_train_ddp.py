"""Multi-process training through torchrun (DistributedDataParallel, gloo on CPU) completes and agrees."""
from __future__ import annotations

import os
import subprocess
import sys

import torch

from livegan.testing.synth import write_loop_folder


def test_two_cpu_processes_train_a_few_steps_with_ddp(tmp_path):
    data = tmp_path / "loops"
    write_loop_folder(data, 4, sr=8192, kinds=("bass",))
    run = tmp_path / "run"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "-m", "train", str(data), "--preset", "wavegan", "--out", str(run), "--steps", "3",
           "--device", "cpu", "--set", "model_dim=2", "--set", "batch_size=2", "--set", "n_critic=2",
           "--set", "loop_samples=4096", "--set", "beats_per_bar=1", "--set", "n_val=4", "--set", "report=false",
           "--set", "preview_every=0"]  # (0.25 s at 16384 Hz: one beat at 240 BPM, inside the tempo range)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=180, env=env, cwd=tmp_path)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-3000:]
    assert "2 proc" in r.stderr  # the progress bar of rank 0 says it ran with 2 processes
    ck = torch.load(run / "checkpoint.pt", weights_only=True)
    assert ck["step"] == 3
    assert all(torch.isfinite(v).all() for v in ck["g"].values())
