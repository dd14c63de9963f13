"""Calls into a third-party decoder while ``livegan wrap`` probes and checks it: each on a deadline
thread (``livegan.faults.call_with_deadline``, the mechanism ``perform`` uses for a hung model), so a
decoder that never returns is one line after ``LIVEGAN_GEN_TIMEOUT_S`` seconds (30 by default) per
call, and Ctrl-C ends the command at once (the CLI then leaves with ``os._exit``: a TorchScript call
cannot be interrupted); counted on a progress bar on a terminal; what one z may make it render bounded.

Thread: main (each call: a deadline thread).
"""
from __future__ import annotations

import sys

import torch

from livegan.errors import CLIError
from livegan.faults import GenerationTimeout, call_with_deadline, gen_timeout_s

MAX_RENDER = 1 << 25  # samples x channels one z may render: a stereo loop of the longest length (1 << 24)
BATCH_RENDER = 1 << 24  # samples x channels one PCA call renders at most (64 MB of float32)


class Calls:
    """Runs each call into the decoder on a deadline thread and counts it on a progress bar (tqdm, as
    ``train`` has; shown only on a terminal). A call past its deadline is one ``CLIError`` line; a
    stage of ``n`` calls gets ``n`` deadlines. Thread: main."""

    def __init__(self, src: str, quiet: bool):
        self.src, self.bar = src, None
        if not quiet:
            from tqdm import tqdm

            self.bar = tqdm(total=0, unit="call", desc="wrap", disable=None, leave=False, file=sys.stderr,
                            dynamic_ncols=True, mininterval=0.5)

    def add(self, n: int) -> None:
        """``n`` more calls planned."""
        if self.bar is not None:
            self.bar.total += n
            self.bar.refresh()

    def __call__(self, fn, what: str, n: int = 1, grad_free: bool = True):
        """``fn()`` (``n`` decoder calls; ``grad_free``: under inference mode, which is per thread)."""
        def body():  # the deadline thread
            if not grad_free:
                return fn()
            with torch.inference_mode():
                return fn()
        seconds = gen_timeout_s() * n
        if self.bar is not None:
            self.bar.set_description_str(what.split(" on ")[0], refresh=True)
        try:
            value = call_with_deadline(body, seconds, what, tick=self.bar.refresh if self.bar is not None else None)
        except GenerationTimeout:
            raise CLIError(f"{self.src}: {what} did not return within {seconds:g} s (a decoder that never "
                           f"returns?); each decoder call may take LIVEGAN_GEN_TIMEOUT_S={gen_timeout_s():g} s") \
                from None
        if self.bar is not None:
            self.bar.update(n)
        return value

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def bounded(path: str, what: str, samples: int, channels: int) -> None:
    """One line when one z would make the decoder render more than ``MAX_RENDER`` samples x channels."""
    if samples * channels > MAX_RENDER:
        raise CLIError(f"{path}: {what} renders {samples} samples x {channels} channel(s) per z; livegan wrap "
                       f"takes at most {MAX_RENDER} (MAX_RENDER: a stereo loop of the longest length)")
