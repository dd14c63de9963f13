"""Computer-keyboard control: keys -> Controller calls, for a performer with no controller.

``KEYS``: 1-8 select a knob, [ and ] or - and = turn it (shift: coarse: { } _ +),
z x c v b n m , seeds 1-8, a s d f g h j k snapshot pads 1-8 (an empty pad
saves, a full one recalls; S toggles save mode), space toggles recording,
l saves the loop playing as a WAV (livegan.io.loops), Q or Esc quits.
Thread: the UI thread (the main thread of ``perform``).
"""
from __future__ import annotations

SEED_KEYS = "zxcvbnm,"
PAD_KEYS = "asdfghjk"
FINE, COARSE = 1 / 64, 1 / 8


class KeyboardControl:
    """Keys -> Controller calls. Thread: UI.

    ``midi_grid=True`` (what ``livegan perform`` uses) makes every key act as
    the MIDI message it logs: a knob turns in CC steps (2 fine, 16 coarse) and a
    knob still waiting for pick-up first gets the CC of its own value (which
    engages it, as a hand meeting the value would), and ``S`` presses the
    patch's save button. Replaying the logged bytes through ``livegan render``
    then gives the same control state as the keys did.
    """

    def __init__(self, controller, on_record=None, log=None, midi_grid: bool = False, on_save_loop=None):
        self.c = controller
        self.selected = 0
        self.on_record = on_record
        self.on_save_loop = on_save_loop  # callable() -> what it did (one line), for the l key
        self.log = log  # optional callable(raw MIDI bytes) so keys reach the performance log too
        self.midi_grid = midi_grid
        self.recording = False
        self.last = ""

    def _knob_ccs(self):
        return [k.cc for k in self.c.patch.knobs]

    def handle(self, key: str) -> str | None:
        """One key; returns what it did (shown on the panel) or 'quit'."""
        c, ccs = self.c, self._knob_ccs()
        if key in ("Q", "\x1b", "\x03"):
            return "quit"
        if key.isdigit() and key != "0":
            i = int(key) - 1
            if i < len(ccs):
                self.selected = i
                self.last = f"knob {i + 1} selected (CC {ccs[i]})"
        elif key in "[]-={}_+" and ccs:
            step = {"[": -FINE, "-": -FINE, "]": FINE, "=": FINE, "{": -COARSE, "_": -COARSE,
                    "}": COARSE, "+": COARSE}[key]
            cc = ccs[self.selected]
            if self.midi_grid:
                cur = int(round(c.value[cc] * 127))
                if not c.engaged[cc]:
                    self._log([0xB0, cc, cur])
                    c.on_cc(cc, cur / 127)
                new = min(127, max(0, cur + int(round(step * 128))))
                self._log([0xB0, cc, new])
                c.on_cc(cc, new / 127)
                v = c.value[cc]
            else:
                v = min(1.0, max(0.0, c.value[cc] + step))
                c.engaged[cc] = True  # the keyboard moves the value itself: no pick-up
                c.on_cc(cc, v)
                self._log([0xB0, cc, int(round(v * 127))])
            self.last = f"knob {self.selected + 1} = {v:.2f}"
        elif key in SEED_KEYS:
            i = SEED_KEYS.index(key)
            if i < len(c.patch.seed_notes):
                self._log([0x90, c.patch.seed_notes[i], 100])
                self.last = c.on_note(c.patch.seed_notes[i], 100) or ""
            else:
                c.set_seed(i)
                self.last = f"seed {i}"
        elif key in PAD_KEYS:
            i = PAD_KEYS.index(key)
            if i < len(c.patch.snapshot_notes):
                self._log([0x90, c.patch.snapshot_notes[i], 100])
                self.last = c.on_note(c.patch.snapshot_notes[i], 100) or ""
        elif key == "S":
            save = [b.cc for b in c.patch.buttons if b.action == "save"]
            if self.midi_grid and save:
                self._log([0xB0, save[0], 0 if c.save_held else 127])
                c.on_cc(save[0], 0.0 if c.save_held else 1.0)
            else:
                c.save_held = not c.save_held
            self.last = "save mode " + ("on" if c.save_held else "off")
        elif key == " ":
            self.recording = not self.recording
            if self.on_record:
                self.on_record(self.recording)
            self.last = "recording" if self.recording else "recording stopped"
        elif key == "l" and self.on_save_loop is not None:
            self.last = self.on_save_loop()
        else:
            return None
        return self.last

    def _log(self, msg):
        if self.log:
            self.log(msg)
