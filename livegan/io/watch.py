"""What the control thread watches on every tick of a show, so a fault is said once and a sound that
died ends the show with one line (the take and its performance log are saved by the teardown).

- generation faults: each distinct text once (the current loop plays on);
- callback faults: the callback caught an exception, played that block silent and dropped the
  effects chain (``AudioOutput.callback``): said once each, with its text;
- the audio process: alive (``AudioProcess.alive``), or the show ends naming how it ended;
- the stream: calling back; no callback for ``STALL_S`` (the server stopped, the device went away,
  the audio process froze) ends the show, and marks the output ``stalled`` so its close waits for
  no answer (a frozen audio process gives none): the show ends within ``STALL_S`` + the kill's wait;
- a generation past its deadline (``livegan.faults.gen_timeout_s``) while it still runs: counted as
  a generation fault once, so the panel and ``gen_faults`` say why the knobs stopped acting.

Thread: main (the control thread).
"""
from __future__ import annotations

import time

from livegan.errors import CLIError
from livegan.faults import gen_timeout_s


class ShowWatch:
    STALL_S = 3.0

    def __init__(self, engine, out, gen, say, now=time.monotonic, others=()):
        """``others``: a live set's other tracks, [(label, engine)]: their generation faults are said too,
        each line after its label."""
        self.engine, self.out, self.gen, self.say, self.now = engine, out, gen, say, now
        self.others = [(label, e, [0]) for label, e in others]
        self._gen_said = 0
        self._faults_said = 0
        self._calls = -1
        self._since = now()
        self._hung_said = None  # busy_since of the generation already counted as hung

    def tick(self) -> None:
        """Say what went wrong since the last tick, once."""
        self._count_a_hung_generation()
        texts = self.engine.faults.texts  # each distinct generation fault once (the panel shows the last)
        while self._gen_said < len(texts):
            self.say(f"warning: a generation failed, the current loop plays on: {texts[self._gen_said]}")
            self._gen_said += 1
        for label, e, said in self.others:
            while said[0] < len(e.faults.texts):
                self.say(f"warning: {label}: a generation failed, its current loop plays on: {e.faults.texts[said[0]]}")
                said[0] += 1
        c = getattr(self.out, "counters", None)
        if c is not None:
            n = int(c.ost["faults"])
            if n > self._faults_said:
                self._faults_said = n
                self.say(f"warning: the audio callback failed ({c.last_fault()}); that block was silent, the "
                         "effects are bypassed from now on, the loops play on")

    def _count_a_hung_generation(self) -> None:
        """A generation running past its deadline counts as a fault now, not when (if ever) it returns:
        the generator thread is stuck in it, and until then no control change makes a new loop."""
        since = getattr(self.gen, "busy_since", None)
        limit = gen_timeout_s()
        if since is not None and since != self._hung_said and self.now() - since > limit:
            self._hung_said = since
            self.engine.faults.add(f"a generation has not returned for {limit:g} s (a forward() that never "
                                   "returns?): the knobs change nothing until it does")

    def check(self) -> None:
        """Raise one CLIError line when the show cannot go on: the generator thread died, the audio
        process ended, or the stream stopped calling back."""
        if self.gen is not None and self.gen.error is not None:
            raise CLIError(f"generator failed: {self.gen.error}")
        out = self.out
        if not getattr(out, "alive", True):
            raise CLIError(f"the audio process stopped unexpectedly ({out.exit_text()}); the sound stopped, "
                           "the take and its performance log are saved")
        calls, now = out.calls, self.now()
        if calls != self._calls:
            self._calls, self._since = calls, now
        elif now - self._since > self.STALL_S:
            out.stalled = True  # its close waits for no answer
            raise CLIError(f"the audio stream stopped: no callback for {self.STALL_S:g} s (the audio server "
                           "stopped or the device went away); the take and its performance log are saved")
