"""How well livegan follows an external MIDI clock: tempo error and beat-phase error.

Two parts:

1. simulated (deterministic): ticks at 90, 120, 174 BPM and back to 120, each
   delayed to the start of the next 256-frame JACK cycle at 48 kHz (what JACK
   MIDI does to every event), fed to ClockFollower in memory;
2. JACK (real): a second process sends Start and 24 PPQN clock through a JACK
   MIDI port at the same tempi; livegan's MidiInput (its own MIDI thread)
   follows it. The sender prints its true send times; phase error is the
   follower's fitted time of each tick minus the true time (same monotonic
   clock in both processes).

3. the whole chain (simulated time, real code: ``livegan/testing/clock_sim.py``):
   MIDI -> ClockFollower -> LiveControl's phase-locked loop -> engine; the
   error is the beat *heard at the output* (4 ms latency, callback jitter up
   to 1.5 ms) minus the clock's beat at that moment, after Start at 90, 120
   and 174 BPM (livegan free-running at 120 before it) and after a tempo
   change 120 -> 132 BPM.

4. the whole chain in real time on JACK: the same sender; livegan's engine plays
   on the JACK server through sounddevice and follows it (``LiveControl``, as
   ``livegan perform`` with a ``clock = "midi"`` patch). Every 5 ms the
   control loop notes the engine's beat at the frame heard then (callback
   times + PortAudio's output latency, the mapping the phase-locked loop
   itself uses) and the clock's true beat at that moment (from the sender's
   printed send times). The follower's view is not used for the truth.

Steady state = the second half of each tempo segment. Run:
    python benchmarks/clock_follow.py [--seconds 6] [--no-jack]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from livegan.control.follow import PPQN, ClockFollower  # noqa: E402

TEMPI = (90.0, 120.0, 174.0, 120.0)
SENDER_PORT = "clocksend"


def schedule(tempi, seconds, t0):
    """[(time, bpm)] of every tick."""
    out, t = [], t0
    for bpm in tempi:
        dt = 60.0 / bpm / PPQN
        for _ in range(int(round(seconds / dt))):
            out.append((t, bpm))
            t += dt
    return out


def summarize(ticks, est_times, tempi_est, resets=None):
    """Per segment: max |tempo error| and mean/max |phase error| over the second half."""
    ticks = np.asarray(ticks)
    rows = []
    bpms = ticks[:, 1]
    seg_edges = [0] + [i for i in range(1, len(bpms)) if bpms[i] != bpms[i - 1]] + [len(bpms)]
    for a, b in zip(seg_edges[:-1], seg_edges[1:]):
        h = (a + b) // 2
        terr = np.abs(np.asarray(tempi_est[h:b]) - bpms[a])
        perr = np.asarray(est_times[h:b]) - ticks[h:b, 0]
        settle = next((j - a for j in range(a, b) if np.all(np.abs(np.asarray(tempi_est[j:b]) - bpms[a]) < 0.1)), None)
        rows.append(dict(bpm=float(bpms[a]), tempo_err_max=float(terr.max()), tempo_err_mean=float(terr.mean()),
                         phase_err_mean_ms=float(np.abs(perr).mean() * 1e3),
                         phase_err_max_ms=float(np.abs(perr).max() * 1e3),
                         phase_bias_ms=float(perr.mean() * 1e3),
                         settle_ticks=settle))
    return rows


def simulated(seconds, period=256 / 48000, seed=0):
    rng = np.random.default_rng(seed)
    f = ClockFollower(latency_s=period / 2)
    f.start()
    ticks = schedule(TEMPI, seconds, 100.0 + rng.uniform(0, period))
    est, tempo = [], []
    for n, (t, _) in enumerate(ticks):
        rx = 100.0 + np.ceil((t - 100.0) / period) * period
        f.tick(rx)
        est.append(f.time_of_tick(n))
        tempo.append(f.tempo_bpm)
    return summarize(ticks, est, tempo), f.resets


def sender_main(seconds):
    """Second process: wait for 'go' on stdin, send Start + clock, print true times as JSON."""
    import rtmidi
    out = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name=SENDER_PORT)
    out.open_virtual_port("out")
    print("ready", flush=True)
    sys.stdin.readline()
    t0 = time.monotonic() + 0.3
    ticks = schedule(TEMPI, seconds, t0)
    wait_until(t0 - 0.05)
    out.send_message([0xFA])
    sent = []
    for t, bpm in ticks:
        wait_until(t)
        out.send_message([0xF8])
        sent.append((time.monotonic(), bpm))
    time.sleep(0.1)
    print(json.dumps({"scheduled": ticks, "sent": sent}), flush=True)


def wait_until(t):
    while True:
        d = t - time.monotonic()
        if d <= 0:
            return
        time.sleep(d - 0.001) if d > 0.002 else None


def jack_period_s():
    try:
        bs = int(subprocess.run(["jack_bufsize"], capture_output=True, text=True, timeout=5).stdout.split()[-1])
        sr = int(subprocess.run(["jack_samplerate"], capture_output=True, text=True, timeout=5).stdout.split()[-1])
        return bs / sr
    except Exception:
        return 256 / 48000


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=6.0, help="seconds per tempo segment")
    ap.add_argument("--no-jack", action="store_true")
    ap.add_argument("--audio", choices=("process", "thread"), default="process",
                    help="where the engine's callback runs in part 4 (thread: as livegan perform --debug-audio-thread)")
    ap.add_argument("--sender", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.sender:
        return sender_main(a.seconds)
    rows, resets = simulated(a.seconds)
    print(f"simulated (JACK 256/48000 cycle quantisation), tempi {TEMPI}, {a.seconds:g} s each, "
          f"tempo changes detected: {resets}")
    _print(rows)
    engine_chain()
    if not a.no_jack:
        rows, info = jack_follow(a.seconds)
        print(f"JACK MIDI, sender in a second process: {info}")
        _print(rows)
        rows, info = jack_engine(a.seconds, a.audio)
        print(f"engine on JACK following the sender in real time: {info}")
        print(f"  {'BPM':>6} {'tempo err max':>14} {'phase err mean':>15} {'max':>8} {'bias':>8}")
        for r in rows:
            print(f"  {r['bpm']:6.1f} {r['tempo_err_max']:10.4f} BPM {r['phase_err_mean_ms']:12.3f} ms "
                  f"{r['phase_err_max_ms']:8.3f} {r['phase_bias_ms']:8.3f}")


def jack_follow(seconds):
    """JACK run with per-tick phase estimates (the fit as it stood when each tick arrived)."""
    import rtmidi

    from livegan.io.midi import MidiHandler, MidiInput

    period = jack_period_s()
    child = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--sender", "--seconds", str(seconds)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    mi = None
    try:
        assert child.stdout.readline().strip() == "ready"
        clock = ClockFollower(latency_s=period / 2)
        est, tempo = [], []
        orig = clock.tick

        def tick(t):  # MIDI thread: record the estimate as it stood after each tick
            orig(t)
            est.append(clock.time_of_tick(clock.ticks - 1))
            tempo.append(clock.tempo_bpm)
        clock.tick = tick
        mi = MidiInput(_sender_port(SENDER_PORT), handler=MidiHandler(clock=clock), api=rtmidi.API_UNIX_JACK,
                       client_name="lg-clockbench").start()
        time.sleep(0.3)
        child.stdin.write("go\n")
        child.stdin.flush()
        data = json.loads(child.stdout.readline())
        time.sleep(0.2)
    finally:
        if mi is not None:
            mi.close()
        child.kill()
        child.wait()
    sent = data["sent"]
    n = min(len(sent), len(est))
    info = dict(period_ms=round(period * 1e3, 3), sent=len(sent), received=len(est),
                tempo_changes_detected=clock.resets,
                sender_late_max_ms=round(float(np.max(np.array([s[0] for s in sent]) -
                                                      np.array([s[0] for s in data["scheduled"]]))) * 1e3, 3))
    return summarize(sent[:n], est[:n], tempo[:n]), info


def engine_chain():
    from livegan.testing import clock_sim


    print("engine chain (simulated, JACK-like MIDI delivery): beat heard at the output vs the clock")
    print(f"  {'case':>16} {'tempo err max':>14} {'phase err mean':>15} {'max':>8} {'locked after':>13}")
    cases = [(f"start at {b:g}", [(0.5, "start"), (0.5, ("bpm", b))], 0.5, 10.0) for b in (90.0, 120.0, 174.0)]
    cases.append(("120 -> 132", [(0.5, "start"), (5.0, ("bpm", 132.0))], 5.0, 14.0))
    for name, plan, t_ev, secs in cases:
        rows = clock_sim.simulate(plan, secs, perflog=False)["rows"]
        th, eb, cb, bpm, tempo = rows[:, 0], rows[:, 1], rows[:, 2], rows[:, 3], rows[:, 4]
        err = np.abs(cb - eb) * 60.0 / bpm * 1e3
        ok = np.isfinite(err) & (th > t_ev)
        bad = np.nonzero(ok & (err >= 5.0))[0]
        locked = (th[bad[-1]] - t_ev) if bad.size else 0.0
        ss = th > secs - 4.0
        print(f"  {name:>16} {np.abs(tempo[ss] - bpm[ss]).max():10.4f} BPM {err[ss].mean():12.3f} ms "
              f"{err[ss].max():8.3f} {locked:10.2f} s")


def _sender_port(name_prefix):
    import rtmidi

    probe = rtmidi.MidiIn(rtmidi.API_UNIX_JACK)
    name = None
    for _ in range(50):
        name = next((p for p in probe.get_ports() if p.startswith(name_prefix)), None)
        if name:
            break
        time.sleep(0.1)
    probe.delete()
    return name


def jack_engine(seconds, audio="process"):
    """The engine on the JACK server following the sender (Start, then the tempo schedule); its
    callback in the audio process (``audio`` "process", as ``livegan perform`` runs it) or here ("thread")."""
    import rtmidi

    from livegan.audio import dsp
    from livegan.audio.output import resolve_output
    from livegan.control.follow import FrameClock
    from livegan.control.live import LiveControl
    from livegan.control.patch import default_patch_path, load_patch, replace
    from livegan.io.midi import MidiHandler, MidiInput, MidiSource
    from livegan.performance import open_live
    from livegan.testing import clock_sim

    period = jack_period_s()
    meta = clock_sim.tiny_meta()
    parts, out, arena = open_live(meta, replace(load_patch(default_patch_path()), clock="midi"), 48000, 2,
                                  resolve_output(None), 256, audio=audio, fx=False)
    ec, engine = parts.controls, parts.engine
    engine.publish_loop(clock_sim.sine_loop(), 0)
    fc = FrameClock(out.cb_ring, lambda: out.calls, 48000, latency_s=out.output_latency)
    child = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--sender", "--seconds", str(seconds)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    mi = None
    samples = []
    try:
        assert child.stdout.readline().strip() == "ready"
        mi = MidiInput(_sender_port(SENDER_PORT), handler=MidiHandler(), api=rtmidi.API_UNIX_JACK,
                       client_name="lg-clockengine").start()
        mi.clock.latency_s = period / 2
        live = LiveControl(ec, engine, sources=[MidiSource(mi), mi.clock], frame_clock=fc)
        sys.setswitchinterval(0.0005)
        out.start()
        time.sleep(0.5)
        child.stdin.write("go\n")
        child.stdin.flush()
        end = time.monotonic() + 0.6 + seconds * len(TEMPI)
        while time.monotonic() < end:
            live.step()
            now = time.monotonic()
            if fc.offset is not None:
                samples.append((now, engine.transport.beat_at(fc.frame_at(now)), engine.transport.tempo))
            time.sleep(0.005)
        data = json.loads(child.stdout.readline())
    finally:
        out.close()
        if mi is not None:
            mi.close()
        child.kill()
        child.wait()
    info = dict(xruns=out.xruns, callbacks=out.calls, output_latency_ms=round(out.output_latency * 1e3, 3),
                locates=int(sum(1 for _, kk, _, _ in engine.events() if kk == dsp.EV_LOCATE)), audio=audio)
    if arena is not None:
        arena.close()
    sent = np.array([s_[0] for s_ in data["sent"]])
    bpms = np.array([s_[1] for s_ in data["sent"]])
    smp = np.array(samples)
    t, eb, tempo = smp[:, 0], smp[:, 1], smp[:, 2]
    k = np.searchsorted(sent, t, side="right") - 1  # the last tick sent at or before t
    ok = (k >= 0) & (k < len(sent) - 1)
    t, eb, tempo, k = t[ok], eb[ok], tempo[ok], k[ok]
    cb = (k + (t - sent[k]) / (sent[k + 1] - sent[k])) / PPQN  # the clock's beat (tick 0 = beat 0 after Start)
    bpm = bpms[k]
    err_ms = (eb - cb) * 60.0 / bpm * 1e3
    rows = []
    edges = [0] + [i for i in range(1, len(bpms)) if bpms[i] != bpms[i - 1]] + [len(bpms)]
    for a, b in zip(edges[:-1], edges[1:]):
        m = (k >= (a + b) // 2) & (k < b - 1)
        if not m.any():
            continue
        e = err_ms[m]
        rows.append(dict(bpm=float(bpms[a]), tempo_err_max=float(np.abs(tempo[m] - bpms[a]).max()),
                         phase_err_mean_ms=float(np.abs(e).mean()), phase_err_max_ms=float(np.abs(e).max()),
                         phase_bias_ms=float(e.mean())))
    info["samples"] = int(ok.sum())
    return rows, info


def _print(rows):
    print(f"  {'BPM':>6} {'tempo err max':>14} {'mean':>8} {'phase err mean':>15} {'max':>8} {'bias':>8} {'settle':>7}")
    for r in rows:
        print(f"  {r['bpm']:6.1f} {r['tempo_err_max']:11.4f} BPM {r['tempo_err_mean']:8.4f} "
              f"{r['phase_err_mean_ms']:12.3f} ms {r['phase_err_max_ms']:8.3f} {r['phase_bias_ms']:8.3f} "
              f"{str(r['settle_ticks']):>7}")


if __name__ == "__main__":
    main()
