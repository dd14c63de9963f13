"""The default block size follows the JACK server's period: ``jack_period`` reads a running server's
``-p`` through libjack, and with no server it answers None without starting one.

Each test starts its own named dummy server (``jackd -n NAME``), so the default server is left alone;
they skip only where no JACK server can run here (the ``jack_server`` fixture says why).
"""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from livegan.audio.jack import DEFAULT_BLOCKSIZE, default_blocksize, jack_period
from livegan.testing.jackd import start_jack, stop_jack

JACK_HOSTAPI = "JACK Audio Connection Kit"  # PortAudio's name for it


@pytest.mark.parametrize("period", [64, 512])
def test_period_read_from_a_running_server_is_its_dash_p(jack_server, period):
    name = f"livegan-test-period-{period}-{os.getpid()}"
    proc, _ = start_jack(name, period)
    try:
        assert jack_period(name) == period
        assert default_blocksize(JACK_HOSTAPI, name) == period
        # the environment's server name is the one asked when none is given (as PortAudio does)
        r = subprocess.run([sys.executable, "-c", "from livegan.audio.jack import jack_period; print(jack_period())"],
                           env={**os.environ, "JACK_DEFAULT_SERVER": name}, capture_output=True, text=True,
                           timeout=30)
        assert r.stdout.strip() == str(period), r.stderr
    finally:
        stop_jack(proc)


def test_no_server_gives_none_and_starts_none(jack_server):
    name = f"livegan-test-no-such-server-{os.getpid()}"
    env = {**os.environ, "JACK_NO_START_SERVER": "1", "JACK_DEFAULT_SERVER": name}
    code = ("from livegan.audio.jack import jack_period, default_blocksize; "
            f"print(jack_period(), jack_period({name!r}), default_blocksize({JACK_HOSTAPI!r}))")
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["None", "None", str(DEFAULT_BLOCKSIZE)]
    waited = subprocess.run(["jack_wait", "-s", name, "-c"], capture_output=True, text=True, timeout=10,
                            env={**os.environ, "JACK_NO_START_SERVER": "1"})
    assert "not running" in waited.stdout, waited.stdout  # asking did not leave a server behind


def test_other_host_apis_keep_the_fixed_default():
    assert default_blocksize("ALSA") == DEFAULT_BLOCKSIZE
    assert default_blocksize("") == DEFAULT_BLOCKSIZE
