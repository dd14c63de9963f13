"""``livegan find LOOP [--model M] [-o OUT.wav]``: where an audio loop lands in a model's latent space
(``livegan.find``), how close the model gets to it, and the model's loop there. Thread: main."""
from __future__ import annotations

import math
import time

import numpy as np


def _write(path: str, loop: np.ndarray, sample_rate: int, force: bool, inputs) -> None:
    """Through the one output rule (``livegan.files.output_file``): a temporary name, moved into place
    once written; a failed write leaves what was at ``path`` as it was."""
    import soundfile as sf

    from livegan.errors import CLIError, first_line
    from livegan.files import output_file

    fmt = "FLAC" if path.lower().endswith(".flac") else "WAV"
    try:
        with output_file(path, "-o", force, inputs) as tmp:
            sf.write(tmp, np.ascontiguousarray(loop.T), sample_rate, format=fmt,
                     subtype="FLOAT" if fmt == "WAV" else "PCM_24")
    except (sf.LibsndfileError, RuntimeError, ValueError, TypeError, OSError) as e:
        raise CLIError(f"-o {path}: cannot write the loop ({first_line(e, 120)})") from None


def cli_find(args) -> int:
    import torch

    from livegan.files import check_target, check_writable
    from livegan.find import find, read_loop
    from livegan.model import default_model_path, load_model, read_meta

    path = args.model or default_model_path()
    inputs = [(args.loop, "the loop it reads"), (path, "the model")]
    if args.output:
        check_writable(args.output, "-o")
        check_target(args.output, "-o", args.force, inputs)
    meta = read_meta(path)
    target, how = read_loop(args.loop, meta.sample_rate, meta.loop_samples)  # bad input: before the model loads
    model = load_model(path, device="cpu", threads=1)
    t0 = time.perf_counter()
    found = find(model.module, meta, target, steps=args.steps)
    seconds = time.perf_counter() - t0
    ds = found.seed_distances
    beats = int(np.sum(ds > found.distance))
    typical = f"typical {math.sqrt(meta.latent_dim):.1f}" if meta.latent_dist == "normal" else \
        f"typical {math.sqrt(meta.latent_dim / 3):.1f}"
    print(f"target       {args.loop}: {how}")
    print(f"found        distance {found.distance:.3f} after {found.steps} steps from seed {found.start_seed} "
          f"({found.start_distance:.3f}), in {seconds:.1f} s")
    print(f"seeds 0-{len(ds) - 1}  distance median {np.median(ds):.3f}, best {ds.min():.3f} (seed "
          f"{int(np.argmin(ds))}); the found loop is closer than {beats} of {len(ds)}")
    print(f"z            |z| {float(np.linalg.norm(found.z)):.2f} ({typical} for a {meta.latent_dim}-d "
          f"{meta.latent_dist} prior)")
    if args.output:
        with torch.inference_mode():
            loop = model.generate(found.z[None])[0]
        _write(args.output, loop, meta.sample_rate, args.force, inputs)
        print(f"wrote        {args.output} ({meta.channels} ch, {meta.sample_rate} Hz, {meta.seconds:.3f} s)")
    return 0
