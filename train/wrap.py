"""``livegan wrap MODEL.ts -o LOOP.ts``: someone else's TorchScript decoder as a livegan loop model.

Conventions taken (probed in this order):

- **decode** (RAVE exports, nn~ methods): ``decode(z[B, latent, T]) -> [B, ch, T * ratio]``. The latent
  size comes from nn~'s ``decode_params`` buffer ([in_channels, in_ratio, out_channels, out_ratio]), else
  an attribute ``latent_size`` / ``latent_dim``, else ``--latent-dim``; the ratio is measured by decoding
  8 and 16 frames (and must agree with ``decode_params``). A livegan z is [centre, swing] (2 x latent,
  ``--swing 0``: the centre alone); frame t of the trajectory is centre + swing x s x sin(2 pi t / bar),
  out and back once per bar (``train.decoder_loops.swing_path``). Knobs: the model's own latent order
  (RAVE's latents are PCA-ordered, strongest first): centre dimensions first, then swing dimensions.
- **forward**: ``forward(z[B, latent]) -> [B, ch, N]`` or ``[B, N]`` with N at least one bar and the
  crossfade; the latent size from an attribute ``latent_dim`` / ``latent_size`` / ``z_dim`` or
  ``--latent-dim``. Knobs: PCA of the outputs' log spectra over ``--pca-renders`` draws from the prior,
  regressed to z (GANSpace's method, ``train.directions.pca_directions``).

The rate is ``--sample-rate``, else an attribute ``sr`` / ``sample_rate`` / ``sampling_rate``. The bar is
``--bars`` x ``--beats-per-bar`` beats at ``--bpm``, made seamless by a ``--crossfade-ms`` circular
crossfade (``train.decoder_loops.fold``). Self-checks: the decoder's code passes livegan's op allow-list
before it is loaded (a file that fails is refused with the line naming the op: a wrapped file must load
in ``perform``, and widening the list is a trust decision, not a wrapping one); the same z renders the
same audio twice (a decoder that draws noise or keeps streaming state could not re-render a show bit
for bit); then ``save_loop_model``'s checks (reload, same outputs, exact shape, time per loop), and the
seam at the wrap against the loop's own steps inside (``seam_against_inside``). A decoder whose
output goes past [-1, 1] is warned about once, with the peak seen (a loop model's samples are clipped).

Every call into the decoder has a deadline and a progress bar, and Ctrl-C ends it
(``train.decoder_calls``); what one z makes it render is bounded (``MAX_RENDER``), checked on the
probe calls before any bigger call, and the PCA's batches are sized to ``BATCH_RENDER``.

Thread: main (the decoder's calls: a deadline thread each).
"""
from __future__ import annotations

import datetime
import hashlib
import math
import os
import sys

import numpy as np
import torch

from livegan.errors import CLIError, ModelFileError, first_line
from livegan.model import MAX_BPM, MIN_BPM, LoopModel, load_checked, seed_z
from train.decoder_calls import BATCH_RENDER, Calls, bounded
from train.decoder_loops import DecodeLoop, ForwardLoop, swing_path
from train.directions import NonFiniteOutput, pca_directions, prior_z
from train.export import save_loop_model
from train.knobs import add_knobs, module_generator
from train.logmel_metrics import seam_score

N_KNOBS = 16  # directions written, at most (export writes as many)
SEAM_SEEDS = 32  # loops the seam check averages: one loop's wrap is one step, as random as any single step
PRIOR_STD = {"normal": 1.0, "uniform": 1.0 / math.sqrt(3.0)}
PCA_BATCH = 16
SAVE_CALLS = 14  # save_loop_model's decoder calls: its own, the reload's 2 warm-ups, its check, 10 timed
SEAM_CALLS = 1 + SEAM_SEEDS // 4  # the saved file's warm-up, then 4 loops a call
KNOB_CALLS = 64  # the named knobs' fit, counted as this many calls' deadline (its batches of the prior)


def _attr(m, names):
    for n in names:
        if hasattr(m, n):
            return getattr(m, n)
    return None


def _load(path: str):
    """Check the decoder's archive and code against the allow-list, load it, check what torch compiled
    (nothing of it runs before both checks)."""
    if not os.path.isfile(path):
        raise ModelFileError(path, "no such file")
    return load_checked(path, "cpu")


def _sample_rate(m, path: str, given) -> int:
    if given is not None:
        return int(given)
    sr = _attr(m, ("sr", "sample_rate", "sampling_rate"))
    if isinstance(sr, torch.Tensor) and sr.numel() == 1:
        sr = sr.item()
    if isinstance(sr, (int, float)) and not isinstance(sr, bool) and 1000 <= sr <= 384000 and sr == int(sr):
        return int(sr)
    raise CLIError(f"{path}: the model names no sample rate (attribute sr / sample_rate / sampling_rate); "
                   "pass --sample-rate")


def _latent(m, path: str, given, names) -> int:
    if given is not None:
        return int(given)
    d = _attr(m, names)
    if isinstance(d, torch.Tensor) and d.numel() == 1:
        d = d.item()
    if isinstance(d, int) and not isinstance(d, bool) and 1 <= d <= 4096:
        return d
    raise CLIError(f"{path}: the model names no latent size (attribute {' / '.join(names)}); pass --latent-dim")


def _reason(e: BaseException) -> str:
    """One line of why a TorchScript call failed: the interpreter's error ends with the op's own message."""
    lines = [ln.strip() for ln in str(e).splitlines() if ln.strip()]
    if len(lines) > 1 and lines[0].startswith("The following operation failed in the TorchScript interpreter"):
        return lines[-1][:160]
    return first_line(e, 160)


def _call(calls: Calls, fn, x: torch.Tensor, what: str, path: str) -> torch.Tensor:
    try:
        y = calls(lambda: fn(x), f"{what} on z of shape {tuple(x.shape)}")
    except CLIError:
        raise
    except Exception as e:
        raise CLIError(f"{path}: {what} on z of shape {tuple(x.shape)} failed, so it is no decoder of that "
                       f"convention ({_reason(e)})") from None
    if not isinstance(y, torch.Tensor) or y.dtype != torch.float32 or y.dim() not in (2, 3):
        kind = f"a {y.dtype} tensor of {y.dim()} dims" if isinstance(y, torch.Tensor) else type(y).__name__
        raise CLIError(f"{path}: {what} returned {kind}, not float32 audio [B, ch, N] or [B, N]")
    y = y if y.dim() == 3 else y.unsqueeze(1)
    if y.shape[1] not in (1, 2):
        raise CLIError(f"{path}: {what} returned {y.shape[1]} channels; a loop model has 1 or 2")
    return y


def _probe_decode(calls: Calls, m, path: str, latent_given) -> dict:
    params = _attr(m, ("decode_params",))
    params = [int(v) for v in params.tolist()] if isinstance(params, torch.Tensor) and params.numel() == 4 else None
    if params and latent_given is None:
        latent = params[0]  # nn~: [in_channels, in_ratio, out_channels, out_ratio]
    else:
        latent = _latent(m, path, latent_given, ("latent_size", "latent_dim"))
    calls.add(2)
    ys = [_call(calls, m.decode, torch.zeros(1, latent, 8), "decode()", path)]
    ratio = ys[0].shape[2] // 8
    bounded(path, "decode() of 16 frames", 16 * ratio, int(ys[0].shape[1]))  # before it is asked for
    ys.append(_call(calls, m.decode, torch.zeros(1, latent, 16), "decode()", path))
    if ratio < 1 or ys[0].shape[2] != 8 * ratio or ys[1].shape[2] != 16 * ratio:
        raise CLIError(f"{path}: decode() of 8 and 16 frames gave {ys[0].shape[2]} and {ys[1].shape[2]} samples, "
                       "not T x ratio")
    if params and params[3] > 0 and params[1] // params[3] != ratio:
        raise CLIError(f"{path}: decode_params says {params[1]}/{params[3]} samples per frame, decode() gives {ratio}")
    return dict(latent=latent, ratio=ratio, channels=int(ys[0].shape[1]))


def _probe_forward(calls: Calls, m, path: str, latent_given) -> dict:
    latent = _latent(m, path, latent_given, ("latent_dim", "latent_size", "z_dim"))
    calls.add(1)
    y = _call(calls, m, torch.zeros(2, latent), "forward()", path)
    bounded(path, "forward()", int(y.shape[2]), int(y.shape[1]))
    return dict(latent=latent, samples=int(y.shape[2]), channels=int(y.shape[1]))


def _knobs_in_model_order(latent: int, latent_dim: int, dist: str):
    """Centre dimensions 0.. in the model's order, then swing dimensions: one-hot rows, prior std."""
    n = min(latent, N_KNOBS if latent_dim == latent else N_KNOBS // 2)
    rows = list(range(n)) + ([latent + i for i in range(n)] if latent_dim > latent else [])
    dirs = np.eye(latent_dim, dtype=np.float32)[rows]
    return dirs, np.full(len(rows), PRIOR_STD[dist], np.float32)


@torch.no_grad()
def _knobs_by_pca(calls: Calls, module, latent: int, dist: str, renders: int, per_z: int):
    """GANSpace on the outputs: PCA of the rendered loops' log power in 128 bands, regressed to z.
    ``per_z``: samples x channels the decoder renders for one z (a batch renders ``BATCH_RENDER`` at most)."""
    z = prior_z(renders, latent, dist)
    b = max(1, min(PCA_BATCH, BATCH_RENDER // max(per_z, 1)))
    calls.add(-(-renders // b))
    feats = []
    for i in range(0, renders, b):
        y = calls(lambda i=i: module(z[i:i + b]), f"forward() on z of shape {tuple(z[i:i + b].shape)}")
        y = y.double().mean(1)  # (b, L) mono
        p = torch.fft.rfft(y).abs() ** 2  # (b, F)
        bands = torch.stack([c.mean(1) for c in torch.tensor_split(p, 128, dim=1)], 1)  # (b, 128)
        feats.append(torch.log(bands + 1e-10))
    return pca_directions(z, torch.cat(feats).float(), N_KNOBS)


def seam_against_inside(loops: np.ndarray, points: int = 64, seed: int = 0) -> tuple[float, float]:
    """(N, C, L) -> (seam score at the wrap, the same score at ``points`` random points inside each loop),
    each averaged over the loops: about 1 and 1 for a loop that wraps as smoothly as it runs."""
    rng = np.random.default_rng(seed)
    x = np.asarray(loops, np.float64).mean(1)  # (N, L)
    inside = np.mean([seam_score(np.roll(x, -int(k), axis=1)).mean()
                      for k in rng.integers(1, x.shape[1], size=points)])
    return float(seam_score(x).mean()), float(inside)


def _fit(src: str, sr: int, bpm: float, bars: int, beats: int, fade_ms: float) -> tuple[int, int]:
    loop = int(round(bars * beats * 60.0 / bpm * sr))
    tempo = bars * beats * 60.0 * sr / max(loop, 1)  # what the file will say: the rounding must not leave the range
    loop += (tempo > MAX_BPM) - (tempo < MIN_BPM)
    fade = int(round(fade_ms * 1e-3 * sr))
    if not 64 <= loop <= 1 << 24:
        raise CLIError(f"{src}: {bars} bar(s) of {beats} beats at {bpm:g} BPM is {loop} samples at {sr} Hz; "
                       "a loop model holds 64 to 16777216")
    if fade > loop // 2:
        raise CLIError(f"--crossfade-ms {fade_ms:g} is more than half the bar ({loop} samples)")
    return loop, fade


def build(src: str, m, *, sr: int, bpm: float = 120.0, bars: int = 1, beats: int = 4, latent_dim=None,
          latent_dist: str = "normal", swing: float = 0.5, fade_ms: float = 10.0, renders: int = 256,
          calls: Calls | None = None):
    """-> (loop module, metadata dict for ``save_loop_model``). ``m`` is the loaded decoder; ``calls``
    runs its calls (default: deadlines, no bar)."""
    calls = calls if calls is not None else Calls(src, quiet=True)
    loop, fade = _fit(src, sr, bpm, bars, beats, fade_ms)
    if hasattr(m, "decode"):
        p = _probe_decode(calls, m, src, latent_dim)
        frames = -(-(loop + fade) // p["ratio"])  # ceil: the bar and the crossfade's continuation
        bounded(src, f"decode() of the bar's {frames} frames", frames * p["ratio"], p["channels"])
        path = swing_path(p["latent"], frames, p["ratio"], loop, swing)
        module = DecodeLoop(m, path, loop, fade)
        dirs, sigmas = _knobs_in_model_order(p["latent"], path.shape[0], latent_dist)
        record = dict(convention="decode", ratio=p["ratio"], frames=frames,
                      path=f"centre + swing x {swing:g} x sin, once per bar" if swing > 0 else "constant",
                      directions="the model's latent order: centre dimensions, then swing dimensions")
    else:
        p = _probe_forward(calls, m, src, latent_dim)
        if p["samples"] < loop + fade:
            need = math.ceil(bars * beats * 60.0 * sr / max(p["samples"] - fade, 1))  # the slowest tempo that fits
            hint = f": use --bpm {need} or more, or fewer --bars" if need <= MAX_BPM else ""
            raise CLIError(f"{src}: forward() renders {p['samples']} samples at {sr} Hz, one bar and the crossfade "
                           f"need {loop + fade}{hint}")
        module = ForwardLoop(m, loop, fade)
        try:
            dirs, sigmas = _knobs_by_pca(calls, module, p["latent"], latent_dist, renders,
                                         p["samples"] * p["channels"])
        except NonFiniteOutput as e:
            raise CLIError(f"{src}: {e}") from None
        record = dict(convention="forward", rendered=p["samples"],
                      directions=f"PCA of the outputs' log spectra over {renders} draws, regressed to z")
    with open(src, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    meta = dict(name=os.path.splitext(os.path.basename(src))[0] or "wrapped", sample_rate=sr, loop_samples=loop,
                channels=p["channels"], latent_dim=int(dirs.shape[1]), latent_dist=latent_dist,
                bpm=bars * beats * 60.0 * sr / loop, bars=bars, beats_per_bar=beats,
                directions=dirs.tolist(), sigmas=sigmas.tolist(),
                training=dict(preset="wrap", wrapped=os.path.basename(src), sha256=digest, latent=p["latent"],
                              crossfade_samples=fade, date=datetime.date.today().isoformat(), **record))
    return module, meta


def _check_deterministic(calls: Calls, module, meta: dict, src: str) -> float:
    """-> the peak of what the decoder rendered (before the loop's clip to [-1, 1])."""
    z = torch.from_numpy(np.stack([seed_z(s, meta["latent_dim"], meta["latent_dist"]) for s in (1, 2)]))
    calls.add(2)
    a, b = (calls(lambda: module.render(z), f"{meta['training']['convention']}() on z of shape {tuple(z.shape)}")
            for _ in range(2))
    if not torch.isfinite(a).all():  # NaN != NaN: it would read as "not deterministic" below
        raise CLIError(f"{src}: the model gives non-finite output (NaN or Inf), so it has nothing to play")
    if not torch.equal(a, b):
        raise CLIError(f"{src}: the same z renders different audio twice (the decoder draws noise or keeps "
                       "streaming state); livegan needs a deterministic decoder to re-render a show bit for bit")
    return float(a.abs().max()) if a.numel() else 0.0


def _seam_report(out: str) -> tuple[float, float]:
    """``seam_against_inside`` over ``SEAM_SEEDS`` seeds of the saved file (its ``SEAM_CALLS`` calls)."""
    saved = LoopModel(out, device="cpu", threads=None, warmup=1)
    z = np.stack([seed_z(s, saved.meta.latent_dim, saved.meta.latent_dist) for s in range(SEAM_SEEDS)])
    return seam_against_inside(np.concatenate([saved.generate(z[i:i + 4]) for i in range(0, SEAM_SEEDS, 4)]))


def wrap_model(src, out, *, sample_rate=None, name=None, quiet: bool = False, force: bool = False, knobs: bool = True,
               **opts) -> dict:
    """Wrap the decoder at ``src`` into the loop-model file ``out``; returns save_loop_model's report plus
    ``seam_wrap`` and ``seam_inside`` (``seam_against_inside`` over ``SEAM_SEEDS`` seeds of the saved file).
    An existing ``out`` is replaced only with ``force`` (once the new file passed its checks), never when it
    is ``src`` itself."""
    from livegan.files import check_target

    src, out = os.fspath(src), os.fspath(out)
    inputs = [(src, "the decoder")]
    check_target(out, "output", force, inputs)  # before the decoder is loaded and probed
    m = _load(src)
    sr = _sample_rate(m, src, sample_rate)
    calls = Calls(src, quiet)
    try:
        module, meta = build(src, m, sr=sr, calls=calls, **opts)
        if name:
            meta["name"] = name
        peak = _check_deterministic(calls, module, meta, src)
        if knobs:  # named knobs (train.knobs): its fit renders batches of the prior, like the PCA's
            calls.add(KNOB_CALLS)
            calls(lambda: add_knobs(meta, module_generator(module), quiet=quiet), "fitting the named knobs",
                  KNOB_CALLS, grad_free=False)
        calls.add(SAVE_CALLS + SEAM_CALLS)

        def seams(tmp, report):  # on the written file, before it takes the output's name
            report["seam_wrap"], report["seam_inside"] = _seam_report(tmp)

        report = calls(lambda: save_loop_model(module, out, meta, quiet=True, force=force, inputs=inputs, check=seams),
                       f"the self-check and seam check of {out} ({SAVE_CALLS + SEAM_CALLS} decoder calls)",
                       SAVE_CALLS + SEAM_CALLS, grad_free=False)
    finally:
        calls.close()
    report["peak"] = peak
    if not quiet:
        if peak > 1.0:
            print(f"livegan wrap: warning: {src}: the decoder's output peaks at {peak:.3g} on the checks' z; a "
                  "loop model's samples are clipped to [-1, 1], so its loops will sound hard-clipped (scale its "
                  "output down)", file=sys.stderr)
        print(f"exported {out}: {report['bytes'] / 1e6:.2f} MB, {report['seconds_per_loop'] * 1e3:.2f} ms per loop "
              f"on CPU, self-check max diff {report['max_abs_diff']:.2e}")
        ok = "" if report["seam_wrap"] <= 1.5 * report["seam_inside"] else "  (a click: over 1.5x)"
        print(f"wrapped {meta['training']['convention']}() of {src}: {meta['latent_dim']}-d z, "
              f"{len(meta['sigmas'])} knobs; seam at the wrap {report['seam_wrap']:.2f}, "
              f"inside the loop {report['seam_inside']:.2f}{ok}")
    return report


def _checked(v, lo: float, hi: float, flag: str) -> float:
    if not (math.isfinite(v) and lo <= v <= hi):
        raise CLIError(f"{flag} must be a number in [{lo:g}, {hi:g}], got {v!r}")
    return float(v)


def cli_wrap(args) -> int:
    wrap_model(args.model, args.output, sample_rate=args.sample_rate, name=args.name, knobs=not args.no_knobs,
               bpm=_checked(args.bpm, MIN_BPM, MAX_BPM, "--bpm"), bars=args.bars, beats=args.beats_per_bar,
               latent_dim=args.latent_dim, latent_dist=args.latent_dist,
               swing=_checked(args.swing, 0, 4, "--swing"),
               fade_ms=_checked(args.crossfade_ms, 0, 100, "--crossfade-ms"), renders=args.pca_renders,
               force=args.force)
    return 0
