"""How well livegan follows an Ableton Link session: the beat heard at livegan's output against the
session's timeline, with a second peer (a plain LinkPython-extern script) that changes the tempo 120 -> 133 ->
120 BPM, hears livegan's own change to 126 BPM, and stops and starts the session's transport.

Every part runs inside a private network namespace with loopback only (``livegan.testing.netns``:
``unshare -n``, root needed), so no Link packet leaves the machine.

1. real Link, real time, the audio callback played by the show's own loop (``livegan.testing.link_show``,
   what the test runs): block k's callback runs no earlier than T0 + k * 256 / 48000, its first frame
   heard 4 ms after that ideal time; the truth is the peer's own timeline (its beat noted every
   2 ms between two ``time.monotonic()`` reads), compared modulo the bar.
2. (``--jack``) the engine on a JACK dummy server started inside the namespace (its sockets live in
   /dev/shm, which the namespace shares), its callback in the audio process (``--audio``), as
   ``livegan perform --link`` runs it: every 5 ms the control loop notes the engine's beat at the
   frame heard then (callback times + PortAudio's output latency, the mapping the phase-locked loop
   itself uses), against the peer's timeline at that moment.

Steady state = the second half of each segment. Run (as root):
    python benchmarks/link_follow.py [--jack] [--audio process|thread]
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from livegan.testing import link_show  # noqa: E402
from livegan.testing.netns import netns_argv, netns_problem  # noqa: E402

JACK_NAME = f"lglink{os.getpid()}"  # one per run: a crashed run's server never blocks the next


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--jack", action="store_true", help="also part 2: the engine on a JACK dummy server")
    ap.add_argument("--audio", choices=("process", "thread"), default="process",
                    help="where the engine's callback runs in part 2 (thread: as livegan perform --debug-audio-thread)")
    ap.add_argument("--inside", default=None, help=argparse.SUPPRESS)  # part 2's body, in the namespace
    a = ap.parse_args()
    if a.inside:
        return jack_show(a.inside, a.audio)
    why = netns_problem()
    if why:
        sys.exit(f"link_follow: {why}")
    env = {**os.environ, "PYTHONPATH": ROOT}
    with tempfile.TemporaryDirectory() as d:
        subprocess.run(netns_argv([sys.executable, "-m", "livegan.testing.link_show", d]), check=True, env=env,
                       cwd=ROOT)
        recorded, again = link_show.render_again(d)
        print("1. real Link, real time, output simulated (4 ms latency): beat heard at the output vs the "
              f"peer's timeline; re-render bit for bit: {np.array_equal(recorded, again)}")
        report(d)
    if a.jack:
        with tempfile.TemporaryDirectory() as d:
            subprocess.run(netns_argv([sys.executable, os.path.abspath(__file__), "--inside", d, "--audio", a.audio]),
                           check=True, env={**env, "JACK_NO_START_SERVER": "1"}, cwd=ROOT)
            print(f"2. the engine on a JACK dummy server (256/48000, audio {a.audio}) in the namespace:")
            report(d)


def report(d):
    print(f"  {'BPM':>6} {'tempo err max':>14} {'phase err mean':>15} {'max':>8} {'bias':>8} {'rows':>6}")
    for r in link_show.phase_errors(d):
        print(f"  {r['bpm']:6.1f} {r['tempo_err_max']:10.4f} BPM {r['phase_err_mean_ms']:12.3f} ms "
              f"{r['phase_err_max_ms']:8.3f} {r['phase_bias_ms']:8.3f} {r['rows']:6d}")
    heard = link_show.peer_tempo_between(d, link_show.ASK_AT + 0.5, link_show.SECONDS)
    print(f"  livegan asked {link_show.ASK_BPM:g} BPM at {link_show.ASK_AT:g} s: the peer's tempo from "
          f"{link_show.ASK_AT + 0.5:g} s on: {np.unique(np.round(heard, 6)).tolist()}")


def jack_show(out_dir, audio):
    """Part 2, inside the namespace: a JACK dummy server, the engine on it, the peer, the plan."""
    os.environ["JACK_DEFAULT_SERVER"] = JACK_NAME
    from livegan.testing.jackd import start_jack, stop_jack

    jack, rt = start_jack(JACK_NAME, 256)
    try:
        _jack_body(out_dir, audio, rt)
    finally:
        if "sounddevice" in sys.modules:  # PortAudio leaves the server before it goes, not at exit
            sys.modules["sounddevice"]._terminate()
        stop_jack(jack)


def _jack_body(out_dir, audio, rt):
    from livegan.audio.output import resolve_output
    from livegan.control.follow import FrameClock
    from livegan.control.link import join_link
    from livegan.control.live import LiveControl
    from livegan.performance import open_live
    from livegan.testing import clock_sim

    # (the patch's effects on, as perform plays it: open_live(..., audio="process", fx=False) does not open)
    parts, out, arena = open_live(clock_sim.tiny_meta(), link_show.patch(), 48000, 2, resolve_output(None), 256,
                                  audio=audio)
    ec, engine = parts.controls, parts.engine
    engine.publish_loop(clock_sim.sine_loop(), 0)
    fc = FrameClock(out.cb_ring, lambda: out.calls, 48000, latency_s=out.output_latency)
    link = join_link(engine)  # as livegan perform --link
    peer = link_show.start_peer(link, link_show.SECONDS)
    rows = []
    try:
        live = LiveControl(ec, engine, sources=[link], frame_clock=fc)
        sys.setswitchinterval(0.0005)
        out.start()
        time.sleep(0.5)
        t0 = link_show.go(peer)
        asked = False
        while time.monotonic() < t0 + link_show.SECONDS:
            if not asked and time.monotonic() >= t0 + link_show.ASK_AT:
                live.ask_tempo(link_show.ASK_BPM)
                asked = True
            live.step()
            now = time.monotonic()
            if fc.offset is not None:
                rows.append((now, engine.transport.beat_at(fc.frame_at(now)), engine.transport.tempo,
                             float(engine.running)))
            time.sleep(0.005)
        notes = link_show.finish(peer, t0)
    finally:
        out.close()
        run = dict(xruns=out.xruns, callbacks=out.calls, output_latency_ms=out.output_latency * 1e3, jack_rt=rt)
        link.close()
        peer.kill()
        peer.wait()
        if arena is not None:  # (the counters live in it: read above)
            arena.close()
    notes.update(run)
    print(f"  JACK ({rt}): xruns {run['xruns']}, callbacks {run['callbacks']}, output latency "
          f"{run['output_latency_ms']:.3f} ms", flush=True)
    link_show.save(out_dir, np.array(rows), notes)


if __name__ == "__main__":
    main()
