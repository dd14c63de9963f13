"""One way for a test to wait: poll a readiness condition until it holds, or a deadline passes.

A fixed ``time.sleep(N)`` stands for "long enough, on this machine" and is either too long or, on a busy
machine, too short; ``wait_until`` returns as soon as the thing waited for is observable, and its
``timeout`` is a deadline for a slow machine, not a timing claim.
"""
from __future__ import annotations

import time
from typing import Callable


def wait_until(pred: Callable[[], object], timeout: float = 10.0, step: float = 0.02) -> bool:
    """Call ``pred()`` every ``step`` seconds until it is true (-> True) or ``timeout`` seconds have
    passed (-> False, after one last call at the deadline)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(step)
    return bool(pred())
