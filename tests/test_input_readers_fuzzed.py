"""Property-based fuzzing of every reader of user files: each gives its result or its own one-line
error, never another exception; the performance log reads back exactly what was logged."""
from __future__ import annotations

import os
import tempfile

import mido
import numpy as np
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from livegan.control.patch import Patch, load_patch, parse_patch
from livegan.errors import PatchError
from livegan.io.perflog import PerfLog, marker_bpm, read_log_events, read_perflog
from livegan.io.smf import MidiFileError
from livegan.model import ModelFileError, validate_meta

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# no subnormals: a library loaded earlier in the test process may set flush-to-zero, and hypothesis refuses then
SCALARS = st.one_of(st.booleans(), st.integers(-3, 200), st.integers(-10 ** 400, 10 ** 400),
                    st.floats(allow_subnormal=False),
                    st.text(max_size=8), st.sampled_from(["filter", "drive", "delay", "reverb", "filter.q", "omni",
                                                          "model", "bar", "midi", "save", "bypass.filter", "pickup"]))
VALUES = st.recursive(SCALARS, lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=3), c, max_size=3),
                      max_leaves=8)


def _one_line(e: Exception) -> bool:
    return "\n" not in str(e) and str(e).strip() != ""


# ------------------------------------------------------------------ patches
GOOD_PATCH = {"name": "p", "midi": {"port": "", "channel": 1, "takeover": "jump"},
              "transport": {"tempo": 120, "quantize": "bar", "crossfade_ms": 40, "clock": "internal"},
              "effect": [{"type": "filter", "cutoff": 1000.0, "q": 1.0, "mode": "lowpass"}, {"type": "delay"}],
              "knob": [{"cc": 1, "direction": 1, "range": [-2, 2]}, {"cc": 2, "effect": "filter.q"}],
              "button": [{"cc": 3, "action": "bypass.filter"}], "notes": {"seeds": [36, 37], "snapshots": [48, 49]},
              "morph": {"cc": 4, "from": 1, "to": 2}}


def _paths(d, prefix=()):
    """Every (path of keys/indices) inside a nested dict/list, the root included."""
    yield prefix
    items = d.items() if isinstance(d, dict) else enumerate(d) if isinstance(d, list) else ()
    for k, v in items:
        yield from _paths(v, prefix + (k,))


def _replace(d, path, value):
    if not path:
        return value
    c = dict(d) if isinstance(d, dict) else list(d)
    c[path[0]] = _replace(c[path[0]], path[1:], value)
    return c


PATCH_PATHS = list(_paths(GOOD_PATCH))[1:]
MUTATED_PATCH = st.builds(lambda path, v: _replace(GOOD_PATCH, path, v), st.sampled_from(PATCH_PATHS), VALUES)


@FUZZ
@example({"transport": {"tempo": 10 ** 400}})  # OverflowError in the number check, once
@given(st.one_of(MUTATED_PATCH, st.dictionaries(st.sampled_from(sorted(GOOD_PATCH)), VALUES, max_size=4)))
def test_patch_parser_gives_a_patch_or_a_patch_error(raw):
    try:
        assert isinstance(parse_patch(raw, "fuzz.toml"), Patch)
    except PatchError as e:
        assert _one_line(e) and str(e).startswith("fuzz.toml: ")


@FUZZ
@given(st.one_of(st.binary(max_size=300), st.text(max_size=300).map(str.encode),
                 st.sampled_from([b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf"]).flatmap(
                     lambda bom: st.binary(max_size=60).map(lambda b: bom + b))))
def test_patch_file_bytes_give_a_patch_or_a_patch_error(data):
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "fuzz.toml")
        with open(path, "wb") as f:
            f.write(data)
        try:
            load_patch(path)
        except PatchError as e:
            assert _one_line(e) and str(e).startswith(path)


# ------------------------------------------------------------------ model metadata
GOOD_META = dict(format=1, name="t", sample_rate=16384, loop_samples=32768, channels=1, latent_dim=2,
                 latent_dist="uniform", bpm=120.0, bars=1, beats_per_bar=4, directions=[[1.0, 0.0], [0.0, 1.0]],
                 sigmas=[0.5, 0.4], training={})
META_PATHS = list(_paths(GOOD_META))[1:]


@FUZZ
@given(st.one_of(st.builds(lambda path, v: _replace(GOOD_META, path, v), st.sampled_from(META_PATHS), VALUES),
                 st.builds(lambda k: {x: v for x, v in GOOD_META.items() if x != k},
                           st.sampled_from(sorted(GOOD_META))),
                 VALUES))
@example({**GOOD_META, "directions": [[10 ** 400, 0.0], [0.0, 1.0]]})  # OverflowError in numpy, once
@example({**GOOD_META, "bpm": 10 ** 400})
def test_model_metadata_gives_meta_or_a_model_file_error(raw):
    try:
        meta = validate_meta(raw, "fuzz.ts")
        assert meta.directions.shape == (len(raw["directions"]), raw["latent_dim"])
    except ModelFileError as e:
        assert _one_line(e) and str(e).startswith("fuzz.ts: ")


# ------------------------------------------------------------------ automation files
def _saved(mf: mido.MidiFile) -> bytes:
    with tempfile.TemporaryDirectory() as d:
        mf.save(os.path.join(d, "x.mid"))
        with open(os.path.join(d, "x.mid"), "rb") as f:
            return f.read()


def _read(data: bytes, sr: int = 48000):
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "x.mid")
        with open(path, "wb") as f:
            f.write(data)
        return read_perflog(path, sr), read_log_events(path, sr)


CHANNEL_MSG = st.one_of(
    st.builds(lambda c, n, v: mido.Message("control_change", channel=c, control=n, value=v),
              st.integers(0, 15), st.integers(0, 127), st.integers(0, 127)),
    st.builds(lambda c, n, v: mido.Message("note_on", channel=c, note=n, velocity=v),
              st.integers(0, 15), st.integers(0, 127), st.integers(0, 127)),
    st.builds(lambda c, n: mido.Message("note_off", channel=c, note=n), st.integers(0, 15), st.integers(0, 127)),
    st.builds(lambda c, p: mido.Message("program_change", channel=c, program=p), st.integers(0, 15),
              st.integers(0, 127)),
    st.builds(lambda c, p: mido.Message("pitchwheel", channel=c, pitch=p), st.integers(0, 15),
              st.integers(-8192, 8191)))
TRACK = st.lists(st.tuples(st.integers(0, 5000), st.one_of(
    CHANNEL_MSG, st.builds(lambda t: mido.MetaMessage("set_tempo", tempo=t), st.integers(1, 2_000_000)))),
    max_size=25)


def _midi_file(tracks, tpb):
    mf = mido.MidiFile(type=1 if len(tracks) > 1 else 0, ticks_per_beat=tpb)
    for events in tracks:
        tr = mido.MidiTrack()
        for dt, m in events:
            tr.append(m.copy(time=dt))
        mf.tracks.append(tr)
    return mf


@FUZZ
@given(st.lists(TRACK, min_size=1, max_size=3), st.integers(1, 32767))
def test_automation_reader_agrees_with_mido_on_files_mido_writes(tracks, tpb):
    """Same messages in the same order, on the frames mido's own seconds give (within the one frame
    that mido's running float sum may round the other way)."""
    mf = _midi_file(tracks, tpb)
    got, compact = _read(_saved(mf))
    t, want = 0.0, []
    for m in mf:
        t += m.time
        if not m.is_meta:
            want.append((int(round(t * 48000)), m.bytes()))
    assert [b for _, b in want] == [m.bytes() for _, m in got]
    assert all(abs(f - g) <= 1 for (f, _), (g, _) in zip(want, got))
    keep = [(f, m.bytes()) for f, m in got if m.type in ("control_change", "note_on", "note_off")]
    assert [(f, m.bytes()) for f, m in compact] == keep


@FUZZ
@given(st.one_of(st.binary(max_size=400),
                 st.builds(lambda tracks, flips: (tracks, flips), st.lists(TRACK, min_size=1, max_size=2),
                           st.lists(st.tuples(st.integers(0, 10 ** 6), st.integers(0, 255)), min_size=1, max_size=4))))
def test_automation_reader_gives_events_or_one_midi_file_error(case):
    """Random bytes, and files mido wrote with a few bytes overwritten or the end cut off."""
    if isinstance(case, tuple):
        data = bytearray(_saved(_midi_file(case[0], 480)))
        for pos, val in case[1]:
            data[pos % len(data)] = val
        data = bytes(data[: max(14, len(data) - case[1][0][1] % 8)])
    else:
        data = case
    try:
        _read(data)
    except MidiFileError as e:
        assert _one_line(e)


# ------------------------------------------------------------------ performance log round trip
LOGGED = st.one_of(
    st.builds(lambda c, n, v: [0xB0 | c, n, v], st.integers(0, 15), st.integers(0, 127), st.integers(0, 127)),
    st.builds(lambda c, n, v: [0x90 | c, n, v], st.integers(0, 15), st.integers(0, 127), st.integers(0, 127)),
    st.builds(lambda c, n: [0x80 | c, n, 0], st.integers(0, 15), st.integers(0, 127)),
    st.builds(lambda c, p: [0xC0 | c, p], st.integers(0, 15), st.integers(0, 127)),
    st.sampled_from([[0xFA], [0xFB], [0xFC]]),
    st.integers(20_000, 400_000).map(lambda milli: ("tempo", milli / 1000.0)))


@FUZZ
@given(st.lists(st.tuples(st.integers(0, 48000 * 3600), LOGGED), max_size=60), st.sampled_from([48000, 44100, 96000]))
def test_performance_log_reads_back_every_event_on_its_frame(events, sr):
    log = PerfLog(sr)
    for frame, ev in events:
        if ev[0] == "tempo":
            log.tempo(frame, ev[1])
        else:
            log.log(frame, ev)
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "perf.mid")
        log.save(path)
        got = read_perflog(path, sr)
    order = np.argsort([f for f, _ in events], kind="stable")
    want = [events[i] for i in order]
    assert [f for f, _ in got] == [f for f, _ in want]
    for (_, m), (_, ev) in zip(got, want):
        if ev[0] == "tempo":
            assert marker_bpm(m) == ev[1]
        else:
            assert m.bytes() == list(ev)


# ------------------------------------------------------------------ an unfinished take's journal
BAD_LINE = st.one_of(
    st.binary(max_size=80).filter(lambda b: b"\n" not in b and len(b.split()) != 4),
    st.builds(lambda f, s, a, b: b"%d %d %d %d" % (f, s, a, b), st.integers(-10, 10 ** 20),
              st.sampled_from([0, 5, 0x7F, 0xF0, 0xF1, 0xF2, 0xF3, 0xF6, 0xF7, 0xF8, 0xFE, 0xFF, 0x103, 0x200]),
              st.integers(-200, 200), st.integers(-200, 200)),
    st.builds(lambda f, a, b: b"%d 256 %d %d" % (f, a, b), st.integers(0, 10 ** 6), st.integers(-5, 30),
              st.integers(-5, 1 << 15)).filter(lambda b: not 20_000 <= (int(b.split()[2]) << 14 | int(b.split()[3]))
                                               <= 400_000 or int(b.split()[3]) >= 1 << 14 or int(b.split()[2]) < 0))


@FUZZ
@given(st.lists(st.tuples(st.integers(0, 48000 * 600), LOGGED), max_size=30),
       st.lists(st.tuples(st.integers(0, 30), BAD_LINE), max_size=6))
def test_journal_keeps_every_good_row_among_bad_lines(events, bad):
    """Whatever lines a crash or a stray write left among a take's rows, the journal reads back as the
    ``.mid`` of its good rows, with one warning counting the rest."""
    from livegan.io.journal import Journal, read_journal

    log = PerfLog(48000)
    for frame, ev in events:
        if ev[0] == "tempo":
            log.tempo(frame, ev[1])
        else:
            log.log(frame, ev)
    with tempfile.TemporaryDirectory() as d:
        Journal(os.path.join(d, "t.journal"), log, 0).close(remove=False)
        log.save(os.path.join(d, "t.mid"))
        with open(os.path.join(d, "t.journal"), "rb") as f:
            lines = f.read().split(b"\n")[:-1]
        for at, line in sorted(bad, reverse=True):
            lines.insert(1 + min(at, len(lines) - 1), line)
        with open(os.path.join(d, "t.journal"), "wb") as f:
            f.write(b"\n".join(lines) + b"\n")
        said = []
        got = read_journal(os.path.join(d, "t.journal"), 48000, warn=said.append)
        want = read_perflog(os.path.join(d, "t.mid"), 48000)
    assert [(f, str(m)) for f, m in got] == [(f, str(m)) for f, m in want]
    assert len(said) == (1 if bad else 0) and all(f"skipped {len(bad)} bad line" in s for s in said)
