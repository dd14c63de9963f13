"""Shared fixtures: a tiny exported loop model, and a JACK server.

The JACK server is started here, at configure time, when this run's server
(``$JACK_DEFAULT_SERVER``) is not running and jackd is installed, because
PortAudio scans devices when sounddevice is first imported: the server must
exist before any test imports it. The test script (scripts/test.sh) normally
starts one first, under a name of its own; then this file leaves it alone.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys

import pytest

from livegan.testing.tiny import make_tiny_generator, tiny_meta

os.environ.setdefault("JACK_NO_START_SERVER", "1")  # libjack must never spawn a server behind our back
os.environ.setdefault("PYO_GUI_WX", "0")
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    # A run started in the background by a shell (`cmd &`, nohup) inherits SIGINT ignored, and so does every
    # process it starts: the Ctrl-C tests would test nothing. A performer's terminal delivers Ctrl-C, so do that.
    signal.signal(signal.SIGINT, signal.default_int_handler)

_jack = {"proc": None, "why_not": None}


def jack_running() -> bool:
    if shutil.which("jack_lsp") is None:
        return False
    r = subprocess.run(["jack_lsp"], capture_output=True, text=True, timeout=10,
                       env={**os.environ, "JACK_NO_START_SERVER": "1"})
    return r.returncode == 0 and "system:playback" in r.stdout


def _start_jack() -> None:
    """Start this run's own JACK server, named by ``$JACK_DEFAULT_SERVER`` (set here to a name of this
    process's when the test script has not set one), unless that server already runs: a second test run
    on the machine never finds, shares or stops this one."""
    os.environ.setdefault("JACK_DEFAULT_SERVER", f"livegan-pytest-{os.getpid()}")
    if jack_running():
        return
    if shutil.which("jackd") is None:
        _jack["why_not"] = "jackd is not installed (Debian package jackd2)"
        return
    from livegan.testing.jackd import start_jack

    try:
        _jack["proc"], _ = start_jack(os.environ["JACK_DEFAULT_SERVER"], 256)
    except (RuntimeError, OSError) as e:
        _jack["why_not"] = f"jackd could not start here: {e}"


# Markers, so a fast subset runs in about a minute: pytest -m "not jack and not e2e and not slow".
# jack: needs a JACK server (the jack_server fixture, or a server of the test's own); e2e: a whole
# command against another process or the full render; slow: files whose tests each train, render
# seconds of audio or start perform (each over a few seconds here).
JACK_FILES = {"test_e2e_link_perform.py", "test_jack_period_sets_default_blocksize.py",
              "test_jack_realtime_path.py", "test_link_follows_a_peer.py"}
SLOW_FILES = {
    "test_audio_process_crash_ends_the_show_cleanly.py", "test_train_snapshot_selection.py",
    "test_perform_survives_generation_faults.py", "test_train_presets_end_to_end.py",
    "test_malformed_inputs_are_one_line.py", "test_malformed_inputs_train.py", "test_wrap_third_party_decoders.py",
    "test_hung_model_times_out.py", "test_builtin_instrument.py", "test_model_file_contract.py",
    "test_exit_during_generation_is_clean.py", "test_recorder_interrupted_perform_leaves_readable_wav.py",
    "test_export_full_disk_is_one_line.py", "test_osc_flood_changes_nothing.py",
    "test_sigkill_take_survives_with_journal.py", "test_second_signal_keeps_the_take.py",
    "test_realtime_errors_are_one_line.py", "test_gil_hog_cannot_stall_the_audio.py",
    "test_report_shows_sound_metrics_and_spectrograms.py", "test_tempo_limits_never_crash.py",
    "test_takes_never_overwrite.py", "test_train_ddp.py", "test_loops_out.py", "test_record_write_error_keeps_show.py",
    "test_render_cli_matches_engine.py", "test_printed_text_is_sanitised.py", "test_train_uses_every_core.py",
    "test_realtime_generator_process_matches_thread.py", "test_figures_spectrograms_share_one_scale.py",
    "test_builtin_bass_model_plays_in_a_set.py",
}


def pytest_collection_modifyitems(config, items):
    for item in items:
        name = item.path.name
        if "jack_server" in getattr(item, "fixturenames", ()) or name in JACK_FILES:
            item.add_marker(pytest.mark.jack)
        if name.startswith(("test_e2e_", "test_integration_")):
            item.add_marker(pytest.mark.e2e)
        if name in SLOW_FILES:
            item.add_marker(pytest.mark.slow)


def pytest_configure(config):
    _start_jack()


def pytest_unconfigure(config):
    proc = _jack["proc"]
    if proc is not None and proc.poll() is None:
        sd = sys.modules.get("sounddevice")
        if sd is not None:  # PortAudio's JACK host asserts at exit if its server went first
            while sd._initialized:
                sd._terminate()
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="session")
def jack_server():
    """A running JACK dummy server at 48 kHz, or a skip that says why none can run here."""
    if not jack_running():
        pytest.skip(_jack["why_not"] or "no JACK server is running and none could be started")
    return {"sample_rate": 48000, "period": 256}


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory):
    """Path to a small exported .ts: 16384 Hz, 32768 samples (1 bar 4/4 at 120 BPM), mono, latent 8."""
    from train.export import save_loop_model

    path = tmp_path_factory.mktemp("models") / "tiny.ts"
    save_loop_model(make_tiny_generator(), path, tiny_meta(), quiet=True)
    return path


def run_cli(*args, env_extra=None, timeout=120, input=None):
    """Run `python -m livegan ARGS` in a subprocess; returns CompletedProcess (text)."""
    env = {**os.environ, **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "livegan", *map(str, args)], capture_output=True,
                          text=True, timeout=timeout, env=env, input=input)


@pytest.fixture
def cli():
    return run_cli


@pytest.fixture(scope="session", autouse=True)
def _torch_one_thread():
    """Tests share 2 cores with a JACK server: keep torch from spawning a thread pool per core."""
    try:
        import torch
    except ImportError:
        return
    torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _torch_state_per_test():
    """What an in-process ``livegan train`` sets for its whole process (torch threads, flush-to-zero,
    oneDNN) is put back after each test, so no test runs under another's settings."""
    torch = sys.modules.get("torch")
    if torch is None:
        yield
        return
    threads, onednn = torch.get_num_threads(), torch.backends.mkldnn.enabled
    yield
    torch.set_num_threads(threads)
    torch.backends.mkldnn.enabled = onednn
    torch.set_flush_denormal(False)


@pytest.fixture
def drawn(monkeypatch):
    """The figures the functions draw, kept open to inspect (they close each after saving)."""
    import matplotlib.pyplot as plt

    kept, close = [], plt.close
    monkeypatch.setattr(plt, "close", kept.append)
    yield kept
    for fig in kept:
        close(fig)
