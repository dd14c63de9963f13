"""``livegan info MODEL.ts``: metadata and measured time per loop. Thread: main."""
from __future__ import annotations

import json


def check_device(device: str) -> None:
    """One CLIError line for a torch device that this machine lacks (cuda without CUDA, a GPU index
    past the last, mps off macOS), instead of a torch trace at load."""
    import torch

    from livegan.errors import CLIError

    if device.startswith("cuda"):
        n = torch.cuda.device_count() if torch.cuda.is_available() else 0
        k = int(device.split(":")[1]) if ":" in device else 0
        if k >= n:
            raise CLIError(f"--device {device}: " + (f"this machine has {n} CUDA device(s)" if n else
                                                    "CUDA is not available here (use --device cpu or auto)"))
    elif device == "mps" and not torch.backends.mps.is_available():
        raise CLIError("--device mps: MPS is not available here (use --device cpu or auto)")


def cli_info(args) -> int:
    from livegan.model import load_model

    check_device(args.device)
    m = load_model(args.model, device=args.device)
    meta = m.meta
    t = m.time_per_loop(runs=max(1, args.runs))
    if args.json:
        d = meta.to_json_dict()
        d.pop("directions")
        d["knobs"] = [dict(name=k.name, sigma=k.sigma, spearman=k.spearman, crosstalk=k.crosstalk) for k in meta.knobs]
        d.update(n_directions=int(meta.directions.shape[0]), device=m.device, seconds_per_loop=t)
        print(json.dumps(d, indent=2))
        return 0
    print(f"model        {args.model}")
    print(f"name         {meta.name}")
    print(f"format       {meta.format}")
    print(f"audio        {meta.channels} ch, {meta.sample_rate} Hz, {meta.loop_samples} samples "
          f"({meta.seconds:.3f} s)")
    print(f"tempo        {meta.bars} bar(s) of {meta.beats_per_bar} beats at {meta.bpm:g} BPM")
    print(f"latent       {meta.latent_dim}-d {meta.latent_dist}")
    sig = ", ".join(f"{s:.3g}" for s in meta.sigmas[:8])
    more = " ..." if len(meta.sigmas) > 8 else ""
    print(f"directions   {meta.directions.shape[0]} (sigmas {sig}{more})")
    for i, k in enumerate(meta.knobs):
        label = "named knobs" if i == 0 else ""
        print(f"{label:12s} {k.name:<11s} Spearman {k.spearman:+.2f}, cross-talk {k.crosstalk:.2f}")
    if not meta.knobs:
        print("named knobs  none (add them with `livegan knobs`)")
    tr = meta.training
    if tr:
        keys = ("preset", "steps", "date", "exported")
        print("training     " + ", ".join(f"{k}={tr[k]}" for k in keys if k in tr))
    print(f"generation   {t * 1e3:.2f} ms per loop on {m.device} (median of {args.runs})")
    return 0
