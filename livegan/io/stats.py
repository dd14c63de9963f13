"""The numbers a live show reports: the panel's (``panel_stats``) and ``--stats-json``'s (``run_stats``).

Thread: main; every read is a lock-free read of a plain counter or ring.
"""
from __future__ import annotations

import numpy as np

from livegan.audio import dsp
from livegan.io.panel import level_dbfs


def run_stats(engine, out, takes, skip_calls: int = 0) -> dict:
    """The numbers ``--stats-json`` writes. Main thread (plain reads of counters)."""
    s = engine.stats()
    g = engine.gen_times()
    d = {"xruns": out.xruns if out else None, "late_loops": s["late_loops"], "loops_generated": s["loops_generated"],
         "loop_switches": s["switches"],
         "gen_ms_median": float(np.median(g) * 1e3) if g.size else None,
         "gen_ms_p99": float(np.percentile(g, 99) * 1e3) if g.size else None,
         "frames_played": s["frame"], "frames_recorded": takes.recorded_frames() if takes else 0,
         "ring_drops": takes.dropped() if takes else 0, "callbacks": out.calls if out else 0,
         "blocksize": out.blocksize if out else None, "samplerate": engine.sample_rate,
         "device": out.device_name if out else None}
    if out:
        d.update(out.load_stats(skip_calls))
        d["xrun_at_callback"] = [int(i) for i in out.xrun_calls[:min(out.xruns, 64)]]
    ev = engine.events()
    d["switch_log"] = [[int(f), int(lid)] for f, k, _, lid in ev if k == dsp.EV_SWITCH]  # (frame, loop id)
    d["late_log"] = [[int(f), int(lid)] for f, k, _, lid in ev if k == dsp.EV_LATE]
    # loop id i was generated at frame loop_controls[i][0] from control seq [i][1]
    d["loop_controls"] = [[int(f), int(q)] for f, q in list(engine.controls.generated)]
    d["tempo_end"] = engine.transport.tempo
    d["gen_faults"] = engine.faults.count  # generations that failed while the show went on
    d["last_gen_fault"] = engine.faults.last or None
    return d


def panel_stats(engine, out, takes, patch, rate: int) -> dict:
    """The panel's numbers (``livegan.io.panel.panel``). Main thread: lock-free reads of plain counters."""
    s = engine.stats()
    bar, beat = engine.transport.bar_beat()
    sched = int(engine.track["sched"])
    gen_s = engine.gen_seconds
    g = gen_s[(engine.loops_generated - 1) % gen_s.shape[0]] if engine.loops_generated else 0.0
    calls = out.calls if out else 0
    return dict(bar=bar, beat=beat, bpm=engine.transport.tempo, clock=patch.clock, playing=s["playing_loop"],
                next=int(engine.bank.loop_id[sched]) if sched >= 0 else "-", gen_ms=1e3 * float(g),
                load=float(out.loads[(calls - 1) % out.loads.shape[0]]) if calls else 0.0,
                wait_ms=_recent_max(out.delays, calls, int(rate / out.blocksize)) * 1e3 if out else 0.0,
                xruns=out.xruns if out else 0, late=s["late_loops"],
                level_db=level_dbfs(*engine.live_ring()), recording=takes.active,
                faults=engine.faults.count, fault=engine.faults.last,
                rec_s=(takes.rec.frames_written / rate) if takes.active else 0.0, warning=takes.warning)


def _recent_max(ring, n: int, last: int) -> float:
    """The largest of the ``last`` values written into a ring after ``n`` writes (0 before any)."""
    m = min(n, last, ring.shape[0])
    if m <= 0:
        return 0.0
    i = np.arange(n - m, n) % ring.shape[0]
    return float(ring[i].max())


def write_stats(path: str, stats: dict, force: bool = False) -> list:
    """``stats`` as JSON at ``path`` (``--stats-json``) through a temporary file moved into place
    (``livegan.files.output_file``); -> [the error line] when it cannot be written, else []. A file
    that took the name during the show is kept unless ``force``."""
    import json

    from livegan.errors import CLIError
    from livegan.files import output_file

    try:
        with output_file(path, "--stats-json", force) as tmp:
            with open(tmp, "w") as f:
                json.dump(stats, f, indent=2)
    except OSError as e:
        return [f"--stats-json {path}: cannot be written ({e.strerror or e})"]
    except CLIError as e:
        return [str(e)]
    return []
