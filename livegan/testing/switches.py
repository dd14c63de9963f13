"""What the end-to-end tests ask of a live show's loop switches: after each control change the loop
changes at the first bar line after it, to a loop made from a control state that includes the change.

A loop that came after its bar line (a busy machine: the generator ran late) is logged by the engine
as late (``late_log``: the frame it came at) and plays from the first bar line after it came; the
render of the show's log does the same (``tests/test_late_loop_re_renders_exactly.py``), so the
tests accept it there and still ask the render for the same audio bit for bit.
"""
from __future__ import annotations


def check_switches_follow_changes(changes, switches, loop_seq, late_log, bar: int, played: int | None = None,
                                  margin: float = 0.3) -> int:
    """Assert the rule above for each ``(frame, seq)`` in ``changes`` at least ``margin`` bar before its
    bar line (closer, which line is not promised) and, with ``played``, a tenth of a bar before the end.
    ``switches``: [(frame, loop id)]; ``loop_seq[lid]``: the control seq loop ``lid`` was made from;
    ``late_log``: [(frame, loop id)]. -> how many changes were checked."""
    late = sorted(f for f, _ in late_log)
    checked = 0
    for f, v in changes:
        b = (f // bar + 1) * bar
        if b - f < margin * bar or (played is not None and b + bar // 10 > played):
            continue
        at = [lid for g, lid in switches if g == b]
        came = [lf for lf in late if lf >= b]
        if not at and came and not any(b < g <= came[0] for g, _ in switches):  # the loop came late
            b = (came[0] // bar + 1) * bar
            if played is not None and b + bar // 10 > played:
                continue
            at = [lid for g, lid in switches if g == b]
        assert at, f"change at frame {f} (seq {v}): no switch at the bar line {b}; switches {switches}, late {late}"
        prev = [lid for g, lid in switches if g < b][-1]
        assert loop_seq[at[0]] >= v > loop_seq[prev], (f, v, b, switches, loop_seq, late)
        checked += 1
    return checked
