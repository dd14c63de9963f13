"""A live set's takes with ``--stems``: each take's mix (``livegan.io.takes.Takes``) and, beside it, each
track's post-fader stereo in ``TAKE.stems/NAME.wav`` (the take's format), drained from the stem rings the
audio process fills in the very blocks it records the mix from (``livegan.audio.set_engine``), so every
stem is sample-aligned with the take and holds what the track added to the mix (before the master
limiter). Each stem is a ``Recorder``: crash-safe as a take (its header rewritten as it records).
Thread: main (the control thread), as ``Takes``.
"""
from __future__ import annotations

import os

from livegan.errors import CLIError
from livegan.io.takes import Takes, take_path


class StemTakes(Takes):
    def __init__(self, engine, rate: int, channels: int, perflog, first, say, stems):
        """``stems``: [(track name, (ring, rst))], the stem rings (``livegan.audio.set_host.stem_rings``)."""
        super().__init__(engine, rate, channels, perflog, first, say)
        self.stems = list(stems)
        self.stem_recs: list = []

    def start(self, running: bool = True) -> None:
        """The stems' recorders first (each empties its ring: nothing writes there between takes), then the
        take, whose ring switch starts every stem in the same block."""
        from livegan.io.recorder import Recorder

        path = take_path(self.first, self.n + 1)
        folder = os.path.splitext(path)[0] + ".stems"
        ext = os.path.splitext(path)[1]
        recs = []
        try:
            os.makedirs(folder, exist_ok=True)
            for name, ring in self.stems:
                recs.append(Recorder(os.path.join(folder, name + ext), self.rate, 2, ring=ring).start())
        except (OSError, CLIError) as e:
            for r in recs:
                _close_quietly(r)
            msg = f"stems {folder}: cannot be written ({getattr(e, 'strerror', None) or e})"
            if not running:
                raise CLIError(msg) from None
            self.warn(msg)
            return
        super().start(running)
        if self.rec is None:  # the take itself could not start
            for r in recs:
                _close_quietly(r)
            return
        for r in recs:
            r.limit = self.rec.limit
        self.stem_recs = recs

    def stop(self, running: bool = True) -> None:
        """The take ends (no block writes a stem after its last one), then each stem is closed."""
        super().stop(running)
        recs, self.stem_recs = self.stem_recs, []
        for r in recs:
            try:
                r.close()
            except CLIError as e:
                self.errors.append(str(e))
                self.warn(str(e))
        if recs:
            self.say(f"stems: {len(recs)} tracks in {os.path.dirname(recs[0].path)}")


def _close_quietly(rec) -> None:
    try:
        rec.close()
    except CLIError:
        pass
