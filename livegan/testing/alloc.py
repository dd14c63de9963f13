"""Does a real-time step allocate? tracemalloc over spans of calls, counting the measuring thread apart.

tracemalloc traces every thread of the process. In a long test session a thread left over from an earlier
test (a host's worker, a pyo or JACK callback) may allocate while a span runs; what it keeps says nothing of
the step measured. So growth is counted only in traces whose traceback passes through the line of ``_calls``
that calls the step (the step's own allocations, on the measuring thread), between consecutive spans of one
tracing session: an object the step replaces on each call (a value stored in a dict) is freed and made again
within a span and does not count; an object it adds on each call grows every span by ``calls`` times its
size. The peak cannot be split by thread: a step that allocates something transient on every call raises it
in every span, another thread's burst in one.
"""
from __future__ import annotations

import os
import tracemalloc
from dataclasses import dataclass
from typing import Callable

import livegan

PKG = os.path.dirname(os.path.abspath(livegan.__file__)) + os.sep
HERE = os.path.abspath(__file__)
FRAMES = 16  # deep enough to reach ``_calls`` from any allocation inside the step


@dataclass
class Span:
    net: int  # bytes the measuring thread's step added over the span (allocated minus freed)
    peak: int  # the process's traced peak above the span's start (every thread)
    grown: list[str]  # growths attributed to the package's files
    top: list[str]  # the largest growths, for the message


def _calls(step: Callable[[int], object], calls: int) -> None:
    for i in range(calls):
        step(i)


_STEP = max(ln for _, _, ln in _calls.__code__.co_lines() if ln)  # the line ``step(i)``


def _run(step: Callable[[int], object], calls: int) -> int:
    """The measured loop; returns the traced peak above its start."""
    base, _ = tracemalloc.get_traced_memory()
    tracemalloc.reset_peak()
    _calls(step, calls)
    return tracemalloc.get_traced_memory()[1] - base


def _mine(stat: tracemalloc.StatisticDiff) -> bool:
    """Made by the step: its traceback passes through the line that calls it."""
    return any(f.lineno == _STEP and os.path.abspath(f.filename) == HERE for f in stat.traceback)


def _ours(filename: str) -> bool:
    """A file of the package's own, this measure left out."""
    path = os.path.abspath(filename)
    return path.startswith(PKG) and path != HERE


def in_package(stat: tracemalloc.Statistic | tracemalloc.StatisticDiff) -> bool:
    """An allocation made by the package's own files (not by a test file, whatever the checkout is called)."""
    return any(_ours(f.filename) for f in stat.traceback)


def _where(stat: tracemalloc.StatisticDiff) -> str:
    """``+N B (+k objects) at FILE:LINE``: the package's innermost frame, else the innermost."""
    frames = [f for f in stat.traceback if _ours(f.filename)] or list(stat.traceback)
    f = frames[-1]  # a tracemalloc traceback runs from the oldest frame to the most recent
    return f"{stat.size_diff:+d} B ({stat.count_diff:+d} objects) at {f.filename}:{f.lineno}"


def spans(step: Callable[[int], object], calls: int, count: int = 3) -> list[Span]:
    """A warm-up span, then ``count`` spans of ``step(i)`` for i in range(calls), in one tracing session."""
    tracemalloc.start(FRAMES)
    try:
        _run(step, calls)
        snaps, peaks = [tracemalloc.take_snapshot()], []
        for _ in range(count):
            peaks.append(_run(step, calls))
            snaps.append(tracemalloc.take_snapshot())
    finally:
        tracemalloc.stop()
    got = []
    for k, peak in enumerate(peaks):
        diff = [s for s in snaps[k + 1].compare_to(snaps[k], "traceback") if _mine(s)]
        grown = [s for s in diff if s.size_diff > 0]
        top = [_where(s) for s in grown[:3]]
        got.append(Span(sum(s.size_diff for s in diff), peak, [_where(s) for s in grown if in_package(s)], top))
    return got


def steady(step: Callable[[int], object], calls: int, count: int = 3, net: int = 256, peak: int = 2048) -> list[Span]:
    """Assert ``step`` allocates nothing per call: a leak per call grows in every span, so each measure is
    judged by its best span (numba's and Python's caches grow once in a while, another thread's burst lands
    in one span): one span with nothing grown in the package's files, one where the step kept at most ``net``
    B, one whose peak stayed within ``peak`` B of its start."""
    got = spans(step, calls, count)
    assert any(not s.grown for s in got), f"grew in the package's files in every span of {calls} calls: " + \
        "; ".join(s.grown[0] for s in got)
    assert min(s.net for s in got) <= net, f"kept more than {net} B in every span of {calls} calls: " + \
        "; ".join(f"{s.net} B, most {s.top[0]}" for s in got)
    assert min(s.peak for s in got) <= peak, f"peak above start in every span of {calls} calls: " + ", ".join(
        f"{s.peak} B" for s in got)
    return got
