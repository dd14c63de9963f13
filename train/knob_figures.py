"""The figures of a named knob's report page (issue 27): its sweep as spectrograms, and its descriptor curve.

Both take the numbers of the knob fit itself (``train.knobs``: ``sweep_z`` for the z, ``sweep`` and
``judge`` for the descriptor curves and the cross-talk), never a copy of its maths, so a page shows what
the fit measured. Each writes one PNG and returns what it drew. Thread: main (export, ``livegan knobs``).
"""
from __future__ import annotations

import numpy as np

from train.band_metrics import power_spectrogram_db
from train.descriptors import NAMES, RESOLUTION
from train.figures import SPEC_RANGE_DB, _plt
from train.knobs import MAX_CROSSTALK, MIN_REACH, judge

SHOW_STEPS = 5  # knob positions drawn as spectrograms: -2, -1, 0, +1, +2 sigmas (every other one of the fit's 9)
LOW_HZ = 30.0  # bottom of the log-frequency axis
BANDS = 160  # rows of a spectrogram on that axis (a panel is about 100 pixels tall)
UNITS = dict(brightness="log spectral centroid (log Hz)", weight="power share below 150 Hz",
             loudness="RMS level (dB FS)", noisiness="spectral flatness", density="onsets per second (soft)")


def sweep_spectrograms_png(loops: np.ndarray, pos: np.ndarray, seeds, sr: int, path: str, title: str) -> dict:
    """loops (S, P, C, L): seed s (row) at knob position pos[p] sigmas (column) -> one log-frequency
    spectrogram each on one colour scale (the figure's loudest bin down ``SPEC_RANGE_DB``).
    -> {"vmin", "vmax", "db": (S, P) lists of the dB (bands, T) arrays drawn, "edges_hz": (bands + 1,)}."""
    plt = _plt()
    n_s, n_p = loops.shape[:2]
    specs = [[power_spectrogram_db(loops[i, j], sr) for j in range(n_p)] for i in range(n_s)]
    freqs, times = specs[0][0][1], specs[0][0][2]
    edges_f, starts = _log_bands(freqs)
    db = [[np.maximum.reduceat(s[0], starts, axis=0) for s in row] for row in specs]  # (bands, T) each
    vmax = max(float(d.max()) for row in db for d in row)
    vmin = vmax - SPEC_RANGE_DB
    edges_t = np.r_[times, loops.shape[-1] / sr]
    fig, axes = plt.subplots(n_s, n_p, figsize=(2.6 * n_p + 1, 1.8 * n_s + 0.8), squeeze=False, sharex=True,
                             sharey=True)
    fig.subplots_adjust(left=0.07, right=0.9, bottom=0.09, top=0.9, wspace=0.08, hspace=0.12)
    mesh = None
    for i in range(n_s):
        for j in range(n_p):
            ax = axes[i, j]
            mesh = ax.pcolormesh(edges_t, edges_f, db[i][j], cmap="magma", vmin=vmin, vmax=vmax, rasterized=True)
            ax.set_yscale("log")
            ax.set_ylim(edges_f[0], sr / 2)
            _hz_ticks(ax, edges_f[0], sr / 2)
            ax.tick_params(labelsize=7)
            if i == 0:
                ax.set_title(f"{pos[j]:+g} sigma", fontsize=9)
            if j == 0:
                ax.set_ylabel(f"seed {seeds[i]}\nHz", fontsize=8)
            if i == n_s - 1:
                ax.set_xlabel("seconds", fontsize=8)
    fig.colorbar(mesh, cax=fig.add_axes((0.92, 0.25, 0.012, 0.5)),
                 label=f"dB (0 = full-scale sine; {SPEC_RANGE_DB:.0f} dB range)")
    fig.suptitle(title, fontsize=10)
    fig.savefig(path, dpi=72)
    plt.close(fig)
    return dict(vmin=vmin, vmax=vmax, db=db, edges_hz=edges_f)


def _hz_ticks(ax, lo: float, hi: float) -> None:
    """Fixed 1-2-5 ticks in Hz on a log axis (matplotlib's log locator costs seconds on 20 panels)."""
    from matplotlib.ticker import FixedLocator, NullLocator

    ticks = [f for f in (20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000) if lo <= f <= hi]
    ax.yaxis.set_major_locator(FixedLocator(ticks))
    ax.yaxis.set_minor_locator(NullLocator())
    ax.set_yticklabels([f"{f // 1000}k" if f >= 1000 else str(f) for f in ticks])


def _log_bands(freqs: np.ndarray, n: int = BANDS) -> tuple[np.ndarray, np.ndarray]:
    """STFT bins (F,) evenly spaced from 0 Hz -> (edges (G+1,) Hz, starts (G,) bin index): the bins from
    ``LOW_HZ`` (at least bin 1: DC has no place on a log axis) grouped into at most ``n`` log-spaced
    bands, each band a run of whole bins, so that a band's value is its loudest bin's (``reduceat``) and
    no partial falls between two rows of the picture."""
    df = freqs[1] - freqs[0]
    first = int(np.searchsorted(freqs, max(LOW_HZ, freqs[1])))
    f = freqs[first:]
    band = np.floor(np.log(f / f[0]) / np.log(f[-1] / f[0] + 1e-12) * (n - 1)).astype(int)
    starts = first + np.flatnonzero(np.r_[True, np.diff(band) > 0])
    edges = np.r_[freqs[starts] - df / 2, freqs[-1] + df / 2]
    return edges, starts


def curve_data(name: str, pos: np.ndarray, curves: dict, spread: dict) -> dict:
    """What ``descriptor_curve_png`` draws, from one knob's ``sweep`` (pos (P,), {descriptor: (S, P)}) and
    the fit's prior spreads: ``own`` (S, P) and its ``median`` (P,); ``change`` {descriptor: (P,)}: the
    median over seeds of its distance from its value at the knob's centre, in prior spreads (unsigned: another
    descriptor may rise on one seed and fall on the next, and a signed median would hide both); ``moved``
    {descriptor: the judge's change over the sweep in prior spreads}; the judge's ``spearman``,
    ``crosstalk``, ``reach``."""
    rho, cross, reach = judge(name, pos, curves, spread)
    moved = {k: judge(k, pos, curves, spread)[2] for k in curves}  # a descriptor's reach: its change
    mid = len(pos) // 2
    change = {k: np.median(np.abs(c - c[:, mid:mid + 1]) / max(spread[k], RESOLUTION[k]), axis=0)
              for k, c in curves.items()}
    own = np.asarray(curves[name])
    return dict(pos=np.asarray(pos), own=own, median=np.median(own, axis=0), change=change, moved=moved,
                spearman=rho, crosstalk=cross, reach=reach)


def descriptor_curve_png(name: str, pos: np.ndarray, curves: dict, spread: dict, stored, path: str) -> dict:
    """Three panels: the knob's own descriptor against knob position (a thin line per seed, the median
    thick); every descriptor's median distance from the centre in prior spreads; and the judge's change over
    the sweep per descriptor against the thresholds. Title: the file's stored Spearman and cross-talk (``stored``: a
    NamedKnob) beside this sweep's. -> ``curve_data``'s dict, what was drawn."""
    plt = _plt()
    d = curve_data(name, pos, curves, spread)
    fig, (a, b, c) = plt.subplots(1, 3, figsize=(14, 3.6), layout="constrained")
    for row in d["own"]:
        a.plot(d["pos"], row, lw=0.6, alpha=0.45, color="C0")
    a.plot(d["pos"], d["median"], lw=2.5, color="C0", label=f"median of {len(d['own'])} seeds")
    a.set_xlabel(f"{name} knob (sigmas)")
    a.set_ylabel(UNITS.get(name, name))
    a.legend(fontsize=8)
    for k, v in d["change"].items():
        b.plot(d["pos"], v, lw=2.5 if k == name else 1.0, label=k, color=f"C{NAMES.index(k) % 10}"
               if k in NAMES else None)
    b.axhline(0, color="0.6", lw=0.5)
    b.set_xlabel(f"{name} knob (sigmas)")
    b.set_ylabel("|change| from the centre, median (prior spreads)", fontsize=9)
    b.legend(fontsize=8)
    ks = list(d["moved"])
    c.bar(ks, [d["moved"][k] for k in ks], color=["C3" if k == name else "0.6" for k in ks])
    c.axhline(MAX_CROSSTALK, color="0.3", ls="--", lw=0.8, label=f"cross-talk limit {MAX_CROSSTALK:g}")
    c.axhline(MIN_REACH, color="C3", ls=":", lw=0.8, label=f"reach needed {MIN_REACH:g}")
    c.set_ylabel("change over the sweep (prior spreads)")
    c.tick_params(axis="x", labelsize=8)
    c.legend(fontsize=8)
    fig.suptitle(f"{name}: stored Spearman {stored.spearman:+.2f}, cross-talk {stored.crosstalk:.2f}  |  this "
                 f"sweep ({len(d['own'])} seeds): Spearman {d['spearman']:+.2f}, cross-talk {d['crosstalk']:.2f}, "
                 f"reach {d['reach']:.2f}", fontsize=10)
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return d
