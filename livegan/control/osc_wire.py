"""OSC on the wire: a datagram taken apart into its messages, each one usable or counted as rejected.

python-osc parses one message; here a datagram is walked first (bundles in bundles, cut-off and
wrongly sized parts, type tags python-osc would log about), so no part of it is lost uncounted and
python-osc never logs. Thread: the OSC server's (``livegan.control.osc.OscSource``).
"""
from __future__ import annotations


class OscRejected(ValueError):
    """A message livegan cannot use. ``kind``: packet, address, type, range or unmapped. ``name``: a
    knob name the patch has no knob for (``/livegan/knob/NAME``): said once per name, not per kind."""

    def __init__(self, kind: str, text: str, name: str | None = None):
        super().__init__(text)
        self.kind = kind
        self.name = name


_FIXED = {"i": 4, "f": 4, "c": 4, "r": 4, "m": 4, "h": 8, "d": 8, "t": 8, "T": 0, "F": 0, "N": 0, "I": 0}


def whole(dgram: bytes) -> bool:
    """Whether one OSC message's bytes hold every argument its type tags name. python-osc pads a
    cut-off number with zero bytes (Reaktor sends them so): here a cut-off message must not turn a
    knob to 0. Strings, blobs and arrays are not checked (no livegan address takes one)."""
    def end(i):  # where the padded string starting at i ends
        return (dgram.index(b"\0", i) // 4 + 1) * 4
    try:
        tags_at = end(0)
        args_at = end(tags_at)
    except ValueError:
        return False
    tags = dgram[tags_at + 1:dgram.index(b"\0", tags_at)].decode("ascii", "replace")
    if any(t not in _FIXED for t in tags):
        return True
    return len(dgram) == args_at + sum(_FIXED[t] for t in tags)


_READ = set("ihfdsbrmtTFN[]")  # the type tags python-osc reads; it logs (on the root logger) any other
_BUNDLE = b"#bundle\0"
MAX_DEPTH = 8  # bundles inside bundles: deeper is refused, not recursed into


def messages_of(data: bytes, depth: int = 0) -> list:
    """A datagram's messages in order (a bundle's too; time tags are not waited for): python-osc
    ``OscMessage``s, or the ``OscRejected`` each unusable part counts as. Bundles are walked and type tags
    checked here, so python-osc never logs (its root-logger warnings print over the panel). Never raises."""
    from pythonosc import osc_message

    if data.startswith(b"/"):
        if not whole(data):
            return [OscRejected("packet", f"a cut-off OSC message ({len(data)} bytes)")]
        at = (data.index(b"\0") // 4 + 1) * 4  # the type tags (whole: they are there and end)
        bad = "".join(sorted(set(data[at + 1:data.find(b"\0", at)].decode("latin-1")) - _READ))
        if bad and data[at:at + 1] == b",":
            address = data[:at].rstrip(b"\0").decode("latin-1")[:64]
            return [OscRejected("type", f"{address}: type tag {bad[:8]!r} is not one livegan reads")]
        try:
            return [osc_message.OscMessage(data)]
        except Exception:  # ParseError, and whatever else a hostile message provokes in the parser
            return [OscRejected("packet", f"a message that is not OSC ({len(data)} bytes)")]
    if not data.startswith(_BUNDLE) or len(data) < 16:
        return [OscRejected("packet", f"{'a bundle element' if depth else 'a datagram'} that is not OSC "
                                      f"({len(data)} bytes)")]
    if depth >= MAX_DEPTH:
        return [OscRejected("packet", f"a bundle nested more than {MAX_DEPTH} deep")]
    out, i = [], 16  # after "#bundle", its time tag
    while i < len(data):
        size = int.from_bytes(data[i:i + 4], "big", signed=True)
        if i + 4 > len(data) or size <= 0 or size % 4 or i + 4 + size > len(data):
            out.append(OscRejected("packet", f"a bundle element cut off or of a wrong size ({size} bytes)"))
            break  # the elements after it cannot be found
        out += messages_of(data[i + 4:i + 4 + size], depth + 1)
        i += 4 + size
    return out
