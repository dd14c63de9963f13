"""DSP kernels (numba): looped band-limited read, crossfade, limiter, record ring.

Every kernel writes into arrays it is given; none allocates. ``livegan.audio.engine.warm_up()``
compiles them for the exact types the engine uses, and must run before a
stream starts (the first call of a numba function compiles it: hundreds of ms).
The offline resampler is ``livegan.audio.resample``. The state they read and write
is laid out by name in ``livegan.audio.state``.

The interpolator is a Kaiser-windowed sinc read from a table (``TABLE_RES``
points per source sample, linear between points). At unit scale it spans
``HALF_TAPS`` source samples each side, cutoff ``CUTOFF`` x the source
Nyquist, stop band about -100 dB (Kaiser beta ``BETA``): a 16384 Hz model
keeps its content up to about 6.3 kHz flat and everything above 8.2 kHz
(images) is gone. When the read step exceeds 1 (the loop is read faster than
one source sample per output frame) the kernel stretches by 1/step, so the
cutoff follows the output's Nyquist (band-limited both ways).

Threads: ``engine_block``, ``limiter`` and ``ring_write`` run on the audio
callback (or the render loop).
The callback kernels deliberately keep the GIL (no ``nogil``): releasing it
mid-callback invites another thread to take it, and the callback would then
wait for that thread to be scheduled again before it could return.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

HALF_TAPS = 24  # source samples each side at unit scale
TABLE_RES = 512  # table points per source sample
BETA = 10.0  # Kaiser window shape: about -100 dB stop band
CUTOFF = 0.90  # fraction of the source Nyquist where the sinc is centred
MAX_STEP = 4.0  # fastest read (source samples per output frame) the engine allows
PAD = int(HALF_TAPS * MAX_STEP) + 2  # guard samples each side of a slot, circularly copied

DUCK_MS = 5.0  # a locate or a stop ramps the loops out (and back in) over this long
# slot states (int64 `slot_state`)
FREE, FILLING, READY, PENDING, PLAYING, FADING = range(6)
# event log kinds (int64 rows of `log`: frame, kind, slot, loop id)
EV_SWITCH, EV_LATE, EV_SUPERSEDED, EV_FADE_END, EV_TEMPO, EV_LOCATE = range(6)


def make_table(half_taps: int = HALF_TAPS, res: int = TABLE_RES, beta: float = BETA,
               cutoff: float = CUTOFF) -> np.ndarray:
    """Kaiser-windowed sinc h(x) at x = -half_taps .. half_taps in steps of 1/res; float64, sums to ~1."""
    x = np.arange(-half_taps * res, half_taps * res + 2) / res  # one extra point for linear interpolation
    w = np.kaiser(2 * half_taps * res + 1, beta)
    w = np.concatenate([w, [0.0]])
    h = cutoff * np.sinc(cutoff * x) * w
    return h.astype(np.float64)


TABLE = make_table()


@njit(cache=True, inline="always")
def _tap(table, x, half, res):
    u = (x + half) * res
    if u <= 0.0 or u >= 2.0 * half * res:
        return 0.0
    iu = int(u)
    fr = u - iu
    return table[iu] + fr * (table[iu + 1] - table[iu])


@njit(cache=True)
def interp(data, c, pos, scale, taps, table, half, res, pad):
    """Band-limited value of padded row ``data[c]`` at source position ``pos`` in [0, N)."""
    ip = int(math.floor(pos))
    fr = pos - ip
    acc = 0.0
    base = pad + ip
    for k in range(-taps + 1, taps + 1):
        acc += _tap(table, (k - fr) * scale, half, res) * data[c, base + k]
    return acc * scale


@njit(cache=True)
def boundary_frame(frame0, beat0, fpb, beat):
    """First integer frame whose beat position is >= ``beat`` (transport mapping)."""
    return frame0 + int(math.ceil((beat - beat0) * fpb - 1e-9))


@njit(cache=True)
def beat_at(frame, frame0, beat0, fpb):
    return beat0 + (frame - frame0) / fpb


@njit(cache=True)
def _log(log, s, frame, kind, slot, loop_id):
    i = s.log_n % log.shape[0]
    log[i, 0] = frame
    log[i, 1] = kind
    log[i, 2] = slot
    log[i, 3] = loop_id
    s.log_n += 1


@njit(cache=True)
def next_grid(beat, q):
    """Smallest multiple of ``q`` beats at or after ``beat`` (the kernel's switch grid; the scheduler
    plans on the same grid through ``Transport.next_grid_beat``)."""
    return int(math.ceil(beat / q - 1e-9)) * q


@njit(cache=True)
def engine_block(out, slots, slot_state, slot_id, est, tst, pub, table, log):
    """Fill ``out`` (frames, out_ch) with the playing loop(s); advance the transport. Audio thread.

    Reads the publish record, applies a tempo request at the block start
    (phase-continuous: beat position is kept, only the rate changes), starts
    a scheduled switch on its exact boundary frame, and crossfades from the
    old slot to the new one at the same phase with a correlation-compensated
    equal-power law: a0 = cos, b0 = sin, both divided by sqrt(1 + 2 r a0 b0),
    so uncorrelated loops (r = 0) keep their power and identical ones (r = 1)
    keep their amplitude.

    Transport follow (an external clock's start / stop / continue / song
    position and phase corrections): a locate request (``loc_req`` raised,
    "beat ``loc_beat`` at frame ``loc_frame``") and a run request
    (``run_req`` 0/1) ramp the loops' gain ``gain`` to 0 over DUCK_MS; at
    gain 0 a locate re-anchors the beat grid (a loop waiting for a boundary is
    moved to the next one on the new grid) and a stop freezes the beat; the
    gain then ramps back to 1 when running. No click either way.
    """
    s = est[0]  # the engine's transport and log (``state.ENGINE``)
    tk = tst[0]  # the track's playback (``state.TRACK``)
    p = pub[0]  # the publish record (``state.PUB``)
    n = out.shape[0]
    out_ch = out.shape[1]
    n_ch = slots.shape[1]
    frame = s.frame
    half = table.shape[0] // 2 // TABLE_RES  # half taps of the table
    res = TABLE_RES
    # tempo request (written by another thread as one float): applied at this block's start
    req = s.tempo_req
    if req > 0.0 and req != s.tempo:
        b = beat_at(frame, s.frame0, s.beat0, s.fpb)
        s.beat0 = b
        s.frame0 = frame
        s.tempo = req
        s.fpb = s.sr * 60.0 / req
        _log(log, s, frame, EV_TEMPO, -1, int(req * 1000.0))
    # publish record: seqlock (odd = being written)
    seq = p.seq
    if seq != tk.seen and seq % 2 == 0:
        slot = p.slot
        beat = p.beat
        r = p.r_milli / 1000.0
        if p.seq == seq:
            if tk.sched >= 0:  # a newer loop replaces one that never started
                slot_state[tk.sched] = FREE
                tk.superseded += 1
                _log(log, s, frame, EV_SUPERSEDED, tk.sched, slot_id[tk.sched])
            tk.sched = slot
            tk.sched_beat = beat
            tk.sched_r = r
            slot_state[slot] = PENDING
            tk.seen = seq
            tk.seen_frame = frame
    fpb = s.fpb
    spb = tk.spb
    loop_beats = tk.loop_beats
    N = tk.n
    step = spb / fpb
    scale = 1.0 if step <= 1.0 else 1.0 / step
    taps = int(math.ceil(half / scale))
    # when does the scheduled loop start?
    sw = -1
    if tk.sched >= 0:
        if tk.sched_beat < 0:  # quantize none: as soon as any fade in progress ends
            sw = frame
            if tk.fade >= 0:
                sw = tk.fade_start + tk.fade_len
        else:
            sw = boundary_frame(s.frame0, s.beat0, fpb, float(tk.sched_beat))
            if sw < frame:  # arrived after its boundary: the current loop keeps playing
                tk.late += 1
                _log(log, s, frame, EV_LATE, tk.sched, slot_id[tk.sched])
                q = tk.quant
                g = next_grid(beat_at(frame, s.frame0, s.beat0, fpb), q)
                tk.sched_beat = g
                sw = boundary_frame(s.frame0, s.beat0, fpb, float(g))
    frame0 = s.frame0
    beat0 = s.beat0
    gain = s.gain
    dstep = s.duck_step
    for i in range(n):
        f = frame + i
        locating = s.loc_req != s.loc_seen
        if s.run_req == 1 and not locating:
            if gain < 1.0:
                gain = min(1.0, gain + dstep)
        elif gain > 0.0:
            gain = max(0.0, gain - dstep)
        if gain == 0.0:
            if locating:  # re-anchor: beat loc_beat was at frame loc_frame
                beat0 = s.loc_beat + (f - s.loc_frame) / fpb
                frame0 = f
                s.beat0 = beat0
                s.frame0 = f
                s.loc_seen = s.loc_req
                _log(log, s, f, EV_LOCATE, -1, int(math.floor(beat0 * 1000.0)))
                if tk.sched >= 0 and tk.sched_beat >= 0 and tk.quant > 0:
                    g = next_grid(beat0, tk.quant)
                    tk.sched_beat = g
                    sw = boundary_frame(frame0, beat0, fpb, float(g))
            elif s.run_req == 0 and frame0 != f:  # stopped: the beat stands still
                if frame0 < f - 1:  # (the first silent frame: the beat it reached stays)
                    beat0 = beat0 + (f - 1 - frame0) / fpb
                frame0 = f
                s.beat0 = beat0
                s.frame0 = f
                if sw >= 0 and tk.sched_beat >= 0:
                    sw = boundary_frame(frame0, beat0, fpb, float(tk.sched_beat))
        if f == sw:
            if tk.fade >= 0:  # only when a fade outlasts the quantum: cut the oldest
                slot_state[tk.fade] = FREE
            if tk.cur >= 0:
                tk.fade = tk.cur
                slot_state[tk.cur] = FADING
            else:
                tk.fade = -1
            tk.cur = tk.sched
            slot_state[tk.cur] = PLAYING
            tk.fade_start = f
            tk.fade_r = tk.sched_r
            tk.sched = -1
            tk.switches += 1
            _log(log, s, f, EV_SWITCH, tk.cur, slot_id[tk.cur])
            sw = -1
        b = beat0 + (f - frame0) / fpb
        lb = b - math.floor(b / loop_beats) * loop_beats
        pos = lb * spb
        if pos >= N:
            pos -= N
        cur = tk.cur
        fade = tk.fade
        t = 1.0
        if cur >= 0 and tk.fade_start + tk.fade_len > f:
            t = (f - tk.fade_start) / tk.fade_len
        ga = 0.0
        gb = 1.0
        if t < 1.0:
            a0 = math.cos(0.5 * math.pi * t)
            b0 = math.sin(0.5 * math.pi * t)
            g = 1.0 / math.sqrt(1.0 + 2.0 * tk.fade_r * a0 * b0)
            ga = a0 * g
            gb = b0 * g
        elif fade >= 0:
            slot_state[fade] = FREE
            tk.fade = -1
            _log(log, s, f, EV_FADE_END, fade, slot_id[fade])
            fade = -1
        ga *= gain
        gb *= gain
        if n_ch == 1:
            y = 0.0
            if cur >= 0:
                y = gb * interp(slots[cur], 0, pos, scale, taps, table, half, res, PAD)
            if fade >= 0 and t < 1.0:
                y += ga * interp(slots[fade], 0, pos, scale, taps, table, half, res, PAD)
            for c in range(out_ch):
                out[i, c] = y
        else:
            y0 = 0.0
            y1 = 0.0
            if cur >= 0:
                y0 = gb * interp(slots[cur], 0, pos, scale, taps, table, half, res, PAD)
                y1 = gb * interp(slots[cur], 1, pos, scale, taps, table, half, res, PAD)
            if fade >= 0 and t < 1.0:
                y0 += ga * interp(slots[fade], 0, pos, scale, taps, table, half, res, PAD)
                y1 += ga * interp(slots[fade], 1, pos, scale, taps, table, half, res, PAD)
            if out_ch == 1:
                out[i, 0] = 0.5 * (y0 + y1)
            else:
                out[i, 0] = y0
                out[i, 1] = y1
                for c in range(2, out_ch):
                    out[i, c] = 0.0
    s.gain = gain
    s.frame = frame + n


@njit(cache=True)
def frame_peak(out, i):
    """The largest |sample| of frame ``i`` of ``out``, its NaN/Inf set to 0 first (they count as 0). Audio thread."""
    peak = 0.0
    for c in range(out.shape[1]):
        v = out[i, c]
        if not math.isfinite(v):
            out[i, c] = 0.0
            v = 0.0
        a = abs(v)
        if a > peak:
            peak = a
    return peak


@njit(cache=True)
def limiter(out, lst):
    """Safety peak limiter, in place. Audio thread.

    lst: one ``state.LIMITER`` row. Instant attack (the output
    never exceeds the threshold), exponential release; NaN/Inf become 0.
    """
    lim = lst[0]
    g = lim.gain
    thr = lim.threshold
    rel = lim.release
    n, ch = out.shape
    for i in range(n):
        peak = frame_peak(out, i)
        g = 1.0 - rel * (1.0 - g)  # recover towards unity
        if peak * g > thr:
            g = thr / peak
        if g < 1.0:
            for c in range(ch):
                out[i, c] = out[i, c] * g
    lim.gain = g


@njit(cache=True)
def ring_write(ring, rst, block):
    """Copy ``block`` (frames, ch) into the record ring; count what does not fit. Audio thread.

    rst: one ``state.RING`` row; counts only grow, the
    writer thread owns the read count.
    """
    r = rst[0]
    cap = ring.shape[0]
    n = block.shape[0]
    w = r.written
    space = cap - (w - r.read)
    m = n if n <= space else space
    if m < n:
        r.dropped += n - m
    for i in range(m):
        j = (w + i) % cap
        for c in range(ring.shape[1]):
            ring[j, c] = block[i, c]
    r.written = w + m
