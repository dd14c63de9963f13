"""What perform, info and train report is what they used: the take's line never says "performance
log None" (it says there is none); the OSC banner names the address the socket listens on, with port 0
a free port on 127.0.0.1, and a socket open beyond this machine is said in one warning; a CUDA device
is named in full (``cuda:0``), and an index this machine lacks is refused naming it. There is no GPU
here: CUDA's answers are stood in for."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

from livegan.control.osc import open_osc
from livegan.io.takes import Takes
from livegan.model import pick_device
from train.trainer import resolve_device


def test_a_take_whose_performance_log_failed_says_there_is_none(tmp_path):
    said = []

    class FullDisk:
        def save(self, path, take_start=0):
            raise OSError(28, "No space left on device")

    engine = SimpleNamespace(ring=None, rst=None, attach_ring=lambda i: None)
    takes = Takes(engine, 48000, 2, FullDisk(), None, said.append)
    takes.n = 1
    takes.rec = SimpleNamespace(close=lambda: None, frames_written=48000, dropped=0, path=str(tmp_path / "take.wav"))
    takes.stop(running=False)
    line = said[-1]
    assert line.startswith("take 1:") and "no performance log" in line and "None" not in line, said


def test_osc_port_0_is_a_free_port_on_this_machine_only():
    src = open_osc(0)
    try:
        assert src.host == "127.0.0.1" and src.port > 0 and src._server.socket.getsockname()[0] == "127.0.0.1"
        assert src.exposure() is None
    finally:
        src.close()


@pytest.mark.parametrize("host", ["0", "0.0.0.0"])
def test_osc_open_to_all_interfaces_is_named_and_said(host):
    src = open_osc(0, host)
    try:
        assert src.host == "0.0.0.0", "the banner names the address listened on, not the text given"
        warning = src.exposure()
        assert warning and "all interfaces (0.0.0.0)" in warning and str(src.port) in warning, warning
    finally:
        src.close()


@pytest.fixture
def one_gpu(monkeypatch):
    """CUDA's answers for a machine with one GPU."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 0)


def test_the_cuda_device_used_is_named_in_full(one_gpu):
    assert pick_device("auto") == pick_device("cuda") == pick_device("cuda:0") == "cuda:0"
    assert resolve_device("cuda") == resolve_device("cuda:0") == torch.device("cuda", 0)


@pytest.mark.parametrize("pick", [pick_device, resolve_device])
def test_a_cuda_index_past_the_last_is_refused_naming_it(one_gpu, pick):
    with pytest.raises(ValueError, match=r"cuda:99.*1 CUDA device\(s\): cuda:0 to cuda:0"):
        pick("cuda:99")
