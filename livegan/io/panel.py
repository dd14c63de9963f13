"""Live panel (rich) and computer-keyboard control.

The panel shows bar:beat, tempo, every knob's value and target (pick-up
knobs show where the knob must go), the playing and next loop, generation
time, callback load, xruns, output level and recording time. The state comes
from a ``stats()`` callable (the engine's lock-free stats dict).

Keyboard (no controller needed), ``KEYS``:
  1-8 select a knob, [ and ] or - and = turn it (shift: coarse: { } _ +),
  z x c v b n m , seeds 1-8, a s d f g h j k snapshot pads 1-8 (an empty pad
  saves, a full one recalls; S toggles save mode), space toggles recording,
  l saves the loop playing (perform), / types or takes a dropped audio file's path and Enter
  finds it in the model (perform), Q or Esc quits.

Threads: the UI thread (the main thread) draws and reads keys; key presses
go to the ``Controller`` from this thread (the control thread in a live
performance takes them through the same calls). ``python -m livegan.io.panel
--demo`` runs the panel and keys against a Controller with no audio.
"""
from __future__ import annotations

import math
import os
import select
import sys
import time

from livegan.control.keyboard import KeyboardControl


def _bar(v: float, width: int = 16) -> str:
    n = int(round(min(1.0, max(0.0, v)) * width))
    return "█" * n + "·" * (width - n)


def _text(v) -> str:
    """User or model text (patch names, loop ids, messages) as literal panel text: no control
    characters, and rich markup in it escaped, so a knob named "[/oops]" shows as that."""
    from rich.markup import escape

    from livegan.model import printable

    return escape(printable(str(v)))


def panel(stats: dict, controller=None, keyboard=None):
    """A rich renderable of the performance state. ``stats`` keys (all optional): bar, beat,
    bpm, playing, next, gen_ms, load, wait_ms (the longest callback start delay of the last second),
    xruns, late, level_db, rec_s, clock ('internal'/'midi'), faults
    (generations that failed), fault (the last one's text), note (the last control warning) and
    osc_rejected (OSC messages ignored); tracks (a live set's, ``track_line``)."""
    from rich.panel import Panel
    from rich.table import Table

    head = Table.grid(padding=(0, 3))
    s = stats
    head.add_row(f"[b]{s.get('bar', 0) + 1}:{s.get('beat', 0) + 1}[/b]",
                 f"{s.get('bpm', 0.0):6.2f} BPM ({_text(s.get('clock', 'internal'))})",
                 f"loop {_text(s.get('playing', '-'))} -> {_text(s.get('next', '-'))}",
                 f"gen {s.get('gen_ms', 0.0):.0f} ms")
    lvl = s.get("level_db", -math.inf)
    head.add_row(f"load {100 * s.get('load', 0.0):4.0f}%  wait {s.get('wait_ms', 0.0):5.2f} ms",
                 f"xruns {s.get('xruns', 0)}  late {s.get('late', 0)}"
                 + (f"  [red]faults {s['faults']}[/red]" if s.get("faults") else "")
                 + (f"  OSC rejected {s['osc_rejected']}" if s.get("osc_rejected") else ""),
                 f"level {lvl:6.1f} dBFS" if lvl > -200 else "level   -inf dBFS",
                 ("[red]● REC[/red] " if s.get("recording") else "rec ") + f"{s.get('rec_s', 0.0):6.1f} s")
    knobs = Table(box=None, padding=(0, 1))
    for col in ("", "knob", "CC", "value", "", "target"):
        knobs.add_column(col)
    if controller is not None:
        for i, k in enumerate(controller.patch.knobs):
            v = controller.value[k.cc]
            phys = controller.phys[k.cc]
            sel = ">" if keyboard is not None and keyboard.selected == i else " "
            tgt = "" if controller.engaged[k.cc] or math.isnan(phys) else f"knob at {phys:.2f}: pick up at {v:.2f}"
            name = k.name or k.direction_name or (f"dir {k.direction + 1}" if k.direction is not None else k.effect)
            knobs.add_row(sel, _text(name), str(k.cc), f"{v:.2f}", _bar(v), tgt)
    foot = ""
    if controller is not None:
        foot = f"seed {controller.seed}   snapshots " + "".join(
            "■" if z is not None else "□" for z in controller.snapshots)
        if controller.save_held:
            foot += "   [yellow]SAVE[/yellow]"
    if keyboard is not None and keyboard.last:
        foot += f"   {_text(keyboard.last)}"
    if s.get("warning"):  # a take's write error: on screen until the next one
        foot += f"\n[red]{_text(s['warning'])}[/red]"
    if s.get("note"):
        foot += f"\n[yellow]{_text(s['note'])}[/yellow]"
    if s.get("fault"):  # the model's own words: escaped, never read as markup
        foot += f"\n[red]generation failed[/red] (the loop plays on): {_text(s['fault'])}"
    grid = Table.grid()
    grid.add_row(head)
    if s.get("tracks"):  # a live set: one line per track
        grid.add_row("\n".join(track_line(t) for t in s["tracks"]) + (f"\n{s['scene']}" if s.get("scene") else ""))
    grid.add_row(knobs)
    grid.add_row(foot)
    return Panel(grid, title="livegan",
                 subtitle="1-8 knob  [ ] turn  zxcv seeds  asdf pads  space rec  l loop  / find  Q quit")


class RawTerminal:
    """cbreak mode on stdin for single-key reads; restores the terminal on exit. Thread: UI."""

    def __enter__(self):
        import termios
        import tty
        self.fd = sys.stdin.fileno()
        self.saved = termios.tcgetattr(self.fd)
        tty.setcbreak(self.fd)
        return self

    def __exit__(self, *exc):
        import termios
        termios.tcsetattr(self.fd, termios.TCSADRAIN, self.saved)

    def key(self, timeout: float) -> str | None:
        r, _, _ = select.select([self.fd], [], [], timeout)
        if not r:
            return None
        b = os.read(self.fd, 1)
        if b and b[0] >= 0xC0:  # a UTF-8 character's lead byte (a typed path's letters): the rest follows
            b += os.read(self.fd, 1 if b[0] < 0xE0 else 2 if b[0] < 0xF0 else 3)
        ch = b.decode(errors="ignore")
        if ch == "\x1b":  # an arrow key is ESC [ A; a lone ESC quits
            r, _, _ = select.select([self.fd], [], [], 0.01)
            if r:
                seq = os.read(self.fd, 2).decode(errors="ignore")
                return {"[A": "]", "[B": "[", "[C": "]", "[D": "["}.get(seq)
        return ch


def run_panel(stats, controller, keyboard, fps: float = 15.0, until=None, tick=None,
              tick_s: float = 0.005) -> None:
    """Draw the panel and take keys until Q/Esc (or ``until()`` is true). Thread: UI (main).

    ``tick()``, if given, runs every ``tick_s`` between keys (``livegan perform``
    passes its control step: MIDI -> Controller runs on this same thread).
    """
    from rich.console import Console
    from rich.live import Live

    console = Console()
    wait = 1.0 / fps if tick is None else tick_s

    def shown():  # the knobs the keys play: a live set's selected track's (Tab moves them), else ``controller``
        return getattr(keyboard, "c", None) or controller

    with RawTerminal() as term, Live(panel(stats(), shown(), keyboard), console=console,
                                     refresh_per_second=fps, transient=False, auto_refresh=False) as live:
        next_draw = 0.0
        while until is None or not until():
            k = term.key(wait)
            if k is not None and keyboard.handle(k) == "quit":
                break
            if tick is not None:
                tick()
            now = time.monotonic()
            if k is not None or now >= next_draw:
                live.update(panel(stats(), shown(), keyboard), refresh=True)
                next_draw = now + 1.0 / fps


def status_line(s: dict) -> str:
    """One line of the panel's numbers, for runs without a terminal (``--seconds`` in a script)."""
    lvl = s.get("level_db", -math.inf)
    return (f"{s.get('bar', 0) + 1}:{s.get('beat', 0) + 1}  {s.get('bpm', 0.0):.2f} BPM  "
            f"loop {s.get('playing', '-')} -> {s.get('next', '-')}  gen {s.get('gen_ms', 0.0):.0f} ms  "
            f"load {100 * s.get('load', 0.0):.0f}%  wait {s.get('wait_ms', 0.0):.2f} ms  "
            f"xruns {s.get('xruns', 0)}  late {s.get('late', 0)}  "
            f"level {lvl:.1f} dBFS  rec {s.get('rec_s', 0.0):.1f} s"
            + (f"  faults {s['faults']}" if s.get("faults") else "")
            + (f"  OSC rejected {s['osc_rejected']}" if s.get("osc_rejected") else ""))


def track_line(t: dict) -> str:
    """One track of a live set on the panel: ``t`` has name, keys (the computer keyboard plays it), level_db
    (its post-fader level now), gain_db (its fader), mute, solo, loop (the loop id playing), late (its late loops)."""
    lvl = t.get("level_db", -math.inf)
    return (f"{'>' if t.get('keys') else ' '} {t.get('index', 0) + 1} {_text(t.get('name', '')):<12} "
            + (f"{lvl:6.1f} dBFS" if lvl > -200 else "  -inf dBFS")
            + (f" {t['gain_db']:+6.1f} dB" if "gain_db" in t else "")
            + f"  {'M' if t.get('mute') else '-'}{'S' if t.get('solo') else '-'}"
            + f"  loop {t.get('loop', '-')}  late {t.get('late', 0)}" + ("  keys" if t.get("keys") else ""))


def level_dbfs(ring, rst, frames: int = 4096) -> float:
    """Peak of the last ``frames`` frames the callback wrote into a record ring, in dBFS.
    Thread: UI (reads a ring the callback writes; a torn read only shifts the window)."""
    import numpy as np

    if ring is None:
        return -math.inf
    n, cap = int(rst[0]["written"]), ring.shape[0]
    m = min(frames, n, cap)
    if m <= 0:
        return -math.inf
    i = (n - m) % cap
    seg = ring[i:i + m] if i + m <= cap else np.concatenate([ring[i:], ring[:i + m - cap]])
    peak = float(np.max(np.abs(seg)))
    return 20 * math.log10(peak) if peak > 0 else -math.inf


def _demo(argv=None) -> int:
    """A panel with no audio: a 120 BPM transport and a Controller on a random 8-d latent."""
    import argparse

    import numpy as np

    from livegan.control.controller import Controller
    from livegan.control.patch import check_against_model, default_patch_path, load_patch

    ap = argparse.ArgumentParser(prog="python -m livegan.io.panel")
    ap.add_argument("--demo", action="store_true", required=True)
    ap.add_argument("--patch", default=default_patch_path())
    ap.add_argument("--seconds", type=float, default=None)
    a = ap.parse_args(argv)
    patch, warnings = check_against_model(load_patch(a.patch), 4)
    rng = np.random.default_rng(0)
    dirs, _ = np.linalg.qr(rng.standard_normal((8, 8)))
    c = Controller(patch, dirs[:4], np.ones(4, np.float32), "normal")
    t0 = time.monotonic()
    rec = {"t": None}
    kb = KeyboardControl(c, on_record=lambda on: rec.update(t=time.monotonic() if on else None))

    def stats():
        beats = (time.monotonic() - t0) * 2.0
        return dict(bar=int(beats // 4), beat=int(beats % 4), bpm=120.0, playing=c.version, next=c.version,
                    gen_ms=0.0, load=0.0, xruns=0, level_db=-math.inf, recording=rec["t"] is not None,
                    rec_s=0.0 if rec["t"] is None else time.monotonic() - rec["t"])
    end = None if a.seconds is None else t0 + a.seconds
    run_panel(stats, c, kb, until=(lambda: time.monotonic() > end) if end else None)
    print(f"demo ended: seed {c.seed}, z[:3] = {np.round(c.z()[:3], 3).tolist()}, knob 1 = "
          f"{c.value[patch.knobs[0].cc]:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(_demo())
