"""DSP kernels (numba): looped band-limited read, crossfade, limiter, record ring; the state indices.

Every kernel writes into arrays it is given; none allocates. ``livegan.audio.engine.warm_up()``
compiles them for the exact types the engine uses, and must run before a
stream starts (the first call of a numba function compiles it: hundreds of ms).
The offline resampler is ``livegan.audio.resample``.

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

# engine_block integer state (int64 array `ist`): indices
I_FRAME, I_FRAME0, I_CUR, I_FADE, I_FADE_START, I_FADE_LEN, I_SCHED, I_SCHED_BEAT, \
    I_SEEN, I_QUANT, I_LATE, I_SWITCHES, I_SUPERSEDED, I_LOG_N, I_N, I_LOOP_BEATS, I_PENDING_LATE, \
    I_RUN_REQ, I_LOC_REQ, I_LOC_SEEN, I_LOC_FRAME = range(21)
N_IST = 21
# float state (float64 `fst`)
F_BEAT0, F_TEMPO, F_FPB, F_SPB, F_TEMPO_REQ, F_SR, F_FADE_R, F_SCHED_R, F_LOC_BEAT, F_GAIN, F_DUCK_STEP = range(11)
N_FST = 11
DUCK_MS = 5.0  # a locate or a stop ramps the loops out (and back in) over this long
# publish record (int64 `pub`), written by the generator thread under a seqlock
P_SEQ, P_SLOT, P_BEAT, P_R_MILLI = range(4)
N_PUB = 4
# slot states (int64 `slot_state`)
FREE, FILLING, READY, PENDING, PLAYING, FADING = range(6)
# event log kinds (int64 rows of `log`: frame, kind, slot, loop id)
EV_SWITCH, EV_LATE, EV_SUPERSEDED, EV_FADE_END, EV_TEMPO, EV_LOCATE = range(6)
# limiter state (float64 `lst`): current gain, threshold (linear), release coefficient per frame
L_GAIN, L_THRESHOLD, L_RELEASE = range(3)
N_LST = 3
# record ring state (int64 `rst`): frames written (callback), frames read (writer), frames dropped;
# the counts only grow, so the frames waiting are R_WRITTEN - R_READ
R_WRITTEN, R_READ, R_DROPPED = range(3)
N_RST = 3


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
def _log(log, ist, frame, kind, slot, loop_id):
    i = ist[I_LOG_N] % log.shape[0]
    log[i, 0] = frame
    log[i, 1] = kind
    log[i, 2] = slot
    log[i, 3] = loop_id
    ist[I_LOG_N] += 1


@njit(cache=True)
def next_grid(beat, q):
    """Smallest multiple of ``q`` beats at or after ``beat`` (the kernel's switch grid; the scheduler
    plans on the same grid through ``Transport.next_grid_beat``)."""
    return int(math.ceil(beat / q - 1e-9)) * q


@njit(cache=True)
def engine_block(out, slots, slot_state, slot_id, ist, fst, pub, table, log):
    """Fill ``out`` (frames, out_ch) with the playing loop(s); advance the transport. Audio thread.

    Reads the publish record, applies a tempo request at the block start
    (phase-continuous: beat position is kept, only the rate changes), starts
    a scheduled switch on its exact boundary frame, and crossfades from the
    old slot to the new one at the same phase with a correlation-compensated
    equal-power law: a0 = cos, b0 = sin, both divided by sqrt(1 + 2 r a0 b0),
    so uncorrelated loops (r = 0) keep their power and identical ones (r = 1)
    keep their amplitude.

    Transport follow (an external clock's start / stop / continue / song
    position and phase corrections): a locate request (``I_LOC_REQ`` raised,
    "beat ``F_LOC_BEAT`` at frame ``I_LOC_FRAME``") and a run request
    (``I_RUN_REQ`` 0/1) ramp the loops' gain ``F_GAIN`` to 0 over DUCK_MS; at
    gain 0 a locate re-anchors the beat grid (a loop waiting for a boundary is
    moved to the next one on the new grid) and a stop freezes the beat; the
    gain then ramps back to 1 when running. No click either way.
    """
    n = out.shape[0]
    out_ch = out.shape[1]
    n_ch = slots.shape[1]
    frame = ist[I_FRAME]
    half = table.shape[0] // 2 // TABLE_RES  # half taps of the table
    res = TABLE_RES
    # tempo request (written by another thread as one float): applied at this block's start
    req = fst[F_TEMPO_REQ]
    if req > 0.0 and req != fst[F_TEMPO]:
        b = beat_at(frame, ist[I_FRAME0], fst[F_BEAT0], fst[F_FPB])
        fst[F_BEAT0] = b
        ist[I_FRAME0] = frame
        fst[F_TEMPO] = req
        fst[F_FPB] = fst[F_SR] * 60.0 / req
        _log(log, ist, frame, EV_TEMPO, -1, int(req * 1000.0))
    # publish record: seqlock (odd = being written)
    seq = pub[P_SEQ]
    if seq != ist[I_SEEN] and seq % 2 == 0:
        slot = pub[P_SLOT]
        beat = pub[P_BEAT]
        r = pub[P_R_MILLI] / 1000.0
        if pub[P_SEQ] == seq:
            if ist[I_SCHED] >= 0:  # a newer loop replaces one that never started
                slot_state[ist[I_SCHED]] = FREE
                ist[I_SUPERSEDED] += 1
                _log(log, ist, frame, EV_SUPERSEDED, ist[I_SCHED], slot_id[ist[I_SCHED]])
            ist[I_SCHED] = slot
            ist[I_SCHED_BEAT] = beat
            fst[F_SCHED_R] = r
            slot_state[slot] = PENDING
            ist[I_SEEN] = seq
    fpb = fst[F_FPB]
    spb = fst[F_SPB]
    loop_beats = ist[I_LOOP_BEATS]
    N = ist[I_N]
    step = spb / fpb
    scale = 1.0 if step <= 1.0 else 1.0 / step
    taps = int(math.ceil(half / scale))
    # when does the scheduled loop start?
    sw = -1
    if ist[I_SCHED] >= 0:
        if ist[I_SCHED_BEAT] < 0:  # quantize none: as soon as any fade in progress ends
            sw = frame
            if ist[I_FADE] >= 0:
                sw = ist[I_FADE_START] + ist[I_FADE_LEN]
        else:
            sw = boundary_frame(ist[I_FRAME0], fst[F_BEAT0], fpb, float(ist[I_SCHED_BEAT]))
            if sw < frame:  # arrived after its boundary: the current loop keeps playing
                ist[I_LATE] += 1
                _log(log, ist, frame, EV_LATE, ist[I_SCHED], slot_id[ist[I_SCHED]])
                q = ist[I_QUANT]
                g = next_grid(beat_at(frame, ist[I_FRAME0], fst[F_BEAT0], fpb), q)
                ist[I_SCHED_BEAT] = g
                sw = boundary_frame(ist[I_FRAME0], fst[F_BEAT0], fpb, float(g))
    frame0 = ist[I_FRAME0]
    beat0 = fst[F_BEAT0]
    gain = fst[F_GAIN]
    dstep = fst[F_DUCK_STEP]
    for i in range(n):
        f = frame + i
        locating = ist[I_LOC_REQ] != ist[I_LOC_SEEN]
        if ist[I_RUN_REQ] == 1 and not locating:
            if gain < 1.0:
                gain = min(1.0, gain + dstep)
        elif gain > 0.0:
            gain = max(0.0, gain - dstep)
        if gain == 0.0:
            if locating:  # re-anchor: beat F_LOC_BEAT was at frame I_LOC_FRAME
                beat0 = fst[F_LOC_BEAT] + (f - ist[I_LOC_FRAME]) / fpb
                frame0 = f
                fst[F_BEAT0] = beat0
                ist[I_FRAME0] = f
                ist[I_LOC_SEEN] = ist[I_LOC_REQ]
                _log(log, ist, f, EV_LOCATE, -1, int(math.floor(beat0 * 1000.0)))
                if ist[I_SCHED] >= 0 and ist[I_SCHED_BEAT] >= 0 and ist[I_QUANT] > 0:
                    g = next_grid(beat0, ist[I_QUANT])
                    ist[I_SCHED_BEAT] = g
                    sw = boundary_frame(frame0, beat0, fpb, float(g))
            elif ist[I_RUN_REQ] == 0 and frame0 != f:  # stopped: the beat stands still
                if frame0 < f - 1:  # (the first silent frame: the beat it reached stays)
                    beat0 = beat0 + (f - 1 - frame0) / fpb
                frame0 = f
                fst[F_BEAT0] = beat0
                ist[I_FRAME0] = f
                if sw >= 0 and ist[I_SCHED_BEAT] >= 0:
                    sw = boundary_frame(frame0, beat0, fpb, float(ist[I_SCHED_BEAT]))
        if f == sw:
            if ist[I_FADE] >= 0:  # only when a fade outlasts the quantum: cut the oldest
                slot_state[ist[I_FADE]] = FREE
            if ist[I_CUR] >= 0:
                ist[I_FADE] = ist[I_CUR]
                slot_state[ist[I_CUR]] = FADING
            else:
                ist[I_FADE] = -1
            ist[I_CUR] = ist[I_SCHED]
            slot_state[ist[I_CUR]] = PLAYING
            ist[I_FADE_START] = f
            fst[F_FADE_R] = fst[F_SCHED_R]
            ist[I_SCHED] = -1
            ist[I_SWITCHES] += 1
            _log(log, ist, f, EV_SWITCH, ist[I_CUR], slot_id[ist[I_CUR]])
            sw = -1
        b = beat0 + (f - frame0) / fpb
        lb = b - math.floor(b / loop_beats) * loop_beats
        pos = lb * spb
        if pos >= N:
            pos -= N
        cur = ist[I_CUR]
        fade = ist[I_FADE]
        t = 1.0
        if cur >= 0 and ist[I_FADE_START] + ist[I_FADE_LEN] > f:
            t = (f - ist[I_FADE_START]) / ist[I_FADE_LEN]
        ga = 0.0
        gb = 1.0
        if t < 1.0:
            a0 = math.cos(0.5 * math.pi * t)
            b0 = math.sin(0.5 * math.pi * t)
            g = 1.0 / math.sqrt(1.0 + 2.0 * fst[F_FADE_R] * a0 * b0)
            ga = a0 * g
            gb = b0 * g
        elif fade >= 0:
            slot_state[fade] = FREE
            ist[I_FADE] = -1
            _log(log, ist, f, EV_FADE_END, fade, slot_id[fade])
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
    fst[F_GAIN] = gain
    ist[I_FRAME] = frame + n


@njit(cache=True)
def limiter(out, lst):
    """Safety peak limiter, in place. Audio thread.

    lst: ``L_GAIN``, ``L_THRESHOLD``, ``L_RELEASE``. Instant attack (the output
    never exceeds the threshold), exponential release; NaN/Inf become 0.
    """
    g = lst[L_GAIN]
    thr = lst[L_THRESHOLD]
    rel = lst[L_RELEASE]
    n, ch = out.shape
    for i in range(n):
        peak = 0.0
        for c in range(ch):
            v = out[i, c]
            if not math.isfinite(v):
                out[i, c] = 0.0
                v = 0.0
            a = abs(v)
            if a > peak:
                peak = a
        g = 1.0 - rel * (1.0 - g)  # recover towards unity
        if peak * g > thr:
            g = thr / peak
        if g < 1.0:
            for c in range(ch):
                out[i, c] = out[i, c] * g
    lst[L_GAIN] = g


@njit(cache=True)
def ring_write(ring, rst, block):
    """Copy ``block`` (frames, ch) into the record ring; count what does not fit. Audio thread.

    rst: ``R_WRITTEN``, ``R_READ``, ``R_DROPPED``; counts only grow, the
    writer thread owns the read count.
    """
    cap = ring.shape[0]
    n = block.shape[0]
    w = rst[R_WRITTEN]
    space = cap - (w - rst[R_READ])
    m = n if n <= space else space
    if m < n:
        rst[R_DROPPED] += n - m
    for i in range(m):
        j = (w + i) % cap
        for c in range(ring.shape[1]):
            ring[j, c] = block[i, c]
    rst[R_WRITTEN] = w + m
