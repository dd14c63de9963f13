"""Every OSC message that reaches ``livegan perform --osc`` is either taken (``osc_accepted``) or
counted (``osc_rejected``), whatever the datagram's size: a bundle of 2000 messages (56 KB, far past
python-osc's own 8192-byte read) arrives whole through the server; a bundle element cut off or of a
wrong size, one that is not OSC, and bundles nested too deep are counted. And no datagram makes
python-osc write a log line (its ``logging.warning`` on the root logger would also install a
``WARNING:root`` handler on stderr and print over the panel): livegan counts the datagram instead.
"""
from __future__ import annotations

import logging
import socket
import struct

from livegan.control.osc import MAX_DEPTH, OscSource, messages_of, open_osc
from livegan.control.patch import default_patch_path, load_patch
from livegan.control.sources import Event
from livegan.testing.osc_sender import message
from livegan.testing.wait import wait_until

PATCH = load_patch(default_patch_path())


def bundle(*elements: bytes) -> bytes:
    return b"#bundle\0" + b"\0" * 7 + b"\1" + b"".join(struct.pack(">i", len(e)) + e for e in elements)


def _until_counted(src: OscSource, n: int) -> None:
    wait_until(lambda: src.accepted + src.rejected >= n, 30, 0.01)  # a deadline for a busy machine


def test_a_2000_message_bundle_arrives_whole_through_the_server():
    knobs = [message(f"/livegan/knob/{1 + i % 3}", [(i % 128) / 127]) for i in range(2000)]
    data = bundle(*knobs)
    assert 8192 < len(data) <= 65507
    src = open_osc(0)
    try:
        src.start(PATCH)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 17)
            s.sendto(data, ("127.0.0.1", src.port))
            s.sendto(message("/livegan/knob/4", [1.0]), ("127.0.0.1", src.port))
        _until_counted(src, 2001)
        assert (src.accepted, src.rejected) == (2001, 0)
        got = src.poll()  # last value wins: each knob's last message in the bundle
        last = (1998 % 128, 1999 % 128, 1997 % 128)  # knobs 1-3: the bundle's messages 1999, 2000 and 1998
        assert got == [Event("knob", 0, i, v) for i, v in enumerate(last)] + [Event("knob", 0, 3, 127)], got
    finally:
        src.close()


def test_each_message_of_a_bundle_is_taken_or_counted():
    ok = message("/livegan/knob/1", [0.5])
    cases = [
        (bundle(ok, ok, ok), 3, 0),
        (bundle(ok, b"\x00nope\0\0\0", ok), 2, 1),  # an element that is not OSC: the others still act
        (bundle(ok, bundle(ok, ok)), 3, 0),  # nested
        (bundle(ok, ok)[:-3], 1, 1),  # the last element cut off
        (bundle(ok) + struct.pack(">i", 1 << 30), 1, 1),  # an element longer than the datagram
        (bundle(ok) + struct.pack(">i", -8), 1, 1),
        (bundle(ok) + struct.pack(">i", 6) + b"/abcde", 1, 1),  # not a multiple of 4
        (b"#bundle\0" + b"\0" * 4, 0, 1),  # no time tag
    ]
    deep = ok
    for _ in range(MAX_DEPTH + 5):
        deep = bundle(deep)
    cases.append((deep, 0, 1))
    for data, taken, counted in cases:
        src = OscSource().configure(PATCH)
        src.receive(data)
        assert (src.accepted, src.rejected) == (taken, counted), data


def test_no_datagram_makes_python_osc_log(caplog):
    ok = message("/livegan/knob/1", [0.5])
    odd_tag = ok.replace(b",f\0\0", b",X\0\0")  # a type tag python-osc does not know: it would log and skip it
    datagrams = [bundle(ok, b"\x00nope\0\0\0"), bundle(b"junk"), odd_tag, bundle(odd_tag, ok),
                 message("/livegan/knob/1", [0.5, 0.5]).replace(b",ff", b",fZ")]
    root = logging.getLogger()
    handlers = list(root.handlers)
    caplog.set_level(logging.DEBUG)
    src = OscSource().configure(PATCH)
    for d in datagrams:
        src.receive(d)
    assert [r.getMessage() for r in caplog.records] == []
    assert root.handlers == handlers  # no handler installed behind the program's back
    assert (src.accepted, src.rejected) == (2, 5)
    said = []
    src.warn = said.append
    src.poll()
    assert len(said) == 2 and "'X' is not one livegan reads" in said[1], said  # one line per kind


def test_messages_of_never_raises_on_nested_junk():
    for data in (b"", b"#bundle", b"#bundle\0" * 3, bundle(b"#bundle\0" * 2), bundle(bundle(b"/a\0\0"))):
        assert all(not isinstance(m, Exception) or m.kind == "packet" for m in messages_of(data))
