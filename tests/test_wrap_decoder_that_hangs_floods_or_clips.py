"""``livegan wrap`` of a hostile or careless decoder: one that never returns ends at its deadline with one
line (``LIVEGAN_GEN_TIMEOUT_S`` per decoder call), and Ctrl-C ends it at once while a progress bar shows
the call it waits for; one that renders more than ``MAX_RENDER`` samples per z is refused with one line
naming the cap before any bigger call; one whose output goes past [-1, 1] is wrapped with one warning
naming the peak it saw."""
from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time

import pytest
import torch
from conftest import run_cli

from train.decoder_calls import MAX_RENDER

SR = 16000


class Hangs(torch.nn.Module):
    """nn~ conventions, but ``decode`` spins on tensor ops forever (TorchScript has no sleep)."""

    def __init__(self):
        super().__init__()
        self.sr = SR
        self.forever = True
        self.register_buffer("decode_params", torch.tensor([4, 256, 1, 1]))

    @torch.jit.export
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        x = torch.ones(32, 32) * (1.0 + 0.0 * z.sum())  # depends on z: TorchScript cannot fold the loop away
        while self.forever:
            x = torch.tanh(x @ x * 0.01)
        return torch.repeat_interleave(z[:, :1], 256, dim=2) + 0.0 * x.mean()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


class Floods(torch.nn.Module):
    """A plain generator that renders 2^27 samples per z (a view: the test allocates nothing)."""

    def __init__(self):
        super().__init__()
        self.latent_dim = 4
        self.sample_rate = SR

    def forward(self, z: torch.Tensor) -> torch.Tensor:  # (B, 4) -> (B, 2^27)
        return torch.zeros(1, 1).expand(z.shape[0], 134217728) + 0.0 * z[:1, :1]


class Loud(torch.nn.Module):
    """A plain generator at +-30: 2.5 s of one sine per z."""

    def __init__(self):
        super().__init__()
        self.latent_dim = 4
        self.sample_rate = SR
        self.register_buffer("t", torch.arange(40000, dtype=torch.float32) / SR)

    def forward(self, z: torch.Tensor) -> torch.Tensor:  # (B, 4) -> (B, N)
        f = 220.0 * torch.pow(2.0, 0.2 * torch.tanh(z[:, :1]))  # (B, 1) Hz
        return 30.0 * torch.sin(2.0 * torch.pi * f * self.t)


@pytest.fixture(scope="module")
def decoders(tmp_path_factory):
    d = tmp_path_factory.mktemp("hostile")
    for name, module in {"hangs": Hangs(), "floods": Floods(), "loud": Loud()}.items():
        torch.jit.save(torch.jit.script(module.eval()), str(d / f"{name}.ts"))
    return d


def _one_error_line(r, *says):
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and len(lines) == 1 and lines[0].startswith("livegan wrap: error:"), r.stderr
    assert all(s in lines[0] for s in says), r.stderr


def test_a_decoder_that_never_returns_ends_at_its_deadline_in_one_line(decoders, tmp_path):
    r = run_cli("wrap", decoders / "hangs.ts", "-o", tmp_path / "x.ts", env_extra={"LIVEGAN_GEN_TIMEOUT_S": "2"},
                timeout=150)
    _one_error_line(r, "hangs.ts", "decode() on z of shape (1, 4, 8) did not return within 2 s",
                    "LIVEGAN_GEN_TIMEOUT_S")
    assert not (tmp_path / "x.ts").exists()


def _read_until(fd, pattern: str, seconds: float) -> str:
    """What the terminal showed, read until ``pattern`` appears, the program closes it, or ``seconds`` pass."""
    seen, end = b"", time.monotonic() + seconds
    while time.monotonic() < end:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # EIO: the program ended and closed the terminal
                break
            if not chunk:
                break
            seen += chunk
            if re.search(pattern, seen.decode(errors="replace")):
                break
    return seen.decode(errors="replace")


def test_ctrl_c_ends_a_wrap_stuck_in_the_decoder_and_the_bar_shows_the_call(decoders, tmp_path):
    """In a terminal: the bar names the call it waits for; SIGINT then ends the command (exit 130, one
    line) although the decoder's call never returns and its deadline is far off."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # a terminal's size: tqdm draws to it
    env = {**os.environ, "LIVEGAN_GEN_TIMEOUT_S": "3600"}
    p = subprocess.Popen([sys.executable, "-m", "livegan", "wrap", str(decoders / "hangs.ts"), "-o",
                          str(tmp_path / "x.ts")], stdin=subprocess.DEVNULL, stdout=slave, stderr=slave, env=env)
    os.close(slave)
    try:
        shown = _read_until(master, r"decode\(\).*call", 120)
        assert re.search(r"decode\(\).*call", shown), f"no progress bar naming the call:\n{shown!r}"
        p.send_signal(signal.SIGINT)
        rest = _read_until(master, r"\Z(?!x)x", 60)  # everything until the program closes the terminal
        rc = p.wait(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        os.close(master)
    assert rc == 130 and "livegan wrap: interrupted" in rest, rest
    assert "Traceback" not in rest and "terminate called" not in rest, rest
    assert not (tmp_path / "x.ts").exists()


def test_a_decoder_that_renders_more_than_the_cap_is_refused_in_one_line(decoders, tmp_path):
    r = run_cli("wrap", decoders / "floods.ts", "-o", tmp_path / "x.ts", "--pca-renders", "16")
    _one_error_line(r, "floods.ts", "renders 134217728 samples x 1 channel(s) per z", f"at most {MAX_RENDER}")
    assert not (tmp_path / "x.ts").exists()


def test_a_decoder_past_full_scale_is_wrapped_with_one_warning_naming_its_peak(decoders, tmp_path):
    r = run_cli("wrap", decoders / "loud.ts", "-o", tmp_path / "x.ts", "--pca-renders", "16")
    assert r.returncode == 0, r.stderr
    said = [ln for ln in r.stderr.splitlines() if "warning" in ln]
    assert len(said) == 1 and "clipped" in said[0], r.stderr
    peak = float(re.search(r"peaks at ([0-9.]+)", said[0]).group(1))
    assert 29.0 <= peak <= 30.0, said
