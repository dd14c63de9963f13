"""Find in the show: an audio file a performer names (a typed or dropped path on the panel, OSC
``/livegan/find PATH``) is placed in the model's latent space (``livegan.find``, as ``livegan find``
does) and the point found becomes the base z, so the loop changes to it on the next bar.

The search (its cost: benchmarks/results/knobs.md) runs on a thread of its own, on a CPU copy
of the model loaded at the first search; the loop playing plays on meanwhile. One search at a time: a
request before the last one's result is taken is refused with a line saying so. The point found comes
back through ``poll`` as a ``base`` event, which the control thread applies and logs as a ``livegan
base`` marker holding z itself, so ``livegan render`` gives the same loop at the same frame without
searching again. A file that cannot
be used (missing, not audio, silent, too short) is one line on the panel; the show goes on.

Threads: ``request`` and ``poll`` on the control thread; the search on the ``livegan-find`` thread (a
daemon: a search still running when the show ends is dropped).
"""
from __future__ import annotations

import collections
import os
import threading

from livegan.control.sources import Event
from livegan.errors import first_line
from livegan.model import printable

STEPS = 150  # as ``livegan find``'s default
MAX_PATH = 4096  # a path typed or sent (OSC) to find, in characters


def clean_path(text: str) -> str:
    """A typed or dropped path as the file's name: whitespace and the quotes a terminal puts around a
    dropped file's name taken off, ``~`` expanded, a dropped ``file://`` address read as its path."""
    p = text.strip()
    if len(p) >= 2 and p[0] == p[-1] and p[0] in "'\"":
        p = p[1:-1]
    if p.startswith("file://"):
        from urllib.parse import unquote

        p = unquote(p[len("file://"):])
    return os.path.expanduser(p.replace("\\ ", " "))


class FindSource:
    """Searches run off the control thread; their points come back as ``base`` events (a
    ``ControlSource``). ``model_path``: the model the show plays; ``meta`` its ``ModelMeta``."""

    def __init__(self, model_path: str, meta, steps: int = STEPS):
        self.model_path, self.meta, self.steps = model_path, meta, int(steps)
        self.found = 0  # searches that gave a point
        self.failed = 0  # searches refused or failed (one line each on the panel)
        self._module = None  # the CPU copy of the model, loaded by the first search
        self._thread: threading.Thread | None = None
        self._busy = ""  # the file being searched for, "" when idle
        self._done: collections.deque = collections.deque()  # (z or None, one line), from the search thread
        self.warn = None  # callable(text): a failed search's line

    def plug(self, live) -> None:
        """``LiveControl.start``: find requests from the keys and OSC come here. Main thread."""
        live.on_find = self.request
        self.warn = live.warn

    def request(self, path: str) -> str:
        """Start a search for the audio file ``path``; -> one line for the panel. Control thread."""
        path = clean_path(str(path))
        name = printable(path)[-80:]
        if not path:
            return "find: no file named"
        if self._busy:
            return f"find: still looking for {self._busy} (one search at a time)"
        self._busy = name
        self._thread = threading.Thread(target=self._search, args=(path, name), name="livegan-find", daemon=True)
        self._thread.start()
        return f"finding {name} ... (the loop plays on)"

    def _search(self, path: str, name: str) -> None:
        """The search thread: one file -> (z, line) or (None, why) into ``_done``; never raises."""
        import time

        from livegan.find import find, read_loop

        try:
            t0 = time.perf_counter()
            target, _ = read_loop(path, self.meta.sample_rate, self.meta.loop_samples)
            if self._module is None:
                from livegan.model import load_model

                self._module = load_model(self.model_path, device="cpu", threads=None).module
            f = find(self._module, self.meta, target, steps=self.steps)
            beats = int((f.seed_distances > f.distance).sum())
            self._done.append((f.z, f"found {name}: distance {f.distance:.3f} (closer than {beats} of "
                                    f"{len(f.seed_distances)} seeds) in {time.perf_counter() - t0:.1f} s: "
                                    "next bar"))
        except Exception as e:  # a bad file is a CLIError's one line; anything else is still one line
            self._done.append((None, f"find: {printable(first_line(e, 160))}"))

    def poll(self) -> list:
        """The points found since the last poll as ``base`` events; a failure's line to ``warn``.
        Control thread; never blocks."""
        out = []
        while self._done:
            z, text = self._done.popleft()
            self._busy = ""  # the next search may start once this one's result is taken
            if z is None:
                self.failed += 1
                if self.warn is not None:
                    self.warn(text)
            else:
                self.found += 1
                out.append(Event("base", data=(z, text)))
        return out

    def stats(self) -> dict:
        """``finds`` and ``finds_failed`` for ``--stats-json``. Any thread."""
        return {"finds": self.found, "finds_failed": self.failed}
