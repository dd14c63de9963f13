"""Computer-keyboard control: keys -> Controller calls, for a performer with no controller.

``KEYS``: 1-8 select a knob, [ and ] or - and = turn it (shift: coarse: { } _ +),
z x c v b n m , seeds 1-8, a s d f g h j k snapshot pads 1-8 (an empty pad
saves, a full one recalls; S toggles save mode), space toggles recording,
l saves the loop playing as a WAV (livegan.io.loops), / types (or takes a dropped) audio file's
path and Enter finds it in the model (``livegan.control.finder``; Esc cancels), Q or Esc quits.
Thread: the UI thread (the main thread of ``perform``).
"""
from __future__ import annotations

from livegan.control.finder import MAX_PATH

SEED_KEYS = "zxcvbnm,"
PAD_KEYS = "asdfghjk"
FINE, COARSE = 1 / 64, 1 / 8
FIND_KEY = "/"


class KeyboardControl:
    """Keys -> Controller calls. Thread: UI.

    ``midi_grid=True`` (what ``livegan perform`` uses) makes every key act as
    the MIDI message it logs: a knob turns in CC steps (2 fine, 16 coarse) and a
    knob still waiting for pick-up first gets the CC of its own value (which
    engages it, as a hand meeting the value would), and ``S`` presses the
    patch's save button. Replaying the logged bytes through ``livegan render``
    then gives the same control state as the keys did.
    """

    def __init__(self, controller, on_record=None, log=None, midi_grid: bool = False, on_save_loop=None,
                 on_find=None):
        self.c = controller
        self.selected = 0
        self.on_record = on_record
        self.on_save_loop = on_save_loop  # callable() -> what it did (one line), for the l key
        self.log = log  # optional callable(raw MIDI bytes) so keys reach the performance log too
        self.midi_grid = midi_grid
        self.recording = False
        self.last = ""
        self.on_find = on_find  # callable(path) -> one line, for the / key
        self.typing: str | None = None  # the path typed after /, None when not typing one

    def _knob_ccs(self):
        return [k.cc for k in self.c.patch.knobs]

    def handle(self, key: str) -> str | None:
        """One key; returns what it did (shown on the panel) or 'quit'."""
        c, ccs = self.c, self._knob_ccs()
        if self.typing is not None:
            return self._type(key)
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
        elif key == FIND_KEY and self.on_find is not None:
            self.typing = ""
            self.last = "find: type or drop an audio file, Enter to search, Esc to cancel: _"
        else:
            return None
        return self.last

    def _type(self, key: str) -> str:
        """A key while a path is typed: Enter searches, Esc cancels, Backspace deletes; Ctrl-C quits."""
        if key == "\x03":
            return "quit"
        if key in ("\r", "\n"):
            path, self.typing = self.typing or "", None
            self.last = self.on_find(path) if path.strip() else "find: cancelled"
        elif key == "\x1b":
            self.typing, self.last = None, "find: cancelled"
        else:
            t = self.typing or ""
            t = t[:-1] if key in ("\x7f", "\x08") else t + key if key.isprintable() and len(t) < MAX_PATH else t
            self.typing, self.last = t, f"find: {t[-70:]}_"
        return self.last

    def _log(self, msg):
        if self.log:
            self.log(msg)
