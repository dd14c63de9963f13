"""A named JACK dummy server for a test or a benchmark (``jackd -n NAME``): it never touches the
default server someone else may run."""
from __future__ import annotations

import os
import signal
import subprocess


def start_jack(name: str, period: int, log=None, rate: int = 48000):
    """Start ``jackd -n NAME -d dummy -r RATE -p PERIOD`` (SCHED_FIFO first, then without, as containers
    may refuse it); stdout and stderr go to ``log`` (an open file) or nowhere. -> (Popen, the rt flags used)."""
    env = {**os.environ, "JACK_NO_AUDIO_RESERVATION": "1"}
    out = log if log is not None else subprocess.DEVNULL
    for rt in (["-R", "-P", "70"], ["--no-realtime"]):
        p = subprocess.Popen(["jackd", "-n", name, *rt, "-d", "dummy", "-r", str(rate), "-p", str(period)], env=env,
                             stdout=out, stderr=subprocess.STDOUT if log is not None else subprocess.DEVNULL)
        ok = subprocess.run(["jack_wait", "-s", name, "-w", "-t", "10"], capture_output=True,
                            env={**env, "JACK_NO_START_SERVER": "1"}).returncode == 0
        if ok and p.poll() is None:
            return p, " ".join(rt)
        p.terminate()
        p.wait(timeout=10)
    raise RuntimeError(f"jackd -n {name} -p {period} would not start")


def stop_jack(p) -> None:
    """SIGTERM the server started by ``start_jack`` (by its Popen), SIGKILL after 10 s."""
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(timeout=10)
