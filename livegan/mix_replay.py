"""``livegan render --set``'s side of the live mix: a performance log's ``livegan mix`` markers staged into the
set's mixer (``livegan.audio.mix_stage``) at their frames, so the mixing pass applies them where the live
mixer did. Thread: main (the render loop)."""
from __future__ import annotations

import numpy as np

from livegan.audio.mix_stage import APPLIED, FREE
from livegan.audio.mixer import db_gain


class Replay:
    """A performance log's ``livegan mix`` markers staged into a mixer at their frames (``livegan render
    --set``): ``block(mixer, frame0, n)`` stages those due in the ``n`` frames from ``frame0`` and says how
    many frames to mix now (fewer when more are due than the slots hold). Render loop."""

    def __init__(self, events, n_tracks: int, say=None):
        from livegan.io.markers import marker_mix

        texts = getattr(events, "markers", None)
        if texts is not None:  # a LogEvents
            from livegan.io.perflog import _MARKER

            idx = np.flatnonzero(events.status == _MARKER)
            pairs = [(int(events.frames[i]), texts[int(events.data[i])]) for i in idx]
        else:
            pairs = [(f, m.text) for f, m in events if getattr(m, "type", None) == "marker"]
        self.todo = []
        for f, text in pairs:
            mix = marker_mix(text)
            if mix is None:
                continue
            if mix[0] >= n_tracks:
                if say:
                    say(f"a 'livegan mix' marker at frame {f} names track {mix[0]}; the set has {n_tracks}: skipped")
                continue
            self.todo.append((f, *mix))
        self.todo.sort(key=lambda r: r[0])  # stable: changes at one frame keep their order
        self.i = 0

    def settle(self, mixer, frame: int) -> None:
        """The changes before ``frame`` (a later take's start: the mix before it is not written) set at once,
        no ramp: the mixer as it stood once their ramps were done."""
        while self.i < len(self.todo) and self.todo[self.i][0] < frame:
            _, k, mdb, mute, solo = self.todo[self.i]
            mixer.gain[k], mixer.mute[k], mixer.solo[k] = db_gain(mdb / 1000.0), mute, solo
            self.i += 1
        mixer._update()

    def block(self, mixer, frame0: int, n: int) -> int:
        mixer.q["state"][mixer.q["state"] == APPLIED] = FREE
        free = int(np.count_nonzero(mixer.q["state"] == FREE))
        while self.i < len(self.todo) and self.todo[self.i][0] < frame0 + n:
            f, k, mdb, mute, solo = self.todo[self.i]
            if free == 0:
                return max(1, f - frame0)
            mixer.stage(k, db_gain(mdb / 1000.0), mute, solo, f)
            free -= 1
            self.i += 1
        return n
