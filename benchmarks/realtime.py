"""Real-time benchmark: a JACK dummy server at 48 kHz, a new loop requested every beat at 120 BPM.

For each block size (default 128 and 64 frames) this starts its own JACK
dummy server with that period (``jackd -n livegan-bench-N``, never touching
the default server), runs ``livegan perform``'s pieces for ``--seconds`` in a
child process (PortAudio scans JACK at import, so each server gets a fresh
process), and prints: xruns, late loops, loops generated, generation time
(median, p99), callback time as a fraction of the block period (median,
p99, max), the callback start delay (median, p99, p99.9, max: from JACK
invoking the callback to its first line) and late starts (over half a
period), switches.

Generation runs on this CPU (one torch thread) with a WaveGAN-shaped
generator (the ``wavegan`` preset's layout, d=16, 16384 Hz x 32768, random
weights: only its cost matters here), or ``--model FILE.ts``.
``--fx`` runs the generic patch's effects chain (filter, drive, delay, reverb
in pyo, FIFO mode) inside the callback, as ``livegan perform`` does.
``--gen thread`` (default) generates on a thread of the control process;
``--gen process`` generates in a child process that writes loops into shared
memory.
``--audio process`` (default) runs the callback, engine and effects in the audio
process (``livegan.audio.host``), ``--audio thread`` in the control process (the old path).
``--ab`` runs interleaved rounds of a C null client, livegan idle and livegan busy on one server
per block size and counts xruns from JACK's own log (``benchmarks/realtime_ab.py``).

    flock /tmp/livegan-heavy.lock python benchmarks/realtime.py --seconds 60
    flock /tmp/livegan-heavy.lock python benchmarks/realtime.py --ab --json ab.json
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import realtime_ab  # noqa: E402  (this folder: the --ab rounds)

from livegan.testing.jackd import start_jack, stop_jack  # noqa: E402  (after the path)


def wavegan_shaped_model(path: str) -> str:
    """Export a WaveGAN-layout generator (dense -> 5 x ConvTranspose1d k25 s4, d=16) with random weights."""
    import numpy as np
    import torch

    from train.export import save_loop_model

    class G(torch.nn.Module):
        def __init__(self, d=16, latent=100):
            super().__init__()
            self.d = d
            self.fc = torch.nn.Linear(latent, 16 * d * 32)
            w = [16 * d, 8 * d, 4 * d, 2 * d, d, 1]
            self.convs = torch.nn.ModuleList([torch.nn.ConvTranspose1d(w[i], w[i + 1], 25, stride=4, padding=11,
                                                                       output_padding=1) for i in range(5)])

        def forward(self, z):  # (B, 100) -> (B, 1, 32768)
            x = torch.relu(self.fc(z)).view(z.shape[0], 16 * self.d, 32)  # (B, 16d, 32)
            for i, c in enumerate(self.convs):
                x = c(x)
                x = torch.tanh(x) if i == 4 else torch.relu(x)
            return x

    torch.manual_seed(0)
    k = 8
    rng = np.random.default_rng(0)
    dirs = np.linalg.qr(rng.standard_normal((100, k)))[0].T
    meta = dict(name="wavegan-shaped-random", sample_rate=16384, loop_samples=32768, channels=1, latent_dim=100,
                latent_dist="uniform", bpm=120.0, bars=1, beats_per_bar=4, directions=dirs.tolist(),
                sigmas=[0.577] * k, training={"preset": "benchmark: random weights, wavegan layout d=16"})
    save_loop_model(G(), path, meta, quiet=True)
    return path


def run_null_child(args) -> dict:
    """Baseline: a callback that only writes zeros, same server and block size (xruns not caused by us)."""
    import sounddevice as sd

    st = {"xruns": 0, "calls": 0, "at": []}

    def cb(outdata, frames, time_info, status):  # PortAudio thread
        if status.output_underflow or status.output_overflow:
            st["xruns"] += 1
            if len(st["at"]) < 64:
                st["at"].append(st["calls"])
        st["calls"] += 1
        outdata.fill(0)

    stream = sd.OutputStream(device="system", samplerate=48000, channels=2, blocksize=args.blocksize,
                             dtype="float32", callback=cb)
    print("STREAM_START", flush=True)
    stream.start()
    time.sleep(args.seconds)
    stream.stop()
    print("STREAM_STOPPED", flush=True)
    stream.close()
    res = {"blocksize": args.blocksize, "gen": "none (null client)", "seconds": args.seconds, "xruns": st["xruns"],
           "xrun_at_callback": st["at"], "callbacks": st["calls"]}
    print("RESULT " + json.dumps(res), flush=True)
    return res


def run_child(args) -> dict:
    """Child process: the engine on the named JACK server; prints one JSON line."""
    if args.gen == "none":
        return run_null_child(args)
    import gc

    import numpy as np

    sys.setswitchinterval(args.switch_interval)
    from livegan.audio.output import resolve_output
    from livegan.generate.scheduler import GeneratorThread, generate_loop
    from livegan.model import load_model
    from livegan.performance import open_live
    from livegan.testing.wiring import identity_patch

    if args.gen == "process":
        from livegan.generate.process import ProcessModel

        model = ProcessModel(args.model, device="cpu")
    else:
        model = load_model(args.model, device="cpu", threads=1)
    patch = identity_patch(model.meta)  # CC n -> direction n
    patch.tempo = 120.0
    if args.fx:
        from livegan.control.patch import default_patch_path, load_patch

        patch.effects = load_patch(default_patch_path()).effects
    parts, out, arena = open_live(model.meta, patch, 48000, 2, resolve_output("system"), args.blocksize, "low",
                                  getattr(args, "audio", "process"), quantize="beat", crossfade_ms=20.0)
    engine, controls = parts.engine, parts.controls
    for _ in range(3):
        generate_loop(model, engine, engine.controls.snapshot())
    t0 = time.perf_counter()
    snap = engine.controls.snapshot()
    loop, z = generate_loop(model, engine, snap)
    engine.publish_loop(loop, 0, z=z)
    from livegan.audio.output import raise_thread_priority

    gen = GeneratorThread(engine, model, block_frames=args.blocksize,
                          rt_priority=40 if args.gen == "process" else None)
    gen.sched.done_seq = snap[0]
    gc.collect()
    gc.freeze()  # everything built so far is permanent: no collector pass walks it during the run
    gc.disable()  # no collection can start inside the callback (refcounting still frees)
    if args.gen != "off":
        gen.start()
    print("STREAM_START", flush=True)  # the A/B harness charges JACK's xruns from here...
    out.start()
    rt_main = raise_thread_priority(40) if args.gen == "process" else False
    rng = np.random.default_rng(1)
    last_beat = 0
    t_end = time.monotonic() + args.seconds
    if args.still_main:  # diagnostic: the main thread only sleeps (it never takes the GIL during the run)
        time.sleep(args.seconds)
    while time.monotonic() < t_end:  # main thread: a performer moving a knob on every beat
        b = int(engine.transport.beat_at(engine.transport.frame))
        if b != last_beat:
            last_beat = b
            controls.cc(int(rng.integers(0, 8)), int(rng.integers(0, 128)))
        time.sleep(0.005)
    out.close()
    print("STREAM_STOPPED", flush=True)  # ...to here
    parts.close()
    if args.gen != "off":
        gen.stop()
        gen.join(timeout=5)
    if hasattr(model, "close"):
        model.close()
    s = engine.stats()
    g = engine.gen_times()[1:]
    g = g if len(g) else np.full(1, np.nan)  # --gen off: nothing generated during the run
    res = {"blocksize": args.blocksize, "gen": args.gen, "fx": bool(args.fx),
           "audio": getattr(args, "audio", "process"),
           "seconds": args.seconds, "xruns": out.xruns,
           "xrun_at_callback": [int(i) for i in out.xrun_calls[:min(out.xruns, 64)]],
           "late_loops": s["late_loops"], "loops_generated": s["loops_generated"], "switches": s["switches"],
           "superseded": s["superseded"], "gen_ms_median": float(np.median(g) * 1e3),
           "gen_ms_p99": float(np.percentile(g, 99) * 1e3), "callbacks": out.calls,
           "spare_ms_min": min(gen.spare_frames) / 48.0 if gen.spare_frames else None,
           "spare_ms_median": float(np.median(gen.spare_frames)) / 48.0 if gen.spare_frames else None,
           "late_at_frames": [int(f) for f in engine.events()[engine.events()[:, 1] == 1][:, 0]],
           "wall_s": time.perf_counter() - t0, "helper_threads_fifo": rt_main}
    res.update(out.load_stats(skip=16))
    if arena is not None:
        arena.close()
    print("RESULT " + json.dumps(res), flush=True)
    return res


def process_cost(model: str, runs: int = 3):
    """The audio process's own cost on the running JACK server: seconds to open it (spawn, imports,
    effects chain, kernel warm-up) and its resident memory once its stream runs."""
    from livegan.audio.output import resolve_output
    from livegan.control.patch import default_patch_path, load_patch
    from livegan.model import read_meta
    from livegan.performance import open_live

    meta = read_meta(model)
    for _ in range(runs):
        t = time.perf_counter()
        parts, out, arena = open_live(meta, load_patch(default_patch_path()), 48000, 2, resolve_output(None), 256)
        opened = time.perf_counter() - t
        out.start()
        time.sleep(1.0)
        with open(f"/proc/{out._proc.pid}/status") as f:
            rss = next(int(ln.split()[1]) for ln in f if ln.startswith("VmRSS")) / 1024
        out.close()
        arena.close()
        print(f"audio process: opened in {opened:.2f} s, {rss:.0f} MiB resident (generic patch's effects on)")


def cost():
    """``Engine.process`` time per block without any audio server: one loop, and during a crossfade."""
    import numpy as np

    from livegan.audio.engine import Engine
    from livegan.model import validate_meta
    from livegan.testing.wiring import identity_controls

    meta = validate_meta(dict(format=1, name="t", sample_rate=16384, loop_samples=32768, channels=1, latent_dim=2,
                              latent_dist="uniform", bpm=120.0, bars=1, beats_per_bar=4, directions=[], sigmas=[],
                              training={}))
    rng = np.random.default_rng(0)
    for bs in (64, 128, 256):
        for fading in (False, True):
            e = Engine(meta, identity_controls(meta), sample_rate=48000, channels=2, quantize="none",
                       crossfade_ms=2000 if fading else 4)
            out = np.zeros((bs, 2), np.float32)
            e.publish_loop(rng.uniform(-.5, .5, (1, 32768)).astype(np.float32), 0)
            for _ in range(200):
                e.process(out)
            e.publish_loop(rng.uniform(-.5, .5, (1, 32768)).astype(np.float32), -1,
                           wait=lambda e=e, out=out: e.process(out[:0]))
            n = 300 if fading else 3000  # 300 x 256 frames stay inside the 2 s fade
            t = time.perf_counter()
            for _ in range(n):
                e.process(out)
            dt = (time.perf_counter() - t) / n
            what = "during a crossfade (2 loops)" if fading else "one loop"
            print(f"block {bs}: {what}: {dt * 1e6:.1f} us per process() = {dt / (bs / 48000):.3f} of the period")


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=None,
                    help="per run (default 60; 20 per client per round with --ab)")
    ap.add_argument("--blocks", type=int, nargs="+", default=[128, 64])
    ap.add_argument("--gen", choices=("none", "off", "thread", "process"), nargs="+",
                    default=["none", "thread", "process"],
                    help="none: a null client (baseline xruns of this machine); off: the engine playing one loop, "
                         "knobs moving, no generation; thread / process: where generation runs")
    ap.add_argument("--audio", choices=("thread", "process"), default="process",
                    help="where the callback runs: thread (the PortAudio callback in the engine's process) or "
                         "process (the audio process) (default: %(default)s)")
    ap.add_argument("--switch-interval", type=float, default=0.0005,
                    help="sys.setswitchinterval in the engine's process (seconds; perform uses 0.0005)")
    ap.add_argument("--model", default=None, help=".ts model (default: a WaveGAN-shaped random generator)")
    ap.add_argument("--fx", action="store_true", help="run the generic patch's effects chain in the callback")
    ap.add_argument("--still-main", action="store_true",
                    help="diagnostic: the main thread sleeps through the run instead of moving a knob every beat")
    ap.add_argument("--ab", action="store_true",
                    help="interleaved A/B: per block size one JACK server, --rounds rounds of C null client, "
                         "livegan idle, livegan busy (new loop every beat, effects), xruns from JACK's log")
    ap.add_argument("--rounds", type=int, default=10, help="--ab: rounds per block size (default: %(default)s)")
    ap.add_argument("--ab-clients", nargs="+", choices=realtime_ab.CLIENTS, default=list(realtime_ab.CLIENTS),
                    help="--ab: which clients each round runs (c: jack_simple_client; default: all)")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--blocksize", type=int, default=128, help=argparse.SUPPRESS)
    ap.add_argument("--json", default=None, help="also write all results here")
    ap.add_argument("--cost", action="store_true", help="only time Engine.process per block (no JACK)")
    ap.add_argument("--process-cost", action="store_true",
                    help="only the audio process's start-up time and memory (on the running JACK server)")
    args = ap.parse_args(argv)
    if args.seconds is None:
        args.seconds = 20.0 if args.ab else 60.0
    return args


def run_series(args, model: str) -> list[dict]:
    """Each block size x each --gen in its own server and child; prints one line per run."""
    results = []
    for bs in args.blocks:
        for gen in args.gen:
            name = f"livegan-bench-{bs}-{os.getpid()}"
            jack, how = start_jack(name, bs)
            try:
                env = {**os.environ, "JACK_DEFAULT_SERVER": name, "JACK_NO_START_SERVER": "1"}
                r = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", "--blocksize", str(bs),
                                    "--gen", gen, "--seconds", str(args.seconds), "--model", model,
                                    "--switch-interval", str(args.switch_interval), "--audio", args.audio]
                                   + (["--still-main"] if args.still_main else [])
                                   + (["--fx"] if args.fx else []), env=env,
                                   capture_output=True, text=True, timeout=args.seconds + 300)
            finally:
                stop_jack(jack)
            line = [ln for ln in r.stdout.splitlines() if ln.startswith("RESULT ")]
            if r.returncode != 0 or not line:
                print(f"block {bs}, gen {gen}: child failed:\n{r.stderr[-3000:]}", file=sys.stderr)
                continue
            res = json.loads(line[0][7:])
            res["jackd"] = f"jackd -n NAME {how} -d dummy -r 48000 -p {bs}"
            results.append(res)
            if gen == "none":
                print(f"block {bs:4d} ({bs / 48:.2f} ms), null client   : xruns {res['xruns']} in "
                      f"{res['callbacks']} callbacks (baseline: the machine, not livegan)", flush=True)
                continue
            print(f"block {bs:4d} ({bs / 48:.2f} ms), gen {gen:7s}{', fx' if args.fx else ''}, audio {args.audio}: "
                  f"xruns {res['xruns']}, late loops "
                  f"{res['late_loops']}, loops {res['loops_generated']}, switches {res['switches']}, "
                  f"gen ms median {res['gen_ms_median']:.1f} p99 {res['gen_ms_p99']:.1f}, callback load median "
                  f"{res['callback_load_median']:.3f} p99 {res['callback_load_p99']:.3f} max "
                  f"{res['callback_load_max']:.3f}; start delay ms median {res['start_delay_ms_median']:.3f} "
                  f"p99 {res['start_delay_ms_p99']:.3f} p99.9 {res['start_delay_ms_p999']:.3f} max "
                  f"{res['start_delay_ms_max']:.3f} (a quarter period: {bs / 48 / 4:.3f}), "
                  f"late starts {res['late_starts']}", flush=True)
    return results


def main():
    args = parse_args()
    if args.process_cost:
        process_cost(args.model or os.path.join(ROOT, "livegan", "models", "default.ts"))
        return 0
    if args.cost:
        cost()
        return 0
    if args.child:
        args.gen = args.gen[0]
        run_child(args)
        return 0
    if shutil.which("jackd") is None or (args.ab and "c" in args.ab_clients
                                         and shutil.which("jack_simple_client") is None):
        print("jackd (and for --ab jack_simple_client, Debian package jackd2) is not installed: cannot run the "
              "real-time benchmark", file=sys.stderr)
        return 2
    tmp = tempfile.mkdtemp(prefix="livegan-bench-")
    model = args.model or wavegan_shaped_model(os.path.join(tmp, "wavegan-shaped.ts"))
    results = realtime_ab.run_ab(args, model, tmp) if args.ab else run_series(args, model)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
