"""Finding a MIDI input: which MIDI system answers (JACK, else ALSA), a port by index or name, and
probing it without the C libraries' chatter on stderr. Main thread (``livegan perform``, ``learn``,
``devices``), before any MIDI thread runs.
"""
from __future__ import annotations

import os
import sys

from livegan.errors import CLIError

CLIENT = os.environ.get("LIVEGAN_MIDI_CLIENT", "livegan")  # the JACK/ALSA client name (tests pick a unique one)


class quiet_stderr:
    """Silence C libraries (ALSA, JACK) that print to fd 2 while probing; restores it after."""

    def __enter__(self):
        sys.stderr.flush()
        self._saved = os.dup(2)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(devnull)

    def __exit__(self, *exc):
        os.dup2(self._saved, 2)
        os.close(self._saved)


def load_rtmidi():
    import rtmidi
    return rtmidi


def choose_api():
    """rtmidi API: $LIVEGAN_MIDI_API ('jack'/'alsa') if set, else JACK when a JACK server answers, else ALSA."""
    rtmidi = load_rtmidi()

    want = os.environ.get("LIVEGAN_MIDI_API", "").lower()
    order = {"jack": [rtmidi.API_UNIX_JACK], "alsa": [rtmidi.API_LINUX_ALSA]}.get(
        want, [rtmidi.API_UNIX_JACK, rtmidi.API_LINUX_ALSA, rtmidi.API_MACOSX_CORE, rtmidi.API_WINDOWS_MM])
    compiled = rtmidi.get_compiled_api()
    for api in order:
        if api not in compiled:
            continue
        if api == rtmidi.API_UNIX_JACK and not _jack_answers():
            continue
        try:
            with quiet_stderr():
                m = rtmidi.MidiIn(api)
                m.get_ports()
                m.delete()
            return api
        except Exception:
            continue
    raise CLIError("no MIDI system answers here (no JACK server, no ALSA sequencer); "
                   "use the computer keyboard instead of --midi")


def _jack_answers() -> bool:
    import shutil
    import subprocess
    if shutil.which("jack_lsp") is None:
        return os.path.exists("/dev/shm/jack_default_0") or bool(os.environ.get("JACK_DEFAULT_SERVER"))
    r = subprocess.run(["jack_lsp"], capture_output=True, timeout=5,
                       env={**os.environ, "JACK_NO_START_SERVER": "1"})
    return r.returncode == 0


def resolve_port(ports: list[str], spec: str) -> int:
    """Index of the input named by ``spec`` (an index, or a case-insensitive name substring)."""
    cands = [(i, p) for i, p in enumerate(ports) if not p.startswith(CLIENT + ":") and not p.startswith(CLIENT + " ")]
    if spec.strip().lstrip("-").isdigit():
        i = int(spec)
        if 0 <= i < len(ports):
            return i
        raise CLIError(f"MIDI input {i} does not exist; inputs: {_listing(ports)}")
    hits = [i for i, p in cands if spec.lower() in p.lower()]
    if not hits:
        raise CLIError(f"no MIDI input matches '{spec}'; inputs: {_listing(ports)}")
    return hits[0]


def _listing(ports):
    return ", ".join(f"{i}: {p}" for i, p in enumerate(ports)) or "(none)"
