"""What a SIGKILL costs a live take: frames lost from the WAV, and whether the journal re-renders it.

Each run plays ``livegan perform --record take.wav --osc 0`` on the JACK server (the test
fixture's tiny model, 1 s bars, a controller process turning knobs), SIGKILLs it ``--kill-after``
seconds into the recording, and reports the frames played but missing from the WAV (estimated
from the WAV header's growth, to within the few-ms poll: ``livegan/testing/sigkill_take.py``) and whether
``livegan render --automation take.journal`` gives back the WAV bit for bit. Run:
    python benchmarks/sigkill_take.py [--runs 5] [--kill-after 8]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
os.environ.setdefault("JACK_NO_START_SERVER", "1")
os.environ.setdefault("PYO_GUI_WX", "0")


def main(argv=None) -> int:
    import numpy as np
    import soundfile as sf

    from livegan.testing.sigkill_take import SR, perform_and_kill, render_journal
    from livegan.testing.tiny import make_tiny_generator, tiny_meta
    from train.export import save_loop_model

    a = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    a.add_argument("--runs", type=int, default=5)
    a.add_argument("--kill-after", type=float, default=8.0)
    args = a.parse_args(argv)
    os.environ["PYTHONPATH"] = ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")
    with tempfile.TemporaryDirectory() as d:
        model = os.path.join(d, "tiny.ts")
        save_loop_model(make_tiny_generator(), model, tiny_meta(), quiet=True)
        lost = []
        print(f"{'run':>3} {'played s':>9} {'in WAV':>9} {'lost frames':>12} {'lost ms':>8}  "
              "re-render from the journal")
        for i in range(args.runs):
            run = os.path.join(d, f"run{i}")
            os.makedirs(run)
            r = perform_and_kill(model, run, args.kill_after)
            rec, _ = sf.read(r["wav"], dtype="float32")
            rr = render_journal(model, r["patch"], r["journal"], rec.shape[0], os.path.join(run, "again.wav"))
            same = rr.returncode == 0 and np.array_equal(sf.read(os.path.join(run, "again.wav"),
                                                                  dtype="float32")[0], rec)
            lost.append(r["lost"])
            if not same and rr.returncode == 0:  # where, and the events (frame, status, d1, d2) around it
                from livegan.io.journal import read_journal_rows

                again = sf.read(os.path.join(run, "again.wav"), dtype="float32")[0]
                bad = np.flatnonzero(np.any(again != rec, axis=1))
                print(f"    first difference at frame {bad[0]}; journal rows "
                      f"{read_journal_rows(r['journal'])[2].tolist()}")
            print(f"{i + 1:>3} {r['played'] / SR:9.3f} {r['frames']:9d} {r['lost']:12.0f} {r['lost'] / SR * 1e3:8.1f}  "
                  f"{'bit-exact' if same else 'DIFFERENT: ' + rr.stderr.strip()[-200:]}")
        ms = np.array(lost) / SR * 1e3
        print(f"lost after SIGKILL: {ms.min():.1f}-{ms.max():.1f} ms (median {np.median(ms):.1f}) over {len(ms)} runs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
