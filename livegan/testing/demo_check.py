"""The demo render with its event log, and its switch and click analysis (shared by
``tests/test_builtin_instrument.py`` and ``benchmarks/demo_check.py``). Thread: main."""
from __future__ import annotations

import numpy as np

from livegan.offline import DEMO_AUTOMATION, DEMO_RATE, DEMO_SECONDS

SR = DEMO_RATE
HP_HZ = 22500.0  # above a 44.1 kHz model's band, below the 48 kHz output's Nyquist: only discontinuities land here


def render_demo_with_log(model_path=None, fx=False, blocksize=256):
    """(audio (frames, 2) float32, events (n, 4) int64, tempo markers [(frame, bpm)])."""
    from livegan.control.patch import default_patch_path, load_patch
    from livegan.io.automation import read_automation
    from livegan.io.perflog import marker_bpm
    from livegan.model import default_model_path, load_model
    from livegan.offline import log_named, render
    from livegan.performance import build

    patch = load_patch(default_patch_path())
    model = load_model(model_path or default_model_path(), threads=1)
    events = read_automation(DEMO_AUTOMATION, SR)
    parts = build(model.meta, patch, SR, 2, fx=fx, named=log_named(events, model.meta, print))
    try:
        engine, audio = render(model, parts, events, int(DEMO_SECONDS * SR), blocksize=blocksize)
    finally:
        parts.close()
    tempos = [(f, marker_bpm(m)) for f, m in events if marker_bpm(m) is not None]
    return audio, engine.events(), tempos, patch.crossfade_ms


def analyse_switches(audio, events, tempos, crossfade_ms, beats_per_bar=4):
    """The demo's switch intervals and click energies (pure; used by tests and benchmarks/demo_check.py).

    A click is broadband: energy above HP_HZ in the 5 ms around a switch start
    or crossfade end, in dB re the track's RMS, compared with every other 5 ms
    of the same track (the sinc kernel leaves faint images of the model's top
    octave everywhere, so the track's own distribution is the yardstick).
    """
    from scipy.signal import butter, sosfilt

    from livegan.audio import dsp

    switches = events[events[:, 1] == dsp.EV_SWITCH, 0]
    fades = events[events[:, 1] == dsp.EV_FADE_END, 0]
    rms = float(np.sqrt(np.mean(audio.astype(np.float64) ** 2)))
    sos = butter(8, HP_HZ, "highpass", fs=SR, output="sos")
    hf = sosfilt(sos, audio.astype(np.float64), axis=0)
    half = int(0.0025 * SR)

    def db_at(frame):
        w = hf[max(0, frame - half):frame + half]
        return 20 * np.log10(np.sqrt(np.mean(w ** 2)) / rms + 1e-12)

    change = tempos[0][0] if tempos else len(audio)
    bar = {bpm: SR * 60.0 * beats_per_bar / bpm for bpm in (120.0, *(b for _, b in tempos))}
    gaps = np.diff(switches)
    before = gaps[switches[1:] <= change]
    after = gaps[switches[:-1] >= change + bar[120.0]]  # whole bars after the change
    click_db = [db_at(int(f)) for f in np.concatenate([switches, fades])]
    track = np.array([db_at(int(f)) for f in range(half, len(audio) - half, 2 * half)])  # every 5 ms
    return dict(n_switches=int(len(switches)), switch_frames=switches.tolist(), tempo_change_frame=int(change),
                bar_before=bar[120.0], bar_after=bar[tempos[0][1]] if tempos else None,
                gaps_before=before.tolist(), gaps_after=after.tolist(), click_db_max=float(max(click_db)),
                track_db_median=float(np.median(track)), track_db_p99=float(np.quantile(track, 0.99)), rms=rms)
