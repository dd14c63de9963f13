"""OSC addresses mirror the patch (``livegan.control.osc``): each usable message becomes the control
event the patch's own control would make, quantised as MIDI is, so it acts and is logged exactly as
that MIDI (and re-renders); every unusable message or datagram is counted and ignored, by kind, and
nothing an OSC sender can put in a datagram raises. A port in use or an unusable host is one line."""
from __future__ import annotations

import math
import socket

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from livegan.control.osc import OscRejected, OscSource, open_osc, osc_target
from livegan.control.patch import default_patch_path, load_patch, replace
from livegan.control.sources import Event
from livegan.errors import CLIError
from livegan.model import validate_meta
from livegan.testing.osc_sender import malformed, message
from livegan.testing.tiny import tiny_meta
from livegan.testing.wait import wait_until
from livegan.testing.wiring import live_show, osc_beside_midi

PATCH = load_patch(default_patch_path())  # knobs CC 20-27 (directions), then 74, 71, 12, 13, 93, 91 (effects)


def test_each_address_becomes_the_event_of_the_patch_control_it_names():
    assert osc_target(PATCH, "/livegan/knob/1", [1.0]) == (("knob", 0), Event("knob", 0, 0, 127))
    assert osc_target(PATCH, "/livegan/knob/3", [0.5]) == (("knob", 2), Event("knob", 0, 2, 64))
    assert osc_target(PATCH, "/livegan/knob/14", [0]) == (("knob", 13), Event("knob", 0, 13, 0))
    cutoff = [k.effect for k in PATCH.knobs].index("filter.cutoff")
    assert osc_target(PATCH, "/livegan/fx/filter/cutoff", [0.25]) == (("knob", cutoff),
                                                                      Event("knob", 0, cutoff, 32))
    assert osc_target(PATCH, "/livegan/morph", [0.1]) == (("morph",), Event("cc", 0, PATCH.morph_cc, 13))
    assert osc_target(PATCH, "/livegan/seed", [3]) == (None, Event("note_on", 0, PATCH.seed_notes[3], 100))
    assert osc_target(PATCH, "/livegan/seed", [0.0]).event.a == PATCH.seed_notes[0]  # TouchOSC sends floats
    assert osc_target(PATCH, "/livegan/pad", [1]) == (None, Event("note_on", 0, PATCH.snapshot_notes[0], 100))
    assert osc_target(PATCH, "/livegan/tempo", [133.3333]) == (("tempo",), Event("tempo", 0, 0, 133333))
    assert osc_target(PATCH, "/livegan/record", [1]).event == Event("record", 0, 0, 1)
    assert osc_target(PATCH, "/livegan/record", [0.0]).event == Event("record", 0, 0, 0)
    on_ch3 = replace(PATCH, channel=3)  # events on the patch's channel, which the render listens to
    assert osc_target(on_ch3, "/livegan/knob/1", [1.0]).event.channel == 2
    assert osc_target(on_ch3, "/livegan/seed", [1]).event.channel == 2


BAD = [
    ("/livegan/knob/1", ["loud"], "type"), ("/livegan/knob/1", [b"\x00"], "type"),
    ("/livegan/knob/1", [True], "type"), ("/livegan/knob/1", [None], "type"),
    ("/livegan/knob/1", [math.nan], "type"), ("/livegan/knob/1", [-math.inf], "type"),
    ("/livegan/knob/1", [], "type"), ("/livegan/knob/1", [0.5, 0.5], "type"),
    ("/livegan/knob/1", [1.01], "range"), ("/livegan/knob/1", [-0.01], "range"),
    ("/livegan/knob/0", [0.5], "range"), ("/livegan/knob/15", [0.5], "range"),
    ("/livegan/knob/x", [0.5], "address"), ("/livegan/knob/-1", [0.5], "address"),
    ("/livegan/knob/1/2", [0.5], "address"), ("/livegan/knobs", [0.5], "address"),
    ("/livegan", [0.5], "address"), ("/other/knob/1", [0.5], "address"), ("", [], "address"),
    ("/livegan/seed", [8], "range"), ("/livegan/seed", [-1], "range"), ("/livegan/seed", [1.5], "type"),
    ("/livegan/pad", [0], "range"), ("/livegan/pad", [9], "range"),
    ("/livegan/record", [2], "range"), ("/livegan/record", ["on"], "type"),
    ("/livegan/tempo", [19.999], "range"), ("/livegan/tempo", [400.001], "range"),
    ("/livegan/tempo", [math.inf], "type"), ("/livegan/morph", [2.0], "range"),
    ("/livegan/fx/chorus/mix", [0.5], "unmapped"), ("/livegan/fx/filter", [0.5], "address"),
]


@pytest.mark.parametrize("address,args,kind", BAD)
def test_an_unusable_message_is_rejected_with_its_kind(address, args, kind):
    with pytest.raises(OscRejected) as e:
        osc_target(PATCH, address, args)
    assert e.value.kind == kind, str(e.value)


def test_what_the_patch_or_the_model_lacks_is_rejected_not_guessed():
    bare = replace(PATCH, morph_cc=None, seed_notes=[], snapshot_notes=[])
    for address, args in (("/livegan/morph", [0.5]), ("/livegan/seed", [0]), ("/livegan/pad", [1])):
        with pytest.raises(OscRejected) as e:
            osc_target(bare, address, args)
        assert e.value.kind == "unmapped", str(e.value)
    with pytest.raises(OscRejected, match="clock"):
        osc_target(PATCH, "/livegan/tempo", [120.0], tempo=False)  # a clock leads
    with pytest.raises(OscRejected, match="150"):
        osc_target(PATCH, "/livegan/tempo", [151.0], max_bpm=150.0)  # faster than the model plays here
    assert osc_target(PATCH, "/livegan/tempo", [150.0], max_bpm=150.0).event.b == 150000


def test_every_malformed_packet_is_counted_once_and_none_acts():
    src = OscSource().configure(PATCH)
    said = []
    src.warn = said.append
    packets = malformed(2000, seed=3)
    for p in packets:
        src.receive(p)
    assert src.rejected == len(packets) and src.accepted == 0
    assert src.poll() == []
    # one line per kind, not per packet, and one for the knob name the patch lacks (/livegan/knob/x)
    assert len(said) == 6 and all(s.startswith("OSC: ") for s in said)
    assert sum("no knob named 'x'" in s for s in said) == 1


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_no_datagram_raises(data):
    src = OscSource().configure(PATCH)
    src.receive(data)
    assert src.accepted == 0


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40), st.lists(st.one_of(st.none(), st.booleans(), st.integers(),
                                                st.floats(allow_subnormal=False),  # a library may flush them (FTZ)
                                                st.text(max_size=5), st.binary(max_size=5)), max_size=3))
def test_no_address_or_argument_raises_anything_but_a_rejection(address, args):
    src = OscSource().configure(PATCH)
    src.take(address, args)
    assert src.accepted + src.rejected == 1


def test_osc_acts_and_logs_as_the_midi_it_mirrors():
    meta = validate_meta(tiny_meta(format=1))  # 4 directions: the patch as played has knobs 1-4 and the effects
    osc = [[], [("/livegan/knob/1", [64 / 127]), ("/livegan/fx/filter/cutoff", [0.3])],
           [("/livegan/knob/1", [0.9]), ("/livegan/seed", [2]), ("/livegan/pad", [1])], [("/livegan/tempo", [133.5])]]
    midi = [[], [Event("cc", 0, 20, 64), Event("cc", 0, 74, 38)],
            [Event("cc", 0, 20, 114), Event("note_on", 0, 38, 100), Event("note_on", 0, 48, 100)], []]
    src, a, log_a, b, log_b = osc_beside_midi(meta, PATCH, osc, midi, 4, max_bpm=200.0)
    cutoff = 1 + [k.effect for k in a.patch.knobs].index("filter.cutoff")
    assert src.rejected == 0 and src.accepted == 6 and cutoff > 4
    rows_a, rows_b = log_a.rows(), log_b.rows()
    assert np.array_equal(rows_a[:5], rows_b)  # the same MIDI at the same frames: it re-renders
    assert rows_a[5, 1:4].tolist() == [0x100, 133500 >> 14, 133500 & 0x3FFF]  # the tempo, as a marker
    assert a.engine.transport.tempo == 133.5 and b.engine.transport.tempo == meta.bpm
    ca, cb = a.controls.c, b.controls.c
    assert np.array_equal(ca.z(), cb.z()) and ca.seed == cb.seed == 2 and ca.fx_params() == cb.fx_params()
    assert ca.snapshots[0] is not None


def test_record_says_start_or_stop_to_the_take_toggle():
    meta = validate_meta(tiny_meta(format=1))
    src = OscSource().configure(PATCH)
    parts, log, live = live_show(meta, PATCH, [src])
    asked = []
    live.on_action = asked.append
    for v in (1, 1, 0):
        src.receive(message("/livegan/record", [v]))
        live.step()
    assert asked == ["record_on", "record_on", "record_off"] and len(log) == 0


def test_a_message_sent_to_localhost_arrives_through_the_server():
    src = open_osc(0)
    try:
        src.start(PATCH)
        assert src.host == "127.0.0.1" and src.port > 0
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.sendto(message("/livegan/knob/2", [1.0]), ("127.0.0.1", src.port))
            s.sendto(b"\x00garbage", ("127.0.0.1", src.port))
        got: list = []

        def heard():
            got.extend(src.poll())
            return got and src.rejected

        wait_until(heard, 5, 0.01)
        assert got == [Event("knob", 0, 1, 127)] and src.rejected == 1
    finally:
        src.close()


def test_a_port_in_use_or_a_host_not_here_is_one_line():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        with pytest.raises(CLIError, match=f"--osc {port} --osc-host 127.0.0.1: cannot listen there"):
            open_osc(port)
    with pytest.raises(CLIError, match="--osc-host 192.0.2.1: cannot listen there"):
        open_osc(9000, "192.0.2.1")  # TEST-NET: an address no interface here has (no name lookup)
    with pytest.raises(CLIError, match="--osc-host needs --osc PORT"):
        open_osc(None, "0.0.0.0")
    assert open_osc(None) is None


def test_perform_refuses_a_busy_osc_port_before_the_model_loads(cli, tmp_path):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        r = cli("perform", "--model", tmp_path / "absent.ts", "--osc", port, timeout=60)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert f"--osc {port}" in r.stderr and "cannot listen there" in r.stderr
