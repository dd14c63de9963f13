"""MIDI input: garbage never stops the handler, last value wins, events keep order, JACK ports connect."""
from __future__ import annotations

import os
import subprocess
import sys
import time

import numpy as np
import pytest

from livegan.errors import CLIError
from livegan.io.midi import (
    NOTE_OFF,
    NOTE_ON,
    PROGRAM,
    SONG_POS,
    START,
    STOP,
    EventRing,
    MidiHandler,
    MidiInput,
    resolve_port,
)
from livegan.testing.wait import wait_until


def test_last_value_wins_per_channel_and_cc():
    h = MidiHandler()
    seen = np.zeros((16, 128), np.int64)
    for v in (10, 64, 127):
        h.handle([0xB0, 20, v], 0.0)
    h.handle([0xB3, 20, 0], 0.0)
    assert h.knobs.changed_since(seen) == [(0, 20, 1.0), (3, 20, 0.0)]
    assert h.knobs.changed_since(seen) == []  # nothing moved since


def test_garbage_is_ignored_and_counted_without_raising():
    h = MidiHandler(channel=1)
    garbage = [[], [0xF0, 1, 2, 0xF7], [0x40, 1], [0xB0, 200, 3], [0xB0, 1], [0x90, 60],
               [0xB0, 1, -4], [0xE0, 0, 64], [0xF2, 1], [0xF2, 200, 0], [0xFE], [0xB5, 1, 2], ["x"], None]
    for g in garbage:
        h.handle(g, 0.0)
    assert h.ignored == len(garbage)
    assert h.events.w == 0 and h.knobs.total == 0
    h.handle([0xB0, 7, 127], 1.0)  # still works after all that
    assert h.knobs.value[0, 7] == 1.0


def test_notes_program_and_transport_arrive_in_order():
    h = MidiHandler()
    msgs = [[0x90, 60, 100], [0x80, 60, 0], [0x91, 61, 0], [0xC0, 5], [0xFA], [0xF2, 4, 1], [0xFC]]
    for i, m in enumerate(msgs):
        h.handle(m, float(i))
    ev = h.events.pop_all()
    assert [e[1] for e in ev] == [NOTE_ON, NOTE_OFF, NOTE_OFF, PROGRAM, START, SONG_POS, STOP]
    assert [e[0] for e in ev] == list(range(7))
    assert ev[2][2] == 1 and ev[3][3] == 5 and ev[5][3] | (ev[5][4] << 7) == 4 | (1 << 7)
    assert h.clock.running is False and h.clock.position_ticks == 132 * 6 - 1


def test_ring_matches_a_list_under_random_interleaving_and_drops_when_full():
    rng = np.random.default_rng(1)
    ring, ref, got = EventRing(16), [], []
    n = 0
    for _ in range(500):
        for _ in range(rng.integers(0, 12)):
            if ring.w - ring.r < ring.size:
                ref.append(n)
            ring.push(float(n), 1, 0, n % 128, 0)
            n += 1
        got += [int(e[0]) for e in ring.pop_all()]
    got += [int(e[0]) for e in ring.pop_all()]
    assert got == ref
    assert ring.dropped == n - len(ref)


def test_port_spec_by_index_and_substring_and_errors_list_inputs():
    ports = ["livegan:livegan", "nanoKONTROL2:out", "Launch Control XL:midi"]
    assert resolve_port(ports, "1") == 1
    assert resolve_port(ports, "launch control") == 2
    with pytest.raises(CLIError, match="no MIDI input matches 'midimix'.*1: nanoKONTROL2"):
        resolve_port(ports, "midimix")
    with pytest.raises(CLIError, match="MIDI input 7 does not exist"):
        resolve_port(ports, "7")


def test_own_ports_are_never_matched_by_name():
    with pytest.raises(CLIError):
        resolve_port(["livegan:livegan"], "livegan")


SENDER = r"""
import sys, time, rtmidi
out = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name=sys.argv[1])
out.open_virtual_port("out")
print("ready", flush=True)
sys.stdin.readline()
for v in range(0, 128, 8):
    out.send_message([0xB0, 21, v])
out.send_message([0xF0, 1, 2, 3, 0xF7])
out.send_message([0x90, 36, 100])
out.send_message([0xB0, 21, 127])
time.sleep(0.3)
print("done", flush=True)
sys.stdin.readline()
"""


def _wait(cond, timeout=5.0):
    return wait_until(cond, timeout, 0.01)


def _sender(name):
    p = subprocess.Popen([sys.executable, "-c", SENDER, name], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "ready"
    return p


def test_controller_in_another_process_reaches_knobs_and_events_over_jack(jack_server):
    import rtmidi
    name = f"lgtest{os.getpid()}"
    p = _sender(name)
    mi = None
    try:
        mi = MidiInput(name, api=rtmidi.API_UNIX_JACK, client_name=f"lgin{os.getpid()}").start()
        time.sleep(0.2)
        p.stdin.write("go\n")
        p.stdin.flush()
        assert p.stdout.readline().strip() == "done"
        h = mi.handler
        assert _wait(lambda: h.knobs.value[0, 21] == 1.0)
        assert h.knobs.seq[0, 21] == 17  # every CC of the sweep arrived, the last one won
        assert [e[1:4] for e in h.events.pop_all()] == [(NOTE_ON, 0, 36)]
    finally:
        if mi:
            mi.close()
        p.kill()
        p.wait()


def test_input_reconnects_when_the_controller_returns(jack_server):
    import rtmidi
    name = f"lgre{os.getpid()}"
    p = _sender(name)
    mi = MidiInput(name, api=rtmidi.API_UNIX_JACK, client_name=f"lgin2{os.getpid()}", reconnect_s=0.1).start()
    try:
        p.kill()
        p.wait()
        assert _wait(lambda: not mi.connected), "the vanished controller was not noticed"
        p = _sender(name)  # same client name comes back
        assert _wait(lambda: mi.connected and mi.reconnects == 1)
        time.sleep(0.2)
        p.stdin.write("go\n")
        p.stdin.flush()
        assert p.stdout.readline().strip() == "done"
        assert _wait(lambda: mi.handler.knobs.value[0, 21] == 1.0)
    finally:
        mi.close()
        p.kill()
        p.wait()
