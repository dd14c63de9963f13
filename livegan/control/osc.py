"""OSC control (python-osc): ``livegan perform --osc PORT`` plays the patch from TouchOSC, Max or a script.

Addresses mirror the patch; each message carries one argument (logged in the performance file as):

- ``/livegan/knob/N`` float 0..1: the patch's knob N (1-based, the panel's order, keys 1-8), takeover
  as the patch says (its CC, 0..1 -> 0..127);
- ``/livegan/knob/NAME`` float 0..1: the patch's knob on the model's named knob NAME (``brightness``:
  ``direction = "brightness"``, or the generic patch on a model with named knobs), as its CC;
- ``/livegan/fx/NAME/PARAM`` float 0..1: the knob the patch maps to effect parameter NAME.PARAM, e.g.
  ``/livegan/fx/filter/cutoff``; 0..1 is the knob's travel over its range, as turning it (its CC);
- ``/livegan/morph`` float 0..1: the morph between the patch's two morph pads (the morph CC);
- ``/livegan/seed`` int i: seed i, the patch's i-th seed note (0-based, the number the panel shows)
  (that note on);
- ``/livegan/pad`` int i: snapshot pad i (1-based, as the panel): save if empty, else recall (that note on);
- ``/livegan/tempo`` float BPM: the tempo from the next block on (a tempo marker); refused while a
  clock leads;
- ``/livegan/record`` int 1 / 0: start / stop a take (nothing: a take's own log marks where it starts);
- ``/livegan/find`` string PATH: find that audio file in the model and play from there on the bar after
  the search ends (``livegan.control.finder``; logged as the point found, a ``livegan base`` marker).

Floats are quantised to the 128 steps of a MIDI CC (tempo to 0.001 BPM) before they act, so the
performance log holds exactly what played and ``livegan render --automation TAKE.mid`` re-renders it
bit for bit. Integers may come as integral floats (TouchOSC buttons send floats). A bundle's time tag
is not waited for: its messages act when they arrive. A datagram is read whole, up to the UDP
maximum; a message must be whole (``whole``); bundles are walked here (``messages_of``), each of
their messages taken or counted, and python-osc never sees a datagram that would make it log.

Whatever cannot be used is counted (``rejected``: ``osc_rejected`` in ``--stats-json``, on the panel)
and ignored: a datagram or bundle element that is not OSC (or cut off), a type tag python-osc cannot
read, an unknown address, a wrong argument count or type, NaN or infinity, a value or index out of
range, and an address the patch has nothing for (an effect parameter without a knob, morph without a
morph CC, a seed past the patch's seed notes); the first of each kind is also said once (``warn``), and
each knob name the patch lacks once (the first ``MAX_SAID_NAMES`` names: a sender cannot flood the panel).

Threads: the OSC thread (``OscSource.start``'s daemon, python-osc's blocking UDP server) parses each
datagram and only stores: a knob's, morph's or tempo's last value (last value wins) or an event in a
bounded ring (seed, pad, record). ``poll`` (``ControlSource``) drains both on the control thread,
which applies and logs them like MIDI (``livegan.control.live.LiveControl``). No locks: one writer
(the OSC thread), one reader (the control thread), dict and deque operations that are atomic.
"""
from __future__ import annotations

import collections
import math
import threading
from typing import Any, NamedTuple

from livegan.audio.transport import MAX_BPM, MIN_BPM
from livegan.control.finder import MAX_PATH
from livegan.control.osc_wire import MAX_DEPTH, OscRejected, messages_of, whole  # noqa: F401  (the wire format)
from livegan.control.sources import Event
from livegan.errors import CLIError
from livegan.model import printable
from livegan.model_knobs import KNOB_NAME

RING = 1024  # seed, pad and record events between two polls (a poll comes every few ms)
RCVBUF = 1 << 20  # a burst (a TouchOSC page sends every fader at once) waits in the kernel, not dropped
MAX_DATAGRAM = 1 << 16  # read whole: over UDP no datagram is longer (python-osc reads 8192 and cuts the rest off)
VELOCITY = 100  # a seed or pad press, as the computer keyboard logs it
MAX_SAID_NAMES = 64  # unknown knob names said once each; later ones are only counted


class Target(NamedTuple):
    """What one message does: ``key`` names a last-value-wins slot (None: a ring event)."""
    key: tuple | None
    event: Event


def _number(address: str, args, what: str) -> float:
    if len(args) != 1:
        raise OscRejected("type", f"{address} takes one {what}, got {len(args)} arguments")
    x = args[0]
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise OscRejected("type", f"{address} takes a {what}, got {type(x).__name__}")
    try:
        x = float(x)
    except OverflowError:  # an integer past any float: no OSC type carries one, but say so rather than raise
        raise OscRejected("range", f"{address} takes a {what}, got an integer of {x.bit_length()} bits") from None
    if not math.isfinite(x):
        raise OscRejected("type", f"{address} takes a finite {what}, got {x}")
    return x


def _unit(address: str, args) -> int:
    """A 0..1 argument as the CC value (0..127) it logs as."""
    x = _number(address, args, "number in [0, 1]")
    if not 0.0 <= x <= 1.0:
        raise OscRejected("range", f"{address} takes a number in [0, 1], got {x:g}")
    return int(round(x * 127))


def _int(address: str, args, lo: int, hi: int, what: str) -> int:
    x = _number(address, args, "integer")
    if not x.is_integer():
        raise OscRejected("type", f"{address} takes an integer, got {x:g}")
    if not lo <= x <= hi:
        raise OscRejected("range" if hi >= lo else "unmapped", f"{address} {x:g}: {what}")
    return int(x)


def _knob_index(address: str, text: str, patch) -> int:
    if KNOB_NAME.fullmatch(text):  # a named knob: the patch's knob on that named direction
        j = next((i for i, k in enumerate(patch.knobs) if k.direction_name == text), None)
        if j is None:
            have = [k.direction_name for k in patch.knobs if k.direction_name is not None]
            raise OscRejected("address", f"{address}: the patch has no knob named '{text}' "
                                         f"({'it has ' + ', '.join(have) if have else 'it has no named knobs'})",
                              name=text)
        return j
    if not (text.isascii() and text.isdigit() and len(text) <= 4):
        raise OscRejected("address", f"{address}: not a livegan address (knob numbers are 1, 2, ... or names)")
    n = int(text)
    if not 1 <= n <= len(patch.knobs):
        raise OscRejected("range", f"{address}: the patch has knobs 1-{len(patch.knobs)}")
    return n - 1


def osc_target(patch, address: str, args, max_bpm: float = MAX_BPM, tempo: bool = True) -> Target:
    """One OSC message -> the control event it makes, or ``OscRejected``. ``patch``: the patch as
    played (checked against the model); ``max_bpm``: the fastest tempo the engine plays; ``tempo``
    False: a clock leads, ``/livegan/tempo`` is not for us. Pure; any thread."""
    parts = address.split("/") if isinstance(address, str) else []
    if len(parts) < 3 or parts[:2] != ["", "livegan"]:
        raise OscRejected("address", f"{str(address)[:64]}: not a livegan address")
    ch = (patch.channel - 1) if patch.channel else 0  # what the patch listens to, so the render hears it
    name, rest = parts[2], parts[3:]
    if name == "knob" and len(rest) == 1:
        i = _knob_index(address, rest[0], patch)
        return Target(("knob", i), Event("knob", ch, i, _unit(address, args)))
    if name == "fx" and len(rest) == 2:
        param = f"{rest[0]}.{rest[1]}"
        j = next((i for i, k in enumerate(patch.knobs) if k.effect == param), None)
        if j is None:
            raise OscRejected("unmapped", f"{address}: the patch has no knob for {param}")
        return Target(("knob", j), Event("knob", ch, j, _unit(address, args)))
    if rest:
        raise OscRejected("address", f"{address[:64]}: not a livegan address")
    if name == "morph":
        if patch.morph_cc is None:
            raise OscRejected("unmapped", f"{address}: the patch has no morph")
        return Target(("morph",), Event("cc", ch, patch.morph_cc, _unit(address, args)))
    if name == "tempo":
        if not tempo:
            raise OscRejected("unmapped", f"{address}: the patch's clock sets the tempo")
        bpm = _number(address, args, "tempo in BPM")
        milli = int(round(bpm * 1000))
        if not MIN_BPM <= milli / 1000 <= min(MAX_BPM, max_bpm):
            raise OscRejected("range", f"{address} {bpm:g}: this model plays {MIN_BPM:g} to "
                                       f"{min(MAX_BPM, max_bpm):g} BPM here")
        return Target(("tempo",), Event("tempo", 0, 0, milli))
    if name == "seed":
        n = len(patch.seed_notes)
        i = _int(address, args, 0, n - 1, f"the patch has seed notes for seeds 0-{n - 1}")
        return Target(None, Event("note_on", ch, patch.seed_notes[i], VELOCITY))
    if name == "pad":
        n = len(patch.snapshot_notes)
        i = _int(address, args, 1, n, f"the patch has pads 1-{n}")
        return Target(None, Event("note_on", ch, patch.snapshot_notes[i - 1], VELOCITY))
    if name == "record":
        return Target(None, Event("record", 0, 0, _int(address, args, 0, 1, "1 starts a take, 0 stops it")))
    if name == "find":
        if len(args) != 1 or not isinstance(args[0], str):
            raise OscRejected("type", f"{address} takes one string, an audio file's path")
        if not 0 < len(args[0]) <= MAX_PATH or "\x00" in args[0]:
            raise OscRejected("range", f"{address}: a path of 1-{MAX_PATH} characters")
        return Target(None, Event("find", ch, data=args[0]))
    raise OscRejected("address", f"{address[:64]}: not a livegan address")


class OscSource:
    """An OSC UDP server as a ``ControlSource``. ``open`` binds (main thread, before the show),
    ``start`` serves on the OSC thread, ``poll`` drains on the control thread, ``close`` stops."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self.host, self.port = host, port
        self.accepted = 0  # messages stored (OSC thread writes, others read)
        self.rejected = 0  # datagrams and messages ignored
        self.warn = None  # callable(text), control thread: the first rejection of each kind
        self.patch, self.max_bpm, self.tempo = None, MAX_BPM, True
        self._latest: dict = {}  # slot -> Event, last value wins
        self._ring: collections.deque = collections.deque()  # at most RING events
        self._said: set = set()
        self._names_said = 0  # unknown knob names said so far (at most MAX_SAID_NAMES)
        self._news: collections.deque = collections.deque()  # warnings for the control thread
        self._server: Any = None  # a pythonosc BlockingOSCUDPServer, once open()
        self._thread: threading.Thread | None = None

    def open(self) -> "OscSource":
        """Bind the UDP socket: a port in use or a bad host is one ``CLIError`` line. Main thread."""
        import socket

        from pythonosc import osc_server

        class Server(osc_server.BlockingOSCUDPServer):
            max_packet_size = MAX_DATAGRAM
            def verify_request(self, request, client_address):
                return True  # every datagram reaches ``receive``, so one that is not OSC is counted

        try:
            # this source is the dispatcher: the server calls only its call_handlers_for_packet
            self._server = Server((self.host, self.port), self)  # type: ignore[arg-type]
        except (OSError, OverflowError, UnicodeError) as e:
            raise CLIError(f"--osc {self.port} --osc-host {self.host}: cannot listen there "
                           f"({getattr(e, 'strerror', None) or e})") from None
        self._server.socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RCVBUF)
        self.host, self.port = self._server.server_address[:2]  # what it listens on ("0" is 0.0.0.0)
        return self

    def exposure(self) -> str | None:
        """One warning line when the bound address takes datagrams from beyond this machine (all
        interfaces, or a network address), else None. Main thread."""
        import ipaddress

        try:
            ip = ipaddress.ip_address(self.host)
        except ValueError:
            return None
        if ip.is_loopback:
            return None
        where = f"all interfaces ({self.host})" if ip.is_unspecified else self.host
        return (f"OSC listens on {where}, port {self.port}: anyone who can reach this machine can play this show "
                "(--osc-host 127.0.0.1 keeps it to this machine)")

    def plug(self, live) -> None:
        """``LiveControl.start`` (this source is in its list): serve the patch ``live`` plays; no tempo
        while a MIDI clock leads (with Link it goes to the session); warnings through ``live.warn``.
        Main thread."""
        self.warn = live.warn
        src = live.tempo_source  # a MIDI clock leads alone; a Link session takes our tempo (two-way)
        self.start(live.ec.c.patch, live.engine.max_tempo, tempo=src is None or getattr(src, "takes_tempo", False))

    def stats(self) -> dict:
        """``osc_accepted`` and ``osc_rejected`` (``--stats-json``, the panel). Any thread."""
        return {"osc_accepted": self.accepted, "osc_rejected": self.rejected}

    def configure(self, patch, max_bpm: float = MAX_BPM, tempo: bool = True) -> "OscSource":
        """Map messages onto ``patch`` (as played); ``max_bpm`` and ``tempo`` as ``osc_target`` takes them."""
        self.patch, self.max_bpm, self.tempo = patch, float(max_bpm), bool(tempo)
        return self

    def start(self, patch, max_bpm: float = MAX_BPM, tempo: bool = True) -> None:
        """``configure``, then serve on the OSC thread. Main thread."""
        self.configure(patch, max_bpm, tempo)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.1,), name="livegan-osc",
                                        daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop serving and free the port. Main thread."""
        if self._server is None:
            return
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(2.0)
        self._server.server_close()
        self._server = None

    # -- the OSC thread
    def call_handlers_for_packet(self, data, client_address) -> list:
        """python-osc's dispatcher entry: one datagram; -> no replies (python-osc would send them back).
        OSC thread."""
        self.receive(data)
        return []

    def receive(self, data: bytes) -> None:
        """One datagram: each message in it (a bundle's too) stored or counted. OSC thread; never raises."""
        for m in messages_of(data):
            if isinstance(m, OscRejected):
                self._reject(m)
            else:
                self.take(m.address, m.params)

    def take(self, address: str, args) -> None:
        """One message: stored (last value wins, or the ring) or counted. OSC thread; never raises."""
        try:
            t = osc_target(self.patch, address, list(args), self.max_bpm, self.tempo)
        except OscRejected as e:
            self._reject(e)
            return
        except Exception as e:  # a parser's odd object: counted, never raised into the server
            self._reject(OscRejected("type", f"{str(address)[:64]}: {type(e).__name__}"))
            return
        if t.key is not None:
            self._latest[t.key] = t.event
        elif len(self._ring) < RING:
            self._ring.append(t.event)
        else:
            self._reject(OscRejected("range", f"{address}: more than {RING} presses between two control steps"))
            return
        self.accepted += 1

    def _reject(self, e: OscRejected) -> None:
        self.rejected += 1
        said = e.kind if e.name is None else ("name", e.name)  # each unknown knob name once, a bounded set
        if said not in self._said and (e.name is None or self._names_said < MAX_SAID_NAMES):
            self._said.add(said)  # the sender's own words, cut short and unable to drive a terminal
            self._names_said += e.name is not None
            self._news.append(f"OSC: {printable(str(e))[:160]}: ignored (each message livegan cannot use is "
                              "counted: osc_rejected)")

    # -- the control thread
    def poll(self) -> list:
        """The slots that changed (knobs, morph, tempo), then the ring's events, oldest first.
        Control thread; never blocks."""
        latest = []
        while self._latest:  # the only reader: popitem cannot miss; a value stored meanwhile waits
            latest.append(self._latest.popitem())
        out = [ev for _, ev in sorted(latest)]
        while self._ring:
            out.append(self._ring.popleft())
        while self._news:
            text = self._news.popleft()
            if self.warn is not None:
                self.warn(text)
        return out


def open_osc(port: int | None, host: str | None = None) -> OscSource | None:
    """``--osc PORT`` and ``--osc-host HOST`` -> a bound ``OscSource`` (None without ``--osc``), or one
    ``CLIError`` line. Main thread, before the show."""
    if port is None:
        if host is not None:
            raise CLIError("--osc-host needs --osc PORT")
        return None
    return OscSource(host or "127.0.0.1", port).open()
