"""``livegan learn --patch P``: MIDI learn. Asks for each control in turn, listens, writes the patch.

Order: the template's named knobs (``direction = "brightness"``, asked for by
name and written back by name), direction knobs 1..N, effect knobs, seed notes,
snapshot pads, the morph control. A knob is learned when one CC on one channel has sent
``MOVES`` messages (a knob turns through several values; a stray button
press does not count); a note is learned on its first note-on. A control
that gets no answer within ``timeout_s`` is skipped, as is anything already
learned. Ctrl-C stops and writes what was learned so far. If the patch file
exists it is the template (effects, transport, ranges are kept).

``learn`` takes any ``source(timeout) -> list[int] | None`` so tests feed it
scripted messages; the CLI's source polls an rtmidi input. Thread: main.
"""
from __future__ import annotations

import os
import sys
import time

from livegan.audio.fx import EFFECTS, default_effect
from livegan.control.patch import Knob, Patch, load_patch
from livegan.control.patch_write import save_patch
from livegan.errors import CLIError

MOVES = 3
DEFAULT_FX_KNOBS = ("filter.cutoff", "filter.q", "drive.amount", "delay.mix", "reverb.mix")


def _wait_cc(source, timeout_s, taken):
    """(channel 1-16, cc) of the first CC not in ``taken`` that sends MOVES messages, or None."""
    counts = {}
    end = time.monotonic() + timeout_s
    while (left := end - time.monotonic()) > 0:
        m = source(left)
        if not m or len(m) < 3 or (m[0] & 0xF0) != 0xB0 or m[1] > 127:
            continue
        key = ((m[0] & 0x0F) + 1, m[1])
        if key[1] in taken:
            continue
        counts[key] = counts.get(key, 0) + 1
        if counts[key] >= MOVES:
            return key
    return None


def _wait_note(source, timeout_s, taken):
    end = time.monotonic() + timeout_s
    while (left := end - time.monotonic()) > 0:
        m = source(left)
        if m and len(m) >= 3 and (m[0] & 0xF0) == 0x90 and m[2] > 0 and m[1] <= 127 and m[1] not in taken:
            return (m[0] & 0x0F) + 1, m[1]
    return None


def _ask(source, say, what: str, timeout_s: float, taken: set, channels: list) -> int | None:
    """Ask for the knob of ``what``; the CC moved (now taken, its channel noted), or None. Thread: main."""
    say(f"move the knob for {what}")
    got = _wait_cc(source, timeout_s, taken)
    if got is None:
        say("  (nothing moved: skipped)")
        return None
    ch, cc = got
    taken.add(cc)
    channels.append(ch)
    say(f"  {what} = CC {cc} (channel {ch})")
    return cc


def learn(patch: Patch, source, directions: int = 8, fx_knobs=DEFAULT_FX_KNOBS, seeds: int = 8,
          pads: int = 8, morph: bool = True, timeout_s: float = 10.0, say=print) -> Patch:
    """Fill ``patch`` (a template) from what the performer moves; returns it. Thread: main."""
    knobs: list[Knob] = []
    taken: set[int] = set()
    channels = []
    old = {(k.direction, k.effect): k for k in patch.knobs if k.direction_name is None}
    try:
        for prev in [k for k in patch.knobs if k.direction_name is not None]:
            cc = _ask(source, say, prev.direction_name, timeout_s, taken, channels)
            if cc is not None:
                knobs.append(Knob(cc=cc, range=prev.range, takeover=prev.takeover, name=prev.name,
                                  direction_name=prev.direction_name))
        for d in range(directions):
            cc = _ask(source, say, f"direction {d + 1}", timeout_s, taken, channels)
            if cc is not None:
                prev = old.get((d, None))
                knobs.append(Knob(cc=cc, direction=d, range=prev.range if prev else (-2.5, 2.5), name=f"dir {d + 1}"))
        for name in fx_knobs:
            cc = _ask(source, say, name, timeout_s, taken, channels)
            if cc is None:
                continue
            t = name.split(".")[0]
            if not any(e.type == t for e in patch.effects):
                patch.effects.append(default_effect(t))
            lo, hi = EFFECTS[t].params[name.split(".")[1]][:2]
            knobs.append(Knob(cc=cc, effect=name, range=(lo, hi), name=name))
        notes: set[int] = set()
        for label, count, dest in (("seed", seeds, "seed_notes"), ("snapshot pad", pads, "snapshot_notes")):
            got_notes = []
            for i in range(count):
                say(f"press the note for {label} {i + 1}")
                got = _wait_note(source, timeout_s, notes)
                if got is None:
                    say(f"  (no note: {label}s done)")
                    break
                got_notes.append(got[1])
                notes.add(got[1])
                channels.append(got[0])
                say(f"  {label} {i + 1} = note {got[1]}")
            setattr(patch, dest, got_notes)
        if morph and len(patch.snapshot_notes) >= 2:
            say("move the control that morphs between snapshot pads 1 and 2")
            got = _wait_cc(source, timeout_s, taken)
            patch.morph_cc = None if got is None else got[1]
            if got:
                taken.add(got[1])
                channels.append(got[0])
                say(f"  morph = CC {got[1]}")
        else:
            patch.morph_cc = None
    except KeyboardInterrupt:
        say("stopped: writing what was learned")
    patch.knobs = knobs
    patch.buttons = [b for b in patch.buttons if b.cc not in taken]
    if patch.morph_cc is not None and len(patch.snapshot_notes) < 2:
        patch.morph_cc = None
    if channels:
        patch.channel = channels[0] if all(c == channels[0] for c in channels) else None
    return patch


def save_learned(patch: Patch, path: str) -> str:
    """Write the learned patch to ``path``; if that fails now (it was writable at the start), to a
    new file in the current folder or the temp folder, so nothing learned is lost. Returns where."""
    import tempfile

    try:
        save_patch(patch, path)
        return path
    except OSError as e:
        why = e.strerror or str(e)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for folder in (os.getcwd(), tempfile.gettempdir()):
        alt = os.path.join(folder, f"livegan-learned-{stamp}.toml")
        try:
            if not os.path.exists(alt):
                save_patch(patch, alt)
                print(f"livegan learn: warning: patch {path}: cannot write it ({why}); the learned patch is in {alt}",
                      file=sys.stderr)
                return alt
        except OSError:
            continue
    raise CLIError(f"patch {path}: cannot write it ({why}), nor a copy in {os.getcwd()} or {tempfile.gettempdir()}")


def cli_learn(args) -> int:
    import rtmidi

    from livegan.files import check_writable
    from livegan.io.midi_ports import CLIENT, choose_api, resolve_port

    path = args.patch
    if os.path.isfile(path):
        patch = load_patch(path)
    else:
        patch = Patch(name=os.path.splitext(os.path.basename(path))[0], path=path)
    check_writable(path, "patch")  # before any control is learned, not after
    api = choose_api()
    m = rtmidi.MidiIn(api, name=CLIENT + "-learn")
    spec = args.midi or "virtual"
    if spec == "virtual":
        m.open_virtual_port(CLIENT)
        print(f"connect your controller to the MIDI input '{CLIENT}'")
    else:
        ports = m.get_ports()
        i = resolve_port(ports, spec)
        m.open_port(i, CLIENT)
        patch.port = ports[i].split(":")[0]

    def source(timeout):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            msg = m.get_message()
            if msg:
                return msg[0]
            time.sleep(0.002)
        return None

    try:
        learn(patch, source)
    finally:
        m.close_port()
    if not patch.knobs and not patch.seed_notes:
        raise CLIError("nothing was learned (no CC or note arrived); patch not written")
    path = save_learned(patch, path)
    print(f"wrote {path}: {len(patch.knobs)} knobs, {len(patch.seed_notes)} seed notes, "
          f"{len(patch.snapshot_notes)} snapshot pads")
    return 0
